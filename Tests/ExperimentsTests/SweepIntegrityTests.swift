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

/// A run whose trainer throws is a failed row, not the end of the sweep.
@Suite struct SweepFailureTests {
    @Test func aThrowingRunIsAFailedRow() throws {
        // V = 3, T = 1: some pair has two equal responses, so spo_asym's true gap is 0 there.
        let grid: [SweepAxis: [SweepValue]] = [
            .policy: [.policy(.markov)], .loss: [.loss(.sigmoid), .loss(.spoAsym)], .target: [.target(.trueReward)],
            .beta: [.real(0.5)], .rewardNoise: [.real(0)], .proxyBias: [.real(0)], .spuriousToken: [.integer(0)],
            .vocab: [.integer(3)], .length: [.integer(1)], .rmL2: [.real(0.01)], .seed: [.seed(1)]]
        let spec = SweepSpec(grid: grid, training: TrainingConfig(loss: .sigmoid, steps: 10, logEvery: 5),
                             sequence: SequenceConfig(prompts: 2, pairsPerPrompt: 4))
        let results = try Sweep.run(spec, runs: try spec.runs(), workers: 2)
        #expect(results.count == 2)
        #expect(results[0].status == .ok)
        #expect(results[1].status.isFailed && results[1].status.isDiverged)
        #expect(results[1].status.description.hasPrefix("failed: reward gap for spo_asym"))
        #expect(results[1].metricValues.allSatisfy { $0.isNaN })
        #expect(Sweep.failures(results).map(\.run.id) == [1])
        let cells = Sweep.aggregate(results)
        #expect(cells.count == 2 && cells[1].count == 0 && cells[1].diverged == 1)
        // The status text reads back.
        #expect(RunStatus(results[1].status.description) == results[1].status)
        #expect(RunStatus.failed(ExperimentError.invalidParameter(name: "a", value: "b\nc", requirement: "d")).description.contains("\n") == false)
        #expect(RunStatus("failed: ") == nil)
    }
}
