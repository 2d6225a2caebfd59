#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error raised while reading or writing one of the toolkit's file formats.
///
/// Every error names where it happened, so that a message printed to the
/// terminal is enough to find the problem without a debugger:
///
/// - ``source``: the file name (or `"<stdin>"`) for parse errors, or the full
///   path for file-system errors;
/// - ``line``: the 1-based physical line in the source, if known;
/// - ``dataRow``: the 0-based data row (the first row after the header is
///   row 0), if the error concerns a data row;
/// - ``column``: the column (header) name, if the error concerns one cell;
/// - ``field``: the field name, if the error concerns one value of a JSON
///   Lines record (the JSON counterpart of a column).
///
/// ``description`` assembles these into one line, for example:
///
/// ```
/// pairs.csv: line 19 (data row 17), column 'rejected_logps': "abc" is not a number
/// pairs.jsonl: line 4 (data row 3), field 'chosen_logps': expected a number, found null
/// pairs.csv.gz: truncated gzip stream (the file ends inside the compressed data)
/// /out/run1/loss.csv: cannot create temporary file: No such file or directory
/// ```
///
/// See also: ``CSVDocument``, ``JSONLinesDocument``, ``Gzip``, ``AtomicFile``.
public struct FormatError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, independent of where.
    public enum Kind: Equatable, Sendable {
        /// The input holds no header line (CSV) or no record (JSON Lines): it is
        /// empty, or only a byte-order mark and blank lines.
        case emptyInput
        /// The input has a header but no data row (for readers that need data).
        case noDataRows
        /// The input bytes are not valid UTF-8.
        case invalidUTF8
        /// A quoted field is still open at the end of the input; ``FormatError/line``
        /// is the line of the opening quote.
        case unterminatedQuote
        /// A quote character appears inside a field that does not start with
        /// a quote (RFC 4180 requires such fields to be quoted).
        case quoteInUnquotedField
        /// A closing quote is followed by something other than a comma, a line
        /// break or the end of the input; the payload is that character.
        case textAfterClosingQuote(String)
        /// A data row has a different number of fields than the header.
        case fieldCountMismatch(expected: Int, found: Int)
        /// The header names the same column twice; payload: the name and the
        /// two 0-based column positions.
        case duplicateColumn(name: String, first: Int, second: Int)
        /// No column has the requested name; payload: the name and the names
        /// that do exist.
        case missingColumn(name: String, available: [String])
        /// A data row index is outside `0..<count`.
        case rowOutOfRange(row: Int, count: Int)
        /// A cell that must hold a number is empty (or only spaces).
        case emptyNumber
        /// A cell that must hold a number does not parse as one; payload: the cell.
        case notANumber(String)
        /// A cell parses as NaN or ±infinity (or overflows to infinity); payload: the cell.
        case nonFiniteNumber(String)
        /// A JSON number does not fit in a `Double` (it overflows, or underflows
        /// below the smallest subnormal); payload: the number's text, if known.
        case numberOutOfRange(String)
        /// A JSON Lines line is not valid JSON; payload: the parser's diagnosis.
        case malformedJSON(String)
        /// A JSON Lines line holds valid JSON that is not an object; payload:
        /// what it is (e.g. `"an array"`).
        case notAnObject(found: String)
        /// A JSON Lines record lacks a required field; payload: its name and
        /// the names the record does have.
        case missingField(name: String, available: [String])
        /// A JSON value has the wrong type; payloads describe the expected and
        /// the found value (e.g. `"a number"`, `"a string \"abc\""`).
        case wrongType(expected: String, found: String)
        /// A gzip (or zlib) stream ends before its end-of-stream marker and
        /// checksum: the file was cut short.
        case truncatedCompressedData
        /// A gzip (or zlib) stream is corrupt; payload: zlib's message.
        case corruptCompressedData(String)
        /// A record names the same field twice (JSON Lines; CSV reports
        /// ``duplicateColumn(name:first:second:)``); payload: the name.
        case duplicateField(name: String)
        /// One of two columns or fields that go together is given without the other
        /// (e.g. `score_chosen` without `score_rejected`): both or neither.
        case unpaired(present: String, missing: String)
        /// A physical line is longer than the limit, in bytes (see ``InputLimits``).
        case lineTooLong(limit: Int)
        /// A field is longer than the limit, in bytes; payload: the limit and the field's
        /// start (see ``InputLimits``).
        case fieldTooLong(limit: Int, excerpt: String)
        /// The input (after decompression) is larger than the limit, in bytes.
        case inputTooLarge(limit: Int)
        /// A caller-defined problem with a value (see ``CSVDocument/error(_:row:column:)``).
        case invalidValue(String)
        /// A system call failed. `operation` says what was being attempted
        /// (e.g. `"create temporary file"`), `code` is the `errno` value and
        /// `reason` its `strerror` text.
        case io(operation: String, code: Int32, reason: String)
    }

    /// What went wrong.
    public let kind: Kind
    /// The file name, `"<stdin>"`, or (for file-system errors) the path.
    public let source: String
    /// The 1-based line number in ``source``, if the error concerns a line.
    public let line: Int?
    /// The 0-based data row (row 0 is the first row after the header), if any.
    public let dataRow: Int?
    /// The name of the column concerned, if any.
    public let column: String?
    /// The name of the JSON field concerned, if any.
    public let field: String?
    /// What the user can do about it, appended to ``description`` (e.g. the option
    /// that raises a limit); nil for none.
    public var hint: String?

    /// Creates an error. Most code receives these rather than making them;
    /// see ``CSVDocument/error(_:row:column:)`` to report a bad value with
    /// its location.
    public init(_ kind: Kind, source: String, line: Int? = nil, dataRow: Int? = nil, column: String? = nil,
                field: String? = nil) {
        self.kind = kind
        self.source = source
        self.line = line
        self.dataRow = dataRow
        self.column = column
        self.field = field
        self.hint = nil
    }

    /// This error with ``hint`` set.
    public func withHint(_ hint: String) -> FormatError {
        var e = self
        e.hint = hint
        return e
    }

    /// Creates an ``Kind/io(operation:code:reason:)`` error for `path` from an
    /// `errno` value, filling in `strerror(code)` as the reason.
    public static func io(_ operation: String, path: String, code: Int32) -> FormatError {
        FormatError(.io(operation: operation, code: code, reason: String(cString: strerror(code))), source: path)
    }

    /// The human-readable one-line message:
    /// `source: line L (data row R), column 'C': what went wrong`
    /// (parts that are unknown are left out).
    public var description: String {
        var s = source
        var location: [String] = []
        if let line {
            location.append(dataRow.map { "line \(line) (data row \($0))" } ?? "line \(line)")
        } else if let dataRow {
            location.append("data row \(dataRow)")
        }
        if let column { location.append("column '\(Self.quoted(column))'") }
        if let field { location.append("field '\(Self.quoted(field))'") }
        if !location.isEmpty { s += ": " + location.joined(separator: ", ") }
        return s + ": " + message + (hint.map { "; " + $0 } ?? "")
    }

    /// At most ``InputLimits/excerptLength`` characters of a user's text.
    private static func quoted(_ text: String) -> String { InputLimits.excerpt(text) }

    private static func bytes(_ n: Int) -> String {
        switch n {
        case _ where n >= 1 << 30 && n % (1 << 30) == 0: return "\(n >> 30) GiB (\(n) bytes)"
        case _ where n >= 1 << 20 && n % (1 << 20) == 0: return "\(n >> 20) MiB (\(n) bytes)"
        case _ where n >= 1 << 10 && n % (1 << 10) == 0: return "\(n >> 10) KiB (\(n) bytes)"
        default: return "\(n) byte\(n == 1 ? "" : "s")"
        }
    }

    /// The "what went wrong" part of ``description``, without the location.
    public var message: String {
        switch kind {
        case .emptyInput:
            return "the input is empty (no header line or record)"
        case .noDataRows:
            return "no data rows (the input holds only a header)"
        case .invalidUTF8:
            return "not valid UTF-8 text"
        case .unterminatedQuote:
            return "quoted field opened on this line is never closed (missing '\"')"
        case .quoteInUnquotedField:
            return "'\"' inside an unquoted field (quote the whole field and double inner quotes)"
        case .textAfterClosingQuote(let c):
            return "unexpected \(c) after closing quote (expected ',' or end of line)"
        case .fieldCountMismatch(let expected, let found):
            return "expected \(expected) field\(expected == 1 ? "" : "s") (as in the header), found \(found)"
        case .duplicateColumn(let name, let first, let second):
            return "duplicate column name '\(Self.quoted(name))' in header (columns \(first + 1) and \(second + 1))"
        case .missingColumn(let name, let available):
            let shown = available.prefix(20).map { "'\(Self.quoted($0))'" } + (available.count > 20 ? ["…"] : [])
            return "no column named '\(Self.quoted(name))' (available: \(shown.joined(separator: ", ")))"
        case .rowOutOfRange(let row, let count):
            return "data row \(row) does not exist (the file has \(count) data row\(count == 1 ? "" : "s"))"
        case .emptyNumber:
            return "empty field, expected a number"
        case .notANumber(let text):
            return "\"\(Self.quoted(text))\" is not a number"
        case .nonFiniteNumber(let text):
            return "\"\(Self.quoted(text))\" is not a finite number"
        case .numberOutOfRange(let text):
            return "\(text.isEmpty ? "a number" : Self.quoted(text)) does not fit in a double (overflow or underflow)"
        case .malformedJSON(let detail):
            return "malformed JSON: \(detail)"
        case .notAnObject(let found):
            return "expected a JSON object (JSON Lines holds one object per line), found \(found)"
        case .missingField(let name, let available):
            let shown = available.prefix(12).map { "'\(Self.quoted($0))'" } + (available.count > 12 ? ["…"] : [])
            return "no field '\(Self.quoted(name))' (the record has: \(available.isEmpty ? "no fields" : shown.joined(separator: ", ")))"
        case .wrongType(let expected, let found):
            return "expected \(expected), found \(found)"
        case .truncatedCompressedData:
            return "truncated gzip stream (the file ends inside the compressed data)"
        case .corruptCompressedData(let detail):
            return "corrupt gzip data: \(detail)"
        case .duplicateField(let name):
            return "the record names field '\(Self.quoted(name))' twice"
        case .unpaired(let present, let missing):
            return "'\(present)' is given without '\(missing)' (give both or neither)"
        case .lineTooLong(let limit):
            return "line longer than \(Self.bytes(limit)), the limit on line length"
        case .fieldTooLong(let limit, let excerpt):
            return "field longer than \(Self.bytes(limit)), the limit on field length: \"\(Self.quoted(excerpt))\""
        case .inputTooLarge(let limit):
            return "input larger than \(Self.bytes(limit)) (after decompression), the limit on input size"
        case .invalidValue(let text):
            return text
        case .io(let operation, _, let reason):
            return "cannot \(operation): \(reason)"
        }
    }
}
