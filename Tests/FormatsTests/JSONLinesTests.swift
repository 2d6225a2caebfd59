import Foundation
import Testing
@testable import Formats

private let fields = ["a", "b", "c"]

private func parse(_ text: String, source: String = "t.jsonl") throws(FormatError) -> JSONLinesDocument {
    try JSONLinesDocument.parse(data: Data(text.utf8), source: source, fields: fields)
}

private func parseError(_ text: String) -> FormatError? {
    do { _ = try parse(text); return nil } catch { return error }
}

@Suite("JSON Lines reading")
struct JSONLinesTests {
    @Test func readsNumbersSkipsBlankLinesAndIgnoresOtherFields() throws {
        let text = "\u{FEFF}{\"a\": 1, \"b\": -2.5, \"prompt\": \"x\\ny\", \"chosen\": [1, {\"k\": null}]}\r\n"
            + "\n   \n"
            + "{\"b\": 1e-3, \"a\": -0, \"c\": null}\n"
            + "{\"a\": 1.0000000000000002, \"b\": 123456789012345678901234567890, \"c\": 5e-324}"
        let doc = try parse(text)
        #expect(doc.records.count == 3)
        #expect(doc.records.map(\.line) == [1, 4, 5])
        #expect(try doc.double(record: 0, field: "a") == 1)
        #expect(try doc.double(record: 0, field: "b") == -2.5)
        #expect(try doc.optionalDouble(record: 0, field: "c") == nil)  // absent
        #expect(try doc.optionalDouble(record: 1, field: "c") == nil)  // null
        #expect(doc.has(record: 1, field: "c") && !doc.has(record: 0, field: "c"))
        #expect(try doc.double(record: 1, field: "b") == 0.001)
        // Exact, correctly rounded decoding (JSONSerialization would give 1.0000000000000004 here).
        #expect(try doc.double(record: 2, field: "a") == 1.0000000000000002)
        #expect(try doc.double(record: 2, field: "b") == 1.2345678901234568e+29)
        #expect(try doc.double(record: 2, field: "c") == .leastNonzeroMagnitude)
        #expect(doc.fieldNames(record: 0) == ["a", "b", "chosen", "prompt"])
        // No record at all is an error, as an empty CSV is.
        for empty in ["", "\n\n", "\u{FEFF}", " \r\n\t\n"] {
            #expect(parseError(empty)?.kind == .emptyInput, "\(empty.debugDescription)")
        }
    }

    @Test func missingFieldNamesTheLineAndWhatIsThere() throws {
        let doc = try parse("{\"a\": 1, \"b\": 2}\n\n{\"b\": 3, \"zeta\": 4}\n")
        do {
            _ = try doc.double(record: 1, field: "a")
            Issue.record("no error")
        } catch {
            #expect(error.kind == .missingField(name: "a", available: ["b", "zeta"]))
            #expect(error.line == 3 && error.dataRow == 1)
            #expect(error.description == "t.jsonl: line 3 (data row 1): no field 'a' (the record has: 'b', 'zeta')")
        }
    }

    @Test(arguments: [
        ("{\"a\": null}", "null"),
        ("{\"a\": \"NaN\"}", "a string \"NaN\""),
        ("{\"a\": \"-1.5\"}", "a string \"-1.5\""),
        ("{\"a\": true}", "the boolean true"),
        ("{\"a\": [1]}", "an array"),
        ("{\"a\": {\"x\": 1}}", "an object"),
    ])
    func nonNumericValuesAreRejectedOnAccess(line: String, found: String) throws {
        let doc = try parse("{\"a\": 0}\n" + line + "\n")
        do {
            _ = try doc.double(record: 1, field: "a")
            Issue.record("\(line) was accepted")
        } catch {
            #expect(error.kind == .wrongType(expected: "a number", found: found))
            #expect(error.description == "t.jsonl: line 2 (data row 1), field 'a': expected a number, found \(found)")
        }
    }

    @Test func malformedLinesAreErrorsNamingTheLine() {
        let truncated = parseError("{\"a\": 1}\n{\"a\": 2\n")
        #expect(truncated?.line == 2 && truncated?.dataRow == 1)
        if case .malformedJSON? = truncated?.kind {} else { Issue.record("kind: \(String(describing: truncated?.kind))") }
        let nan = parseError("{\"a\": NaN}")
        #expect(nan?.description.contains("bare NaN and Infinity are not JSON") == true)
        let garbage = parseError("{\"a\": 1} x")
        #expect(garbage?.line == 1)
        #expect(parseError("{\"a\": 1}\n[1, 2]")?.kind == .notAnObject(found: "an array"))
        #expect(parseError("3")?.kind == .notAnObject(found: "a number"))
        #expect(parseError("\"s\"")?.kind == .notAnObject(found: "a string"))
        #expect(parseError("{\"a\": 1e400}")?.kind == .numberOutOfRange("1e400"))
        #expect(parseError("{\"a\": 1e400}")?.field == "a")
        #expect(parseError("{\"a\": -1e-400}")?.description == "t.jsonl: line 1 (data row 0), field 'a': -1e-400 does not fit in a double (overflow or underflow)")
        // Fields nobody asked for are not checked.
        #expect(parseError("{\"a\": 1, \"other\": 1e400}") == nil)
        var bad = Data("{\"a\": 1}\n{\"a\": \"".utf8)
        bad.append(0xFF)
        bad.append(contentsOf: Data("\"}".utf8))
        do { _ = try JSONLinesDocument.parse(data: bad, source: "u.jsonl", fields: fields) } catch {
            #expect(error.kind == .invalidUTF8 && error.line == 2)
        }
    }

    @Test func callerErrorsAreLocated() throws {
        let doc = try parse("\n{\"a\": 5}\n")
        let e = doc.error("must be <= 0", record: 0, field: "a")
        #expect(e.description == "t.jsonl: line 2 (data row 0), field 'a': must be <= 0")
    }

    /// 10^5 lines with realistic extra fields parse completely. (Speed is measured by
    /// `report bench` and benchmarks/, never by a timed test.)
    @Test func hundredThousandLinesParse() throws {
        var text = ""
        for i in 0..<100_000 {
            text += "{\"prompt\": \"question \(i)\", \"a\": -\(Double(i) * 0.37 + 1.5), \"b\": -12.25, \"c\": \(i), \"chosen\": \"answer\"}\n"
        }
        let data = Data(text.utf8)
        let doc = try JSONLinesDocument.parse(data: data, source: "big.jsonl", fields: fields)
        #expect(doc.records.count == 100_000)
        #expect(try doc.double(record: 99_999, field: "c") == 99_999)
    }
}

@Suite("JSON writing")
struct JSONValueTests {
    @Test func rendersSortedDeterministicJSON() throws {
        let v: JSONValue = .object([
            "z": .array([.integer(1), .number(0.1), .number(-0.0), .number(1e-5), .number(.nan), .number(-.infinity), .null, .bool(true)]),
            "a": .string("quote \" backslash \\ newline \n tab \t bell \u{07} é"),
            "m": .object([:]),
            "e": .array([]),
            "n": .number(nil as Double?),
        ])
        let compact = v.rendered()
        #expect(compact == #"{"a":"quote \" backslash \\ newline \n tab \t bell \u0007 é","e":[],"m":{},"n":null,"z":[1,0.1,-0.0,1e-05,null,null,null,true]}"#)
        // Foundation reads it back.
        let back = try JSONSerialization.jsonObject(with: Data(compact.utf8)) as? [String: Any]
        #expect(back?["a"] as? String == "quote \" backslash \\ newline \n tab \t bell \u{07} é")
        let pretty = JSONValue.object(["b": .array([.integer(1), .object(["k": .null])]), "a": .integer(2)]).rendered(pretty: true)
        #expect(pretty == "{\n  \"a\": 2,\n  \"b\": [\n    1,\n    {\n      \"k\": null\n    }\n  ]\n}\n")
    }

    @Test func numbersRoundTrip() throws {
        for x in [0.1, 1.0 / 3, .leastNonzeroMagnitude, 1.7976931348623157e308, -2.5e-300, 359.09999999999997] {
            let text = JSONValue.array([.number(x)]).rendered()
            let back = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any]
            // (JSONSerialization may round; JSONDecoder is exact.)
            #expect(try JSONDecoder().decode([Double].self, from: Data(text.utf8)) == [x])
            #expect(back?.count == 1)
        }
    }

    @Test func jsonLinesWriterWritesOneSortedObjectPerLine() throws {
        var w = JSONLinesWriter(keys: ["row", "loss", "value", "d_h"])
        w.appendRecord([.integer(0), .string("sigmoid"), .number(0.5), .null])
        w.appendRecord([.integer(1), .string("spo"), .number(.infinity), .number(-1)])
        #expect(w.text == "{\"d_h\":null,\"loss\":\"sigmoid\",\"row\":0,\"value\":0.5}\n{\"d_h\":-1.0,\"loss\":\"spo\",\"row\":1,\"value\":null}\n")
        // And the reader reads it back.
        let doc = try JSONLinesDocument.parse(data: Data(w.text.utf8), source: "w", fields: ["row", "value", "d_h"])
        #expect(try doc.double(record: 1, field: "d_h") == -1)
        #expect(try doc.optionalDouble(record: 0, field: "d_h") == nil)
    }
}
