import Foundation
import Testing

/// A tabular and log-linear `report study` recomputed from its files alone: every
/// final-step verdict of comparisons.csv from the seed-paired differences of runs.csv, with
/// the test's own mean, standard deviation and t interval and its own application of the
/// rule. t_{0.975, 3} from mpmath (Tools/student_t_quantiles.py, as in StudyVerdictTests).
@Suite struct StudyTabularVerdictTests {
    typealias R = ReportCommandTests
    static let t975df3 = 3.1824463052837096
    static let args = ["study", "--policy", "tabular,loglinear", "--seeds", "4", "--prompts", "3", "--responses", "5",
                       "--features", "3", "--pairs-per-prompt", "6", "--steps", "60", "--log-every", "10", "--quiet"]

    /// runs.csv column of each final-step measure (oracle arms read the true-gap column for C2).
    static func column(_ measure: String, oracle: Bool) -> String? {
        switch measure {
        case "max_h": return "max_h"
        case "abs_beta_h_minus_dr": return oracle ? "final_abs_beta_h_minus_dr_true" : "final_abs_beta_h_minus_dr_fitted"
        case "log10_max_collapse_force": return "log10_max_collapse_force"
        case "max_grad_norm": return "max_grad_norm"
        case "final_true_reward": return "final_true_reward"
        case "final_win_rate": return "final_win_rate"
        default: return nil
        }
    }

    @Test func finalStepVerdictsFollowFromRunsCSV() throws {
        let tmp = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let out = tmp.appendingPathComponent("s")
        let r = try R.run(Self.args + ["--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        let runs = R.table(try String(contentsOf: out.appendingPathComponent("runs.csv"), encoding: .utf8))
        let comparisons = R.table(try String(contentsOf: out.appendingPathComponent("comparisons.csv"), encoding: .utf8))
        #expect(runs.count == 2 * 4 * 9)
        #expect(!comparisons.contains { $0["measure"] == "hacked" || $0["measure"] == "spurious_count" })
        var checked = 0, decided = 0
        for c in comparisons {
            guard let measure = c["measure"], let arm = c["arm"], let baseline = c["baseline"], let policy = c["policy"] else { continue }
            let oracle = arm.hasSuffix("oracle")
            func value(_ row: [String: String]) -> Double? {
                if measure == "head_to_head_win_rate" {
                    if row["arm"] == baseline { return 0 }
                    return row["win_rate_vs_" + baseline].flatMap(Double.init).map { $0 - 0.5 }
                }
                return Self.column(measure, oracle: oracle).flatMap { row[$0] }.flatMap(Double.init)
            }
            guard measure == "head_to_head_win_rate" || Self.column(measure, oracle: oracle) != nil else { continue }
            var d: [Double] = []
            for seed in 1...4 {
                let mine = runs.first { $0["policy"] == policy && $0["seed"] == "\(seed)" && $0["arm"] == arm }
                let theirs = runs.first { $0["policy"] == policy && $0["seed"] == "\(seed)" && $0["arm"] == baseline }
                guard let a = mine, let b = theirs, a["status"] == "ok", b["status"] == "ok", let x = value(a), let y = value(b) else { continue }
                d.append(x - y)
            }
            #expect(d.count == 4 && c["n"] == "4", "\(policy) \(measure) \(arm) vs \(baseline)")
            let mean = d.reduce(0, +) / 4
            let sd = (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3).squareRoot()
            let half = Self.t975df3 * sd / 2
            let (lo, hi) = (mean - half, mean + half)
            let file = (Double(c["mean_difference"] ?? ""), Double(c["ci95_low"] ?? ""), Double(c["ci95_high"] ?? ""))
            let tol = 1e-9 * max(1, abs(mean))
            #expect(file.0.map { abs($0 - mean) <= tol } ?? false, "\(policy) \(measure) \(arm) vs \(baseline): \(String(describing: file.0)) vs \(mean)")
            #expect(file.1.map { abs($0 - lo) <= tol } ?? false, "\(policy) \(measure) \(arm) vs \(baseline): low")
            #expect(file.2.map { abs($0 - hi) <= tol } ?? false, "\(policy) \(measure) \(arm) vs \(baseline): high")
            checked += 1
            guard abs(lo) > tol, abs(hi) > tol else { continue }
            let positive = measure.hasPrefix("final_") || measure == "head_to_head_win_rate"
            let claimed = positive ? lo > 0 : hi < 0
            let opposite = positive ? hi < 0 : lo > 0
            let expected = claimed ? "reproduced" : (opposite ? "contradicted" : "not significant")
            #expect(c["verdict"] == expected, "\(policy) \(measure) \(arm) vs \(baseline)")
            if expected != "not significant" { decided += 1 }
        }
        // 7 final-step measures x 4 principled arms x 5 baselines x 2 cells.
        #expect(checked == 7 * 4 * 5 * 2)
        #expect(decided > 0)
    }
}
