import Testing
import Experiments

/// Diverged runs in a sweep's aggregate (issue 13, part 2): they are counted, never averaged.
@Suite struct SweepIntegrityTests {

    static func result(id: Int, seed: UInt64, regret: Double, status: RunStatus) -> SweepRunResult {
        SweepRunResult(run: SweepRun(id: id, loss: .ipo, beta: 0.5, rewardNoise: 0, seed: seed),
                       summary: RunSummary(loss: .ipo, finalRegret: regret, finalKLRef: regret, finalExpectedReward: regret,
                                           minLogpRejected: regret, meanAbsHMinusTarget: regret, maxH: regret,
                                           unseenMass: regret, maxGradNorm: regret, maxLog10AbsDPRejected: regret,
                                           status: status))
    }

    /// Two ok runs (1 and 2) and one diverged run (1e6): mean 1.5 and half-width
    /// t_{0.975,1} * s / sqrt(2) with s = sqrt(1/2), i.e. t/2; t_{0.975,1} = tan(0.475 pi)
    /// = 12.706204736174707 (the Cauchy quantile, exact for one degree of freedom).
    @Test func divergedRunsAreLeftOutOfMeansAndCounted() {
        let rs = [Self.result(id: 0, seed: 1, regret: 1, status: .ok),
                  Self.result(id: 1, seed: 2, regret: 1e6, status: .diverged(atStep: 7)),
                  Self.result(id: 2, seed: 3, regret: 2, status: .ok)]
        let a = Sweep.aggregate(rs)
        #expect(a.count == 1)
        guard let cell = a.first else { return }
        #expect(cell.count == 2 && cell.diverged == 1)
        for k in RunSummary.metricColumnNames.indices {
            #expect(cell.mean[k] == 1.5)
            #expect(abs(cell.halfWidth[k] - 12.706204736174707 / 2) < 1e-12)
        }
    }

    /// A cell whose runs all diverged has no mean: NaN (an empty cell), never 0.
    @Test func aCellOfDivergedRunsHasNoMean() {
        let rs = [Self.result(id: 0, seed: 1, regret: 0, status: .diverged(atStep: 3)),
                  Self.result(id: 1, seed: 2, regret: 0, status: .diverged(atStep: 4))]
        let a = Sweep.aggregate(rs)
        #expect(a.first?.count == 0 && a.first?.diverged == 2)
        #expect(a.first?.mean.allSatisfy(\.isNaN) == true)
    }

    @Test func statusAndDivergedAreTheLastColumns() {
        #expect(SweepRunResult.columnNames.last == "status")
        #expect(SweepAggregate.columnNames.last == "diverged")
    }
}
