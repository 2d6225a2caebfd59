import Foundation
import Testing

/// End-to-end tests of `report study`: options, the folder, and shards merged by
/// `report merge` into exactly the bytes of one machine's run.
@Suite struct StudyCommandTests {
    typealias R = ReportCommandTests

    /// A tiny grid: 2 cells x 2 seeds = 4 units of 9 runs, V^T = 8.
    static let tiny = ["study", "--seeds", "2", "--prompts", "2", "--vocab", "2", "--length", "3", "--pairs-per-prompt", "4",
                       "--steps", "10", "--log-every", "5", "--proxy-bias", "0,1", "--quiet"]

    @Test(arguments: [
        (["study", "--policy", "tabular", "--responses", "0"], "--responses"),
        (["study", "--policy", "loglinear", "--features", "0"], "--features"),
        (["study", "--policy", "nope"], "--policy"),
        (["study", "--seeds", "1"], "--seeds"),
        (["study", "--betas", "0"], "--betas"),
        (["study", "--proxy-bias", "x"], "--proxy-bias"),
        (["study", "--reward-noise", "-1"], "--reward-noise"),
        (["study", "--shard", "2/2", "--out", "x"], "--shard"),
        (["study", "--shard", "0/2"], "--shard"),
        (["study", "--vocab", "1"], "--vocab"),
    ])
    func badOptionsFailBeforeWork(args: [String], mentions: String) throws {
        let r = try R.run(args)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mentions), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    static func files(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let base = dir.standardizedFileURL.path
        guard let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) else { return out }
        for case let url as URL in e where !url.hasDirectoryPath {
            let path = url.standardizedFileURL.path
            out[String(path.dropFirst(base.count + 1))] = try Data(contentsOf: url)
        }
        return out
    }

    @Test func shardsMergeIntoTheBytesOfOneRun() throws {
        let tmp = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let whole = tmp.appendingPathComponent("whole")
        let r = try R.run(Self.tiny + ["--out", whole.path])
        #expect(r.status == 0, "\(r.stderr)")
        var shards: [String] = []
        for i in 0..<3 {
            let s = tmp.appendingPathComponent("s\(i)").path
            let rs = try R.run(Self.tiny + ["--shard", "\(i)/3", "--out", s])
            #expect(rs.status == 0, "\(rs.stderr)")
            shards.append(s)
        }
        // An incomplete set of shards is refused, naming what is missing.
        let partial = try R.run(["merge", shards[0], shards[2], "--out", tmp.appendingPathComponent("partial").path])
        #expect(partial.status != 0)
        #expect(partial.stderr.contains("incomplete study"), "\(partial.stderr)")
        // Overlapping shards are refused.
        let twice = try R.run(["merge", shards[0], shards[0], shards[1], shards[2], "--out", tmp.appendingPathComponent("twice").path])
        #expect(twice.status != 0)

        let merged = tmp.appendingPathComponent("merged")
        let m = try R.run(["merge"] + shards + ["--out", merged.path])
        #expect(m.status == 0, "\(m.stderr)")
        let a = try Self.files(whole), b = try Self.files(merged)
        #expect(Set(a.keys) == Set(b.keys))
        for (name, data) in a { #expect(b[name] == data, "\(name) differs") }
        for name in ["README.md", "runs.csv", "trajectories.csv", "comparisons.csv", "frontiers.csv", "arms.csv", "manifest.txt",
                     "figures/forest-max_h.svg", "figures/frontier-shared-beta0.5-bias1.0-noise0.0.svg",
                     "figures/win-rate-vs-proxy-bias-shared-beta0.5-noise0.0.svg"] {
            #expect(a[name] != nil, "missing \(name)")
        }
        // The index states the rule and labels the oracle arms; every run is accounted for.
        let readme = String(decoding: a["README.md"] ?? Data(), as: UTF8.self)
        #expect(readme.contains("95% Student-t interval"))
        #expect(readme.contains("spo_oracle (oracle)"))
        let runs = R.table(String(decoding: a["runs.csv"] ?? Data(), as: UTF8.self))
        #expect(runs.count == 4 * 9)
        #expect(runs.allSatisfy { ($0["arm"]?.hasSuffix("oracle") ?? false) == ($0["oracle"] != "no") })
        // No NaN or infinity anywhere.
        for (name, data) in a where name.hasSuffix(".csv") || name.hasSuffix(".md") {
            let text = String(decoding: data, as: UTF8.self)
            #expect(!text.contains("nan") && !text.contains("inf,"), "\(name)")
        }
    }

    static let tinyTabular = ["study", "--policy", "tabular,loglinear", "--seeds", "3", "--prompts", "2", "--responses", "4",
                              "--features", "3", "--pairs-per-prompt", "4", "--steps", "20", "--log-every", "5", "--quiet"]

    /// Tabular and log-linear cells: shards merge into the bytes of one run, and the index
    /// marks the hacking measures not applicable.
    @Test func tabularShardsMergeIntoTheBytesOfOneRun() throws {
        let tmp = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let whole = tmp.appendingPathComponent("whole")
        let r = try R.run(Self.tinyTabular + ["--out", whole.path])
        #expect(r.status == 0, "\(r.stderr)")
        var shards: [String] = []
        for i in 0..<2 {
            let s = tmp.appendingPathComponent("s\(i)").path
            let rs = try R.run(Self.tinyTabular + ["--shard", "\(i)/2", "--out", s])
            #expect(rs.status == 0, "\(rs.stderr)")
            shards.append(s)
        }
        let merged = tmp.appendingPathComponent("merged")
        let m = try R.run(["merge"] + shards + ["--out", merged.path])
        #expect(m.status == 0, "\(m.stderr)")
        let a = try Self.files(whole), b = try Self.files(merged)
        #expect(Set(a.keys) == Set(b.keys))
        for (name, data) in a { #expect(b[name] == data, "\(name) differs") }
        let readme = String(decoding: a["README.md"] ?? Data(), as: UTF8.self)
        #expect(readme.contains("n/a not applicable"))
        #expect(readme.contains("(1) tabular, beta 0.5, proxy bias 0.0") && readme.contains("(2) loglinear, beta 0.5, proxy bias 0.0"))
        let runs = R.table(String(decoding: a["runs.csv"] ?? Data(), as: UTF8.self))
        #expect(runs.count == 2 * 3 * 9)
        #expect(runs.allSatisfy { $0["status"] == "ok" && $0["hacked"] == "" && $0["final_spurious_count"] == "" })
        #expect(a["figures/frontier-tabular-beta0.5-bias0.0-noise0.0.svg"] != nil)
    }

    /// A study stopped after some units (--stop-after, exit 3), with a torn last journal
    /// block, resumes and ends with the bytes of an uninterrupted run and no journal left.
    @Test(arguments: [false, true]) func resumedStudyEndsWithTheBytesOfOneRun(tabular: Bool) throws {
        let tmp = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let args = tabular ? Self.tinyTabular : Self.tiny
        let whole = tmp.appendingPathComponent("whole"), resumed = tmp.appendingPathComponent("resumed")
        #expect(try R.run(args + ["--out", whole.path]).status == 0)
        let first = try R.run(args + ["--out", resumed.path, "--stop-after", "2"])
        #expect(first.status == 3, "\(first.stderr)")
        let journal = resumed.appendingPathComponent(".study-journal.txt")
        var text = try String(contentsOf: journal, encoding: .utf8)
        #expect(text.components(separatedBy: "\nbegin ").count - 1 == 2)
        let second = try R.run(args.filter { $0 != "--quiet" } + ["--out", resumed.path, "--stop-after", "3"])
        #expect(second.status == 3, "\(second.stderr)")
        #expect(second.stderr.contains("resuming: 2 of"), "\(second.stderr)")
        // Tear the last block (a kill mid-write): it is ignored and its unit recomputed.
        text = try String(contentsOf: journal, encoding: .utf8)
        try String(text.dropLast(7)).write(to: journal, atomically: true, encoding: .utf8)
        let last = try R.run(args.filter { $0 != "--quiet" } + ["--out", resumed.path])
        #expect(last.status == 0, "\(last.stderr)")
        #expect(last.stderr.contains("cut short") || last.stderr.contains("damaged"), "\(last.stderr)")
        #expect(last.stderr.contains("resuming: 2 of"), "\(last.stderr)")
        let a = try Self.files(whole), b = try Self.files(resumed)
        #expect(Set(a.keys) == Set(b.keys))
        for (name, data) in a { #expect(b[name] == data, "\(name) differs") }
        #expect(!FileManager.default.fileExists(atPath: journal.path))
    }

    /// An --out folder holding someone else's file is refused before any work, and nothing
    /// (lock, journal) is left in it.
    @Test func aForeignFolderIsRefusedBeforeWork() throws {
        let tmp = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let mine = tmp.appendingPathComponent("notes.txt")
        try "keep me".write(to: mine, atomically: true, encoding: .utf8)
        let r = try R.run(Self.tinyTabular + ["--out", tmp.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("notes.txt"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path) == ["notes.txt"])
    }
}
