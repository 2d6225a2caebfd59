import Foundation
import Formats
import LossMath

/// One input pair: its four log-probabilities and, when the input has scores, its reward gap.
struct InputPair {
    var pair: PairLogProbs
    var rewardGap: Double?
    /// The 1-based line it starts on (for messages).
    var line: Int? = nil
}

/// Reads preference pairs with TRL's column names:
/// `chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps` (required),
/// `score_chosen, score_rejected` (optional, UltraFeedback's names; dr = their difference),
/// `chosen_length, rejected_length` (optional token counts, used by ipo's averaging).
///
/// Formats: CSV, or JSON Lines with the same names as fields (what `datasets.Dataset.to_json`
/// writes; ``PairStream`` copies the other fields through), either of them gzip-compressed,
/// read piece by piece (``PairStream``, ``Formats/TableStreamReader``). Gzip is detected by its
/// magic bytes; the format by the name without `.gz` (`.jsonl`, `.ndjson`, `.json` → JSON Lines,
/// `.csv`, `.tsv`, `.txt` → CSV) or, for standard input and other names, by the first
/// non-blank character (`{` → JSON Lines). Row `r` is the r-th data row (CSV) or record
/// (JSON Lines, blank lines not counted), 0-based; errors name the file and the 1-based line.
///
/// In JSON Lines the optional fields may be absent or `null` record by record (no value);
/// in CSV they are whole columns. Either way each comes with its partner: `score_chosen`
/// with `score_rejected`, `chosen_length` with `rejected_length` (both or neither, else
/// an error naming the row, or for CSV the header line).
///
/// The same rules for both formats (every error names the file, the line and the row):
/// - an input without any pair is an error (empty, only blank lines, or a header only);
/// - a repeated column (CSV) or a key repeated in a record (JSON Lines) is an error;
/// - numbers follow ``NumberText``'s rules (finite, no overflow or underflow, no NUL),
///   and then these ranges, derived from where the arithmetic overflows:
///   log-probabilities in [-``magnitudeLimit``, 0] and scores in
///   [-``magnitudeLimit``, ``magnitudeLimit``], where ``magnitudeLimit`` is half the
///   largest double (about 8.99e307), so that u = logp - logp_ref, the logits difference
///   h = u_w - u_l (at most twice the range) and dr = score_chosen - score_rejected are
///   finite; token counts >= 1, so that ipo's averaged log-ratios u/n never exceed |u|.
/// - input limits (``InputLimits``): lines, fields and the decompressed size, raised with
///   `--max-line-bytes`, `--max-field-bytes` and `--max-input-bytes`.
enum PairInputReader {
    static let required = ["chosen_logps", "rejected_logps", "ref_chosen_logps", "ref_rejected_logps"]
    static let optional = ["score_chosen", "score_rejected", "chosen_length", "rejected_length"]

    /// The largest accepted magnitude of a log-probability or a score:
    /// `Double.greatestFiniteMagnitude / 2` (see the type's overview).
    static let magnitudeLimit = Double.greatestFiniteMagnitude / 2


    /// Reads every pair of the file at `path` (`-`: standard input), through ``PairStream``
    /// (for small inputs and tests; `report losses` streams).
    ///
    /// - Throws: ``FormatError`` naming the file, line and row; a limit error carries a
    ///   hint naming the option that raises the limit.
    static func read(path: String, limits: InputLimits = .default) throws(FormatError) -> [InputPair] {
        let stream = try PairStream(path: path, limits: limits)
        var out: [InputPair] = []
        while let chunk = try stream.next() { out += chunk.pairs }
        return out
    }

    /// The hint that names the option raising a limit.
    static func withLimitHint(_ error: FormatError) -> FormatError {
        switch error.kind {
        case .lineTooLong: return error.withHint("raise the limit with --max-line-bytes")
        case .fieldTooLong: return error.withHint("raise the limit with --max-field-bytes")
        case .inputTooLarge: return error.withHint("raise the limit with --max-input-bytes")
        default: return error
        }
    }

    /// The input format from the name (without `.gz`), or nil to decide from the content.
    static func format(path: String) -> TableStreamReader.Format? {
        var name = path == "-" ? "" : URL(fileURLWithPath: path).lastPathComponent.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        let ext = parts.count > 1 ? String(parts[parts.count - 1]) : ""
        if ["jsonl", "ndjson", "json"].contains(ext) { return .jsonLines }
        if ["csv", "tsv", "txt"].contains(ext) { return .csv }
        return nil
    }

    /// Checks one pair's numbers (`v`: the four log-probabilities in `required`'s order);
    /// `fail(message, name)` builds the error located at the row and that column or field.
    private static func makePair(_ v: [Double], lengths: (Double?, Double?), scores: (Double?, Double?),
                                 fail: (String, String) -> FormatError) throws(FormatError) -> InputPair {
        for (k, x) in v.enumerated() {
            if x > 0 { throw fail("\(x) is not a log-probability (it must be <= 0)", required[k]) }
            if x < -magnitudeLimit {
                throw fail("\(x) is below -\(magnitudeLimit), the smallest log-probability accepted "
                           + "(so that log-ratio differences stay finite)", required[k])
            }
        }
        for (x, name) in [(scores.0, "score_chosen"), (scores.1, "score_rejected")] {
            if let x, abs(x) > magnitudeLimit {
                throw fail("\(x) is beyond ±\(magnitudeLimit), the largest score accepted "
                           + "(so that score_chosen - score_rejected stays finite)", name)
            }
        }
        var pair = PairLogProbs(chosen: v[0], rejected: v[1], refChosen: v[2], refRejected: v[3])
        if let n = lengths.0 {
            if !(n >= 1) { throw fail("a token count must be >= 1, got \(n)", "chosen_length") }
            pair.chosenLength = n
        }
        if let n = lengths.1 {
            if !(n >= 1) { throw fail("a token count must be >= 1, got \(n)", "rejected_length") }
            pair.rejectedLength = n
        }
        var gap: Double? = nil
        if let sc = scores.0, let sr = scores.1 { gap = sc - sr }
        return InputPair(pair: pair, rewardGap: gap)
    }

    /// The optional column pairs, which go together, and why.
    private static let partners = [("score_chosen", "score_rejected", "a reward gap needs both"),
                                   ("chosen_length", "rejected_length", "ipo's averaging over tokens needs both")]

    /// Checks a CSV header: the required columns, and the optional ones in pairs.
    static func checkHeader(_ header: [String], source: String, line: Int) throws(FormatError) {
        for name in required where !header.contains(name) {
            throw FormatError(.missingColumn(name: name, available: header), source: source)
        }
        for (a, b, why) in partners where header.contains(a) != header.contains(b) {
            let (present, missing) = header.contains(a) ? (a, b) : (b, a)
            throw FormatError(.unpaired(present: present, missing: missing), source: source,
                              line: line, column: present).withHint(why)
        }
    }

    static func pairs(from doc: CSVDocument) throws(FormatError) -> [InputPair] {
        var idx: [Int] = []
        try checkHeader(doc.header, source: doc.source, line: doc.headerLine)
        for name in required { idx.append(try doc.column(named: name)) }
        guard !doc.rows.isEmpty else { throw FormatError(.noDataRows, source: doc.source, line: doc.headerLine) }
        let sc = doc.header.firstIndex(of: "score_chosen"), sr = doc.header.firstIndex(of: "score_rejected")
        let lc = doc.header.firstIndex(of: "chosen_length"), lr = doc.header.firstIndex(of: "rejected_length")
        var out: [InputPair] = []
        out.reserveCapacity(doc.rows.count)
        for r in doc.rows.indices {
            var v = [Double](repeating: 0, count: 4)
            for k in 0..<4 { v[k] = try doc.double(row: r, column: idx[k]) }
            func opt(_ c: Int?) throws(FormatError) -> Double? { try c.map { c throws(FormatError) in try doc.double(row: r, column: c) } }
            var item = try makePair(v, lengths: (try opt(lc), try opt(lr)), scores: (try opt(sc), try opt(sr)),
                                    fail: { doc.error($0, row: r, column: doc.header.firstIndex(of: $1)) })
            item.line = doc.lineNumbers[r]
            out.append(item)
        }
        return out
    }

    static func pairs(from doc: JSONLinesDocument) throws(FormatError) -> [InputPair] {
        var out: [InputPair] = []
        out.reserveCapacity(doc.records.count)
        for r in doc.records.indices {
            var v = [Double](repeating: 0, count: 4)
            for k in 0..<4 { v[k] = try doc.double(record: r, field: required[k]) }
            var optional: [String: Double] = [:]
            for name in Self.optional {
                if let x = try doc.optionalDouble(record: r, field: name) { optional[name] = x }
            }
            for (a, b, why) in partners where (optional[a] == nil) != (optional[b] == nil) {
                let (present, missing) = optional[a] != nil ? (a, b) : (b, a)
                throw doc.error(.unpaired(present: present, missing: missing), record: r, field: missing).withHint(why)
            }
            var item = try makePair(v, lengths: (optional["chosen_length"], optional["rejected_length"]),
                                    scores: (optional["score_chosen"], optional["score_rejected"]),
                                    fail: { doc.error($0, record: r, field: $1) })
            item.line = doc.records[r].line
            out.append(item)
        }
        return out
    }
}
