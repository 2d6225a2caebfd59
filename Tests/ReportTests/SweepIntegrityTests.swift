import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Issue 13, part 2: sweep folders that cannot combine the wrong data. Tampered journals are
/// recomputed, stale or unfinished shards and rows whose run_id disagrees with their grid
/// coordinates are refused, and a locked `--out` folder is left alone.
@Suite struct SweepIntegrityCLITests {
    typealias R = ReportCommandTests
    static let grid = TrainSweepTests.grid

    /// FNV-1a, 32 bits, from its specification (offset basis 2166136261, prime 16777619).
    static func fnv1a(_ s: String) -> String {
        var h: UInt32 = 2_166_136_261
        for b in s.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return String(format: "%08x", h)
    }

    @Test func checksumIsFNV1a() {
        // Test vectors of the FNV specification.
        #expect(Self.fnv1a("") == "811c9dc5" && Self.fnv1a("a") == "e40c292c" && Self.fnv1a("foobar") == "bf9cf968")
    }

    static func file(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// Runs are journalled one at a time; damaged, truncated, duplicated and mislabelled
    /// lines are ignored with a note and their runs recomputed, giving the clean bytes.
    @Test func tamperedJournalLinesAreRecomputed() throws {
        let dir = try R.tempDir()
        let whole = dir.appendingPathComponent("whole").path
        #expect(try R.run(Self.grid + ["--jobs", "1", "--out", whole]).status == 0)
        let out = dir.appendingPathComponent("t").path
        #expect(try R.run(Self.grid + ["--jobs", "1", "--out", out, "--stop-after", "5"]).status == 3)
        let journal = out + "/.sweep-journal.csv"
        var lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").map(String.init)
        let data = lines.indices.filter { !lines[$0].hasPrefix("#") && !lines[$0].hasPrefix("run_id") }
        #expect(data.count == 5, "one journal line per finished run, not a batch")
        #expect(lines.first { $0.hasPrefix("run_id") }?.hasSuffix(",status,checksum") == true)
        // Line a: a metric changed (checksum no longer matches).
        var a = lines[data[0]].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        a[5] += "1"
        lines[data[0]] = a.joined(separator: ",")
        // Line b: run_id changed and the checksum recomputed: its coordinates disagree.
        var b = lines[data[1]].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        b[0] = "23"
        let bRow = b.dropLast().joined(separator: ",")
        lines[data[1]] = bRow + "," + Self.fnv1a(bRow)
        // Line c repeated; a truncated copy of line d at the end.
        let text = lines.joined(separator: "\n") + "\n" + lines[data[2]] + "\n" + lines[data[3]].prefix(20)
        try text.write(toFile: journal, atomically: true, encoding: .utf8)
        let r = try R.run(Self.grid + ["--jobs", "1", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("damaged"))
        #expect(r.stderr.contains("does not match the grid coordinates"))
        #expect(r.stderr.contains("repeats line"))
        #expect(r.stderr.contains("cut short"))
        #expect(r.stderr.contains("resuming: 3 of 24 runs already finished"))
        for name in ["runs.csv", "aggregate.csv", "sweep.md"] {
            #expect(try Self.file(whole + "/" + name) == Self.file(out + "/" + name), "\(name)")
        }
    }

    /// Three finished shards of the test grid.
    static func shards(in dir: URL) throws -> [String] {
        try (0..<3).map { i in
            let out = dir.appendingPathComponent("shard-\(i)").path
            let r = try R.run(Self.grid + ["--shard", "\(i)/3", "--jobs", "1", "--out", out])
            #expect(r.status == 0, "\(r.stderr)")
            return out
        }
    }

    @Test func mergeRefusesRowsWhoseRunIdDisagreesWithTheGrid() throws {
        let dir = try R.tempDir()
        let shards = try Self.shards(in: dir)
        // Swap the run_ids of shard 0's first two rows (0 and 3): no overlap, none missing.
        let path = shards[0] + "/runs.csv"
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines[1].hasPrefix("0,") && lines[2].hasPrefix("3,"))
        lines[1] = "3" + lines[1].dropFirst(1)
        lines[2] = "0" + lines[2].dropFirst(1)
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let m = try R.run(["merge"] + shards + ["--out", dir.appendingPathComponent("m").path])
        #expect(m.status != 0)
        #expect(m.stderr.contains("run_id 3") && m.stderr.contains(shards[0]), "\(m.stderr)")
    }

    @Test func mergeRefusesAnUnfinishedShard() throws {
        let dir = try R.tempDir()
        let shards = try Self.shards(in: dir)
        // A kill between the manifest's and runs.csv's renames leaves the journal behind.
        try "# leftover\n".write(toFile: shards[1] + "/.sweep-journal.csv", atomically: true, encoding: .utf8)
        let m = try R.run(["merge"] + shards + ["--out", dir.appendingPathComponent("m").path])
        #expect(m.status != 0)
        #expect(m.stderr.contains(shards[1]) && m.stderr.contains("unfinished"), "\(m.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("m").path))
    }

    /// A live lock: the second sweep stops with a clear error and deletes nothing.
    @Test func aLockedFolderIsLeftAlone() throws {
        let dir = try R.tempDir()
        let out = dir.appendingPathComponent("o").path
        #expect(try R.run(Self.grid + ["--jobs", "1", "--out", out, "--stop-after", "2"]).status == 3)
        let journal = try Self.file(out + "/.sweep-journal.csv")
        try "\(getpid())\n".write(toFile: out + "/.sweep.lock", atomically: true, encoding: .utf8)
        let r = try R.run(Self.grid + ["--jobs", "1", "--out", out])
        #expect(r.status != 0)
        #expect(r.stderr.contains("another `report sweep` (process \(getpid()))"), "\(r.stderr)")
        #expect(try Self.file(out + "/.sweep-journal.csv") == journal)
        #expect(FileManager.default.fileExists(atPath: out + "/.sweep.lock"))
        #expect(!FileManager.default.fileExists(atPath: out + "/runs.csv"))
    }

    /// A lock left by a process that no longer runs is taken over with a note.
    @Test func aStaleLockIsTakenOver() throws {
        let dir = try R.tempDir()
        let out = dir.appendingPathComponent("o").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // Above Linux's largest pid_max (2^22), so no process has it.
        try "999999999\n".write(toFile: out + "/.sweep.lock", atomically: true, encoding: .utf8)
        let r = try R.run(Self.grid + ["--jobs", "1", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("taking over the lock of process 999999999"))
        #expect(!FileManager.default.fileExists(atPath: out + "/.sweep.lock"))
        #expect(FileManager.default.fileExists(atPath: out + "/runs.csv"))
    }

    /// The lock is staged in a temporary file with the id and then linked to `.sweep.lock`;
    /// a run killed before the link leaves that temporary, which the next run removes (its
    /// process no longer runs) before taking the lock itself. Another run's live lock is
    /// refused with the owner named, and its staged temporary is not left behind.
    @Test func aStaleLockTemporaryIsRemovedAndALiveLockRefused() throws {
        let dir = try R.tempDir()
        let out = dir.appendingPathComponent("o").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let stale = out + "/..sweep.lock.tmp-999999999-0123456789abcdef"
        #expect(FileManager.default.createFile(atPath: stale, contents: Data("999999999\n".utf8)))
        let r = try R.run(Self.grid + ["--jobs", "1", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).allSatisfy { !$0.contains(".tmp-") })
        // A live owner: this test process.
        try "\(getpid())\n".write(toFile: out + "/.sweep.lock", atomically: true, encoding: .utf8)
        let held = try R.run(Self.grid + ["--jobs", "1", "--out", out])
        #expect(held.status != 0)
        #expect(held.stderr.contains("(process \(getpid())) is writing into this folder"), "\(held.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).allSatisfy { !$0.contains(".tmp-") })
        #expect(FileManager.default.fileExists(atPath: out + "/.sweep.lock"))
    }

    /// A sweep killed while it rewrote its journal leaves the journal's temporary file; the
    /// resume removes it (its process no longer runs) and leaves only the sweep's files.
    @Test func aKilledJournalRewriteLeavesNoTemporary() throws {
        let dir = try R.tempDir()
        let out = dir.appendingPathComponent("o").path
        #expect(try R.run(Self.grid + ["--jobs", "1", "--out", out, "--stop-after", "2"]).status == 3)
        let stale = out + "/..sweep-journal.csv.tmp-999999999-0123456789abcdef"
        #expect(FileManager.default.createFile(atPath: stale, contents: Data("x".utf8)))
        let r = try R.run(Self.grid + ["--jobs", "1", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).allSatisfy { !$0.contains(".tmp-") })
    }

    /// A lock with no process id (not one this program writes: its locks appear with the id
    /// in them; an older version killed while taking it could leave one) is taken over with a
    /// note, not reported as held forever.
    @Test func anEmptyLockIsTakenOver() throws {
        let dir = try R.tempDir()
        let out = dir.appendingPathComponent("o").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: out + "/.sweep.lock", contents: Data()))
        let r = try R.run(Self.grid + ["--jobs", "1", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("taking over a lock that holds no process id"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/.sweep.lock"))
        #expect(FileManager.default.fileExists(atPath: out + "/runs.csv"))
    }
}
