import Foundation
import Formats
import LossMath

/// One input pair: its four log-probabilities and, when the input has scores, its reward gap.
struct InputPair {
    var pair: PairLogProbs
    var rewardGap: Double?
}

/// Reads preference pairs with TRL's column names:
/// `chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps` (required),
/// `score_chosen, score_rejected` (optional, UltraFeedback's names; dr = their difference),
/// `chosen_length, rejected_length` (optional token counts, used by ipo's averaging).
enum PairInputReader {
    static let required = ["chosen_logps", "rejected_logps", "ref_chosen_logps", "ref_rejected_logps"]

    static func read(path: String) throws -> [InputPair] {
        let doc: CSVDocument
        if path == "-" {
            doc = try CSVDocument.readStandardInput()
        } else {
            doc = try CSVDocument.read(contentsOf: URL(fileURLWithPath: path))
        }
        return try pairs(from: doc)
    }

    static func pairs(from doc: CSVDocument) throws(FormatError) -> [InputPair] {
        var idx: [Int] = []
        for name in required { idx.append(try doc.column(named: name)) }
        let sc = doc.header.firstIndex(of: "score_chosen"), sr = doc.header.firstIndex(of: "score_rejected")
        if (sc == nil) != (sr == nil) {
            throw FormatError(.missingColumn(name: sc == nil ? "score_chosen" : "score_rejected", available: doc.header),
                              source: doc.source)
        }
        let lc = doc.header.firstIndex(of: "chosen_length"), lr = doc.header.firstIndex(of: "rejected_length")
        var out: [InputPair] = []
        out.reserveCapacity(doc.rows.count)
        for r in doc.rows.indices {
            var v = [Double](repeating: 0, count: 4)
            for k in 0..<4 {
                v[k] = try doc.double(row: r, column: idx[k])
                if v[k] > 0 {
                    throw doc.error("\(v[k]) is not a log-probability (it must be <= 0)", row: r, column: idx[k])
                }
            }
            var pair = PairLogProbs(chosen: v[0], rejected: v[1], refChosen: v[2], refRejected: v[3])
            for (col, keyPath) in [(lc, \PairLogProbs.chosenLength), (lr, \PairLogProbs.rejectedLength)] {
                guard let col else { continue }
                let n = try doc.double(row: r, column: col)
                if !(n > 0) { throw doc.error("a token count must be > 0, got \(n)", row: r, column: col) }
                pair[keyPath: keyPath] = n
            }
            var gap: Double? = nil
            if let sc, let sr {
                gap = try doc.double(row: r, column: sc) - doc.double(row: r, column: sr)
            }
            out.append(InputPair(pair: pair, rewardGap: gap))
        }
        return out
    }
}
