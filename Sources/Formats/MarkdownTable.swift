// Why not ordo-one/TextTable 0.0.2: it builds (in Swift 5 language mode), but
// its Markdown ("pipe") style does not escape `|` in cells, and it pads with
// NSString's `padding(toLength:)`, which counts UTF-16 units rather than
// Characters, so columns with accents/emoji come out misaligned. Our needs
// fit in ~50 lines, so we avoid the dependency.

/// A GitHub-flavoured Markdown pipe table whose columns are padded to equal
/// width, so the source reads aligned in a terminal as well as rendering on
/// GitHub.
///
/// ```
/// | loss | value |
/// | :--- | ----: |
/// | DPO  |  0.69 |
/// ```
///
/// - Width is measured in `Character`s (grapheme clusters), so accented
///   letters and emoji count as one. (East-Asian wide characters still take
///   two terminal cells; the Markdown stays valid either way.)
/// - `|` in a cell is written `\|`; line breaks become `<br>` (a pipe-table
///   row must be one line).
/// - Separator cells are `:---` (left), `---:` (right), `:---:` (center),
///   widened with dashes to the column width; columns are at least 3 wide.
///
/// See also: ``CSVWriter`` for machine-readable output.
public struct MarkdownTable: Sendable {
    /// Horizontal alignment of one column.
    public enum Alignment: Sendable {
        /// Text flush left; separator `:---`.
        case left
        /// Text flush right (use for numbers); separator `---:`.
        case right
        /// Text centered (an odd leftover space goes on the right); separator `:---:`.
        case center
    }

    /// Column headings.
    public var headers: [String]
    /// One alignment per column; missing trailing entries mean ``Alignment/left``.
    public var alignments: [Alignment]
    /// The body rows; a row shorter than `headers` is padded with empty cells.
    public var rows: [[String]]

    /// Creates a table.
    ///
    /// - Parameters:
    ///   - headers: the column headings (at least one).
    ///   - alignments: at most `headers.count` entries; missing ones are `.left`.
    ///   - rows: at most `headers.count` cells each.
    public init(headers: [String], alignments: [Alignment] = [], rows: [[String]]) {
        precondition(!headers.isEmpty, "MarkdownTable: needs at least one column")
        precondition(alignments.count <= headers.count, "MarkdownTable: more alignments than columns")
        precondition(rows.allSatisfy { $0.count <= headers.count }, "MarkdownTable: a row has more cells than columns")
        self.headers = headers
        self.alignments = alignments
        self.rows = rows
    }

    /// The table as Markdown text, one line per row, each ended by `"\n"`.
    public func render() -> String {
        let n = headers.count
        let body = rows.map { row in (0..<n).map { $0 < row.count ? Self.escape(row[$0]) : "" } }
        let head = headers.map(Self.escape)
        let align = (0..<n).map { $0 < alignments.count ? alignments[$0] : .left }
        var widths = head.map { max(3, $0.count) }
        for row in body { for c in 0..<n { widths[c] = max(widths[c], row[c].count) } }

        func line(_ cells: [String]) -> String {
            "| " + (0..<n).map { Self.pad(cells[$0], to: widths[$0], align[$0]) }.joined(separator: " | ") + " |\n"
        }
        let separator = (0..<n).map { c -> String in
            let w = widths[c]
            switch align[c] {
            case .left: return ":" + String(repeating: "-", count: w - 1)
            case .right: return String(repeating: "-", count: w - 1) + ":"
            case .center: return ":" + String(repeating: "-", count: w - 2) + ":"
            }
        }
        var out = line(head)
        out += "| " + separator.joined(separator: " | ") + " |\n"
        for row in body { out += line(row) }
        return out
    }

    /// `cell` with `|` escaped and line breaks replaced by `<br>`.
    static func escape(_ cell: String) -> String {
        var out = ""
        for ch in cell {
            switch ch {
            case "|": out += "\\|"
            case "\n", "\r", "\r\n": out += "<br>"
            default: out.append(ch)
            }
        }
        return out
    }

    static func pad(_ s: String, to width: Int, _ alignment: Alignment) -> String {
        let extra = max(0, width - s.count)
        switch alignment {
        case .left: return s + String(repeating: " ", count: extra)
        case .right: return String(repeating: " ", count: extra) + s
        case .center:
            return String(repeating: " ", count: extra / 2) + s + String(repeating: " ", count: extra - extra / 2)
        }
    }
}
