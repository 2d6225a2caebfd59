import Foundation
import Testing
@testable import Formats

/// CSV and JSON Lines follow the same rules (issue 13, "one behaviour"): empty input,
/// repeated keys, the range of numbers, NUL bytes. Each case is checked in both formats.
@Suite("CSV and JSON Lines agree")
struct FormatConsistencyTests {
    /// The error for one value `text` in column/field `a`, from each format; nil if accepted.
    private static func both(_ text: String) -> (csv: FormatError.Kind?, json: FormatError.Kind?) {
        var csv: FormatError.Kind? = nil
        do {
            let doc = try CSVDocument.parse("a\n\(text)\n", source: "t.csv")
            _ = try doc.double(row: 0, column: 0)
        } catch { csv = error.kind }
        var json: FormatError.Kind? = nil
        do {
            let doc = try JSONLinesDocument.parse(data: Data("{\"a\": \(text)}\n".utf8), source: "t.jsonl", fields: ["a"])
            _ = try doc.double(record: 0, field: "a")
        } catch { json = error.kind }
        return (csv, json)
    }

    @Test(arguments: ["1e400", "-1e400", "1e-400", "-1e-400", "2e-324", "1e309"])
    func outOfRangeNumbersAreTheSameErrorInBoth(text: String) {
        let (csv, json) = Self.both(text)
        #expect(csv == .numberOutOfRange(text))
        #expect(json == .numberOutOfRange(text))
    }

    @Test(arguments: ["0", "-0", "-0.0", "5e-324", "4.9e-324", "-1.7976931348623157e308", "1e-300", "-745.13", "0e-500", "0.000e99999"])
    func inRangeNumbersAreAcceptedByBoth(text: String) {
        let (csv, json) = Self.both(text)
        #expect(csv == nil && json == nil, "\(text): \(String(describing: csv)) / \(String(describing: json))")
    }

    /// `Double(String)` stops at a NUL: "-1\0…" used to read as -1 in CSV.
    @Test func nulInsideANumberIsRejectedByBoth() throws {
        let csv = #expect(throws: FormatError.self) {
            try CSVDocument.parse("a,b\n-1\u{0}5,2\n", source: "n.csv").double(row: 0, column: 0)
        }
        #expect(csv?.kind == .notANumber("-1\u{0}5"))
        #expect(csv?.description == "n.csv: line 2 (data row 0), column 'a': \"-1\\05\" is not a number")
        let json = #expect(throws: FormatError.self) {
            try JSONLinesDocument.parse(data: Data("{\"a\": -1\u{0}5}\n".utf8), source: "n.jsonl", fields: ["a"])
        }
        #expect(json?.line == 1 && json?.dataRow == 0)
        if case .malformedJSON(let d)? = json?.kind { #expect(d.contains("'\\0'"), "\(d)") } else { Issue.record("\(String(describing: json))") }
    }

    @Test func emptyInputIsTheSameErrorInBoth() {
        for text in ["", "\n", "\u{FEFF}\n\n"] {
            #expect(throws: FormatError(.emptyInput, source: "e.csv", line: text.filter { $0 == "\n" }.count + 1)) {
                try CSVDocument.parse(text, source: "e.csv")
            }
            let json = #expect(throws: FormatError.self) {
                try JSONLinesDocument.parse(data: Data(text.utf8), source: "e.jsonl", fields: ["a"])
            }
            #expect(json?.kind == .emptyInput)
        }
    }

    /// A repeated column is an error in CSV; a repeated key now is in JSON Lines (it used to
    /// take the first value silently), naming the line, the row and the key, escapes decoded.
    @Test func repeatedKeysAreErrorsInBoth() {
        #expect(throws: FormatError.self) { try CSVDocument.parse("a,b,a\n1,2,3\n", source: "d.csv") }
        for line in [#"{"a": -1, "b": 2, "a": -5}"#, #"{"a": -1, "\u0061": -5}"#, #"{"b": 1, "x": [1], "x": {"y": 2}}"#] {
            let e = #expect(throws: FormatError.self) {
                try JSONLinesDocument.parse(data: Data("{\"a\": 0}\n\(line)\n".utf8), source: "d.jsonl", fields: ["a"])
            }
            #expect(e?.line == 2 && e?.dataRow == 1, "\(line)")
            guard case .duplicateField(let name)? = e?.kind else { Issue.record("\(line): \(String(describing: e))"); continue }
            #expect(e?.field == name)
            #expect(e?.description == "d.jsonl: line 2 (data row 1), field '\(name)': the record names field '\(name)' twice")
        }
        // The same key in nested objects, or in different records, is fine.
        #expect(throws: Never.self) {
            try JSONLinesDocument.parse(data: Data("{\"a\": 1, \"n\": {\"a\": 2, \"m\": {\"a\": 3}}}\n{\"a\": 4}\n".utf8),
                                        source: "ok.jsonl", fields: ["a"])
        }
    }

    /// The JSON scanner is strict RFC 8259 and reports the column.
    @Test(arguments: [
        (#"{"a": 01}"#, "invalid number at column 7"),
        (#"{"a": 1.}"#, "invalid number at column 7"),
        (#"{"a": .5}"#, "unexpected '.' at column 7"),
        (#"{"a": +1}"#, "unexpected '+' at column 7"),
        (#"{"a": 1,}"#, "expected a string key, found '}' at column 9"),
        (#"{"a": [1,]}"#, "unexpected ']' at column 10"),
        (#"{"a": "x\qy"}"#, "invalid escape \\'q' at column 9"),
        ("{\"a\": \"tab\there\"}", "control character '\\t' inside a string (escape it) at column 11"),
        (#"{"a": 1} {"b": 2}"#, "unexpected '{' after the value at column 10"),
        (#"{"a" 1}"#, "expected ':' after a key, found '1' at column 6"),
        (#"{a: 1}"#, "expected a string key, found 'a' at column 2"),
        (#"{"a": tru}"#, "unexpected 't' at column 7"),
        (#"{"a": "open}"#, "string opened here is never closed at column 7"),
        (#"{"a": [1, 2"#, "the line ends inside an array at column 12"),
    ])
    func malformedJSONNamesTheColumn(line: String, detail: String) {
        let e = #expect(throws: FormatError.self) {
            try JSONLinesDocument.parse(data: Data(line.utf8), source: "m.jsonl", fields: ["a"])
        }
        #expect(e?.kind == .malformedJSON(detail))
    }

    /// Deep nesting fails cleanly (an iterative scanner: no stack overflow).
    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = "{\"a\": " + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "}"
        let e = #expect(throws: FormatError.self) {
            try JSONLinesDocument.parse(data: Data(deep.utf8), source: "deep.jsonl", fields: ["a"])
        }
        #expect(e?.kind == .malformedJSON("nested deeper than 512 levels at column 518"))
        let ok = "{\"a\": 1, \"n\": " + String(repeating: "[", count: 500) + String(repeating: "]", count: 500) + "}"
        #expect(throws: Never.self) { try JSONLinesDocument.parse(data: Data(ok.utf8), source: "ok.jsonl", fields: ["a"]) }
    }

    /// Keys and strings decode escapes as JSON defines them (checked against Foundation).
    @Test func stringEscapesDecodeLikeFoundation() throws {
        let values = [#""plain""#, #""q\"b\\s\/n\nt\tb\bf\fr\r""#, #""\u00e9\u4e2d\ud83d\ude00""#, #""\ud800x""#, #""é中😀""#]
        for v in values {
            let doc = try JSONLinesDocument.parse(data: Data("{\"s\": \(v)}".utf8), source: "s.jsonl", fields: ["s"])
            guard case .string(let ours)? = doc.records.first?.values["s"] else { Issue.record("\(v)"); continue }
            if v.contains("ud800x") {
                #expect(ours == "\u{FFFD}x")   // a lone surrogate: the replacement character
            } else {
                let theirs = try JSONSerialization.jsonObject(with: Data("[\(v)]".utf8)) as? [String]
                #expect([ours] == theirs, "\(v)")
            }
        }
    }
}
