import Foundation
import Testing

/// Issue 13, part 5: `report flow` has a step budget (`--max-steps`, per output interval).
/// A loss that exhausts it is named on standard error and the command exits 1, after
/// writing the losses it could integrate. Before (b5c279c), `--beta 1e100` ran for minutes,
/// then left spo and spo_bt out with exit 0 (and `--max-steps` did not exist): checked.
@Suite struct FlowBudgetTests {
    typealias R = ReportCommandTests

    @Test func aLossOverItsStepBudgetIsNamedAndExitsOne() throws {
        let start = Date()
        let r = try R.run(["flow", "--beta", "1e100", "--losses", "sigmoid,spo", "--points", "3",
                           "--max-steps", "1000", "--format", "csv"])
        #expect(Date().timeIntervalSince(start) < 60)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("spo: the integrator stopped"), "\(r.stderr)")
        #expect(r.stderr.contains("could not integrate spo within --max-steps 1000"), "\(r.stderr)")
        // The loss that could be integrated is still written.
        #expect(r.stdout.contains("\nsigmoid,"), "\(r.stdout)")
        #expect(!r.stdout.contains("\nspo,"))
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
