import Foundation

/// A CSV or JSON Lines input (either gzip-compressed, or standard input) read piece by
/// piece, in constant memory: each call to ``next()`` returns the rows of about 256 KiB of
/// input as a ``CSVDocument`` or a ``JSONLinesDocument``, whose errors name the whole
/// input's lines and data rows (``CSVDocument/firstDataRow``,
/// ``JSONLinesDocument/firstRecord``).
///
/// The rules and messages are those of the whole-document parsers (``CSVDocument``,
/// ``JSONLinesDocument``) and of ``InputFile`` (gzip, ``InputLimits``), with two
/// differences that only a broken input can show:
/// - when an input has several problems, the first one met in reading order is reported
///   (a whole-document parse checks UTF-8 and line lengths over the whole input first);
/// - a CSV quoted field still open after `maxFieldBytes` is reported as too long at once.
///
/// An input without a header or record is ``FormatError/Kind/emptyInput``, as for the
/// whole-document parsers; a CSV header without rows returns no piece (``header`` is set):
/// the caller decides whether that is an error.
///
/// ```swift
/// let reader = try TableStreamReader(path: "pairs.csv.gz", fields: ["chosen_logps"], format: nil)
/// while let piece = try reader.next() {
///     if case .csv(let doc) = piece { for r in doc.rows.indices { _ = try doc.double(row: r, column: 0) } }
/// }
/// ```
///
/// See also: ``InputFile`` (the whole input at once).
public final class TableStreamReader {
    /// The two table formats.
    public enum Format: Sendable { case csv, jsonLines }

    /// One piece of the input.
    public enum Piece {
        case csv(CSVDocument)
        case jsonLines(JSONLinesDocument)
    }

    /// The name for messages: the file's last path component, or `<stdin>`.
    public let source: String
    /// The format, given or detected from the first non-blank character (`{`: JSON Lines).
    public let format: Format
    /// The CSV header once read (nil for JSON Lines).
    public var header: [String]? { csv.header }
    /// The 1-based line of the CSV header.
    public var headerLine: Int { csv.headerLine }
    /// How many data rows (records) the pieces so far held.
    public private(set) var rowsRead = 0

    private let bytes: InputByteStream
    private let pieceSize: Int
    private let limits: InputLimits
    private let wanted: Set<String>
    private var buffer: [UInt8] = []
    private var atEnd = false
    private var csv = CSVParseState()
    private var jsonLine = 0
    private var jsonStarted = false

    /// Opens `path` (`-`: standard input).
    ///
    /// - Parameters:
    ///   - fields: for JSON Lines, the fields to extract (see ``JSONLinesDocument``).
    ///   - format: nil to detect it from the content.
    /// - Throws: ``FormatError`` (I/O, gzip, limits).
    public convenience init(path: String, fields: [String], format: Format?, limits: InputLimits = .default) throws(FormatError) {
        try self.init(path: path, fields: fields, format: format, limits: limits, pieceSize: InputByteStream.pieceSize)
    }

    /// With the bytes read at a time given (tests cut records with tiny pieces).
    init(path: String, fields: [String], format: Format?, limits: InputLimits, pieceSize: Int) throws(FormatError) {
        self.pieceSize = pieceSize
        bytes = try InputByteStream(path: path, limits: limits, readSize: pieceSize)
        source = bytes.source
        self.limits = limits
        wanted = Set(fields)
        if let format {
            self.format = format
        } else {
            // Read until the first non-blank character decides.
            while true {
                var body = buffer[...]
                if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
                if let first = body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
                    self.format = first == UInt8(ascii: "{") ? .jsonLines : .csv
                    break
                }
                if !(try bytes.read(appendingTo: &buffer)) {
                    atEnd = true
                    self.format = .csv
                    break
                }
            }
        }
    }

    /// The next piece with at least one row, or nil at the end of the input.
    ///
    /// - Throws: ``FormatError`` naming the file, line, data row and column or field.
    public func next() throws(FormatError) -> Piece? {
        var stalled = false
        while true {
            if !atEnd && (buffer.count < pieceSize || stalled) {
                if !(try bytes.read(appendingTo: &buffer)) { atEnd = true }
            }
            let piece: Piece?
            let consumed: Int
            switch format {
            case .csv: (piece, consumed) = try nextCSV()
            case .jsonLines: (piece, consumed) = try nextJSONLines()
            }
            buffer.removeFirst(consumed)
            if let piece { return piece }
            stalled = consumed == 0
            if atEnd {
                if format == .csv && csv.header == nil {
                    throw FormatError(.emptyInput, source: source, line: csv.line)
                }
                if format == .jsonLines && rowsRead == 0 {
                    throw FormatError(.emptyInput, source: source, line: max(jsonLine, 1))
                }
                return nil
            }
        }
    }

    private func nextCSV() throws(FormatError) -> (Piece?, Int) {
        let result = buffer.withUnsafeBufferPointer {
            CSVDocument.parseRecords($0, source: source, limits: limits, state: &csv, isFinal: atEnd)
        }
        let (doc, consumed) = try result.get()
        guard let doc, !doc.rows.isEmpty else { return (nil, consumed) }
        rowsRead += doc.rows.count
        return (.csv(doc), consumed)
    }

    private func nextJSONLines() throws(FormatError) -> (Piece?, Int) {
        // Complete lines only, unless the input has ended.
        let end: Int
        if atEnd {
            end = buffer.count
        } else if let lastLF = buffer.lastIndex(of: 0x0A) {
            end = lastLF + 1
        } else {
            return (nil, 0)
        }
        var records: [JSONLinesDocument.Record] = []
        let skipBOM = !jsonStarted
        jsonStarted = true
        let data = Data(buffer[0..<end])
        let failure = data.withUnsafeBytes { raw in
            JSONLinesDocument.parseLines(raw.bindMemory(to: UInt8.self), source: source, wanted: wanted, limits: limits,
                                         skipByteOrderMark: skipBOM, line: &jsonLine, firstRecord: rowsRead,
                                         records: &records)
        }
        if let failure { throw failure }
        guard !records.isEmpty else { return (nil, end) }
        let doc = JSONLinesDocument(source: source, records: records, data: data, firstRecord: rowsRead)
        rowsRead += records.count
        return (.jsonLines(doc), end)
    }
}

extension JSONLinesDocument {
    /// Every member of record `record`, in the record's order, as a table cell: a string as
    /// text, a number as an integer when its text is one (`17`) and otherwise as a number
    /// (or as its text, if it does not fit in a double), a boolean, `null` as an empty cell;
    /// nil for an array or object (a flat table cannot hold it). For copying fields that
    /// the caller does not read into its output.
    public func cells(record: Int) -> [(key: String, cell: TableCell?)] {
        guard records.indices.contains(record) else { return [] }
        let r = records[record].bytes
        return data.withUnsafeBytes { raw -> [(key: String, cell: TableCell?)] in
            let line = UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[r])
            guard case .value(let members) = JSONLineScanner.members(of: line) else { return [] }
            return members.map { m in
                let cell: TableCell?
                switch line[m.value.lowerBound] {
                case UInt8(ascii: "\""): cell = .text(JSONLineScanner.decodeString(line, m.value))
                case UInt8(ascii: "t"): cell = .bool(true)
                case UInt8(ascii: "f"): cell = .bool(false)
                case UInt8(ascii: "n"): cell = .empty
                case UInt8(ascii: "["), UInt8(ascii: "{"): cell = nil
                default:
                    let token = String(decoding: UnsafeBufferPointer(rebasing: line[m.value]), as: UTF8.self)
                    if let i = Int(token) { cell = .integer(i) }
                    else if let x = NumberText.json(token).value { cell = .number(x) }
                    else { cell = .text(token) }
                }
                return (m.key, cell)
            }
        }
    }
}
