import Foundation
import Testing

/// Issue 13, part 5: `report flow` has a step budget (`--max-steps`, per output interval).
/// A loss that exhausts it is named on standard error and the command exits 1, after
/// writing the losses it could integrate. Before (b5c279c), `--beta 1e100` ran for minutes,
/// then left spo and spo_bt out with exit 0 (and `--max-steps` did not exist): checked.
/// Before the rescaling in s = beta h it still stopped spo at the budget after ~15 s.
@Suite struct FlowBudgetTests {
    typealias R = ReportCommandTests

    @Test func aLossOverItsStepBudgetIsNamedAndExitsOne() throws {
        let r = try R.run(["flow", "--losses", "sigmoid,spo", "--points", "3", "--max-steps", "5", "--format", "csv"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("sigmoid: the integrator stopped"), "\(r.stderr)")
        #expect(r.stderr.contains("the step budget (maxSteps 5 per output interval) ran out"), "\(r.stderr)")
        #expect(r.stderr.contains("could not integrate sigmoid, spo"), "\(r.stderr)")
    }

    /// `--beta 1e100` and `1e150`: the flow runs in s = beta h and tau = (rate at h0) t, so
    /// the losses of h alone integrate in well under a second (before: minutes, then spo and
    /// spo_bt were dropped with exit 0). DPO's h(t_end) is its closed form (1/beta) log(2 beta^2 t)
    /// to leading order, spo sits on h* = dr/beta. A loss of u_w and u_l separately cannot
    /// resolve h at that beta: it is named, the others are written, and the exit status is 1.
    @Test(arguments: ["1e100", "1e150"])
    func extremeBetaIntegratesQuicklyOrNamesTheLoss(beta: String) throws {
        let start = Date()
        let r = try R.run(["flow", "--beta", beta, "--losses", "sigmoid,spo,apo_down", "--points", "3", "--format", "csv"])
        #expect(Date().timeIntervalSince(start) < 60)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("apo_down: the integrator stopped"), "\(r.stderr)")
        #expect(r.stderr.contains("a loss of u_w and u_l separately"), "\(r.stderr)")
        #expect(r.stderr.contains("could not integrate apo_down"), "\(r.stderr)")
        let b = Double(beta) ?? 0
        let rows = r.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let last = { (loss: String) in rows.last { $0.first == loss && $0.count == 7 } }
        let dpo = try #require(last("sigmoid")).compactMap(Double.init)
        let spo = try #require(last("spo")).compactMap(Double.init)
        // t_end = 1e6: beta h = log(2 beta^2 t) + O(e^{-beta h}).
        #expect(abs(b * dpo[4] - log(2 * b * b * 1e6)) < 1e-9, "\(dpo)")
        #expect(abs(b * spo[4] - 1) < 1e-9, "\(spo)")
    }

    @Test func aBudgetThatSufficesExitsZero() throws {
        let r = try R.run(["flow", "--losses", "sigmoid,spo", "--points", "3", "--max-steps", "100000", "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\nspo,"))
    }

    @Test func aBudgetBelowOneIsAUsageError() throws {
        let r = try R.run(["flow", "--max-steps", "0"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--max-steps"))
    }
}
