import Testing
import LossMath
import Experiments

/// The sequence level of a sweep (issue 10 §4): its axes, enumeration and columns, each run
/// equal to the sequence trainer run on its own, and diverged runs counted, never averaged.
@Suite struct SequenceSweepTests {
    static let grid: [SweepAxis: [SweepValue]] = [
        .policy: [.policy(.markov), .policy(.shared)], .loss: [.loss(.sigmoid), .loss(.spo)],
        .target: [.target(.fitted), .target(.trueReward)], .beta: [.real(0.5)], .rewardNoise: [.real(0)],
        .proxyBias: [.real(0), .real(1)], .spuriousToken: [.integer(1)], .vocab: [.integer(3)], .length: [.integer(3)],
        .rmL2: [.real(0.01)], .seed: [.seed(1), .seed(2)]]
    static let spec = SweepSpec(grid: grid, training: TrainingConfig(loss: .sigmoid, steps: 30, logEvery: 10),
                                sequence: SequenceConfig(prompts: 2, pairsPerPrompt: 3))

    @Test func axesAndColumnsFollowTheLevel() throws {
        #expect(Self.spec.level == .sequence)
        let runs = try Self.spec.runs()
        #expect(runs.count == 2 * 2 * 2 * 2 * 2)
        #expect(runs.allSatisfy { $0.level == .sequence })
        #expect(runs[0].values == [.policy(.markov), .loss(.sigmoid), .target(.fitted), .real(0.5), .real(0), .real(0),
                                   .integer(1), .integer(3), .integer(3), .real(0.01), .seed(1)])
        // The last axis (seed) fastest, the policy slowest.
        #expect(runs[1].value(.seed) == .seed(2) && runs[2].value(.proxyBias) == .real(1) && runs[16].value(.policy) == .policy(.shared))
        #expect(SweepRunResult.columnNames(.sequence).prefix(13) == ["run_id", "policy", "loss", "target", "beta", "reward_noise",
            "proxy_bias", "spurious_token", "vocab", "length", "rm_l2", "seed", "final_regret"])
        #expect(SweepRunResult.columnNames(.sequence).contains("final_proxy_reward"))
        #expect(SweepRunResult.columnNames(.sequence).last == "status")
        #expect(SweepAggregate.columnNames(.sequence).first == "policy" && SweepAggregate.columnNames(.sequence).last == "diverged")
        // The tabular level is unchanged.
        #expect(SweepRunResult.columnNames == ["run_id", "loss", "beta", "reward_noise", "seed"] + RunSummary.metricColumnNames + ["status"])
    }

    /// A sequence axis on a tabular sweep, and a configuration the sequence level refuses, name the parameter.
    @Test func badGridsAreRejected() {
        var tabular = SweepSpec(losses: [.sigmoid], betas: [0.5], rewardNoises: [0], seeds: [1])
        tabular.grid[.proxyBias] = [.real(1)]
        #expect(throws: ExperimentError.self) { try tabular.validate() }
        var bad = Self.spec
        bad.grid[.spuriousToken] = [.integer(3)]  // k must be < V = 3
        #expect(throws: ExperimentError.self) { try bad.validate() }
        var batch = Self.spec
        batch.training.batchSize = 2
        #expect(throws: ExperimentError.self) { try batch.validate() }
    }

    /// Each run's metrics are, bit for bit, those of the sequence trainer run on its own
    /// configuration, built here from the grid values by hand; serial equals parallel.
    @Test func eachRunIsTheSequenceTrainersRun() throws {
        let runs = try Self.spec.runs()
        let serial = try Sweep.run(Self.spec, runs: runs, workers: 1)
        let parallel = try Sweep.run(Self.spec, runs: runs.reversed(), workers: 3)
        #expect(serial == parallel)
        for k in [0, 7, 21, 30] {
            let v = runs[k].values
            guard case .policy(let p) = v[0], case .loss(let loss) = v[1], case .target(let target) = v[2],
                  case .real(let lambda) = v[5], case .seed(let seed) = v[10] else { Issue.record("values \(v)"); continue }
            let config = SequenceConfig(parameterisation: p, prompts: 2, vocabulary: 3, length: 3, pairsPerPrompt: 3,
                                        proxyBias: lambda, spuriousToken: 1, target: target, rewardModelL2: 0.01, beta: 0.5, seed: seed)
            let training = TrainingConfig(loss: loss, target: .rewardModel, steps: 30, logEvery: 10)
            let trained = try SequenceRuns.train([training], environment: try SequenceEnvironment(config))
            guard let expected = trained.first?.summary, let got = serial[k].sequenceSummary else {
                Issue.record("run \(k): no summary"); continue
            }
            #expect(got.status == expected.status && got.loss == expected.loss)
            for (a, b) in zip([got.finalRegret, got.finalKLRef, got.finalExpectedReward, got.finalProxyReward, got.finalWinRate,
                               got.finalMeanLogpChosen, got.finalMeanLogpRejected, got.minLogpRejected, got.maxH],
                              [expected.finalRegret, expected.finalKLRef, expected.finalExpectedReward, expected.finalProxyReward,
                               expected.finalWinRate, expected.finalMeanLogpChosen, expected.finalMeanLogpRejected,
                               expected.minLogpRejected, expected.maxH]) {
                #expect(a.bitPattern == b.bitPattern, "run \(k)")
            }
            #expect(serial[k].metricValues.count == SweepLevel.sequence.metricColumnNames.count)
        }
    }

    /// A diverged sequence run is counted in its cell and left out of the mean (NaN, never 0).
    @Test func divergedRunsAreCountedNotAveraged() throws {
        let runs = try Self.spec.runs()
        let diverged = SweepRunResult(run: runs[0], sequenceSummary: SequenceRunSummary(loss: .sigmoid, metrics: [], status: .diverged(atStep: 4)))
        let a = Sweep.aggregate([diverged])
        #expect(a.count == 1 && a.first?.count == 0 && a.first?.diverged == 1 && a.first?.level == .sequence)
        #expect(a.first?.mean.allSatisfy(\.isNaN) == true)
        #expect(diverged.status == .diverged(atStep: 4))
    }
}
