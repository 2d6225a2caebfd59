import Foundation
import Testing

/// Issue 13, part 4: `report all` builds its folder under a hidden sibling and renames it
/// into place. Before, it wrote README.md first and then each file in place: a kill left an
/// index citing missing files, or stale files of an earlier run, and hidden temporaries.
@Suite struct AllFolderTests {
    typealias R = ReportCommandTests

    static func entries(_ url: URL) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: url.path))
    }

    /// A killed earlier run's sibling (`.<name>.building-<pid>` of a process that is gone) is
    /// removed; a file of an earlier run that this run does not write is gone with the old
    /// folder; nothing hidden is left next to the folder.
    @Test func replacesTheFolderWholeAndRemovesStaleSiblings() throws {
        let parent = try R.tempDir()
        let out = parent.appendingPathComponent("res")
        let fm = FileManager.default
        // An earlier run's folder, with a subfolder this run no longer writes.
        try fm.createDirectory(at: out.appendingPathComponent("train/old-only"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: out.appendingPathComponent("train/.summary.csv.tmp-1-ab"))
        // A killed run's half-built folder (pid 2^22 + 1 is above Linux's pid_max default).
        try fm.createDirectory(at: parent.appendingPathComponent(".res.building-4194305/theory"), withIntermediateDirectories: true)
        let r = try R.run(["all", "--quick", "--quiet", "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Self.entries(parent) == ["res"])
        #expect(try Self.entries(out).contains("README.md"))
        // The sequence-level runs (issue 10): markov and shared, proxy bias 0 and 1, with the
        // true reward labelled as the oracle in the index.
        for folder in ["sequence-markov-bias0", "sequence-markov-bias1", "sequence-shared-bias0", "sequence-shared-bias1"] {
            #expect(try Self.entries(out.appendingPathComponent(folder)).contains("transitions.csv"))
        }
        let index = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(index.contains("## Sequence level") && index.contains("true reward E[r] (oracle)"))
        #expect(!fm.fileExists(atPath: out.appendingPathComponent("train/old-only").path))
        #expect(!fm.fileExists(atPath: out.appendingPathComponent("train/.summary.csv.tmp-1-ab").path))
    }

    /// A folder holding a file this command did not write is refused, and nothing in it is
    /// deleted.
    @Test func refusesAFolderWithForeignFiles() throws {
        let out = try R.tempDir()
        let mine = out.appendingPathComponent("notes.txt")
        try Data("keep".utf8).write(to: mine)
        let r = try R.run(["all", "--quick", "--quiet", "--out", out.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("notes.txt"), "\(r.stderr)")
        #expect(try Self.entries(out) == ["notes.txt"])
        #expect(try Self.entries(out.deletingLastPathComponent()).filter { $0.hasPrefix(".\(out.lastPathComponent).") }.isEmpty)
    }
}
