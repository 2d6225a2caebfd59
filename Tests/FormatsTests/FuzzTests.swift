import Foundation
import Testing
@testable import Formats

// SplitMix64 (CSVWriterTests.swift) seeds every case: the same cases on every machine.

/// Random inputs and random mutations of valid ones (issue 13, "a fuzz suite"): each
/// input must either parse or throw a ``FormatError`` (the readers use typed throws, so
/// any error is one), never crash or hang. Seeded and sampled: a few thousand cases,
/// a few seconds in a debug build. Parsed inputs are also checked for consistency.
@Suite("Fuzz: readers never crash")
struct FuzzTests {
    static let csvSeeds = [
        "chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps,score_chosen,score_rejected\n"
            + "-12.5,-30.25,-13,-29.5,1,0\n-1e-3,-7.0e2,0x1p-3,-0,5e-324,-1.7976931348623157e308\n",
        "\u{FEFF}a,\"b \"\"q\"\"\",c\r\n1,\"x,\ny\",3\r\n\r\n\"\",,\"é中😀\"\n",
        "v\n1\n\n2\r3\n",
    ]
    static let jsonSeeds = [
        #"{"a": -1.5, "b": -2e-3, "c": null, "prompt": "q \"x\" \u00e9\n", "chosen": [1, {"k": true}]}"# + "\n"
            + #"{"b": 0, "a": -0.0, "c": 123456789012345678901234567890, "m": {"n": [[], {}]}}"# + "\r\n\n"
            + #"{"a": 5e-324, "b": false, "c": "s"}"#,
        "{\"a\": 1}\n{\"a\": [1, 2, 3], \"b\": \"\\ud83d\\ude00\"}\n",
    ]

    /// Interesting bytes for the formats: structure, quotes, escapes, NUL, invalid UTF-8.
    static let specialBytes: [UInt8] = Array(",\"\n\r{}[]:\\-+.eE0x9 \tnNtf".utf8) + [0, 0xFF, 0xC3, 0xA9, 0xEF, 0x1F, 0x8B]

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64, others: [[UInt8]]) -> [UInt8] {
        var b = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let op = Int.random(in: 0..<8, using: &rng)
            let at = b.isEmpty ? 0 : Int.random(in: 0..<b.count, using: &rng)
            switch op {
            case 0 where !b.isEmpty: b[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            case 1 where !b.isEmpty: b[at] = specialBytes.randomElement(using: &rng) ?? 0
            case 2: b.insert(specialBytes.randomElement(using: &rng) ?? 0, at: at)
            case 3 where !b.isEmpty: b.removeSubrange(at..<min(b.count, at + Int.random(in: 1...8, using: &rng)))
            case 4 where !b.isEmpty:
                let piece = Array(b[at..<min(b.count, at + Int.random(in: 1...16, using: &rng))])
                b.insert(contentsOf: piece, at: Int.random(in: 0...b.count, using: &rng))
            case 5: b = Array(b.prefix(at))
            case 6:
                if let other = others.randomElement(using: &rng), !other.isEmpty {
                    let s = Int.random(in: 0..<other.count, using: &rng)
                    b.insert(contentsOf: other[s..<min(other.count, s + 24)], at: at)
                }
            default: b.insert(contentsOf: Array(repeating: specialBytes.randomElement(using: &rng) ?? 0,
                                                count: Int.random(in: 1...40, using: &rng)), at: at)
            }
        }
        return b
    }

    static func randomBytes(_ rng: inout SplitMix64) -> [UInt8] {
        (0..<Int.random(in: 0...300, using: &rng)).map { _ in
            Bool.random(using: &rng) ? (specialBytes.randomElement(using: &rng) ?? 0) : UInt8.random(in: 0...255, using: &rng)
        }
    }

    /// Parses `bytes` as CSV; when it parses, every cell reads as a number or throws, and
    /// the writer's text of the document parses back to the same document.
    static func checkCSV(_ bytes: [UInt8], limits: InputLimits = InputLimits(maxLineBytes: 200, maxFieldBytes: 100)) {
        guard let doc = try? CSVDocument.parse(data: Data(bytes), source: "fuzz.csv", limits: limits) else { return }
        for r in doc.rows.indices {
            for c in doc.header.indices {
                if let x = try? doc.double(row: r, column: c) { #expect(x.isFinite) }
            }
        }
        let written = CSVWriter.render(header: doc.header, rows: doc.rows)
        let back = try? CSVDocument.parse(written, source: "fuzz.csv", limits: .unlimited)
        #expect(back?.header == doc.header, "round trip of \(String(decoding: bytes, as: UTF8.self).debugDescription): \(written.debugDescription)")
        #expect(back?.rows == doc.rows, "round trip of \(String(decoding: bytes, as: UTF8.self).debugDescription): \(written.debugDescription)")
    }

    /// Parses `bytes` as JSON Lines; when it parses, every requested field reads or throws,
    /// and every accepted line is valid JSON for Foundation too (the scanner is not lax).
    static func checkJSON(_ bytes: [UInt8]) {
        let fields = ["a", "b", "c"]
        guard let doc = try? JSONLinesDocument.parse(data: Data(bytes), source: "fuzz.jsonl", fields: fields,
                                                     limits: InputLimits(maxLineBytes: 400, maxFieldBytes: 100)) else { return }
        #expect(!doc.records.isEmpty)
        let text = Data(bytes)
        for (r, record) in doc.records.enumerated() {
            for f in fields {
                if let x = try? doc.optionalDouble(record: r, field: f) { #expect(x.isFinite) }
            }
            let line = text[(text.startIndex + record.bytes.lowerBound)..<(text.startIndex + record.bytes.upperBound)]
            if !line.contains(UInt8(ascii: "\\")) {  // Foundation treats lone surrogate escapes differently
                let object = try? JSONSerialization.jsonObject(with: line)
                #expect(object is [String: Any], "accepted, but Foundation does not: \(String(decoding: line, as: UTF8.self).debugDescription)")
            }
        }
    }

    static func checkGzip(_ bytes: [UInt8]) {
        if let out = try? Gzip.decompress(Data(bytes), source: "fuzz.gz", maxOutputBytes: 1 << 16) {
            #expect(out.count <= 1 << 16)
        }
    }

    @Test func mutatedCSV() {
        var rng = SplitMix64(seed: 0xC5F)
        let seeds = Self.csvSeeds.map { Array($0.utf8) }
        for _ in 0..<2500 {
            let seed = seeds.randomElement(using: &rng) ?? []
            Self.checkCSV(Self.mutate(seed, &rng, others: seeds))
        }
    }

    @Test func mutatedJSONLines() {
        var rng = SplitMix64(seed: 0x15_0)
        let seeds = Self.jsonSeeds.map { Array($0.utf8) }
        for _ in 0..<2500 {
            let seed = seeds.randomElement(using: &rng) ?? []
            Self.checkJSON(Self.mutate(seed, &rng, others: seeds))
        }
    }

    @Test func mutatedGzip() {
        var rng = SplitMix64(seed: 0x62)
        let seeds = (Self.csvSeeds + Self.jsonSeeds).map { Array(Gzip.compress(Data($0.utf8))) }
            + [Array(Gzip.compress(Data(count: 1 << 17), level: 9))]
        for _ in 0..<1500 {
            let seed = seeds.randomElement(using: &rng) ?? []
            let mutated = Self.mutate(seed, &rng, others: seeds)
            Self.checkGzip(mutated)
            // What decompresses must also read safely, by both parsers.
            if let plain = try? Gzip.decompress(Data(mutated), source: "fuzz.gz", maxOutputBytes: 1 << 16) {
                Self.checkCSV(Array(plain))
                Self.checkJSON(Array(plain))
            }
        }
    }

    @Test func randomBytesInEveryReader() {
        var rng = SplitMix64(seed: 0xB17E5)
        for _ in 0..<2000 {
            let bytes = Self.randomBytes(&rng)
            Self.checkCSV(bytes)
            Self.checkJSON(bytes)
            Self.checkGzip([0x1F, 0x8B] + bytes)
            Self.checkGzip(bytes)
        }
    }

    /// The writer's non-finite values: empty cells, counted, never a trap.
    @Test func nonFiniteValuesAreCountedEmptyCells() {
        let before = CSVWriter.unrepresentableCount
        #expect(CSVWriter.format(.nan) == "")
        #expect(CSVWriter.format(-.infinity) == "")
        #expect(CSVWriter.formatOrEmpty(.infinity) == "")
        #expect(CSVWriter.formatOrEmpty(nil) == "")
        #expect(CSVWriter.unrepresentableCount - before >= 3)
    }
}
