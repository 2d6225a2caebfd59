import ArgumentParser
import Foundation
import Formats
import LossMath

extension Report {
    /// `report losses`: the catalogue on the user's own pairs.
    struct EvaluateLosses: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "losses",
            abstract: "Evaluate every loss and its exact gradients on your own preference pairs.",
            discussion: """
            The input is CSV or JSON Lines (one object per line, as datasets' to_json writes) \
            with TRL's names: chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps \
            (sequence log-probabilities, summed over tokens). Optional: score_chosen and \
            score_rejected (the reward gap is their difference, as in UltraFeedback), and \
            chosen_length / rejected_length (token counts; ipo averages its log-ratios over \
            them, as TRL does). Other JSON fields are ignored. Gzip-compressed input \
            (pairs.jsonl.gz) is read directly. The format comes from the name (.csv, .jsonl, \
            .json) or, for standard input, from the first character.

            Output: CSV (or JSON Lines with --format json, same names, null for empty cells), \
            one row per input row per loss; `row` is the input's 0-based data row (JSON Lines: \
            record). The rpo_* and spo* losses need a reward gap: without scores or --reward-gap \
            they are skipped with a note (or rejected, if you named them in --losses).

            With --catalogue (and no --input), prints the catalogue itself instead: every loss's \
            name, flags and parameters with defaults and ranges, as each loss type declares them \
            (--format csv, json or markdown).

            Example:
              report losses --input pairs.csv --beta 0.1 --losses sigmoid,ipo,spo > out.csv
              report losses --input pairs.csv --losses bdpo --loss-param bdpo_lambda=0.3
              report losses --catalogue --format json
              report losses --input pairs.jsonl.gz --format json > out.jsonl
              report losses --input pairs.csv --reward-gap 1 --out results/
            """
        )

        @Option(name: .long, help: "Input file (CSV or JSON Lines, optionally gzipped), or - for standard input.", completion: .pairFile)
        var input: String?

        @Flag(help: "Print the loss catalogue (names, flags, parameters) instead of evaluating pairs.")
        var catalogue = false

        @OptionGroup var lossOptions: LossOptions
        @OptionGroup(title: "Input limits") var inputLimits: InputLimitOptions

        @Option(parsing: .unconditional, help: "A constant reward gap for every row (overrides score columns).")
        var rewardGap: Double?

        @Option(help: "Write losses.csv (losses.jsonl with --format json) into this folder (created if missing) instead of standard output.", completion: .directory)
        var out: String?

        @Option(help: "Output format: csv or json (JSON Lines, one object per row); with --catalogue also markdown.")
        var format: RowFormat = .csv

        @Flag(help: "Silence notes on standard error (errors are still printed).")
        var quiet = false

        func validate() throws {
            Verbosity.setQuiet(quiet)
            if catalogue {
                if input != nil { throw ValidationError("--catalogue prints the catalogue: it takes no --input") }
                return
            }
            guard input != nil else { throw ValidationError("--input is required (or pass --catalogue)") }
            if format == .markdown { throw ValidationError("--format markdown is for --catalogue; pair rows are csv or json") }
            if let g = rewardGap { try checkRange("--reward-gap", g, LossOptions.rewardGapRange, "a number") }
            let losses = try lossOptions.selectedLosses()
            // Check parameters that do not depend on the data now, before reading anything.
            try lossOptions.validateLosses(losses.filter { !$0.needsRewardGap }, rewardGap: nil)
            if let g = rewardGap { try lossOptions.validateLosses(losses.filter(\.needsRewardGap), rewardGap: g) }
        }

        func run() throws {
            if catalogue {
                let text = LossCatalogue.render(Loss.allCases, format: format)
                if let folder = out {
                    try writeFiles([("catalogue." + (format == .markdown ? "md" : format.rawValue), text)], into: folder)
                } else {
                    emit(text)
                }
                return
            }
            guard let input else { throw ValidationError("--input is required (or pass --catalogue)") }
            let pairs: [InputPair]
            do { pairs = try PairInputReader.read(path: input, limits: inputLimits.limits) } catch { throw ReportError("\(error)") }
            var losses = try lossOptions.selectedLosses()
            let haveGap = rewardGap != nil || pairs.allSatisfy { $0.rewardGap != nil }
            if !haveGap {
                let needing = losses.filter(\.needsRewardGap)
                if !needing.isEmpty {
                    if lossOptions.lossesGiven {
                        throw ValidationError("\(needing.map(\.rawValue).joined(separator: ", ")) need a reward gap: "
                                              + "add score_chosen and score_rejected columns, or pass --reward-gap")
                    }
                    note("skipping \(needing.map(\.rawValue).joined(separator: ", ")): they need a reward gap "
                         + "(add score_chosen/score_rejected columns or pass --reward-gap)")
                    losses.removeAll(where: \.needsRewardGap)
                }
            }
            var w = RowWriter(format: format, header: ["row", "loss"] + GradientColumns.header)
            var overflowed = 0
            for (r, item) in pairs.enumerated() {
                let gap = rewardGap ?? item.rewardGap
                for loss in losses {
                    let p = lossOptions.parameters(for: loss, rewardGap: gap)
                    do { try loss.validate(p) } catch {
                        throw ReportError("\(input == "-" ? "<stdin>" : input): data row \(r): \(error)")
                    }
                    let e = loss.evaluate(item.pair, p)
                    if !e.value.isFinite { overflowed += 1 }
                    try w.append(LossRow(row: r, loss: loss, pair: item.pair, parameters: p, evaluation: e))
                }
            }
            if overflowed > 0 {
                note("\(overflowed) value(s) exceed the double range (spo_asym far below its target) and are left empty")
            }
            if let folder = out {
                try writeFiles([(format == .csv ? "losses.csv" : "losses.jsonl", w.text)], into: folder)
            } else {
                emit(w.text)
            }
        }
    }
}

/// The row formats of `report losses`.
enum RowFormat: String, ExpressibleByArgument, CaseIterable {
    case csv, json, markdown
}

/// The rows of `report losses`, typed, written as CSV or as JSON Lines from the same cells
/// through ``ResultTable``: in JSON, `loss` is a string, an absent or non-finite value is
/// null, counts and signs are integers and every other value a number, so the values are
/// exactly those of the CSV and nothing is parsed back.
struct RowWriter {
    let format: RowFormat
    private var table: ResultTable

    init(format: RowFormat, header: [String]) {
        self.format = format
        table = ResultTable(columns: header)
    }

    /// Appends one row (its columns must be the header's).
    mutating func append(_ row: LossRow) throws {
        do { try table.append(row) } catch { throw ReportError("\(error)") }
    }

    var text: String { format == .csv ? table.csv() : table.jsonLines() }
}

/// One row of `report losses`: the input row, the loss, then the gradient columns of
/// ``GradientColumns/header`` (empty cells where a value is absent, not finite, or a
/// probability-space gradient is exactly 0).
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
    let value: Double?
    let dLogpChosen: Double?
    let dLogpRejected: Double?
    let dH: Double?
    let log10AbsDPChosen: Double?
    let signDPChosen: Int
    let log10AbsDPRejected: Double?
    let signDPRejected: Int
    let log10RatioRejectedToChosen: Double?

    enum CodingKeys: String, CodingKey {
        case row, loss, beta, labelSmoothing = "label_smoothing", rewardGap = "reward_gap"
        case logpChosen = "logp_chosen", logpRejected = "logp_rejected", refLogpChosen = "ref_logp_chosen", refLogpRejected = "ref_logp_rejected"
        case h, value, dLogpChosen = "d_logp_chosen", dLogpRejected = "d_logp_rejected", dH = "d_h"
        case log10AbsDPChosen = "log10_abs_d_p_chosen", signDPChosen = "sign_d_p_chosen"
        case log10AbsDPRejected = "log10_abs_d_p_rejected", signDPRejected = "sign_d_p_rejected"
        case log10RatioRejectedToChosen = "log10_ratio_rejected_to_chosen"
    }

    init(row: Int, loss: Loss, pair: PairLogProbs, parameters p: LossParameters, evaluation e: LossEvaluation) {
        let g = ProbabilityGradients(loss: loss, pair: pair, parameters: p, evaluation: e)
        func magnitude(_ m: SignedLogMagnitude) -> Double? { m.isZero ? nil : m.log10Magnitude }
        (self.row, self.loss, beta, labelSmoothing, rewardGap) = (row, loss.rawValue, p.beta, p.labelSmoothing, p.rewardGap)
        (logpChosen, logpRejected, refLogpChosen, refLogpRejected) = (pair.chosen, pair.rejected, pair.refChosen, pair.refRejected)
        (h, value, dLogpChosen, dLogpRejected, dH) = (pair.logitsDifference, e.value, e.dChosen, e.dRejected, e.dH)
        (log10AbsDPChosen, signDPChosen) = (magnitude(g.chosen), g.chosen.sign)
        (log10AbsDPRejected, signDPRejected) = (magnitude(g.rejected), g.rejected.sign)
        log10RatioRejectedToChosen = g.log10RatioRejectedToChosen
    }
}
