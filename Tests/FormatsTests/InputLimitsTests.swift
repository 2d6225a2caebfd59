import Foundation
import Testing
@testable import Formats

/// The input caps (issue 13, "bounded resources"): each limit fails with its own error,
/// names the line, and can be raised; endless and bomb inputs stop early.
@Suite("Input limits")
struct InputLimitsTests {
    private static let header = "chosen_logps,rejected_logps\n"

    @Test func csvLineCapNamesTheLineAndCanBeRaised() throws {
        let long = String(repeating: "9", count: 300)
        let text = Self.header + "-1,-2\n-1,-\(long)\n"
        let small = InputLimits(maxLineBytes: 256)
        #expect(throws: FormatError(.lineTooLong(limit: 256), source: "l.csv", line: 3)) {
            try CSVDocument.parse(text, source: "l.csv", limits: small)
        }
        // Raised, the same text parses.
        let doc = try CSVDocument.parse(text, source: "l.csv", limits: InputLimits(maxLineBytes: 400))
        #expect(doc.rows.count == 2)
    }

    @Test func csvFieldCapCoversQuotedFieldsOverManyLines() throws {
        // Short lines, one quoted cell spanning 200 of them: only the field cap sees it.
        let cell = "\"" + String(repeating: "ab\n", count: 200) + "\""
        let text = "a,b\n1,\(cell)\n"
        let limits = InputLimits(maxLineBytes: 64, maxFieldBytes: 100)
        do {
            _ = try CSVDocument.parse(text, source: "f.csv", limits: limits)
            Issue.record("accepted a 600-byte field with a 100-byte cap")
        } catch {
            guard case .fieldTooLong(100, let excerpt) = error.kind else { Issue.record("kind \(error.kind)"); return }
            #expect(excerpt.hasPrefix("ab\nab"))
            #expect(error.line == 2 && error.dataRow == 0)
            #expect(error.description.count < 250, "\(error.description)")
        }
        #expect(try CSVDocument.parse(text, source: "f.csv", limits: InputLimits(maxFieldBytes: 1000)).rows.count == 1)
    }

    @Test func jsonLineAndFieldCaps() throws {
        let text = #"{"a": -1, "prompt": ""# + String(repeating: "x", count: 500) + "\"}\n"
        let e1 = #expect(throws: FormatError.self) {
            try JSONLinesDocument.parse(data: Data(text.utf8), source: "j.jsonl", fields: ["a"],
                                        limits: InputLimits(maxLineBytes: 200))
        }
        #expect(e1?.kind == .lineTooLong(limit: 200) && e1?.line == 1)
        // The field cap applies to the fields that are read, not to ignored text.
        #expect(try JSONLinesDocument.parse(data: Data(text.utf8), source: "j.jsonl", fields: ["a"],
                                            limits: InputLimits(maxFieldBytes: 100)).records.count == 1)
        let e2 = #expect(throws: FormatError.self) {
            try JSONLinesDocument.parse(data: Data(text.utf8), source: "j.jsonl", fields: ["a", "prompt"],
                                        limits: InputLimits(maxFieldBytes: 100))
        }
        guard case .fieldTooLong(100, _)? = e2?.kind else { Issue.record("kind \(String(describing: e2?.kind))"); return }
        #expect(e2?.field == "prompt" && e2?.dataRow == 0)
    }

    @Test func inputSizeCapInEveryReader() throws {
        let text = Self.header + String(repeating: "-1,-2\n", count: 100)
        let limits = InputLimits(maxInputBytes: 300)
        #expect(throws: FormatError(.inputTooLarge(limit: 300), source: "s.csv")) {
            try CSVDocument.parse(text, source: "s.csv", limits: limits)
        }
        let json = String(repeating: "{\"a\": 1}\n", count: 100)
        #expect(throws: FormatError(.inputTooLarge(limit: 300), source: "s.jsonl")) {
            try JSONLinesDocument.parse(data: Data(json.utf8), source: "s.jsonl", fields: ["a"], limits: limits)
        }
        let url = try Self.temporaryFile(Data(text.utf8), name: "s.csv")
        #expect(throws: FormatError(.inputTooLarge(limit: 300), source: "s.csv")) {
            try InputFile.read(path: url.path, limits: limits)
        }
        #expect(try InputFile.read(path: url.path).data.count == text.utf8.count)
    }

    /// `/dev/zero` never ends and has no line break: the line cap stops it after one limit.
    @Test func devZeroStopsAtTheLineCap() throws {
        guard FileManager.default.fileExists(atPath: "/dev/zero") else { return }
        #expect(throws: FormatError(.lineTooLong(limit: 1 << 16), source: "zero", line: 1)) {
            try InputFile.read(path: "/dev/zero", limits: InputLimits(maxLineBytes: 1 << 16))
        }
        #expect(throws: FormatError(.lineTooLong(limit: 1 << 20), source: "zero", line: 1)) {
            try InputFile.read(path: "/dev/zero")
        }
    }

    /// A gzip of zeros (the issue's 18 MB of gzip holding 4 GB) stops at the line cap while
    /// decompressing; a gzip of line breaks stops at the size cap.
    @Test func gzipBombsStopEarly() throws {
        let zeros = Gzip.compress(Data(count: 32 << 20), level: 9)
        #expect(zeros.count < 100_000)
        let url = try Self.temporaryFile(zeros, name: "bomb.csv.gz")
        #expect(throws: FormatError(.lineTooLong(limit: 1 << 20), source: "bomb.csv.gz", line: 1)) {
            try InputFile.read(path: url.path)
        }
        let breaks = Gzip.compress(Data(repeating: 0x0A, count: 8 << 20), level: 9)
        let url2 = try Self.temporaryFile(breaks, name: "breaks.jsonl.gz")
        #expect(throws: FormatError(.inputTooLarge(limit: 1 << 20), source: "breaks.jsonl.gz")) {
            try InputFile.read(path: url2.path, limits: InputLimits(maxInputBytes: 1 << 20))
        }
        #expect(throws: FormatError(.inputTooLarge(limit: 1000), source: "z")) {
            try Gzip.decompress(zeros, source: "z", maxOutputBytes: 1000)
        }
        #expect(try InputFile.read(path: url2.path).data.count == 8 << 20)
    }

    /// The line count of a limit error matches the readers' (CRLF one break, lone CR one
    /// break in CSV).
    @Test func lineNumbersOfLimitErrors() throws {
        let long = String(repeating: "7", count: 100)
        for (text, line) in [("a\r\nb\r\n\(long)\n", 3), ("a\rb\r\r\(long)", 4), ("\(long)", 1), ("a\n\n\n\(long)\r\n", 4)] {
            let e = #expect(throws: FormatError.self) {
                try CSVDocument.parse(text, source: "n.csv", limits: InputLimits(maxLineBytes: 50))
            }
            #expect(e?.line == line, "\(text.debugDescription)")
            var g = LineLengthGuard(limit: 50, crBreaks: true)
            let viaGuard = Array(text.utf8).withUnsafeBufferPointer { g.scan($0) }
            #expect(viaGuard == line)
        }
    }

    /// Messages quote at most about 80 characters of the offending text.
    @Test func messagesQuoteAtMostEightyCharacters() throws {
        let huge = String(repeating: "z", count: 60_000)
        let doc = try CSVDocument.parse("v\n\(huge)\n", source: "q.csv")
        let e = #expect(throws: FormatError.self) { try doc.double(row: 0, column: 0) }
        #expect((e?.description.count ?? .max) < 200, "\(e?.description.prefix(300) ?? "")")
        #expect(e?.description.contains(String(repeating: "z", count: 80) + "…") == true)
        let json = "{\"a\": 1e" + String(repeating: "9", count: 50_000) + "}"
        let j = #expect(throws: FormatError.self) {
            try JSONLinesDocument.parse(data: Data(json.utf8), source: "q.jsonl", fields: ["a"])
        }
        #expect((j?.description.count ?? .max) < 200, "\(j?.description.prefix(300) ?? "")")
        let dup = try? CSVDocument.parse("\(huge),\(huge)\n", source: "d.csv")
        #expect(dup == nil)
        do { _ = try CSVDocument.parse("\(huge),\(huge)\n", source: "d.csv") } catch {
            #expect(error.description.count < 250)
        }
        #expect(InputLimits.excerpt("a\u{0}b\nc") == "a\\0b\\nc")
        #expect(InputLimits.excerpt(String(repeating: "é", count: 100)) == String(repeating: "é", count: 80) + "…")
    }

    static func temporaryFile(_ data: Data, name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }
}
