import Synchronization

/// Builds RFC 4180 CSV text from a header and rows of already-formatted cells.
///
/// - Quoting: a field is quoted iff it contains a comma, a quote, CR or LF;
///   inner quotes are doubled. A row consisting of a single empty field is
///   written `""` so that it is not mistaken for a blank line.
/// - Line terminator: LF. RFC 4180 specifies CRLF, but we write LF as pandas
///   and Python's `csv` do on Unix; ``CSVDocument`` (and every common reader)
///   accepts both.
/// - Numbers: format them with ``format(_:)`` (shortest representation that
///   reads back to the same `Double`). Missing values are written as empty
///   fields with ``formatOrEmpty(_:)``. NaN and infinities cannot be represented
///   in the output: ``format(_:)`` writes them as empty fields and counts them in
///   ``unrepresentableCount``, which the program reports (`report` prints a note),
///   so they are never written silently and never crash the program.
///
/// ```swift
/// var w = CSVWriter(header: ["step", "loss"])
/// w.appendRow(["0", CSVWriter.format(0.693)])
/// try AtomicFile.write(w.text, to: url)
/// ```
///
/// See also: ``CSVDocument`` (the inverse), ``AtomicFile``.
public struct CSVWriter: Sendable {
    /// The number of fields in every row (the header's count).
    public let columnCount: Int
    /// The CSV text written so far: the header line, then one line per row,
    /// each ended by `"\n"`.
    public private(set) var text: String

    /// Starts a document with the given header.
    ///
    /// - Parameter header: the column names; must not be empty.
    public init(header: [String]) {
        precondition(!header.isEmpty, "CSVWriter: the header must name at least one column")
        columnCount = header.count
        text = ""
        appendLine(header)
    }

    /// Appends one data row.
    ///
    /// - Parameter cells: exactly ``columnCount`` fields (a precondition);
    ///   quoting is applied as needed.
    public mutating func appendRow(_ cells: [String]) {
        precondition(cells.count == columnCount,
                     "CSVWriter.appendRow: \(cells.count) cells for \(columnCount) columns")
        appendLine(cells)
    }

    /// The CSV text for `header` followed by `rows` (see ``appendRow(_:)``).
    public static func render(header: [String], rows: [[String]]) -> String {
        var w = CSVWriter(header: header)
        for row in rows { w.appendRow(row) }
        return w.text
    }

    /// `field`, quoted if it contains a comma, a quote, CR or LF, or starts with a
    /// byte-order mark (which a reader would strip at the start of a file); inner
    /// quotes doubled. Otherwise unchanged.
    public static func escape(_ field: String) -> String {
        let needsQuotes = field.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
            || field.unicodeScalars.first == "\u{FEFF}"
        guard needsQuotes else { return field }
        var out = "\""
        for ch in field.unicodeScalars {
            if ch == "\"" { out += "\"\"" } else { out.unicodeScalars.append(ch) }
        }
        out += "\""
        return out
    }

    /// The shortest decimal text that reads back (with `Double(String)`) to
    /// exactly `x`, sign of zero included — Swift's `Double.description`,
    /// e.g. `"0.1"`, `"-0.0"`, `"1e-05"`, `"5e-324"`, `"1.7976931348623157e+308"`.
    ///
    /// NaN and ±infinity, which a double-valued CSV cell cannot hold, give the empty
    /// field and add one to ``unrepresentableCount`` (a value that overflowed is
    /// reachable from extreme user input; an empty cell with a counted note is
    /// better than a crash). Use ``formatOrEmpty(_:)`` for values that may be
    /// legitimately missing: those are not counted.
    public static func format(_ x: Double) -> String {
        guard x.isFinite else {
            unrepresentable.add(1, ordering: .relaxed)
            return ""
        }
        return x.description
    }

    /// How many non-finite values ``format(_:)`` has written as empty fields in this
    /// process so far.
    public static var unrepresentableCount: Int { unrepresentable.load(ordering: .relaxed) }

    private static let unrepresentable = Atomic<Int>(0)

    /// ``format(_:)`` for present values; the empty field for `nil`
    /// (a missing value, as pandas writes it).
    public static func formatOrEmpty(_ x: Double?) -> String {
        guard let x else { return "" }
        return format(x)
    }

    private mutating func appendLine(_ cells: [String]) {
        CSVWriter.appendLine(cells, to: &text)
    }

    /// One CSV line of `cells`, with its line end, appended to `text`.
    static func appendLine(_ cells: [String], to text: inout String) {
        if cells.count == 1 && cells[0].isEmpty {
            text += "\"\"\n"
            return
        }
        for (k, cell) in cells.enumerated() {
            if k > 0 { text += "," }
            text += CSVWriter.escape(cell)
        }
        text += "\n"
    }
}
