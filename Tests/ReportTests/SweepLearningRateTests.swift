import Foundation
import Testing

/// `report sweep --lrs`: a learning-rate axis at either level, its column `learning_rate`
/// (just before `seed`) present only when the axis is given; each row equals the sweep run at
/// `--lr` of that value; shards merge byte-exact; bad lists name `--lrs`.
@Suite struct SweepLearningRateTests {
    typealias R = ReportCommandTests

    static let tabular = ["sweep", "--losses", "sigmoid,spo", "--betas", "0.5", "--reward-noises", "0,1", "--seeds", "2",
                          "--steps", "60", "--log-every", "20", "--quiet"]
    static let sequence = ["sweep", "--policy", "markov", "--losses", "sigmoid,spo", "--betas", "0.5", "--reward-noises", "0",
                           "--seeds", "2", "--prompts", "2", "--vocabs", "3", "--lengths", "3", "--pairs-per-prompt", "3",
                           "--steps", "30", "--log-every", "10", "--quiet"]

    static func rows(_ folder: String) throws -> [[String: String]] {
        R.table(try String(contentsOfFile: folder + "/runs.csv", encoding: .utf8))
    }

    @Test(arguments: [tabular, sequence])
    func eachRowIsTheRunAtThatLearningRate(grid: [String]) throws {
        let dir = try R.tempDir()
        let axis = dir.appendingPathComponent("axis").path
        let r = try R.run(grid + ["--lrs", "0.01,0.1", "--out", axis])
        #expect(r.status == 0, "\(r.stderr)")
        let header = try String(contentsOfFile: axis + "/runs.csv", encoding: .utf8).prefix { $0 != "\n" }
        #expect(header.contains("rm_l2,learning_rate,seed,") || header.contains("reward_noise,learning_rate,seed,"))
        let manifest = try String(contentsOfFile: axis + "/manifest.txt", encoding: .utf8)
        #expect(manifest.contains("\nlearning_rates=0.01,0.1\n"))
        // The unused --lr is not written as if it were the runs' rate.
        #expect(manifest.contains(" lr=per-run ") && !manifest.contains(" lr=0.05 "))
        #expect(try String(contentsOfFile: axis + "/aggregate.csv", encoding: .utf8).contains(",learning_rate,seeds,"))
        let rows = try Self.rows(axis)
        for lr in ["0.01", "0.1"] {
            let single = dir.appendingPathComponent("lr-\(lr)").path
            let s = try R.run(grid + ["--lr", lr, "--out", single])
            #expect(s.status == 0, "\(s.stderr)")
            let plain = try Self.rows(single)
            // Without --lrs there is no learning_rate column.
            #expect(plain.allSatisfy { $0["learning_rate"] == nil })
            let mine = rows.filter { $0["learning_rate"] == lr }
            #expect(mine.count == plain.count && !plain.isEmpty)
            for (a, b) in zip(mine, plain) {
                for key in b.keys where key != "run_id" { #expect(a[key] == b[key], "lr \(lr) \(key)") }
            }
        }
        // The two learning rates give different runs.
        #expect(rows.filter { $0["learning_rate"] == "0.01" }.map { $0["final_regret"] }
                != rows.filter { $0["learning_rate"] == "0.1" }.map { $0["final_regret"] })
        // Shards merge to the same bytes.
        var shards: [String] = []
        for i in 0..<2 {
            let out = dir.appendingPathComponent("shard-\(i)").path
            #expect(try R.run(grid + ["--lrs", "0.01,0.1", "--shard", "\(i)/2", "--jobs", "1", "--out", out]).status == 0)
            shards.append(out)
        }
        let merged = dir.appendingPathComponent("merged").path
        let m = try R.run(["merge"] + shards + ["--out", merged, "--quiet"])
        #expect(m.status == 0, "\(m.stderr)")
        #expect(try SequenceSweepCLITests.files(merged) == SequenceSweepCLITests.files(axis))
    }

    @Test(arguments: [
        (["--lrs", "0.1,0.1"], "--lrs"),
        (["--lrs", "0"], "--lrs"),
        (["--lrs", "x"], "--lrs"),
        (["--lrs", "0.1", "--lr", "0.2"], "--lr or --lrs"),
        (["--policy", "markov", "--lrs", "-1"], "--lrs"),
    ])
    func badListsNameTheOption(args: [String], mentions: String) throws {
        let r = try R.run(["sweep", "--seeds", "1"] + args)
        #expect(r.status == 64)
        #expect(r.stderr.contains(mentions), "stderr: \(r.stderr)")
    }
}
