import Foundation

/// A parsed JSON Lines file: one JSON object per line, as
/// `datasets.Dataset.to_json` and `pandas.DataFrame.to_json(orient="records", lines=True)`
/// write them. Only the fields the caller asks for are extracted; any other
/// field is ignored (so long `prompt`/`chosen` texts cost nothing but the scan).
///
/// Accepted input: UTF-8; an optional byte-order mark; lines ended by LF or
/// CRLF; blank (or whitespace-only) lines anywhere, which are skipped. Each
/// other line must be a complete JSON object.
///
/// Rejected input (each a ``FormatError`` naming the source and the 1-based line):
/// a line that is not valid JSON (``FormatError/Kind/malformedJSON(_:)``, naming the
/// column, with a hint when it holds Python's bare `NaN`/`Infinity`, which are not JSON);
/// a line that is JSON but not an object (``FormatError/Kind/notAnObject(found:)``);
/// a key named twice in one record (``FormatError/Kind/duplicateField(name:)``, as CSV
/// rejects a repeated column); an input without any record
/// (``FormatError/Kind/emptyInput``, as for an empty CSV); a requested number that does
/// not fit in a `Double`, such as `1e400` or `1e-400`
/// (``FormatError/Kind/numberOutOfRange(_:)``, the same rule as CSV's, see
/// ``NumberText``); input beyond the ``InputLimits`` (by default a line over 1 MiB, an
/// extracted field over 64 KiB, an input over 1 GiB).
/// Type checks happen on access: ``double(record:field:)`` reports a missing
/// field, `null`, a string (`"NaN"` too), a boolean or a nested value, naming
/// the line, the data row and the field.
///
/// Every line is checked by ``JSONLineScanner`` (strict RFC 8259, nesting up to 512
/// levels); numbers are converted with `Double(String)` (exact, correctly rounded:
/// `1.0000000000000002` stays itself); integers and decimals are both numbers.
/// 10⁵ lines take well under 2 s in a debug build.
///
/// ```swift
/// let doc = try JSONLinesDocument.parse(data: bytes, source: "pairs.jsonl",
///                                       fields: ["chosen_logps", "score_chosen"])
/// let x = try doc.double(record: 0, field: "chosen_logps")          // required
/// let s = try doc.optionalDouble(record: 0, field: "score_chosen")  // nil if absent or null
/// ```
///
/// See also: ``CSVDocument`` (the CSV counterpart), ``InputFile`` (gzip), ``JSONLinesWriter``.
public struct JSONLinesDocument: Sendable {
    /// One extracted JSON value, reduced to what a numeric reader needs to know.
    public enum Value: Sendable, Equatable {
        case number(Double)
        case string(String)
        case bool(Bool)
        case null
        case array
        case object

        /// How an error message names this value: `a string "abc"`, `null`, …
        public var description: String {
            switch self {
            case .number(let x): return "the number \(x)"
            case .string(let s): return "a string \"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\""
            case .bool(let b): return "the boolean \(b)"
            case .null: return "null"
            case .array: return "an array"
            case .object: return "an object"
            }
        }
    }

    /// One non-blank line.
    public struct Record: Sendable, Equatable {
        /// The 1-based line of the file it came from.
        public let line: Int
        /// The requested fields present in the record.
        public let values: [String: Value]
        /// Where the record's text lies in the document's bytes.
        let bytes: Range<Int>
    }

    /// The file name or `"<stdin>"`, used in error messages.
    public let source: String
    /// The records, in file order; record `i` is data row `i`.
    public let records: [Record]
    /// The data row number of `records[0]` in the whole input: 0, except for a piece of a
    /// streamed input (``TableStreamReader``), whose errors name the input's data rows.
    public let firstRecord: Int
    /// The (decompressed) input, kept to list a record's fields in error messages.
    let data: Data

    // MARK: Parsing

    /// Parses JSON Lines bytes, extracting `fields` from every record.
    ///
    /// - Parameters:
    ///   - data: the whole (decompressed) file.
    ///   - source: the name used in error messages.
    ///   - fields: the field names to extract; others are checked for syntax only.
    ///   - limits: the caps on line length, field length (of an extracted string or
    ///     number) and input size (see ``InputLimits``).
    /// - Throws: ``FormatError`` for invalid UTF-8, malformed JSON, a non-object
    ///   line, a key named twice, an unrepresentable number, no record at all, or a
    ///   limit exceeded (see the type's overview).
    public static func parse(data: Data, source: String, fields: [String],
                             limits: InputLimits = .default) throws(FormatError) -> JSONLinesDocument {
        let wanted = Set(fields)
        var records: [Record] = []
        let failure: FormatError? = data.withUnsafeBytes { raw -> FormatError? in
            let bytes = raw.bindMemory(to: UInt8.self)
            if bytes.count > limits.maxInputBytes { return FormatError(.inputTooLarge(limit: limits.maxInputBytes), source: source) }
            if let bad = CSVDocument.firstInvalidUTF8Offset(bytes) {
                return FormatError(.invalidUTF8, source: source, line: 1 + bytes[..<bad].lazy.filter { $0 == 0x0A }.count)
            }
            if let tooLong = LineLengthGuard.check(bytes, limit: limits.maxLineBytes, crBreaks: false, source: source) {
                return tooLong
            }
            var line = 0
            if let failure = parseLines(bytes, source: source, wanted: wanted, limits: limits, skipByteOrderMark: true,
                                        line: &line, firstRecord: 0, records: &records) {
                return failure
            }
            if records.isEmpty { return FormatError(.emptyInput, source: source, line: max(line, 1)) }
            return nil
        }
        if let failure { throw failure }
        return JSONLinesDocument(source: source, records: records, data: data)
    }

    /// Parses every line of `bytes` (`line`: the lines before it, updated), appending the
    /// records to `records`; the first error, or nil. `firstRecord`: records before `bytes`.
    static func parseLines(_ bytes: UnsafeBufferPointer<UInt8>, source: String, wanted: Set<String>, limits: InputLimits,
                           skipByteOrderMark: Bool, line: inout Int, firstRecord: Int,
                           records: inout [Record]) -> FormatError? {
        guard let base = bytes.baseAddress else { return nil }
        var start = skipByteOrderMark && bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        while start < bytes.count {
            line += 1
            let end = memchr(base + start, 0x0A, bytes.count - start)
                .map { UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0)) } ?? bytes.count
            defer { start = end + 1 }
            var a = start, b = end
            while a < b, isSpace(bytes[a]) { a += 1 }
            while b > a, isSpace(bytes[b - 1]) { b -= 1 }
            if a == b { continue }
            let text = UnsafeBufferPointer(rebasing: bytes[a..<b])
            let recordLine = line
            let row = firstRecord + records.count
            func fail(_ kind: FormatError.Kind, field: String? = nil) -> FormatError {
                FormatError(kind, source: source, line: recordLine, dataRow: row, field: field)
            }
            let members: [JSONLineScanner.Member]
            switch JSONLineScanner.members(of: text) {
            case .value(let m): members = m
            case .failure(.malformedJSON(let detail)): return fail(.malformedJSON(detail + nanHint(text)))
            case .failure(let kind): return fail(kind)
            }
            var seen = Set<String>()
            var values: [String: Value] = [:]
            for m in members {
                guard seen.insert(m.key).inserted else { return fail(.duplicateField(name: m.key), field: m.key) }
                guard wanted.contains(m.key) else { continue }
                if m.value.count > limits.maxFieldBytes {
                    let head = String(decoding: UnsafeBufferPointer(rebasing: text[m.value.lowerBound..<min(m.value.upperBound, m.value.lowerBound + 4 * (InputLimits.excerptLength + 1))]), as: UTF8.self)
                    return fail(.fieldTooLong(limit: limits.maxFieldBytes, excerpt: String(head.prefix(InputLimits.excerptLength + 1))),
                                field: m.key)
                }
                switch text[m.value.lowerBound] {
                case UInt8(ascii: "\""): values[m.key] = .string(JSONLineScanner.decodeString(text, m.value))
                case UInt8(ascii: "t"): values[m.key] = .bool(true)
                case UInt8(ascii: "f"): values[m.key] = .bool(false)
                case UInt8(ascii: "n"): values[m.key] = .null
                case UInt8(ascii: "["): values[m.key] = .array
                case UInt8(ascii: "{"): values[m.key] = .object
                default:
                    let token = String(decoding: UnsafeBufferPointer(rebasing: text[m.value]), as: UTF8.self)
                    switch NumberText.json(token) {
                    case .value(let x): values[m.key] = .number(x)
                    case .failure(let kind): return fail(kind, field: m.key)
                    }
                }
            }
            records.append(Record(line: recordLine, values: values, bytes: a..<b))
        }
        return nil
    }

    /// The document of records parsed from one piece of a streamed input (see
    /// ``TableStreamReader``): `data` is the piece, `firstRecord` the records before it.
    init(source: String, records: [Record], data: Data, firstRecord: Int) {
        self.source = source
        self.records = records
        self.data = data
        self.firstRecord = firstRecord
    }

    /// Reads a file (or standard input for `"-"`), decompressing gzip, and parses it.
    public static func read(path: String, fields: [String], limits: InputLimits = .default) throws(FormatError) -> JSONLinesDocument {
        let input = try InputFile.read(path: path, limits: limits)
        return try parse(data: input.data, source: input.source, fields: fields, limits: limits)
    }

    private init(source: String, records: [Record], data: Data) {
        self.source = source
        self.records = records
        self.data = data
        firstRecord = 0
    }

    // MARK: Access

    /// Whether record `record` has the field `field` (with any value, `null` included).
    public func has(record: Int, field: String) -> Bool {
        records[record].values[field] != nil
    }

    /// The field `field` of record `record` (0-based), which must be a JSON number.
    ///
    /// - Throws: ``FormatError`` naming the line, data row and field:
    ///   ``FormatError/Kind/missingField(name:available:)`` if absent,
    ///   ``FormatError/Kind/wrongType(expected:found:)`` for null, strings,
    ///   booleans, arrays and objects.
    public func double(record: Int, field: String) throws(FormatError) -> Double {
        precondition(records.indices.contains(record), "JSONLinesDocument.double: record \(record) out of range")
        guard let value = records[record].values[field] else {
            throw error(.missingField(name: field, available: fieldNames(record: record)), record: record, field: nil)
        }
        guard case .number(let x) = value else {
            throw error(.wrongType(expected: "a number", found: value.description), record: record, field: field)
        }
        return x
    }

    /// Every field name of record `record`, requested or not, sorted.
    public func fieldNames(record: Int) -> [String] {
        guard records.indices.contains(record) else { return [] }
        let r = records[record].bytes
        return data.withUnsafeBytes { raw -> [String] in
            let line = UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[r])
            guard case .value(let members) = JSONLineScanner.members(of: line) else { return [] }
            return members.map(\.key).sorted()
        }
    }

    /// Like ``double(record:field:)``, but an absent field or `null` gives nil.
    public func optionalDouble(record: Int, field: String) throws(FormatError) -> Double? {
        switch records[record].values[field] {
        case nil, .null?: return nil
        default: return try double(record: record, field: field)
        }
    }

    /// An error located at a record (and a field), for problems found by the caller.
    public func error(_ message: String, record: Int, field: String? = nil) -> FormatError {
        error(.invalidValue(message), record: record, field: field)
    }

    /// An error of any kind located at a record (and a field).
    public func error(_ kind: FormatError.Kind, record: Int, field: String?) -> FormatError {
        FormatError(kind, source: source, line: records.indices.contains(record) ? records[record].line : nil,
                    dataRow: firstRecord + record, field: field)
    }

    // MARK: Implementation

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    /// A hint for lines that hold Python's bare `NaN` or `Infinity`.
    private static func nanHint(_ line: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: UnsafeBufferPointer(rebasing: line[..<min(line.count, 4096)]), as: UTF8.self)
        guard text.contains("NaN") || text.contains("Infinity") else { return "" }
        return " (bare NaN and Infinity are not JSON: Python's json.dumps writes them unless allow_nan=False)"
    }
}
