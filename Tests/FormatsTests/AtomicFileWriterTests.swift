import Foundation
import Testing
@testable import Formats

/// A file written in pieces appears whole at ``AtomicFileWriter/commit()`` or not at all.
@Suite struct AtomicFileWriterTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func commitRenamesTheWholeFileIntoPlace() throws {
        let dir = try Self.folder()
        let url = dir.appendingPathComponent("rows.csv")
        try "old\n".write(to: url, atomically: false, encoding: .utf8)
        let w = try AtomicFileWriter(url: url)
        try w.write("a,b\n")
        try w.write("1,2\n")
        // Until the commit the old file is intact, and the new text sits in a hidden temporary file.
        #expect(try String(contentsOf: url, encoding: .utf8) == "old\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 2)
        try w.commit()
        #expect(try String(contentsOf: url, encoding: .utf8) == "a,b\n1,2\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["rows.csv"])
        #expect(throws: FormatError.self) { try w.write("late\n") }
    }

    @Test func anAbandonedOrDroppedWriterLeavesNothing() throws {
        let dir = try Self.folder()
        let url = dir.appendingPathComponent("rows.csv")
        let w = try AtomicFileWriter(url: url)
        try w.write("half")
        w.abandon()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        do {
            let dropped = try AtomicFileWriter(url: url)
            try dropped.write("half")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        let missing = dir.appendingPathComponent("no/such/folder/rows.csv")
        let e = #expect(throws: FormatError.self) { try AtomicFileWriter(url: missing) }
        #expect(e?.description.contains("no/such/folder/rows.csv") == true)
    }
}
