import Foundation

/// A parsed CSV file (RFC 4180): one header line followed by data rows,
/// every cell kept as a `String`.
///
/// Accepted input:
/// - fields separated by `,`; records ended by LF, CRLF (or a lone CR);
/// - quoted fields (`"…"`) that may contain commas, quotes written as `""`,
///   and line breaks;
/// - an optional UTF-8 byte-order mark at the very start (skipped);
/// - a trailing line break, and blank lines, which are skipped wherever they
///   occur (as pandas does). A one-column row whose only cell is empty must
///   therefore be written `""` — ``CSVWriter`` does so.
///
/// Rejected input (each a ``FormatError`` naming the source and line):
/// an empty input or no header; invalid UTF-8; an unterminated quoted field;
/// a `"` inside an unquoted field or text after a closing quote (RFC 4180
/// forbids both; being strict catches files broken by hand-editing);
/// duplicate header names; a data row whose field count differs from the header;
/// input beyond the ``InputLimits`` (by default a line over 1 MiB, a cell over
/// 64 KiB, an input over 1 GiB).
///
/// Numbers follow ``NumberText``'s rules, the same as ``JSONLinesDocument``'s.
///
/// The parser works on the UTF-8 bytes: 10⁶ rows × 4 fields (38 MB) take
/// about 0.15–0.5 s in a release build.
///
/// ```swift
/// let doc = try CSVDocument.parse(text, source: "pairs.csv")
/// let col = try doc.column(named: "rejected_logps")
/// let x = try doc.double(row: 0, column: col)
/// ```
///
/// See also: ``CSVWriter`` (the inverse), ``FormatError``.
public struct CSVDocument: Equatable, Sendable {
    /// The file name or `"<stdin>"`, used in error messages.
    public let source: String
    /// The column names from the first non-blank record.
    public let header: [String]
    /// The data rows; every row has exactly `header.count` cells.
    public let rows: [[String]]
    /// For each data row, the 1-based line on which it starts.
    public let lineNumbers: [Int]
    /// The 1-based line of the header (1 unless blank lines precede it).
    public let headerLine: Int
    /// The data row number of `rows[0]` in the whole input: 0, except for a piece of a
    /// streamed input (``TableStreamReader``), whose errors name the input's data rows.
    public let firstDataRow: Int

    /// Creates a document from parts. `rows` and `lineNumbers` must have the
    /// same count and every row must have `header.count` cells.
    public init(source: String, header: [String], rows: [[String]], lineNumbers: [Int], headerLine: Int = 1) {
        precondition(rows.count == lineNumbers.count, "CSVDocument: rows and lineNumbers differ in count")
        precondition(rows.allSatisfy { $0.count == header.count }, "CSVDocument: row width differs from header")
        self.source = source
        self.header = header
        self.rows = rows
        self.lineNumbers = lineNumbers
        self.headerLine = headerLine
        firstDataRow = 0
    }

    // MARK: Parsing

    /// Parses CSV text.
    ///
    /// - Parameters:
    ///   - text: the whole file's contents.
    ///   - source: the name used in error messages (a file name or `"<stdin>"`).
    /// - Throws: ``FormatError`` for malformed input (see the type's overview).
    ///   - limits: the caps on line, cell and input size (see ``InputLimits``).
    public static func parse(_ text: String, source: String, limits: InputLimits = .default) throws(FormatError) -> CSVDocument {
        var text = text
        let result = text.withUTF8 { parseBytes($0, source: source, limits: limits) }
        return try result.get()
    }

    /// Parses CSV bytes, which must be valid UTF-8.
    ///
    /// - Throws: ``FormatError`` with kind ``FormatError/Kind/invalidUTF8``
    ///   (naming the line of the first bad byte) or any parse error.
    public static func parse(data: Data, source: String, limits: InputLimits = .default) throws(FormatError) -> CSVDocument {
        let result: Result<CSVDocument, FormatError> = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            if let bad = firstInvalidUTF8Offset(bytes) {
                var line = 1
                for b in bytes[..<bad] where b == 0x0A { line += 1 }
                return .failure(FormatError(.invalidUTF8, source: source, line: line))
            }
            return parseBytes(bytes, source: source, limits: limits)
        }
        return try result.get()
    }

    /// Reads and parses a CSV file.
    ///
    /// - Parameters:
    ///   - url: a file URL.
    ///   - source: the name for error messages; defaults to the file's last
    ///     path component.
    /// - Throws: ``FormatError`` (an I/O error naming the path and the OS
    ///   reason, or a parse error).
    public static func read(contentsOf url: URL, source: String? = nil,
                            limits: InputLimits = .default) throws(FormatError) -> CSVDocument {
        let name = source ?? url.lastPathComponent
        let data = try POSIXFile.readAll(path: url.path, source: name, limits: limits, checkLinesUnlessGzip: true)
        return try parse(data: data, source: name, limits: limits)
    }

    // MARK: Access

    /// The 0-based index of the column called `name` (exact, case-sensitive match).
    ///
    /// - Throws: ``FormatError/Kind/missingColumn(name:available:)``, whose
    ///   message lists the columns that do exist.
    public func column(named name: String) throws(FormatError) -> Int {
        if let i = header.firstIndex(of: name) { return i }
        throw FormatError(.missingColumn(name: name, available: header), source: source)
    }

    /// The cell at `row`, `column` parsed strictly as a finite `Double`.
    ///
    /// Spaces and tabs around the number are ignored; the rest must be
    /// accepted by `Double(String)` (decimal or hexadecimal floating-point
    /// syntax) and follow ``NumberText``'s rules. Empty cells, `nan`, `inf`,
    /// `-inf`, `infinity`, values that overflow (`1e400`) or underflow to zero
    /// (`1e-400`), and cells with a NUL or other control character are rejected.
    ///
    /// - Parameters:
    ///   - row: a 0-based data row, `0..<rows.count`.
    ///   - column: a 0-based column index, `0..<header.count` (see ``column(named:)``).
    ///     An out-of-range column is a programming error (precondition failure).
    /// - Throws: ``FormatError`` naming source, line, data row and column.
    public func double(row: Int, column: Int) throws(FormatError) -> Double {
        precondition(header.indices.contains(column), "CSVDocument.double: column index \(column) out of range 0..<\(header.count)")
        guard rows.indices.contains(row) else {
            throw FormatError(.rowOutOfRange(row: row, count: rows.count), source: source, column: header[column])
        }
        let cell = rows[row][column]
        switch NumberText.csv(cell) {
        case .value(let x): return x
        case .failure(let kind): throw error(kind, row: row, column: column)
        }
    }

    /// Every cell of the column called `name`, parsed with ``double(row:column:)``.
    ///
    /// - Throws: a missing-column error, or the first bad cell's error.
    public func doubles(column name: String) throws(FormatError) -> [Double] {
        let c = try column(named: name)
        var out: [Double] = []
        out.reserveCapacity(rows.count)
        for r in rows.indices { out.append(try double(row: r, column: c)) }
        return out
    }

    /// An error located at a cell, for problems found by the caller
    /// (e.g. "probability must lie in [0, 1]").
    ///
    /// - Parameters:
    ///   - message: what is wrong, without location.
    ///   - row: a valid 0-based data row.
    ///   - column: a valid column index, or `nil` if the whole row is concerned.
    public func error(_ message: String, row: Int, column: Int? = nil) -> FormatError {
        error(.invalidValue(message), row: row, column: column)
    }

    /// An error of any kind located at a cell (or a row, for a nil column).
    public func error(_ kind: FormatError.Kind, row: Int, column: Int?) -> FormatError {
        FormatError(kind, source: source,
                    line: lineNumbers.indices.contains(row) ? lineNumbers[row] : nil,
                    dataRow: firstDataRow + row,
                    column: column.map { header[$0] })
    }

    // MARK: Number parsing

    /// The cell as a number under ``NumberText``'s rules, or nil if the cell is
    /// empty, malformed, non-finite, or out of range.
    static func strictDouble(_ cell: String) -> Double? {
        NumberText.csv(cell).value
    }

    static func numberErrorKind(_ cell: String) -> FormatError.Kind {
        switch NumberText.csv(cell) {
        case .value: return .invalidValue("internal: a valid number was reported as invalid")
        case .failure(let kind): return kind
        }
    }

    // MARK: Byte-level parser

    static let comma: UInt8 = 0x2C, quote: UInt8 = 0x22, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D

    static func parseBytes(_ buf: UnsafeBufferPointer<UInt8>, source: String,
                           limits: InputLimits) -> Result<CSVDocument, FormatError> {
        if buf.count > limits.maxInputBytes { return .failure(FormatError(.inputTooLarge(limit: limits.maxInputBytes), source: source)) }
        if let tooLong = LineLengthGuard.check(buf, limit: limits.maxLineBytes, crBreaks: true, source: source) {
            return .failure(tooLong)
        }
        var state = CSVParseState()
        switch parseRecords(buf, source: source, limits: limits, state: &state, isFinal: true) {
        case .failure(let error): return .failure(error)
        case .success(let (doc, _)):
            guard let doc else { return .failure(FormatError(.emptyInput, source: source, line: state.line)) }
            return .success(doc)
        }
    }

    init(uncheckedSource source: String, header: [String], rows: [[String]], lineNumbers: [Int], headerLine: Int,
         firstDataRow: Int = 0) {
        self.source = source
        self.header = header
        self.rows = rows
        self.lineNumbers = lineNumbers
        self.headerLine = headerLine
        self.firstDataRow = firstDataRow
    }

    /// The first characters of the text at `start` (enough for an error message).
    static func excerpt(_ buf: UnsafeBufferPointer<UInt8>, from start: Int) -> String {
        let end = min(buf.count, start + 4 * (InputLimits.excerptLength + 1))
        return String(String(decoding: UnsafeBufferPointer(rebasing: buf[start..<end]), as: UTF8.self)
            .prefix(InputLimits.excerptLength + 1))
    }

    /// A short description of the (possibly multi-byte) character at `i`.
    static func describeByte(at i: Int, in buf: UnsafeBufferPointer<UInt8>) -> String {
        var end = i + 1
        while end < buf.count && end < i + 4 && buf[end] & 0xC0 == 0x80 { end += 1 }
        let s = String(decoding: UnsafeBufferPointer(rebasing: buf[i..<end]), as: UTF8.self)
        return "'\(s)'"
    }

    /// The offset of the first byte that is not part of a valid UTF-8
    /// sequence, or nil if all of `bytes` is valid.
    static func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        // Fast path: pure ASCII needs no decoding.
        if !bytes.contains(where: { $0 >= 0x80 }) { return nil }
        var parser = Unicode.UTF8.ForwardParser()
        var it = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &it) {
            case .valid(let encoded): offset += encoded.count
            case .emptyInput: return nil
            case .error(let length): _ = length; return offset
            }
        }
    }
}
