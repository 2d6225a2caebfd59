import Foundation
import Testing
@testable import Formats

/// AtomicFileStream: a file written in pieces appears whole at commit, or not at all; the
/// committed path is recorded in WrittenFiles (what `report --out` lists).
@Suite struct AtomicFileStreamTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func appearsWholeAtCommit() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("rows.csv")
        let stream = try AtomicFileStream(url)
        var expected = ""
        for k in 0..<100_000 {  // more than the 1 MiB buffer
            let line = "\(k),\(k * k)\n"
            expected += line
            try stream.write(line)
            if k == 50_000 { #expect(!FileManager.default.fileExists(atPath: url.path)) }
        }
        #expect(!FileManager.default.fileExists(atPath: url.path))
        try stream.commit()
        #expect(try String(contentsOf: url, encoding: .utf8) == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["rows.csv"])
        #expect(WrittenFiles.existing().contains(url.path))
    }

    @Test func droppedWithoutCommitLeavesNothing() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("rows.csv")
        do {
            let stream = try AtomicFileStream(url)
            for _ in 0..<200_000 { try stream.write("0123456789\n") }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        #expect(!WrittenFiles.existing().contains(url.path))
    }

    @Test func missingFolderNamesThePath() throws {
        let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/rows.csv")
        #expect(throws: FormatError.self) { _ = try AtomicFileStream(url) }
    }
}
