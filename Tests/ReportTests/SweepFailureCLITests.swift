import Foundation
import Testing

/// A run that throws (spo_asym on a pair with a zero reward gap: at V = 3, T = 1 both
/// responses of a pair are often equal) does not stop a sweep: its row has status
/// `failed: <reason>` and empty metrics, the other runs are what they are alone, the files
/// are written, and the sweep exits 4 naming the number of failed runs.
@Suite struct SweepFailureCLITests {
    typealias R = ReportCommandTests

    /// markov x {sigmoid, spo_asym} x T in {1, 4} x 2 seeds: spo_asym fails at T = 1 (both seeds).
    static let grid = ["sweep", "--policy", "markov", "--losses", "sigmoid,spo_asym", "--vocabs", "3", "--lengths", "1,4",
                       "--targets", "true", "--betas", "0.5", "--reward-noises", "0", "--seeds", "2", "--prompts", "2",
                       "--pairs-per-prompt", "4", "--steps", "20", "--log-every", "10", "--quiet"]

    static func rows(_ folder: String) throws -> [[String: String]] {
        R.table(try String(contentsOfFile: folder + "/runs.csv", encoding: .utf8))
    }

    @Test func aFailingRunBecomesARowAndTheSweepGoesOn() throws {
        let dir = try R.tempDir()
        let out = dir.appendingPathComponent("s").path
        let r = try R.run(Self.grid + ["--out", out])
        #expect(r.status == 4, "\(r.stderr)")
        #expect(r.stderr.contains("2 of 8 runs failed"), "\(r.stderr)")
        let rows = try Self.rows(out)
        #expect(rows.count == 8)
        let failed = rows.filter { $0["status"]?.hasPrefix("failed: ") == true }
        #expect(failed.map { $0["run_id"] ?? "" } == ["4", "5"])
        #expect(failed.allSatisfy { $0["status"]?.contains("spo_asym") == true && $0["length"] == "1" })
        // A failed row has no metrics; every other row finished.
        #expect(failed.allSatisfy { $0["final_regret"] == "" && $0["final_win_rate"] == "" })
        #expect(rows.filter { $0["status"] == "ok" }.count == 6)
        // The aggregate leaves the failed runs out and counts them.
        let agg = R.table(try String(contentsOfFile: out + "/aggregate.csv", encoding: .utf8))
        let cell = agg.first { $0["loss"] == "spo_asym" && $0["length"] == "1" }
        #expect(cell?["seeds"] == "0" && cell?["diverged"] == "2" && cell?["final_regret_mean"] == "")
        let md = try String(contentsOfFile: out + "/sweep.md", encoding: .utf8)
        #expect(md.contains("## Failed runs") && md.contains("- run 4 (") && md.contains("runs diverged or failed"))
        #expect(!FileManager.default.fileExists(atPath: out + "/.sweep-journal.csv"))

        // The ok spo_asym runs equal the same runs in a sweep without the failing cell.
        let alone = dir.appendingPathComponent("alone").path
        var args = Self.grid
        if let k = args.firstIndex(of: "1,4") { args[k] = "4" }
        let a = try R.run(args + ["--losses", "spo_asym", "--out", alone])
        #expect(a.status == 0, "\(a.stderr)")
        let aloneRows = try Self.rows(alone)
        let ok = rows.filter { $0["loss"] == "spo_asym" && $0["status"] == "ok" }
        #expect(aloneRows.count == 2 && ok.count == 2)
        for (x, y) in zip(ok, aloneRows) {
            for key in x.keys where key != "run_id" { #expect(x[key] == y[key], "\(key)") }
        }
    }

    @Test func failedRowsMergeAndResumeByteExact() throws {
        let dir = try R.tempDir()
        let whole = dir.appendingPathComponent("whole").path
        #expect(try R.run(Self.grid + ["--jobs", "2", "--out", whole]).status == 4)
        var shards: [String] = []
        for i in 0..<2 {
            let out = dir.appendingPathComponent("shard-\(i)").path
            #expect(try R.run(Self.grid + ["--shard", "\(i)/2", "--jobs", "1", "--out", out]).status == 4)
            shards.append(out)
        }
        let merged = dir.appendingPathComponent("merged").path
        let m = try R.run(["merge"] + shards + ["--out", merged, "--quiet"])
        // Written whole, and the exit status of the unsharded sweep: 4, with the count.
        #expect(m.status == 4, "\(m.stderr)")
        #expect(m.stderr.contains("2 of 8 runs failed"), "\(m.stderr)")
        #expect(try SequenceSweepCLITests.files(merged) == SequenceSweepCLITests.files(whole))
        // Interrupted after 5 runs (a failed one among them), then resumed: the same bytes,
        // and the failed runs are not tried again.
        let resumed = dir.appendingPathComponent("resumed").path
        #expect(try R.run(Self.grid + ["--jobs", "1", "--out", resumed, "--stop-after", "5"]).status == 3)
        let journal = try String(contentsOfFile: resumed + "/.sweep-journal.csv", encoding: .utf8)
        #expect(journal.contains(",failed: reward gap for spo_asym"))
        let second = try R.run(Array(Self.grid.dropLast()) + ["--jobs", "2", "--out", resumed])
        #expect(second.status == 4, "\(second.stderr)")
        #expect(second.stderr.contains("resuming: 5 of 8 runs already finished"), "\(second.stderr)")
        #expect(try SequenceSweepCLITests.files(resumed) == SequenceSweepCLITests.files(whole))
    }
}
