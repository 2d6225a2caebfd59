import Foundation
import Testing

/// `report merge` on edited study shards: each edit that used to pass (exit 0, or a hang)
/// is an error naming the file and what is wrong, and no merged folder appears.
@Suite struct StudyMergeIntegrityTests {
    typealias R = ReportCommandTests

    /// One shard holding the whole grid: 1 cell x 2 seeds, 2 steps.
    static let tiny = ["study", "--seeds", "2", "--prompts", "1", "--vocab", "2", "--length", "2", "--pairs-per-prompt", "2",
                       "--steps", "2", "--log-every", "1", "--proxy-bias", "0", "--quiet"]

    static func edit(_ url: URL, _ change: (String) -> String) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        try change(text).write(to: url, atomically: true, encoding: .utf8)
    }

    /// Before: `seeds=2^63-1` enumerated units until killed, `betas=` merged a study of no
    /// cells (exit 0), and trajectory points of a unit not in runs.csv, with a negative step,
    /// or repeated, went into the frontiers (exit 0).
    @Test(arguments: [
        ("manifest.txt", "seeds=2\n", "seeds=9223372036854775807\n", "seeds"),
        ("manifest.txt", "betas=0.5\n", "betas=\n", "betas"),
        ("trajectories.csv", "\n0,dpo,0,", "\n5,dpo,0,", "unit 5, arm dpo is not a run"),
        ("trajectories.csv", "\n0,dpo,0,", "\n0,dpo,-3,", "column step"),
        ("trajectories.csv", "\n0,dpo,1,", "\n0,dpo,0,", "appears twice"),
    ])
    func editedShardIsRefused(file: String, from: String, to: String, mentions: String) throws {
        let tmp = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let shard = tmp.appendingPathComponent("s0")
        let r = try R.run(Self.tiny + ["--shard", "0/1", "--out", shard.path])
        #expect(r.status == 0, "\(r.stderr)")
        let url = shard.appendingPathComponent(file)
        let before = try String(contentsOf: url, encoding: .utf8)
        #expect(before.contains(from), "\(file) has no \(from.debugDescription)")
        try Self.edit(url) { $0.replacingOccurrences(of: from, with: to) }
        let merged = tmp.appendingPathComponent("merged")
        let m = try R.run(["merge", shard.path, "--out", merged.path])
        #expect(m.status == 1, "\(file) \(to.debugDescription): status \(m.status), stderr \(m.stderr)")
        #expect(m.stderr.contains(mentions), "\(m.stderr)")
        #expect(m.stderr.contains(file), "\(m.stderr)")
        #expect(!FileManager.default.fileExists(atPath: merged.path))
    }
}
