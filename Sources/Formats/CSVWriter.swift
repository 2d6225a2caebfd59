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
///   fields with ``formatOrEmpty(_:)``; NaN and infinities are never written
///   silently — ``format(_:)`` traps on them.
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

    /// `field`, quoted if it contains a comma, a quote, CR or LF (inner
    /// quotes doubled); otherwise unchanged.
    public static func escape(_ field: String) -> String {
        let needsQuotes = field.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
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
    /// - Precondition: `x` is finite. NaN or ±infinity in a results file is
    ///   almost always a bug upstream, so it traps instead of being written.
    ///   Use ``formatOrEmpty(_:)`` for values that may be legitimately missing.
    public static func format(_ x: Double) -> String {
        precondition(x.isFinite, "CSVWriter.format: refusing to write non-finite value \(x)")
        return x.description
    }

    /// ``format(_:)`` for present values; the empty field for `nil`
    /// (a missing value, as pandas writes it).
    ///
    /// - Precondition: `x` is `nil` or finite.
    public static func formatOrEmpty(_ x: Double?) -> String {
        guard let x else { return "" }
        return format(x)
    }

    private mutating func appendLine(_ cells: [String]) {
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
