import Foundation
import Testing
@testable import Formats
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Atomic file output")
struct AtomicFileTests {
    @Test func writesAndReplacesWithoutLeftovers() throws {
        let dir = try TempDir()
        let url = dir.url.appendingPathComponent("out.csv")
        try AtomicFile.write("first version, longer than the second\n", to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "first version, longer than the second\n")
        try AtomicFile.write(Data("second\n".utf8), to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "second\n")
        try AtomicFile.write("", to: url)
        #expect(try Data(contentsOf: url).isEmpty)
        #expect(try dir.contents() == ["out.csv"])
    }

    @Test func temporaryNameIsHiddenAndInTheSameDirectory() {
        let url = URL(fileURLWithPath: "/some/dir/result.md")
        let a = AtomicFile.temporaryURL(for: url), b = AtomicFile.temporaryURL(for: url)
        #expect(a.deletingLastPathComponent().path == "/some/dir")
        #expect(a.lastPathComponent.hasPrefix(".result.md.tmp-\(getpid())-"))
        #expect(a != b)
    }

    @Test func parentIsARegularFile() throws {
        let dir = try TempDir()
        let file = dir.url.appendingPathComponent("plain")
        try AtomicFile.write("x", to: file)
        let target = file.appendingPathComponent("out.csv")
        do {
            try AtomicFile.write("data", to: target)
            Issue.record("expected failure")
        } catch {
            #expect(error.source == target.path)
            #expect(error.description == "\(target.path): cannot create temporary file: Not a directory")
            #expect(error.kind == .io(operation: "create temporary file", code: ENOTDIR, reason: "Not a directory"))
        }
        #expect(try dir.contents() == ["plain"])
    }

    @Test func missingDirectory() throws {
        let dir = try TempDir()
        let target = dir.url.appendingPathComponent("no/such/dir/out.csv")
        #expect(throws: FormatError.io("create temporary file", path: target.path, code: ENOENT)) {
            try AtomicFile.write("data", to: target)
        }
        #expect(try dir.contents() == [])
    }

    @Test func destinationIsADirectoryCleansUp() throws {
        let dir = try TempDir()
        let target = dir.url.appendingPathComponent("sub")
        try AtomicFile.createDirectory(target)
        try AtomicFile.write("inner", to: target.appendingPathComponent("keep"))
        do {
            try AtomicFile.write("data", to: target)
            Issue.record("expected failure")
        } catch {
            #expect(error.description.hasPrefix("\(target.path): cannot rename temporary file into place: "))
            if case .io(_, let code, _) = error.kind { #expect(code == EISDIR || code == ENOTEMPTY || code == EEXIST) }
        }
        #expect(try dir.contents() == ["sub"])  // no temporary file left beside it
    }

    @Test func writeFailureRemovesTemporaryFile() throws {
        let dir = try TempDir()
        let url = dir.url.appendingPathComponent("full.csv")
        try AtomicFile.write("old\n", to: url)
        // Simulate a disk that fills up after the first 3 bytes.
        do {
            try AtomicFile.write(Data("new contents\n".utf8), to: url) { fd, p, n in
                var st = stat()
                fstat(fd, &st)
                if st.st_size >= 3 { errno = ENOSPC; return -1 }
                return AtomicFile.systemWrite(fd, p, min(n, 3))
            }
            Issue.record("expected ENOSPC")
        } catch {
            #expect(error.description == "\(url.path): cannot write: No space left on device")
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == "old\n")  // old content intact
        #expect(try dir.contents() == ["full.csv"])
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
    func realENOSPCFromDevFull() throws {
        let fd = open("/dev/full", O_WRONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(throws: FormatError.io("write", path: "/dev/full", code: ENOSPC)) {
            try POSIXFile.writeAll(fd: fd, data: Data(repeating: 7, count: 100), path: "/dev/full")
        }
    }

    @Test func createDirectoryMakesParentsAndIsIdempotent() throws {
        let dir = try TempDir()
        let deep = dir.url.appendingPathComponent("a/b/c")
        try AtomicFile.createDirectory(deep)
        try AtomicFile.createDirectory(deep)
        var isDir: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: deep.path, isDirectory: &isDir) && isDir.boolValue)
        try AtomicFile.write("x", to: deep.appendingPathComponent("f"))
    }

    @Test func createDirectoryErrorsNameThePath() throws {
        let dir = try TempDir()
        let file = dir.url.appendingPathComponent("file")
        try AtomicFile.write("x", to: file)
        do {
            try AtomicFile.createDirectory(file)
            Issue.record("expected failure")
        } catch {
            #expect(error.description == "\(file.path): cannot create directory: '\(file.path)' exists and is not a directory")
        }
        let below = file.appendingPathComponent("sub/dir")
        do {
            try AtomicFile.createDirectory(below)
            Issue.record("expected failure")
        } catch {
            #expect(error.source == below.path)
            #expect(error.description == "\(below.path): cannot create directory '\(file.path)': '\(file.path)' exists and is not a directory")
        }
    }
}
