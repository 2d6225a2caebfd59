import Foundation
import Testing
@testable import Formats

/// The streamed readers (issue 13 part 5) against the whole-document parsers: the same rows,
/// line numbers and errors, piece after piece, for inputs larger than one piece (256 KiB).
@Suite("table stream reader")
struct TableStreamReaderTests {
    static func file(_ data: Data, _ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    /// A CSV of `rows` rows with a BOM, CRLF line ends, blank lines and quoted cells holding
    /// commas, quotes and line breaks, so that pieces end inside every kind of record.
    static func csv(rows: Int) -> String {
        var s = "\u{FEFF}id,text,chosen_logps\r\n"
        for i in 0..<rows {
            s += i % 7 == 0 ? "\(i),\"a, \"\"quoted\"\"\nline\",-\(Double(i) * 0.5)\r\n" : "\(i),plain \(i),-\(i).25\r\n"
            if i % 1000 == 0 { s += "\r\n" }
        }
        return s
    }

    static func drainCSV(_ reader: TableStreamReader) throws(FormatError) -> (rows: [[String]], lines: [Int], firstRows: [Int]) {
        var rows: [[String]] = [], lines: [Int] = [], firstRows: [Int] = []
        while let piece = try reader.next() {
            guard case .csv(let doc) = piece else { Issue.record("not CSV"); break }
            firstRows.append(doc.firstDataRow)
            rows += doc.rows
            lines += doc.lineNumbers
        }
        return (rows, lines, firstRows)
    }

    @Test func csvPiecesAreTheWholeDocument() throws {
        let text = Self.csv(rows: 30_000)
        #expect(text.utf8.count > 3 * InputByteStream.pieceSize)
        let whole = try CSVDocument.parse(text, source: "p.csv")
        for data in [Data(text.utf8), Gzip.compress(Data(text.utf8))] {
            let reader = try TableStreamReader(path: try Self.file(data, "p.csv"), fields: [], format: nil)
            #expect(reader.format == .csv)
            let streamed = try Self.drainCSV(reader)
            #expect(streamed.firstRows.count > 2)
            #expect(streamed.rows == whole.rows)
            #expect(streamed.lines == whole.lineNumbers)
            #expect(reader.header == whole.header)
            #expect(reader.rowsRead == whole.rows.count)
        }
    }

    /// An error deep in the input: the same message (line, data row) as the whole parse,
    /// and a cell error from a later piece names the input's data row.
    @Test func csvErrorsNameTheWholeInputsLineAndRow() throws {
        let good = Self.csv(rows: 20_000)
        let broken = good + "20000,\"unterminated\n"
        let wholeError = #expect(throws: FormatError.self) { try CSVDocument.parse(broken, source: "p.csv") }
        let reader = try TableStreamReader(path: try Self.file(Data(broken.utf8), "p.csv"), fields: [], format: .csv)
        let streamError = #expect(throws: FormatError.self) { _ = try Self.drainCSV(reader) }
        #expect(streamError?.description == wholeError?.description)
        #expect(streamError?.description.hasPrefix("p.csv: line") == true)

        let mismatch = good + "1,2\n"
        let e1 = #expect(throws: FormatError.self) { try CSVDocument.parse(mismatch, source: "p.csv") }
        let r2 = try TableStreamReader(path: try Self.file(Data(mismatch.utf8), "p.csv"), fields: [], format: .csv)
        let e2 = #expect(throws: FormatError.self) { _ = try Self.drainCSV(r2) }
        #expect(e2?.description == e1?.description)

        // A bad number in the last piece: the error names the input's row.
        let bad = good + "20000,x,-1e400\n"
        let whole = try CSVDocument.parse(bad, source: "p.csv")
        let wholeCell = #expect(throws: FormatError.self) { try whole.double(row: whole.rows.count - 1, column: 2) }
        let r3 = try TableStreamReader(path: try Self.file(Data(bad.utf8), "p.csv"), fields: [], format: .csv)
        var last: CSVDocument?
        while let piece = try r3.next() { if case .csv(let d) = piece { last = d } }
        let doc = try #require(last)
        let streamedCell = #expect(throws: FormatError.self) { try doc.double(row: doc.rows.count - 1, column: 2) }
        #expect(streamedCell?.description == wholeCell?.description)
        #expect(streamedCell?.dataRow == 20_000)
    }

    static func jsonLines(records: Int) -> String {
        (0..<records).map { i in
            i % 500 == 0 ? "\n{\"prompt_id\": \(i), \"prompt\": \"q \(i) ☃\", \"chosen_logps\": -\(i).5}\r"
                         : "{\"prompt_id\": \(i), \"chosen_logps\": -\(i).5, \"meta\": [1, 2]}"
        }.joined(separator: "\n") + "\n"
    }

    @Test func jsonLinesPiecesAreTheWholeDocument() throws {
        let text = Self.jsonLines(records: 20_000)
        let whole = try JSONLinesDocument.parse(data: Data(text.utf8), source: "p.jsonl", fields: ["chosen_logps"])
        for data in [Data(text.utf8), Gzip.compress(Data(text.utf8))] {
            let reader = try TableStreamReader(path: try Self.file(data, "p.jsonl"), fields: ["chosen_logps"], format: nil)
            #expect(reader.format == .jsonLines)
            var records: [JSONLinesDocument.Record] = []
            var pieces = 0
            while let piece = try reader.next() {
                guard case .jsonLines(let doc) = piece else { Issue.record("not JSON Lines"); break }
                #expect(doc.firstRecord == records.count)
                records += doc.records
                pieces += 1
                #expect(doc.cells(record: 0).first?.key == "prompt_id")
            }
            #expect(pieces > 1)
            #expect(records.map(\.line) == whole.records.map(\.line))
            #expect(records.map(\.values) == whole.records.map(\.values))
        }
        // Pass-through cells: typed, nested values nil.
        let doc = try JSONLinesDocument.parse(data: Data("{\"id\": 17, \"x\": 1.5, \"s\": \"a\", \"n\": null, \"b\": true, \"m\": {}}\n".utf8),
                                              source: "c.jsonl", fields: [])
        let cells = doc.cells(record: 0)
        #expect(cells.map(\.key) == ["id", "x", "s", "n", "b", "m"])
        #expect(cells.map(\.cell) == [.integer(17), .number(1.5), .text("a"), .empty, .bool(true), nil])
    }

    @Test func jsonLinesErrorsNameTheWholeInputsLine() throws {
        let broken = Self.jsonLines(records: 20_000) + "{\"chosen_logps\": -1, \"chosen_logps\": -2}\n"
        let whole = #expect(throws: FormatError.self) {
            try JSONLinesDocument.parse(data: Data(broken.utf8), source: "p.jsonl", fields: ["chosen_logps"])
        }
        let reader = try TableStreamReader(path: try Self.file(Data(broken.utf8), "p.jsonl"), fields: ["chosen_logps"], format: .jsonLines)
        let streamed = #expect(throws: FormatError.self) { while try reader.next() != nil {} }
        #expect(streamed?.description == whole?.description)
        #expect(streamed?.dataRow == 20_000)
    }

    @Test func emptyInputsAndGzipRulesAsTheWholeReaders() throws {
        for (text, format) in [("", TableStreamReader.Format.csv), ("\n\n", .csv), ("\n \n", .jsonLines)] {
            let reader = try TableStreamReader(path: try Self.file(Data(text.utf8), "e"), fields: [], format: format)
            #expect(throws: FormatError.self) { _ = try reader.next() }
        }
        let header = try TableStreamReader(path: try Self.file(Data("a,b\n".utf8), "h.csv"), fields: [], format: .csv)
        #expect(try header.next() == nil)
        #expect(header.header == ["a", "b"])
        // Several gzip members and zero padding, as gzip -d.
        let a = Data("x,y\n1,2\n".utf8), b = Data("3,4\n".utf8)
        let padded = Gzip.compress(a) + Gzip.compress(b) + Data(repeating: 0, count: 9)
        let r = try TableStreamReader(path: try Self.file(padded, "m.csv.gz"), fields: [], format: .csv)
        #expect(try Self.drainCSV(r).rows == [["1", "2"], ["3", "4"]])
        // Truncated and corrupt streams: the whole reader's errors.
        let packed = Gzip.compress(Data(Self.csv(rows: 5000).utf8))
        for cut in [packed.count - 1, packed.count / 2] {
            let t = try TableStreamReader(path: try Self.file(packed.prefix(cut), "t.csv.gz"), fields: [], format: .csv)
            #expect(throws: FormatError(.truncatedCompressedData, source: "t.csv.gz")) { _ = try Self.drainCSV(t) }
        }
        let junk = try TableStreamReader(path: try Self.file(Gzip.compress(a) + Data("junk".utf8), "j.csv.gz"), fields: [], format: .csv)
        let streamed = #expect(throws: FormatError.self) { _ = try Self.drainCSV(junk) }
        let whole = #expect(throws: FormatError.self) { try Gzip.decompress(Gzip.compress(a) + Data("junk".utf8), source: "j.csv.gz") }
        #expect(streamed?.description == whole?.description)
    }

    /// Invalid UTF-8 in a later piece, and a multi-byte character cut between pieces.
    @Test func utf8IsCheckedAcrossPieces() throws {
        var bytes = Array(Self.csv(rows: 20_000).utf8)
        let valid = try TableStreamReader(path: try Self.file(Data(bytes), "u.csv"), fields: [], format: .csv)
        _ = try Self.drainCSV(valid)
        for k in stride(from: InputByteStream.pieceSize - 3, through: InputByteStream.pieceSize + 1, by: 1) {
            var withSnowman = Array("id,text,chosen_logps\n".utf8)
            while withSnowman.count < k { withSnowman += Array("1,ab,-1\n".utf8) }
            withSnowman += Array("2,☃,-2\n".utf8)
            let r = try TableStreamReader(path: try Self.file(Data(withSnowman), "s.csv"), fields: [], format: .csv)
            #expect(try Self.drainCSV(r).rows.last == ["2", "☃", "-2"])
        }
        bytes.insert(0xFF, at: bytes.count - 10)
        let whole = #expect(throws: FormatError.self) { try CSVDocument.parse(data: Data(bytes), source: "u.csv") }
        let r = try TableStreamReader(path: try Self.file(Data(bytes), "u.csv"), fields: [], format: .csv)
        let streamed = #expect(throws: FormatError.self) { _ = try Self.drainCSV(r) }
        #expect(streamed?.description == whole?.description)
    }

    /// Seeded fuzzing with tiny pieces (1 to 40 bytes), so that pieces end inside every kind of
    /// record, quote, line break and byte-order mark: a mutated input parses in pieces
    /// exactly when it parses whole, to the same rows and lines.
    @Test func tinyPiecesAgreeWithTheWholeParseOnMutatedInputs() throws {
        var rng = SplitMix64(seed: 1413)
        let csvSeeds = FuzzTests.csvSeeds.map { Array($0.utf8) }
        let jsonSeeds = FuzzTests.jsonSeeds.map { Array($0.utf8) }
        for k in 0..<300 {
            let csv = k % 2 == 0
            let seeds = csv ? csvSeeds : jsonSeeds
            let seed = seeds[k % seeds.count]
            let bytes = k % 10 == 0 ? seed : FuzzTests.mutate(seed + seed, &rng, others: seeds)
            let path = try Self.file(Data(bytes), "f")
            let piece = Int.random(in: 1...40, using: &rng)
            let reader = try TableStreamReader(path: path, fields: ["a", "b", "c"], format: csv ? .csv : .jsonLines,
                                               limits: .default, pieceSize: piece)
            if csv {
                let whole = Result { () throws(FormatError) in try CSVDocument.parse(data: Data(bytes), source: "f") }
                let streamed = Result { () throws(FormatError) in try Self.drainCSV(reader) }
                switch (whole, streamed) {
                case (.success(let w), .success(let s)):
                    #expect(s.rows == w.rows && s.lines == w.lineNumbers, "case \(k), pieces of \(piece)")
                    #expect(reader.header == w.header)
                case (.failure, .failure): break
                default: Issue.record("case \(k), pieces of \(piece): whole \(whole), streamed \(streamed)")
                }
            } else {
                let whole = Result { () throws(FormatError) in
                    try JSONLinesDocument.parse(data: Data(bytes), source: "f", fields: ["a", "b", "c"])
                }
                let streamed = Result { () throws(FormatError) -> [JSONLinesDocument.Record] in
                    var records: [JSONLinesDocument.Record] = []
                    while let p = try reader.next() { if case .jsonLines(let d) = p { records += d.records } }
                    return records
                }
                switch (whole, streamed) {
                case (.success(let w), .success(let s)):
                    #expect(s.map(\.line) == w.records.map(\.line) && s.map(\.values) == w.records.map(\.values), "case \(k)")
                case (.failure, .failure): break
                default: Issue.record("case \(k), pieces of \(piece): whole \(whole), streamed \(streamed)")
                }
            }
        }
    }
}
