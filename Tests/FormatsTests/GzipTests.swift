import Foundation
import Testing
@testable import Formats

@Suite("gzip")
struct GzipTests {
    static let text = Data((0..<2000).map { "\($0),-\(Double($0) * 0.25),row \($0)\n" }.joined().utf8)

    @Test func roundTripsAndIsDeterministic() throws {
        let packed = Gzip.compress(Self.text)
        #expect(Gzip.isCompressed(packed))
        #expect(packed.count < Self.text.count / 2)
        #expect(try Gzip.decompress(packed, source: "t.gz") == Self.text)
        #expect(Gzip.compress(Self.text) == packed)
        #expect(try Gzip.decompress(Gzip.compress(Data()), source: "e.gz") == Data())
        #expect(!Gzip.isCompressed(Self.text) && !Gzip.isCompressed(Data([0x1F])))
    }

    @Test func readsConcatenatedMembersAndZlibStreams() throws {
        let a = Data("first,member\n".utf8), b = Data("second member\n".utf8)
        #expect(try Gzip.decompress(Gzip.compress(a) + Gzip.compress(b), source: "ab.gz") == a + b)
        // Trailing zero padding is ignored, as gzip -d does; other trailing bytes are an error.
        #expect(try Gzip.decompress(Gzip.compress(a) + Data(repeating: 0, count: 7), source: "p.gz") == a)
        #expect(throws: FormatError.self) { try Gzip.decompress(Gzip.compress(a) + Data("junk".utf8), source: "j.gz") }
        // A zlib stream (as in PNG's IDAT): 78 9c header, produced here by Python's zlib.compress(b"hello").
        let zlib = Data([0x78, 0x9C, 0xCB, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x06, 0x2C, 0x02, 0x15])
        #expect(try Gzip.decompress(zlib, source: "z") == Data("hello".utf8))
    }

    @Test func everyTruncationIsAnErrorNeverAShorterResult() throws {
        let packed = Gzip.compress(Self.text)
        for cut in [0, 1, 2, 10, 18, packed.count / 3, packed.count / 2, packed.count - 8, packed.count - 4, packed.count - 1] {
            #expect(throws: FormatError(.truncatedCompressedData, source: "pairs.csv.gz"), "cut at \(cut) of \(packed.count)") {
                try Gzip.decompress(packed.prefix(cut), source: "pairs.csv.gz")
            }
        }
        let e = FormatError(.truncatedCompressedData, source: "pairs.csv.gz")
        #expect(e.description == "pairs.csv.gz: truncated gzip stream (the file ends inside the compressed data)")
    }

    @Test func corruptDataIsReportedWithZlibsReason() {
        var packed = Gzip.compress(Self.text)
        packed[packed.count - 6] ^= 0xFF  // inside the CRC-32
        do {
            _ = try Gzip.decompress(packed, source: "bad.gz")
            Issue.record("a corrupt checksum was accepted")
        } catch {
            #expect(error.kind == .corruptCompressedData("incorrect data check"))
            #expect(error.description.hasPrefix("bad.gz: corrupt gzip data"))
        }
        var header = Gzip.compress(Self.text)
        header[2] = 7  // compression method must be 8 (deflate)
        #expect(throws: FormatError.self) { try Gzip.decompress(header, source: "h.gz") }
    }

    /// Large outputs cross the internal buffer size many times.
    @Test func largeInputs() throws {
        let big = Data((0..<400_000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) })
        #expect(try Gzip.decompress(Gzip.compress(big, level: 1), source: "big.gz") == big)
    }

    @Test func inputFileDetectsGzipByMagicBytesNotName() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let disguised = dir.appendingPathComponent("pairs.csv")
        try Gzip.compress(Self.text).write(to: disguised)
        let read = try InputFile.read(path: disguised.path)
        #expect(read.data == Self.text && read.wasCompressed && read.source == "pairs.csv")
        let plain = dir.appendingPathComponent("plain.csv.gz")
        try Self.text.write(to: plain)
        let p = try InputFile.read(path: plain.path)
        #expect(p.data == Self.text && !p.wasCompressed)
        #expect(throws: FormatError.self) { try InputFile.read(path: dir.appendingPathComponent("missing.gz").path) }
    }

    /// Interoperability with the gzip command, when present (it is on every Debian system).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/gzip") || FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip")))
    func readsWhatGzipWritesAndViceVersa() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("t.txt")
        try Self.text.write(to: file)
        let gzip = FileManager.default.isExecutableFile(atPath: "/bin/gzip") ? "/bin/gzip" : "/usr/bin/gzip"
        func run(_ args: [String]) throws -> Int32 {
            let p = Process(); p.executableURL = URL(fileURLWithPath: gzip); p.arguments = args
            try p.run(); p.waitUntilExit(); return p.terminationStatus
        }
        #expect(try run(["-9", "-k", file.path]) == 0)
        #expect(try Gzip.decompress(Data(contentsOf: file.appendingPathExtension("gz")), source: "t.txt.gz") == Self.text)
        let ours = dir.appendingPathComponent("ours.txt.gz")
        try Gzip.compress(Self.text).write(to: ours)
        #expect(try run(["-t", ours.path]) == 0)
    }
}
