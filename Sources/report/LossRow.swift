import Foundation
import Formats
import LossMath

/// One row of `report losses`: the input row, the loss, then the gradient columns, with
/// the input's log-probabilities under the input's (TRL's) names. Empty cells where a value
/// is absent, not finite, or a probability-space gradient is exactly 0; every computed cell
/// is empty for a pair outside the loss's domain (a tie for spo_asym).
struct LossRow: Encodable {
    let row: Int
    let loss: String
    let beta: Double
    let labelSmoothing: Double
    let rewardGap: Double?
    let logpChosen: Double
    let logpRejected: Double
    let refLogpChosen: Double
    let refLogpRejected: Double
    let h: Double
    var value: Double? = nil
    var dLogpChosen: Double? = nil
    var dLogpRejected: Double? = nil
    var dH: Double? = nil
    var log10AbsDPChosen: Double? = nil
    var signDPChosen: Int? = nil
    var log10AbsDPRejected: Double? = nil
    var signDPRejected: Int? = nil
    var log10RatioRejectedToChosen: Double? = nil

    enum CodingKeys: String, CodingKey {
        case row, loss, beta, labelSmoothing = "label_smoothing", rewardGap = "reward_gap"
        case logpChosen = "chosen_logps", logpRejected = "rejected_logps"
        case refLogpChosen = "ref_chosen_logps", refLogpRejected = "ref_rejected_logps"
        case h, value, dLogpChosen = "d_logp_chosen", dLogpRejected = "d_logp_rejected", dH = "d_h"
        case log10AbsDPChosen = "log10_abs_d_p_chosen", signDPChosen = "sign_d_p_chosen"
        case log10AbsDPRejected = "log10_abs_d_p_rejected", signDPRejected = "sign_d_p_rejected"
        case log10RatioRejectedToChosen = "log10_ratio_rejected_to_chosen"
    }

    /// The column names, in order.
    static let columns: [String] = {
        let row = LossRow(row: 0, loss: .sigmoid, pair: PairLogProbs(chosen: 0, rejected: 0, refChosen: 0, refRejected: 0),
                          parameters: LossParameters(beta: 1))
        return (try? ResultTable.columns(of: row)) ?? []
    }()

    /// A row whose computed cells are empty (a pair outside the loss's domain).
    init(row: Int, loss: Loss, pair: PairLogProbs, parameters p: LossParameters) {
        (self.row, self.loss, beta, labelSmoothing, rewardGap) = (row, loss.rawValue, p.beta, p.labelSmoothing, p.rewardGap)
        (logpChosen, logpRejected, refLogpChosen, refLogpRejected) = (pair.chosen, pair.rejected, pair.refChosen, pair.refRejected)
        h = pair.logitsDifference
    }

    /// The row of an evaluated pair.
    init(row: Int, loss: Loss, pair: PairLogProbs, parameters p: LossParameters, evaluation e: LossEvaluation) {
        self.init(row: row, loss: loss, pair: pair, parameters: p)
        let g = ProbabilityGradients(loss: loss, pair: pair, parameters: p, evaluation: e)
        func magnitude(_ m: SignedLogMagnitude) -> Double? { m.isZero ? nil : m.log10Magnitude }
        (value, dLogpChosen, dLogpRejected, dH) = (e.value, e.dChosen, e.dRejected, e.dH)
        (log10AbsDPChosen, signDPChosen) = (magnitude(g.chosen), g.chosen.sign)
        (log10AbsDPRejected, signDPRejected) = (magnitude(g.rejected), g.rejected.sign)
        log10RatioRejectedToChosen = g.log10RatioRejectedToChosen
    }
}

/// Where streamed text goes: standard output, or a file in the `--out` folder that appears
/// whole when ``commit()`` runs (``AtomicFileStream``), never half-written. Without a
/// commit (an error in the input), the temporary file is removed, and so is the folder if
/// this sink created it and it is empty. On standard output the rows before an error have
/// been written (the exit status says the output is incomplete).
final class TextSink {
    private let file: AtomicFileStream?
    private let createdFolder: String?
    private var committed = false

    init(folder: String?, name: String) throws {
        guard let folder else { file = nil; createdFolder = nil; return }
        let dir = URL(fileURLWithPath: folder)
        createdFolder = FileManager.default.fileExists(atPath: folder) ? nil : dir.path
        do {
            try AtomicFile.createDirectory(dir)
            file = try AtomicFileStream(dir.appendingPathComponent(name))
        } catch { throw ReportError("\(error)") }
    }

    deinit {
        guard !committed else { return }
        file?.abandon()
        if let createdFolder { _ = rmdir(createdFolder) }
    }

    func write(_ text: String) throws {
        guard let file else { emit(text); return }
        do { try file.write(text) } catch { throw ReportError("\(error)") }
    }

    func commit() throws {
        committed = true
        do { try file?.commit() } catch { throw ReportError("\(error)") }
    }
}
