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
/// a line that is not valid JSON (``FormatError/Kind/malformedJSON(_:)``, with
/// a hint when it holds Python's bare `NaN`/`Infinity`, which are not JSON);
/// a line that is JSON but not an object (``FormatError/Kind/notAnObject(found:)``);
/// a requested number that does not fit in a `Double`, such as `1e400`
/// (``FormatError/Kind/numberOutOfRange(_:)``).
/// Type checks happen on access: ``double(record:field:)`` reports a missing
/// field, `null`, a string (`"NaN"` too), a boolean or a nested value, naming
/// the line, the data row and the field.
///
/// Numbers are decoded with `JSONDecoder` (exact, correctly rounded: `1.0000000000000002`
/// stays itself); integers and decimals are both numbers. 10⁵ lines take about
/// 0.5 s in a debug build.
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
    /// The (decompressed) input, kept to list a record's fields in error messages.
    private let data: Data

    // MARK: Parsing

    /// Parses JSON Lines bytes, extracting `fields` from every record.
    ///
    /// - Parameters:
    ///   - data: the whole (decompressed) file.
    ///   - source: the name used in error messages.
    ///   - fields: the field names to extract; others are skipped.
    /// - Throws: ``FormatError`` for invalid UTF-8, malformed JSON, a non-object
    ///   line or an unrepresentable number (see the type's overview).
    public static func parse(data: Data, source: String, fields: [String]) throws(FormatError) -> JSONLinesDocument {
        let decoder = JSONDecoder()
        decoder.userInfo[RecordDecoding.fieldsKey] = fields
        var records: [Record] = []
        var failure: FormatError? = nil
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            if let bad = CSVDocument.firstInvalidUTF8Offset(bytes) {
                failure = FormatError(.invalidUTF8, source: source, line: 1 + bytes[..<bad].lazy.filter { $0 == 0x0A }.count)
                return
            }
            var start = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
            var line = 0
            while start < bytes.count {
                line += 1
                let end = memchr(raw.baseAddress! + start, 0x0A, bytes.count - start)
                    .map { raw.baseAddress!.distance(to: UnsafeRawPointer($0)) } ?? bytes.count
                defer { start = end + 1 }
                var a = start, b = end
                while a < b, isSpace(bytes[a]) { a += 1 }
                while b > a, isSpace(bytes[b - 1]) { b -= 1 }
                if a == b { continue }
                let lineData = Data(UnsafeRawBufferPointer(rebasing: raw[a..<b]))
                do {
                    let decoded = try decoder.decode(RecordDecoding.self, from: lineData)
                    if let (field, kind) = decoded.badNumber {
                        failure = FormatError(kind, source: source, line: line, dataRow: records.count, field: field)
                        return
                    }
                    records.append(Record(line: line, values: decoded.values, bytes: a..<b))
                } catch {
                    failure = FormatError(lineError(lineData, error), source: source, line: line,
                                          dataRow: records.count)
                    return
                }
            }
        }
        if let failure { throw failure }
        return JSONLinesDocument(source: source, records: records, data: data)
    }

    /// Reads a file (or standard input for `"-"`), decompressing gzip, and parses it.
    public static func read(path: String, fields: [String]) throws(FormatError) -> JSONLinesDocument {
        let input = try InputFile.read(path: path)
        return try parse(data: input.data, source: input.source, fields: fields)
    }

    private init(source: String, records: [Record], data: Data) {
        self.source = source
        self.records = records
        self.data = data
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
        let decoder = JSONDecoder()
        decoder.userInfo[RecordDecoding.namesKey] = true
        let r = records[record].bytes
        let line = data[(data.startIndex + r.lowerBound)..<(data.startIndex + r.upperBound)]
        return (try? decoder.decode(RecordDecoding.self, from: Data(line)))?.names ?? []
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

    func error(_ kind: FormatError.Kind, record: Int, field: String?) -> FormatError {
        FormatError(kind, source: source, line: records.indices.contains(record) ? records[record].line : nil,
                    dataRow: record, field: field)
    }

    // MARK: Implementation

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    /// The error kind for a line `JSONDecoder` rejected. `JSONSerialization` is asked
    /// for the diagnosis, because it names the character position.
    private static func lineError(_ line: Data, _ error: any Error) -> FormatError.Kind {
        if case DecodingError.typeMismatch = error {
            switch line.first {
            case UInt8(ascii: "["): return .notAnObject(found: "an array")
            case UInt8(ascii: "\""): return .notAnObject(found: "a string")
            case UInt8(ascii: "n"): return .notAnObject(found: "null")
            case UInt8(ascii: "t"), UInt8(ascii: "f"): return .notAnObject(found: "a boolean")
            default: return .notAnObject(found: "a number")
            }
        }
        var detail = "not valid JSON"
        do {
            _ = try JSONSerialization.jsonObject(with: line, options: [.fragmentsAllowed])
        } catch {
            if let d = (error as NSError).userInfo["NSDebugDescription"] as? String { detail = d }
        }
        if detail.hasSuffix(".") { detail.removeLast() }
        let text = String(decoding: line.prefix(4096), as: UTF8.self)
        if text.contains("NaN") || text.contains("Infinity") {
            detail += " (bare NaN and Infinity are not JSON: Python's json.dumps writes them unless allow_nan=False)"
        }
        return .malformedJSON(detail)
    }
}

/// The per-line `Decodable`: extracts the requested fields (passed through
/// `userInfo`) and classifies each value.
private struct RecordDecoding: Decodable {
    static let fieldsKey = CodingUserInfoKey(rawValue: "JSONLinesDocument.fields")!
    /// When true, `names` collects every key (costly: only for error messages).
    static let namesKey = CodingUserInfoKey(rawValue: "JSONLinesDocument.names")!

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var values: [String: JSONLinesDocument.Value] = [:]
    /// Every key of the object, sorted (only when asked for with `namesKey`).
    var names: [String] = []
    /// The first requested field holding a number token that does not convert to a
    /// Double (out of range, or malformed such as `01`), and the error.
    var badNumber: (String, FormatError.Kind)? = nil

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if decoder.userInfo[Self.namesKey] as? Bool == true { names = c.allKeys.map(\.stringValue).sorted() }
        for name in decoder.userInfo[Self.fieldsKey] as? [String] ?? [] {
            let key = Key(stringValue: name)
            guard c.contains(key) else { continue }
            if try c.decodeNil(forKey: key) { values[name] = .null; continue }
            do {
                values[name] = .number(try c.decode(Double.self, forKey: key))
                continue
            } catch DecodingError.typeMismatch {
                // Not a number: find out what it is, below.
            } catch {
                // FoundationEssentials' internal error for a number token it cannot convert,
                // e.g. `numberIsNotRepresentableInSwift(parsed: "1e400")` or `numberWithLeadingZero`.
                let d = String(describing: error)
                if badNumber == nil {
                    if d.contains("NotRepresentable") {
                        var text = ""
                        if let r = d.range(of: "parsed: \""), let e = d[r.upperBound...].firstIndex(of: "\"") {
                            text = String(d[r.upperBound..<e])
                        }
                        badNumber = (name, .numberOutOfRange(text))
                    } else {
                        badNumber = (name, .malformedJSON("invalid number"))
                    }
                }
                continue
            }
            if let s = try? c.decode(String.self, forKey: key) { values[name] = .string(s) }
            else if let b = try? c.decode(Bool.self, forKey: key) { values[name] = .bool(b) }
            else if (try? c.nestedUnkeyedContainer(forKey: key)) != nil { values[name] = .array }
            else { values[name] = .object }
        }
    }
}
