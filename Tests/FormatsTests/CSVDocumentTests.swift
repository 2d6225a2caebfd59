import Foundation
import Testing
@testable import Formats

/// Parses `text` expecting failure; returns the error (or records an issue).
private func parseError(_ text: String, source: String = "t.csv") -> FormatError? {
    do {
        let doc = try CSVDocument.parse(text, source: source)
        Issue.record("expected an error, parsed \(doc.rows.count) rows")
        return nil
    } catch {
        return error
    }
}

@Suite("CSV reading")
struct CSVDocumentTests {
    @Test func parsesPlainFieldsAndLineNumbers() throws {
        let doc = try CSVDocument.parse("a,b,c\n1,2,3\nx,,z\n", source: "t.csv")
        #expect(doc.source == "t.csv")
        #expect(doc.header == ["a", "b", "c"])
        #expect(doc.rows == [["1", "2", "3"], ["x", "", "z"]])
        #expect(doc.lineNumbers == [2, 3])
        #expect(doc.headerLine == 1)
    }

    @Test func quotedFieldsWithCommasQuotesAndNewlines() throws {
        let text = "name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\n\"multi\nline\",\"\"\nlast,\"a\r\nb\"\n"
        let doc = try CSVDocument.parse(text, source: "q.csv")
        #expect(doc.rows == [["Smith, J", "said \"hi\""], ["multi\nline", ""], ["last", "a\r\nb"]])
        // Row 1 starts on line 3 and spans two lines, so row 2 starts on line 5.
        #expect(doc.lineNumbers == [2, 3, 5])
    }

    @Test func acceptsCRLFBomTrailingCommaAndBlankLines() throws {
        let text = "\u{FEFF}x,y\r\n1,\r\n\r\n2,3\r\n\r\n\n"
        let doc = try CSVDocument.parse(text, source: "w.csv")
        #expect(doc.header == ["x", "y"])  // BOM not part of the first name
        #expect(doc.rows == [["1", ""], ["2", "3"]])
        #expect(doc.lineNumbers == [2, 4])
    }

    @Test func noTrailingNewlineAndLoneCR() throws {
        #expect(try CSVDocument.parse("a,b\r1,2\r3,4", source: "s").rows == [["1", "2"], ["3", "4"]])
        #expect(try CSVDocument.parse("a", source: "s").rows == [])
        #expect(try CSVDocument.parse("a\n\"\"\n", source: "s").rows == [[""]])
        #expect(try CSVDocument.parse("a,b\n1,\"q\"", source: "s").rows == [["1", "q"]])
    }

    @Test func unicodeFieldsSurvive() throws {
        let doc = try CSVDocument.parse("nom,val\ncafé,\"naïve, 🙂\"\n", source: "u.csv")
        #expect(doc.rows == [["café", "naïve, 🙂"]])
    }

    @Test func headerAfterLeadingBlankLines() throws {
        let doc = try CSVDocument.parse("\n\nh\n1\n", source: "s")
        #expect(doc.headerLine == 3)
        #expect(doc.lineNumbers == [4])
    }

    @Test func unterminatedQuoteNamesTheOpeningLine() {
        let e = parseError("a,b\n1,2\n3,\"open\nmore\n", source: "pairs.csv")
        #expect(e?.kind == .unterminatedQuote)
        #expect(e?.line == 3)
        #expect(e?.description.hasPrefix("pairs.csv: line 3: quoted field") == true)
    }

    @Test func fieldCountMismatchNamesLineRowAndCounts() {
        let e = parseError("a,b,c\n1,2,3\n\n4,5\n", source: "pairs.csv")
        #expect(e?.kind == .fieldCountMismatch(expected: 3, found: 2))
        #expect(e?.description == "pairs.csv: line 4 (data row 1): expected 3 fields (as in the header), found 2")
        let tooMany = parseError("a\n1,2\n")
        #expect(tooMany?.description == "t.csv: line 2 (data row 0): expected 1 field (as in the header), found 2")
    }

    @Test func duplicateHeaderIsRejected() {
        let e = parseError("id,x,y,x\n1,2,3,4\n", source: "d.csv")
        #expect(e?.kind == .duplicateColumn(name: "x", first: 1, second: 3))
        #expect(e?.description == "d.csv: line 1: duplicate column name 'x' in header (columns 2 and 4)")
    }

    @Test(arguments: ["", "\n\n", "\u{FEFF}", "\u{FEFF}\r\n"])
    func emptyInputIsRejected(text: String) {
        let e = parseError(text, source: "<stdin>")
        #expect(e?.kind == .emptyInput)
        #expect(e?.description.hasPrefix("<stdin>: ") == true)
        #expect(e?.description.contains("no header") == true)
    }

    @Test func strayQuotesAreRejected() {
        let inside = parseError("a,b\n1,2\n3,4\"5\n")
        #expect(inside?.kind == .quoteInUnquotedField)
        #expect(inside?.line == 3 && inside?.dataRow == 1)
        let after = parseError("a,b\n\"1\"x,2\n")
        #expect(after?.kind == .textAfterClosingQuote("'x'"))
        #expect(after?.description == "t.csv: line 2 (data row 0): unexpected 'x' after closing quote (expected ',' or end of line)")
    }

    @Test func columnLookup() throws {
        let doc = try CSVDocument.parse("prompt,chosen_logps,rejected_logps\np,1,2\n", source: "pairs.csv")
        #expect(try doc.column(named: "rejected_logps") == 2)
        #expect(throws: FormatError.self) { try doc.column(named: "Rejected_logps") }
        do {
            _ = try doc.column(named: "ref_logps")
            Issue.record("expected missing column")
        } catch {
            #expect(error.description == "pairs.csv: no column named 'ref_logps' (available: 'prompt', 'chosen_logps', 'rejected_logps')")
        }
    }

    @Test func strictDoubles() throws {
        let text = "v\n1.5\n  -2e3 \n\t0x1p-2\n-0.0\n4.9e-324\n"
        let doc = try CSVDocument.parse(text, source: "n.csv")
        let values = try doc.doubles(column: "v")
        #expect(values == [1.5, -2000, 0.25, 0, .leastNonzeroMagnitude])
        #expect(values[3].sign == .minus)
    }

    @Test(arguments: [
        ("abc", "\"abc\" is not a number"),
        ("", "empty field, expected a number"),
        ("   ", "empty field, expected a number"),
        ("nan", "\"nan\" is not a finite number"),
        ("NaN", "\"NaN\" is not a finite number"),
        ("inf", "\"inf\" is not a finite number"),
        ("-inf", "\"-inf\" is not a finite number"),
        ("infinity", "\"infinity\" is not a finite number"),
        ("1e400", "1e400 does not fit in a double (overflow or underflow)"),
        ("-1e-400", "-1e-400 does not fit in a double (overflow or underflow)"),
        ("0x1p-1100", "0x1p-1100 does not fit in a double (overflow or underflow)"),
        ("-1\u{0}5", "\"-1\\05\" is not a number"),
        ("-1\u{0}", "\"-1\\0\" is not a number"),
        ("1,5", "\"1,5\" is not a number"),
        ("1.5x", "\"1.5x\" is not a number"),
        ("- 1", "\"- 1\" is not a number"),
    ])
    func badNumbersNameLineRowAndColumn(cell: String, message: String) throws {
        // 17 good data rows (lines 2…18), then the bad one: line 19, data row 17.
        var text = "prompt,rejected_logps\n"
        for k in 0..<17 { text += "p\(k),-\(k).5\n" }
        text += "bad,\(CSVWriter.escape(cell))\n"
        let doc = try CSVDocument.parse(text, source: "pairs.csv")
        let col = try doc.column(named: "rejected_logps")
        #expect(try doc.double(row: 16, column: col) == -16.5)
        do {
            let x = try doc.double(row: 17, column: col)
            Issue.record("parsed \(cell) as \(x)")
        } catch {
            #expect(error.line == 19)
            #expect(error.dataRow == 17)
            #expect(error.column == "rejected_logps")
            #expect(error.description == "pairs.csv: line 19 (data row 17), column 'rejected_logps': \(message)")
        }
    }

    @Test func rowOutOfRangeThrows() throws {
        let doc = try CSVDocument.parse("v\n1\n", source: "n.csv")
        #expect(throws: FormatError(.rowOutOfRange(row: 1, count: 1), source: "n.csv", column: "v")) {
            try doc.double(row: 1, column: 0)
        }
    }

    @Test func callerErrorsCarryTheLocation() throws {
        let doc = try CSVDocument.parse("p,q\n0.5,2\n", source: "probs.csv")
        let e = doc.error("probability must lie in [0, 1]", row: 0, column: 1)
        #expect(e.description == "probs.csv: line 2 (data row 0), column 'q': probability must lie in [0, 1]")
    }

    @Test func invalidUTF8IsRejectedWithLine() {
        var bytes = Array("a\nok\n".utf8)
        bytes += [0x66, 0xFF, 0x0A]
        do {
            _ = try CSVDocument.parse(data: Data(bytes), source: "bin.csv")
            Issue.record("expected invalid UTF-8 error")
        } catch {
            #expect(error.kind == .invalidUTF8)
            #expect(error.description == "bin.csv: line 3: not valid UTF-8 text")
        }
        #expect(throws: Never.self) { try CSVDocument.parse(data: Data("h\né\n".utf8), source: "ok") }
    }

    @Test func readsFilesAndReportsMissingOnes() throws {
        let dir = try TempDir()
        let url = dir.url.appendingPathComponent("in.csv")
        try AtomicFile.write("a,b\n1,2\n", to: url)
        let doc = try CSVDocument.read(contentsOf: url)
        #expect(doc.source == "in.csv")
        #expect(doc.rows == [["1", "2"]])
        let missing = dir.url.appendingPathComponent("nope.csv")
        do {
            _ = try CSVDocument.read(contentsOf: missing)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "\(missing.path): cannot open for reading: No such file or directory")
        }
    }

    @Test func parsesAFewHundredThousandRows() throws {
        let n = 200_000
        var text = "step,loss,name\n"
        text.reserveCapacity(n * 24)
        for k in 0..<n { text += "\(k),\(Double(k) * 0.25),\"r,\(k % 7)\"\n" }
        let doc = try CSVDocument.parse(text, source: "big.csv")
        #expect(doc.rows.count == n)
        #expect(doc.rows[n - 1] == ["\(n - 1)", "\(Double(n - 1) * 0.25)", "r,\((n - 1) % 7)"])
        #expect(doc.lineNumbers[n - 1] == n + 1)
        #expect(try doc.double(row: 12345, column: 1) == 12345 * 0.25)
    }
}

/// A fresh temporary directory, removed when the value is deinitialised.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("FormatsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    /// Names in the directory, sorted (hidden files included).
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }
}
