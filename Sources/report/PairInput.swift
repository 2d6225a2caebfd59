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
///
/// Formats: CSV, or JSON Lines with the same names as fields (what `datasets.Dataset.to_json`
/// writes; other fields are ignored), either of them gzip-compressed. Gzip is detected by its
/// magic bytes; the format by the name without `.gz` (`.jsonl`, `.ndjson`, `.json` → JSON Lines,
/// `.csv`, `.tsv`, `.txt` → CSV) or, for standard input and other names, by the first
/// non-blank character (`{` → JSON Lines). Row `r` is the r-th data row (CSV) or record
/// (JSON Lines, blank lines not counted), 0-based; errors name the file and the 1-based line.
///
/// In JSON Lines the optional fields may be absent or `null` record by record (no value);
/// in CSV they are whole columns. Either way a score needs its partner.
enum PairInputReader {
    static let required = ["chosen_logps", "rejected_logps", "ref_chosen_logps", "ref_rejected_logps"]
    static let optional = ["score_chosen", "score_rejected", "chosen_length", "rejected_length"]

    enum Format { case csv, jsonLines }

    static func read(path: String) throws(FormatError) -> [InputPair] {
        let input = try InputFile.read(path: path)
        switch format(path: path, data: input.data) {
        case .csv: return try pairs(from: CSVDocument.parse(data: input.data, source: input.source))
        case .jsonLines:
            return try pairs(from: JSONLinesDocument.parse(data: input.data, source: input.source,
                                                           fields: required + optional))
        }
    }

    /// The input format, from the name (without `.gz`) or else from the content.
    static func format(path: String, data: Data) -> Format {
        var name = path == "-" ? "" : URL(fileURLWithPath: path).lastPathComponent.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        let ext = name.split(separator: ".", omittingEmptySubsequences: false).count > 1
            ? String(name.split(separator: ".", omittingEmptySubsequences: false).last!) : ""
        if ["jsonl", "ndjson", "json"].contains(ext) { return .jsonLines }
        if ["csv", "tsv", "txt"].contains(ext) { return .csv }
        var bytes = data[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        return first == UInt8(ascii: "{") ? .jsonLines : .csv
    }

    /// Checks one pair's numbers; `fail(message, field)` builds the located error.
    private static func makePair(_ v: [Double], lengths: (Double?, Double?), scores: (Double?, Double?),
                                 fail: (String, String) -> FormatError) throws(FormatError) -> InputPair {
        for k in 0..<4 where v[k] > 0 {
            throw fail("\(v[k]) is not a log-probability (it must be <= 0)", required[k])
        }
        var pair = PairLogProbs(chosen: v[0], rejected: v[1], refChosen: v[2], refRejected: v[3])
        for (n, name, keyPath) in [(lengths.0, "chosen_length", \PairLogProbs.chosenLength),
                                   (lengths.1, "rejected_length", \PairLogProbs.rejectedLength)] {
            guard let n else { continue }
            if !(n > 0) { throw fail("a token count must be > 0, got \(n)", name) }
            pair[keyPath: keyPath] = n
        }
        var gap: Double? = nil
        if let sc = scores.0, let sr = scores.1 { gap = sc - sr }
        return InputPair(pair: pair, rewardGap: gap)
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
            for k in 0..<4 { v[k] = try doc.double(row: r, column: idx[k]) }
            func opt(_ c: Int?) throws(FormatError) -> Double? { try c.map { c throws(FormatError) in try doc.double(row: r, column: c) } }
            out.append(try makePair(v, lengths: (try opt(lc), try opt(lr)), scores: (try opt(sc), try opt(sr)),
                                    fail: { doc.error($0, row: r, column: doc.header.firstIndex(of: $1)) }))
        }
        return out
    }

    static func pairs(from doc: JSONLinesDocument) throws(FormatError) -> [InputPair] {
        var out: [InputPair] = []
        out.reserveCapacity(doc.records.count)
        for r in doc.records.indices {
            var v = [Double](repeating: 0, count: 4)
            for k in 0..<4 { v[k] = try doc.double(record: r, field: required[k]) }
            let sc = try doc.optionalDouble(record: r, field: "score_chosen")
            let sr = try doc.optionalDouble(record: r, field: "score_rejected")
            if (sc == nil) != (sr == nil) {
                let missing = sc == nil ? "score_chosen" : "score_rejected"
                throw doc.error("\(missing) is missing or null while \(sc == nil ? "score_rejected" : "score_chosen") "
                                + "is given (a reward gap needs both)", record: r, field: missing)
            }
            let lengths = (try doc.optionalDouble(record: r, field: "chosen_length"),
                           try doc.optionalDouble(record: r, field: "rejected_length"))
            out.append(try makePair(v, lengths: lengths, scores: (sc, sr),
                                    fail: { doc.error($0, record: r, field: $1) }))
        }
        return out
    }
}
