import Testing
@testable import Formats

/// A JSON array written element by element is the whole array's pretty text, bit for bit;
/// a table written in pieces gives the whole table's JSON.
@Suite struct PrettyJSONArrayWriterTests {
    static let values: [JSONValue] = [
        .object(["loss": .string("spo"), "h": .number(1.5), "nested": .array([.integer(1), .object(["a": .null])])]),
        .number(-0.0), .string("a\"b\n"), .array([]), .object([:]), .bool(true),
    ]

    @Test(arguments: 0...6)
    func piecesAreTheWholeArray(count: Int) {
        let values = Array(Self.values.prefix(count))
        var w = PrettyJSONArrayWriter()
        var text = ""
        for v in values { text += w.element(v) }
        text += w.end()
        #expect(text == JSONValue.array(values).rendered(pretty: true))
    }

    @Test func anEmptyArrayIsBrackets() {
        #expect(PrettyJSONArrayWriter().end() == "[]\n")
    }

    @Test func aTableInPiecesIsTheWholeTable() {
        var whole = ResultTable(columns: ["x", "name"])
        var piece = ResultTable(columns: ["x", "name"])
        var w = PrettyJSONArrayWriter()
        var text = ""
        for k in 0..<10 {
            let cells: [TableCell] = [.number(Double(k) / 3), k == 4 ? .empty : .text("r\(k)")]
            whole.append(cells: cells)
            piece.append(cells: cells)
            if k % 4 == 3 { text += piece.json(continuing: &w); piece.removeAllRows() }
        }
        text += piece.json(continuing: &w) + w.end()
        #expect(text == whole.json())
    }
}
