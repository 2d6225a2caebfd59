import Foundation
import Testing

/// End-to-end tests of `report train --policy markov|shared` (docs/theory.md §5.2): option
/// validation, the oracle label, the files of --out and their exact headers.
@Suite struct SequenceTrainTests {
    typealias R = ReportCommandTests

    /// A small, fast problem: V^T = 81 responses per prompt (exact win rates).
    static let small = ["train", "--vocab", "3", "--length", "4", "--prompts", "3", "--pairs-per-prompt", "4",
                        "--steps", "30", "--log-every", "10"]

    @Test(arguments: [
        // Sequence options with the tabular policy are rejected, never ignored.
        (["train", "--vocab", "8"], "--vocab"),
        (["train", "--policy", "loglinear", "--proxy-bias", "1"], "--proxy-bias"),
        (["train", "--rm-l2", "0.1"], "--rm-l2"),
        (["train", "--target", "fitted"], "--target fitted"),
        (["train", "--target", "proxy"], "--target proxy"),
        (["sweep", "--policies", "tabular,markov"], "--policies"),  // a sweep never mixes levels
        (["sweep", "--target", "fitted"], "--target fitted"),
        // Tabular options with a sequence policy are rejected too.
        (["train", "--policy", "markov", "--responses", "9"], "--responses"),
        (["train", "--policy", "shared", "--features", "9"], "--features"),
        (["train", "--policy", "markov", "--batch-size", "4"], "--batch-size"),
        (["train", "--policy", "markov", "--target", "model"], "--target model"),
        (["train", "--policy", "markov", "--target", "constant"], "--target constant"),
        (["train", "--policy", "markov", "--constant-gap", "2"], "--constant-gap"),
        // Ranges, each naming its option.
        (["train", "--policy", "markov", "--vocab", "1"], "--vocab"),
        (["train", "--policy", "markov", "--length", "0"], "--length"),
        (["train", "--policy", "markov", "--spurious-token", "4"], "--spurious-token"),
        (["train", "--policy", "markov", "--spurious-token", "-1"], "--spurious-token"),
        (["train", "--policy", "markov", "--proxy-bias", "1e200"], "--proxy-bias"),
        (["train", "--policy", "markov", "--rm-l2", "-1"], "--rm-l2"),
        (["train", "--policy", "markov", "--pairs-per-prompt", "0"], "--pairs-per-prompt"),
        (["train", "--policy", "markov", "--beta", "0"], "--beta"),
        (["train", "--policy", "markov", "--reward-spread", "-1"], "--reward-spread"),
        (["train", "--policy", "markov", "--losses", "nope"], "--losses"),
        // The tables of --out have a size limit, checked before any work.
        (["train", "--policy", "markov", "--vocab", "32", "--length", "256", "--prompts", "9", "--out", "/nonexistent/x"], "--out"),
    ])
    func badOptionsFailBeforeWork(args: [String], mentions: String) throws {
        let r = try R.run(args)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mentions), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func summaryShowsTrueAndProxyRewardAndLabelsTheOracle() throws {
        let r = try R.run(Self.small + ["--policy", "markov", "--losses", "sigmoid,spo", "--proxy-bias", "1", "--target", "true"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("true reward E[r] (oracle)"))
        #expect(r.stdout.contains("proxy reward E[r~]"))
        #expect(r.stdout.contains("true (oracle: an upper bound)"))
        #expect(r.stdout.contains("lambda = 1"))
        // Only the reward-aware loss is told the oracle; DPO reads the labels.
        let spoRow = r.stdout.split(separator: "\n").first { $0.hasPrefix("| spo ") }
        let dpoRow = r.stdout.split(separator: "\n").first { $0.hasPrefix("| sigmoid ") }
        #expect(spoRow?.contains("oracle") == true)
        #expect(dpoRow?.contains("labels only") == true)
        // With lambda = 1 the proxy reward differs from the true reward at the end.
        let csv = try R.run(Self.small + ["--policy", "markov", "--losses", "sigmoid", "--proxy-bias", "1", "--format", "csv"])
        let row = try #require(R.table(csv.stdout).first)
        #expect(row["final_expected_reward"] != row["final_proxy_reward"])
    }

    @Test(arguments: ["markov", "shared"])
    func outFolderIsWholeWithExactHeaders(policy: String) throws {
        let dir = try R.tempDir().appendingPathComponent("seq")
        let r = try R.run(Self.small + ["--policy", policy, "--losses", "sigmoid,spo_bt", "--target", "fitted", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        #expect(names == ["metrics.csv", "summary.csv", "summary.md", "plots.txt", "transitions.csv", "pairs.csv",
                          "policy-sigmoid.csv", "policy-spo_bt.csv", "reward-kl.svg", "win-rate.svg", "logp-pairs.svg"])
        func read(_ name: String) throws -> String { try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8) }
        let transitions = try read("transitions.csv").split(separator: "\n", omittingEmptySubsequences: false)
        #expect(transitions.first == "prompt,position,previous,token,logp_reference,reward,proxy_reward,logp_optimal")
        // One row per state and token: P (1 + (T-1) V) V = 3 * 10 * 3 = 90, then the final newline.
        #expect(transitions.count == 1 + 90 + 1 && transitions.last == "")
        #expect(transitions[1].hasPrefix("0,0,-1,0,"))
        #expect(transitions[4].hasPrefix("0,1,0,0,"))
        // Each state's reference and optimal probabilities sum to 1.
        for rows in stride(from: 1, to: 91, by: 3) {
            let cells = (rows..<(rows + 3)).map { transitions[$0].split(separator: ",").compactMap { Double($0) } }
            #expect(abs(cells.map { exp($0[4]) }.reduce(0, +) - 1) < 1e-12)
            #expect(abs(cells.map { exp($0[7]) }.reduce(0, +) - 1) < 1e-12)
        }
        let policyRows = try read("policy-sigmoid.csv").split(separator: "\n")
        #expect(policyRows.first == "prompt,position,previous,token,logp")
        #expect(policyRows.count == 91)
        let pairs = R.table(try read("pairs.csv"))
        #expect(try read("pairs.csv").hasPrefix("prompt,chosen,rejected,preference,true_gap,proxy_gap,target_gap\n"))
        #expect(pairs.count == 12)
        #expect(pairs.allSatisfy { $0["chosen"]?.split(separator: " ").count == 4 })
        let summary = try read("summary.csv")
        let header = summary.split(separator: "\n").first.map(String.init) ?? ""
        for column in ["final_expected_reward", "final_proxy_reward", "final_win_rate", "final_mean_logp_chosen", "final_mean_logp_rejected"] {
            #expect(header.contains(column))
        }
        #expect(header.hasSuffix(",status"))
        for svg in ["reward-kl.svg", "win-rate.svg", "logp-pairs.svg"] {
            let text = try read(svg)
            #expect(text.hasSuffix("</svg>\n"))
            #expect(text.contains(policy + ", P=3, V=3, T=4"))
        }
        // No temporary sibling is left behind.
        let siblings = try FileManager.default.contentsOfDirectory(atPath: dir.deletingLastPathComponent().path)
        #expect(siblings == ["seq"])
    }

    @Test func sameSeedSameBytes() throws {
        let args = Self.small + ["--policy", "shared", "--losses", "sigmoid,spo", "--proxy-bias", "0.5", "--format", "csv"]
        let a = try R.run(args), b = try R.run(args)
        #expect(a.status == 0 && a.stdout == b.stdout)
        let c = try R.run(args + ["--seed", "2"])
        #expect(c.stdout != a.stdout)
    }
}
