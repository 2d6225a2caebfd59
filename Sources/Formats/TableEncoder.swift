/// One cell of a results table, typed so that each output format writes it its own way.
///
/// - ``number(_:)`` holds a finite `Double` (CSV and JSON: the shortest round-trip text);
///   a non-finite value never becomes a cell: ``ResultTable`` stores ``empty`` and counts it.
/// - ``empty`` is "no value": an empty CSV field, `null` in JSON, a blank Markdown cell.
public enum TableCell: Sendable, Equatable {
    case empty
    case text(String)
    case number(Double)
    case integer(Int)
    case bool(Bool)

    /// The cell as CSV writes it (``CSVWriter`` quotes it as needed).
    public var csvText: String {
        switch self {
        case .empty: return ""
        case .text(let s): return s
        case .number(let x): return x.description
        case .integer(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        }
    }

    /// The cell as a JSON value (`.empty` is `null`).
    public var json: JSONValue {
        switch self {
        case .empty: return .null
        case .text(let s): return .string(s)
        case .number(let x): return .number(x)
        case .integer(let i): return .integer(i)
        case .bool(let b): return .bool(b)
        }
    }
}

/// A table of results built from `Encodable` rows: the column names are the rows' coding
/// keys, in the order the row encodes them (a synthesised `Codable` conformance encodes the
/// stored properties in declaration order), so every column is named exactly once, in the
/// row type, and CSV, Markdown and JSON are written from the same cells. Nothing is
/// formatted to a string and parsed back.
///
/// ```swift
/// struct Row: Encodable { let loss: String; let finalRegret: Double?
///     enum CodingKeys: String, CodingKey { case loss, finalRegret = "final_regret" } }
/// var t = ResultTable(columns: ResultTable.columns(of: Row(loss: "", finalRegret: 0)))
/// try t.append(Row(loss: "spo", finalRegret: nil))
/// t.csv()        // "loss,final_regret\nspo,\n"
/// ```
///
/// Rows must be flat: each property a `String`, `Bool`, integer, `Double`, an optional of
/// one of them (nil is an empty cell), or a type that encodes itself as one such single value
/// (a `String`-raw-valued enum, for example). A nested container throws.
///
/// See also: ``CSVWriter``, ``MarkdownTable``, ``JSONLinesWriter``.
public struct ResultTable: Sendable {
    /// The column names, in order.
    public let columns: [String]
    /// The rows' cells, each row as long as ``columns``.
    public private(set) var rows: [[TableCell]] = []
    /// How many values were non-finite and written as empty cells instead.
    public private(set) var nonFiniteCells = 0

    /// An empty table with the given columns (distinct, at least one).
    public init(columns: [String]) {
        precondition(!columns.isEmpty && Set(columns).count == columns.count,
                     "ResultTable: columns must be distinct and non-empty")
        self.columns = columns
    }

    /// A table of `rows`, its columns taken from the first row, or `columns` when given (an
    /// empty `rows` needs them: the column names come from an instance).
    public init<Row: Encodable>(_ rows: [Row], columns: [String]? = nil) throws(FormatError) {
        if let columns {
            self.init(columns: columns)
        } else if let first = rows.first {
            self.init(columns: try ResultTable.columns(of: first))
        } else {
            throw FormatError(.invalidValue("a table of no rows needs its column names"), source: "ResultTable")
        }
        for row in rows { try append(row) }
    }

    /// The column names `row` encodes, in order.
    public static func columns<Row: Encodable>(of row: Row) throws(FormatError) -> [String] {
        try ResultTable.encode(row).map(\.key)
    }

    /// Appends one row. Its keys must be exactly ``columns``, in the same order.
    public mutating func append<Row: Encodable>(_ row: Row) throws(FormatError) {
        let pairs = try ResultTable.encode(row)
        guard pairs.map(\.key) == columns else {
            throw FormatError(.invalidValue("a row's columns \(pairs.map(\.key)) differ from the table's \(columns)"),
                              source: "ResultTable")
        }
        append(cells: pairs.map(\.cell))
    }

    /// Appends one row of cells (as many as ``columns``); a non-finite number becomes
    /// ``TableCell/empty`` and is counted in ``nonFiniteCells``.
    public mutating func append(cells: [TableCell]) {
        precondition(cells.count == columns.count, "ResultTable: \(cells.count) cells for \(columns.count) columns")
        rows.append(cells.map { cell in
            if case .number(let x) = cell, !x.isFinite {
                nonFiniteCells += 1
                return .empty
            }
            return cell
        })
    }

    /// RFC 4180 CSV with a header row, LF line ends.
    public func csv() -> String {
        var w = CSVWriter(header: columns)
        for row in rows { w.appendRow(row.map(\.csvText)) }
        return w.text
    }

    /// ``csv()``, with or without the header row: a table written in pieces (see
    /// ``removeAllRows()``) writes the header with its first piece only.
    public func csv(includeHeader: Bool) -> String {
        if includeHeader { return csv() }
        var text = ""
        for row in rows { CSVWriter.appendLine(row.map(\.csvText), to: &text) }
        return text
    }

    /// Drops the rows (already written), keeping the columns and ``nonFiniteCells``: a long
    /// table is written piece by piece in constant memory.
    public mutating func removeAllRows() {
        rows.removeAll(keepingCapacity: true)
    }

    /// The cells `row` encodes, in order (the values ``append(_:)`` would store, before
    /// non-finite numbers become empty), e.g. to extend a typed row with further cells for
    /// ``append(cells:)``.
    public static func cells<Row: Encodable>(of row: Row) throws(FormatError) -> [TableCell] {
        try encode(row).map(\.cell)
    }

    /// A Markdown pipe table. Numbers are written by `number` (default: round-trip text) and
    /// right-aligned; other cells are left-aligned.
    public func markdown(number: (Double) -> String = { $0.description }) -> String {
        let numeric = columns.indices.map { c in
            rows.contains { if case .number = $0[c] { return true }; if case .integer = $0[c] { return true }; return false }
        }
        let body = rows.map { row in
            row.map { cell -> String in
                if case .number(let x) = cell { return number(x) }
                return cell.csvText
            }
        }
        return MarkdownTable(headers: columns, alignments: numeric.map { $0 ? .right : .left }, rows: body).render()
    }

    /// JSON Lines: one object per row, keys sorted (see ``JSONLinesWriter``).
    public func jsonLines() -> String {
        var w = JSONLinesWriter(keys: columns)
        for row in rows { w.appendRecord(row.map(\.json)) }
        return w.text
    }

    /// A JSON array of row objects (keys sorted), pretty-printed, ending in a newline.
    public func json() -> String {
        JSONValue.array(rows.map(jsonObject)).rendered(pretty: true)
    }

    /// The rows as elements of `writer`'s array: a table written in pieces (see
    /// ``removeAllRows()``) gives ``json()`` of all its rows once `writer.end()` is appended.
    public func json(continuing writer: inout PrettyJSONArrayWriter) -> String {
        var text = ""
        for row in rows { text += writer.element(jsonObject(row)) }
        return text
    }

    private func jsonObject(_ row: [TableCell]) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: zip(columns, row.map(\.json))))
    }

    static func encode<Row: Encodable>(_ row: Row) throws(FormatError) -> [(key: String, cell: TableCell)] {
        let sink = CellSink()
        do {
            try row.encode(to: RowEncoder(sink: sink))
        } catch let error as FormatError {
            throw error
        } catch {
            throw FormatError(.invalidValue("cannot encode \(Row.self) as a table row: \(error)"), source: "ResultTable")
        }
        if let error = sink.error { throw error }
        return sink.cells
    }
}
