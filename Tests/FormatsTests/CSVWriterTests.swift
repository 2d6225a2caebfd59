import Foundation
import Testing
@testable import Formats

@Suite("CSV writing")
struct CSVWriterTests {
    @Test func exactOutput() {
        var w = CSVWriter(header: ["name", "value"])
        w.appendRow(["plain", "1.5"])
        w.appendRow(["with,comma", "say \"hi\""])
        w.appendRow(["two\nlines", "cr\rhere"])
        w.appendRow(["", " spaced "])
        #expect(w.columnCount == 2)
        let expected = "name,value\n"
            + "plain,1.5\n"
            + "\"with,comma\",\"say \"\"hi\"\"\"\n"
            + "\"two\nlines\",\"cr\rhere\"\n"
            + ", spaced \n"
        #expect(w.text == expected)
    }

    @Test(arguments: [
        ("abc", "abc"), ("", ""), ("a,b", "\"a,b\""), ("\"", "\"\"\"\""),
        ("x\ny", "\"x\ny\""), ("x\r\ny", "\"x\r\ny\""), ("café 🙂", "café 🙂"), ("semi;colon", "semi;colon"),
    ])
    func escaping(field: String, expected: String) {
        #expect(CSVWriter.escape(field) == expected)
    }

    @Test func singleEmptyCellRowIsQuoted() throws {
        let text = CSVWriter.render(header: ["only"], rows: [["a"], [""], ["b"]])
        #expect(text == "only\na\n\"\"\nb\n")
        #expect(try CSVDocument.parse(text, source: "s").rows == [["a"], [""], ["b"]])
    }

    @Test func roundTripsNastyFieldsThroughTheReader() throws {
        let header = ["a,b", "q\"uote", "plain", "nl\nx"]
        let rows = [
            ["", ",", "\"\"", "\r\n"],
            ["ünï", "🙂,🙂", " lead", "trail "],
            ["\n", "\r", "a\"b\"c", "0.1"],
        ]
        let doc = try CSVDocument.parse(CSVWriter.render(header: header, rows: rows), source: "rt.csv")
        #expect(doc.header == header)
        #expect(doc.rows == rows)
    }

    @Test func formatExamples() {
        #expect(CSVWriter.format(0.1) == "0.1")
        #expect(CSVWriter.format(-300) == "-300.0")
        #expect(CSVWriter.format(-0.0) == "-0.0")
        #expect(CSVWriter.format(1e-5) == "1e-05")
        #expect(CSVWriter.format(.leastNonzeroMagnitude) == "5e-324")
        #expect(CSVWriter.formatOrEmpty(nil) == "")
        #expect(CSVWriter.formatOrEmpty(2.5) == "2.5")
    }

    @Test func formatRoundTripsBitForBit() throws {
        var rng = SplitMix64(seed: 0x5EED)
        var specials: [Double] = [0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                  .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                  .ulpOfOne, 1 / 3, 0.1 + 0.2, 1e16, 123456789012345680]
        for _ in 0..<20_000 {
            // Random bit patterns cover every exponent, including subnormals.
            let x = Double(bitPattern: rng.next())
            if x.isFinite { specials.append(x) }
            // And subnormals specifically (exponent field zero).
            specials.append(Double(bitPattern: rng.next() & 0x800F_FFFF_FFFF_FFFF))
        }
        var subnormals = 0
        for x in specials {
            if x.isSubnormal { subnormals += 1 }
            let text = CSVWriter.format(x)
            let back = try #require(Double(text), "unparseable: \(text)")
            #expect(back.bitPattern == x.bitPattern, "\(x) -> \(text) -> \(back)")
        }
        #expect(subnormals > 10_000)
        // And through a whole CSV file.
        let sample = Array(specials.prefix(1000))
        let text = CSVWriter.render(header: ["x"], rows: sample.map { [CSVWriter.format($0)] })
        let back = try CSVDocument.parse(text, source: "rt").doubles(column: "x")
        #expect(back.map(\.bitPattern) == sample.map(\.bitPattern))
    }
}

/// A tiny deterministic generator for tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
