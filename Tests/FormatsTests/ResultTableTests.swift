import Foundation
import Testing
@testable import Formats

private enum Kind: String, Codable { case ok, diverged }

private struct Row: Encodable {
    let loss: String
    let step: Int
    let regret: Double?
    let kind: Kind
    let flag: Bool
    enum CodingKeys: String, CodingKey { case loss, step, regret = "final_regret", kind, flag }
}

private struct Nested: Encodable {
    let name: String
    let values: [Double]
}

@Suite("ResultTable")
struct ResultTableTests {
    @Test("columns come from the coding keys in declaration order, nil is an empty cell")
    func columnsAndEmptyCells() throws {
        let t = try ResultTable([Row(loss: "spo", step: 3, regret: nil, kind: .ok, flag: true),
                                 Row(loss: "a,b", step: -1, regret: 0.1, kind: .diverged, flag: false)])
        #expect(t.columns == ["loss", "step", "final_regret", "kind", "flag"])
        #expect(t.csv() == "loss,step,final_regret,kind,flag\nspo,3,,ok,true\n\"a,b\",-1,0.1,diverged,false\n")
    }

    @Test("JSON Lines and JSON write empty cells as null and numbers at round-trip precision")
    func json() throws {
        let t = try ResultTable([Row(loss: "spo", step: 3, regret: nil, kind: .ok, flag: true)])
        #expect(t.jsonLines() == "{\"final_regret\":null,\"flag\":true,\"kind\":\"ok\",\"loss\":\"spo\",\"step\":3}\n")
        let u = try ResultTable([Row(loss: "x", step: 0, regret: 1e-300, kind: .ok, flag: false)])
        #expect(u.json().contains("\"final_regret\": 1e-300"))
    }

    @Test("a non-finite number becomes an empty cell and is counted")
    func nonFinite() throws {
        var t = ResultTable(columns: ["loss", "step", "final_regret", "kind", "flag"])
        try t.append(Row(loss: "ipo", step: 1, regret: .nan, kind: .diverged, flag: false))
        try t.append(Row(loss: "ipo", step: 2, regret: -.infinity, kind: .diverged, flag: false))
        #expect(t.nonFiniteCells == 2)
        #expect(t.rows.allSatisfy { $0[2] == .empty })
        #expect(!t.csv().contains("nan") && !t.csv().contains("inf"))
    }

    @Test("rows that are not flat, or have other columns, are refused")
    func refused() throws {
        #expect(throws: FormatError.self) { _ = try ResultTable([Nested(name: "a", values: [1, 2])]) }
        var t = ResultTable(columns: ["loss"])
        #expect(throws: FormatError.self) { try t.append(Row(loss: "s", step: 0, regret: 0, kind: .ok, flag: true)) }
    }

    @Test("Markdown right-aligns numeric columns and uses the caller's number format")
    func markdown() throws {
        let t = try ResultTable([Row(loss: "spo", step: 3, regret: 0.123456, kind: .ok, flag: true)])
        let md = t.markdown { String(format: "%.2f", $0) }
        #expect(md.contains("0.12"))
        #expect(md.split(separator: "\n")[1].contains("---:"))
    }
}
