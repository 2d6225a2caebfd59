import Foundation
import Testing

/// Issue 13, part 1: a run that produces a non-finite value is a failed run, never a
/// number. Before, `report train --steps 200 --lr 1000 --optimizer sgd` reported ipo and
/// spo (whose parameters had gone to NaN) with `final_regret 0` and `kl 0`: the regret's
/// sum skips `log pi = NaN` cells, so a NaN policy looked like pi* itself.
@Suite struct DivergenceTests {
    typealias R = ReportCommandTests

    static func summary(_ args: [String]) throws -> (status: Int32, rows: [String: [String: String]], stderr: String) {
        let r = try R.run(["train"] + args + ["--format", "csv"])
        var rows: [String: [String: String]] = [:]
        if r.status == 0 { for row in R.table(r.stdout) { rows[row["loss"] ?? "?"] = row } }
        return (r.status, rows, r.stderr)
    }

    /// SGD with learning rate 1000: ipo's and spo's steps overshoot to infinity within a few
    /// steps. They are reported as diverged (exit 0: the command did what was asked), their
    /// metrics are their last finite ones, and no row says regret 0 for them.
    @Test func hugeLearningRateIsReportedAsDiverged() throws {
        let r = try Self.summary(["--steps", "200", "--lr", "1000", "--optimizer", "sgd"])
        #expect(r.status == 0, "\(r.stderr)")
        for loss in ["ipo", "spo"] {
            let row = try #require(r.rows[loss])
            let status = row["status"] ?? ""
            #expect(status.hasPrefix("diverged at step "), "\(loss): \(status)")
            let step = Int(status.dropFirst("diverged at step ".count)) ?? -1
            #expect(step >= 0 && step < 200, "\(loss): \(status)")
            // The last finite metrics: a number (or empty when even step 0 failed), never the
            // 0 a NaN policy used to give.
            if let regret = row["final_regret"], let x = Double(regret) { #expect(x.isFinite && x > 0, "\(loss): \(regret)") }
        }
        // The summary's columns keep their places; status is the last one.
        let out = try R.run(["train", "--steps", "200", "--lr", "1000", "--optimizer", "sgd", "--format", "csv"])
        let header = out.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.hasPrefix("loss,final_regret,final_kl_ref,"))
        #expect(header.hasSuffix(",max_log10_abs_d_p_rejected,status"))
    }

    /// The Markdown names the diverged runs, and the DPO/spo verdict is not a comparison with
    /// a diverged run.
    @Test func verdictsNeverCompareWithADivergedRun() throws {
        let r = try R.run(["train", "--steps", "200", "--lr", "1000", "--optimizer", "sgd", "--format", "markdown"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("Diverged"), "\(r.stdout)")
        #expect(r.stdout.contains("spo diverged at step"))
        #expect(!r.stdout.contains("times spo's"))
        #expect(r.stdout.contains("**not comparable**"))
    }

    /// A healthy run says ok.
    @Test func defaultRunsAreOK() throws {
        let r = try Self.summary(["--steps", "20"])
        #expect(r.status == 0)
        #expect(r.rows.count == 4)
        for (loss, row) in r.rows { #expect(row["status"] == "ok", "\(loss)") }
    }
}
