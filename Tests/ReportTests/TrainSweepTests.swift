import Foundation
import Testing

/// End-to-end tests of `report train`, `report sweep` and `report merge`.
@Suite struct TrainSweepTests {
    typealias R = ReportCommandTests

    @Test func trainDefaultsShowThePapersPoint() throws {
        let r = try R.run(["train", "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("loss,final_regret,final_kl_ref,final_expected_reward,min_logp_rejected,mean_abs_h_minus_target,max_h,unseen_mass,max_grad_norm,max_log10_abs_d_p_rejected,status\n"))
        let rows = R.table(r.stdout)
        let dpo = rows.first { $0["loss"] == "sigmoid" }!, spo = rows.first { $0["loss"] == "spo" }!
        // DPO's final regret is several times spo's, and spo's h sits at its target.
        #expect(Double(dpo["final_regret"]!)! > 3 * Double(spo["final_regret"]!)!)
        #expect(Double(spo["mean_abs_h_minus_target"]!)! < 1e-6)
        // DPO's min log pi_l keeps falling: compare the per-step metrics.
        let dir = try R.tempDir()
        let full = try R.run(["train", "--losses", "sigmoid", "--out", dir.path])
        #expect(full.status == 0)
        let metrics = R.table(try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8))
        let mins = metrics.map { Double($0["min_logp_rejected"]!)! }
        #expect(mins.count > 10)
        #expect(mins.last! < mins[mins.count / 2] - 1, "DPO's min log pi_l must still be falling late in training")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == ["metrics.csv", "summary.csv", "summary.md", "plots.txt", "regret.svg", "min-logp-rejected.svg"])
    }

    @Test func trainIsDeterministic() throws {
        let a = try R.run(["train", "--losses", "sigmoid,spo", "--steps", "200", "--seed", "7", "--format", "csv"])
        let b = try R.run(["train", "--losses", "sigmoid,spo", "--steps", "200", "--seed", "7", "--format", "csv"])
        let c = try R.run(["train", "--losses", "sigmoid,spo", "--steps", "200", "--seed", "8", "--format", "csv"])
        #expect(a.status == 0 && a.stdout == b.stdout)
        #expect(a.stdout != c.stdout)
    }

    @Test(arguments: [
        (["train", "--responses", "1"], "--responses"),
        (["train", "--responses", "4", "--pairs-per-prompt", "7"], "--pairs-per-prompt"),
        (["train", "--reward-noise", "-1"], "--reward-noise"),
        (["train", "--beta", "0"], "--beta"),
        (["train", "--losses", "robust", "--label-smoothing", "0.5"], "--label-smoothing"),
        (["sweep", "--shard", "3/3"], "--shard"),
        (["sweep", "--shard", "x"], "--shard"),
        (["sweep", "--betas", "0.1,abc"], "--betas"),
        (["sweep", "--seeds", "0"], "--seeds"),
    ])
    func nonsenseSizesFailBeforeWork(args: [String], mentions: String) throws {
        let r = try R.run(args)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mentions), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    static let grid = ["sweep", "--losses", "sigmoid,spo", "--betas", "0.25,0.5", "--reward-noises", "0,1", "--seeds", "3",
                       "--steps", "150", "--log-every", "50"]

    @Test func shardsMergeToTheSingleMachineBytes() throws {
        let dir = try R.tempDir()
        let whole = dir.appendingPathComponent("whole").path
        #expect(try R.run(Self.grid + ["--out", whole]).status == 0)
        var shards: [String] = []
        for i in 0..<3 {
            let out = dir.appendingPathComponent("shard-\(i)").path
            let r = try R.run(Self.grid + ["--shard", "\(i)/3", "--jobs", "1", "--out", out])
            #expect(r.status == 0, "\(r.stderr)")
            shards.append(out)
        }
        let merged = dir.appendingPathComponent("merged").path
        let m = try R.run(["merge"] + shards + ["--out", merged])
        #expect(m.status == 0, "\(m.stderr)")
        for name in ["manifest.txt", "runs.csv", "aggregate.csv", "sweep.md"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: whole).appendingPathComponent(name))
            let b = try Data(contentsOf: URL(fileURLWithPath: merged).appendingPathComponent(name))
            #expect(a == b, "\(name) differs between the merged shards and the single run")
        }
        // 2 losses x 2 betas x 2 noises x 3 seeds.
        #expect(R.table(try String(contentsOfFile: whole + "/runs.csv", encoding: .utf8)).count == 24)
        // A missing shard is refused, and so is a shard given twice.
        let partial = try R.run(["merge", shards[0], shards[1], "--out", dir.appendingPathComponent("bad").path])
        #expect(partial.status != 0 && partial.stderr.contains("incomplete sweep"))
        let twice = try R.run(["merge", shards[0], shards[0], shards[1], shards[2], "--out", dir.appendingPathComponent("bad2").path])
        #expect(twice.status != 0 && twice.stderr.contains("also appears"))
    }

    @Test func interruptedSweepResumesWithoutRedoingRuns() throws {
        let dir = try R.tempDir()
        let whole = dir.appendingPathComponent("whole").path
        #expect(try R.run(Self.grid + ["--jobs", "1", "--out", whole]).status == 0)
        let resumed = dir.appendingPathComponent("resumed").path
        let first = try R.run(Self.grid + ["--jobs", "1", "--out", resumed, "--stop-after", "5"])
        #expect(first.status == 3)
        #expect(!FileManager.default.fileExists(atPath: resumed + "/runs.csv"), "no final output after an interruption")
        #expect(FileManager.default.fileExists(atPath: resumed + "/.sweep-journal.csv"))
        let second = try R.run(Self.grid + ["--jobs", "1", "--out", resumed])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("resuming: 5 of 24 runs already finished"))
        for name in ["runs.csv", "aggregate.csv", "sweep.md"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: whole + "/" + name)) == Data(contentsOf: URL(fileURLWithPath: resumed + "/" + name)))
        }
        #expect(!FileManager.default.fileExists(atPath: resumed + "/.sweep-journal.csv"))
    }

    /// Issue 13: a diverged run is marked in runs.csv and left out of the aggregate, which
    /// counts it; a run at lr 1000 with SGD diverges for ipo and spo (see DivergenceTests).
    @Test func divergedRunsAreMarkedAndCounted() throws {
        let dir = try R.tempDir()
        let out = dir.appendingPathComponent("d").path
        let r = try R.run(["sweep", "--losses", "sigmoid,ipo", "--betas", "0.5", "--reward-noises", "0", "--seeds", "2",
                           "--steps", "200", "--lr", "1000", "--optimizer", "sgd", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let runs = R.table(try String(contentsOfFile: out + "/runs.csv", encoding: .utf8))
        #expect(runs.count == 4)
        #expect(runs.filter { $0["loss"] == "ipo" }.allSatisfy { $0["status"]?.hasPrefix("diverged at step ") == true })
        let agg = R.table(try String(contentsOfFile: out + "/aggregate.csv", encoding: .utf8))
        let ipo = agg.first { $0["loss"] == "ipo" }
        #expect(ipo?["diverged"] == "2" && ipo?["seeds"] == "0" && ipo?["final_regret_mean"] == "")
        let md = try String(contentsOfFile: out + "/sweep.md", encoding: .utf8)
        #expect(md.contains("2 of 2 runs diverged"))
        // Merge reads the status back: one shard folder merges to the same bytes.
        let merged = dir.appendingPathComponent("m").path
        #expect(try R.run(["merge", out, "--out", merged]).status == 0)
        for name in ["runs.csv", "aggregate.csv", "sweep.md"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/" + name)) == Data(contentsOf: URL(fileURLWithPath: merged + "/" + name)))
        }
    }
}
