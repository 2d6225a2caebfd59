import Foundation
import Testing
import GSLKit
import LossMath
@testable import Experiments

/// The sequence trainer: its gradient against GSL's numerical derivative, the active-state
/// passes against whole-table passes, determinism, the three targets, the proxy bias and
/// the large-scale run.
@Suite struct SequenceTrainerTests {
    /// A small problem: P = 2, V = 3, T = 4 (81 responses per prompt, exact win rate).
    static func small(_ parameterisation: SequenceConfig.Parameterisation = .markov, target: SequenceConfig.Target = .trueReward,
                      proxyBias: Double = 0, labels: SimulationConfig.Labels = .hard, seed: UInt64 = 3) -> SequenceConfig {
        SequenceConfig(parameterisation: parameterisation, prompts: 2, vocabulary: 3, length: 4, pairsPerPrompt: 6,
                       rewardSpread: 0.7, labels: labels, proxyBias: proxyBias, spuriousToken: 1, target: target,
                       heldOutPairsPerPrompt: 16, beta: 0.7, seed: seed)
    }

    func bits(_ ms: [SequenceStepMetrics]) -> [[UInt64]] {
        ms.map { [UInt64(bitPattern: Int64($0.step))] + $0.metricValues.map(\.bitPattern) }
    }

    /// The trainer's full-batch gradient against GSL's central difference, parameter by
    /// parameter, away from the reference (after a few steps) and for a loss that reads
    /// `u_w` and `u_l` separately (dpop) as well as one of `h` alone.
    @Test(arguments: [SequenceConfig.Parameterisation.markov, .shared], [Loss.sigmoid, .dpop, .spo])
    func gradientMatchesNumericalDerivative(parameterisation: SequenceConfig.Parameterisation, loss: Loss) throws {
        let env = try SequenceEnvironment(Self.small(parameterisation))
        let trainer = try SequenceTrainer(environment: env, config: TrainingConfig(loss: loss, learningRate: 0.1, steps: 3))
        for _ in 0..<3 { trainer.step() }
        let theta = trainer.parameters
        let (_, analytic) = trainer.meanLossAndGradient()
        #expect(analytic.contains { abs($0) > 1e-3 }, "a non-trivial gradient")
        for j in theta.indices {
            let d = try NumericalDerivative.central({ v in
                var p = theta
                p[j] = v
                return trainer.meanLossAndGradient(at: p).value
            }, at: theta[j], step: 1e-3)
            #expect(close(analytic[j], d.value, abs: 1e-8 + 10 * d.absoluteError, rel: 1e-6), "parameter \(j)")
        }
        #expect(trainer.parameters == theta, "the trainer's state is unchanged")
    }

    /// Passes restricted to the states on some pair's path give the same bits as passes over
    /// the whole table (markov: untouched rows keep their parameters exactly; shared: only
    /// those rows carry a gradient), with Adam and with clipped SGD.
    @Test(arguments: [SequenceConfig.Parameterisation.markov, .shared])
    func activeStatesMatchTheWholeTable(parameterisation: SequenceConfig.Parameterisation) throws {
        var sim = Self.small(parameterisation)
        sim.length = 5
        sim.pairsPerPrompt = 3                       // few pairs: many states off every path
        let env = try SequenceEnvironment(sim)
        for config in [TrainingConfig(loss: .sigmoid, learningRate: 0.2, steps: 30, logEvery: 7),
                       TrainingConfig(loss: .spo, optimizer: .sgd, learningRate: 0.5, steps: 30, clipNorm: 0.05, logEvery: 7)] {
            let fast = try SequenceTrainer(environment: env, config: config)
            let naive = try SequenceTrainer(environment: env, config: config)
            naive.restrictToActiveStates = false
            #expect(fast.states.count < naive.states.count, "some states are inactive")
            let a = fast.run(), b = naive.run()
            #expect(bits(a.metrics) == bits(b.metrics))
            #expect(a.finalLogPolicy.map(\.bitPattern) == b.finalLogPolicy.map(\.bitPattern))
            #expect(fast.parameters.map(\.bitPattern) == naive.parameters.map(\.bitPattern))
            #expect(a.metrics.last.map { $0.klReference > 1e-3 } == true, "the policy moved")
        }
    }

    /// Same seed, same bytes; the step-0 policy is pi_ref exactly.
    @Test func runsAreDeterministic() throws {
        let config = TrainingConfig(loss: .sigmoid, learningRate: 0.1, steps: 20, logEvery: 5)
        let a = try SequenceTrainer.train(Self.small(.shared, target: .fitted), config)
        let b = try SequenceTrainer.train(Self.small(.shared, target: .fitted), config)
        #expect(bits(a.metrics) == bits(b.metrics))
        #expect(a.summary == b.summary)
        let first = try #require(a.metrics.first)
        #expect(first.klReference == 0 && first.step == 0)
        #expect(close(first.winRate, 0.5, abs: 1e-12))
        #expect(a.summary.status == .ok && a.metrics.count == 5)
    }

    /// Every target runs; the true target is labelled an oracle; proxy and true gaps differ
    /// exactly when lambda != 0.
    @Test(arguments: SequenceConfig.Target.allCases)
    func everyTargetRuns(target: SequenceConfig.Target) throws {
        let env = try SequenceEnvironment(Self.small(target: target, proxyBias: 1))
        #expect(env.isOracle == (target == .trueReward))
        #expect(env.targetGaps == (target == .trueReward ? env.trueGaps : target == .proxy ? env.proxyGaps : env.targetGaps))
        #expect((env.rewardModel != nil) == (target == .fitted))
        let results = try SequenceRuns.train([TrainingConfig(loss: .sigmoid, steps: 20), TrainingConfig(loss: .spo, steps: 20)],
                                            environment: env, threads: 2)
        #expect(results.allSatisfy { $0.summary.status == .ok })
        #expect(results.allSatisfy { $0.summary.winRateVersusDPO != nil })
        #expect(close(results[0].summary.winRateVersusDPO ?? 0, 0.5, abs: 1e-12), "DPO against itself")
    }

    /// lambda = 0: the proxy is the true reward; lambda = 1: the proxy reward exceeds the
    /// true one by lambda times the spurious token's expected count.
    @Test func proxyBiasSeparatesProxyFromTrueReward() throws {
        for lambda in [0.0, 1.0] {
            let result = try SequenceTrainer.train(Self.small(proxyBias: lambda), TrainingConfig(loss: .sigmoid, steps: 20))
            let m = try #require(result.metrics.last)
            if lambda == 0 {
                #expect(m.proxyReward == m.expectedReward)
            } else {
                #expect(close(m.proxyReward - m.expectedReward, lambda * m.spuriousCount, rel: 1e-9))
                #expect(m.proxyReward != m.expectedReward)
            }
        }
    }

    /// Results do not depend on the number of threads of the multi-loss runner.
    @Test func multiLossRunnerIsThreadIndependent() throws {
        let env = try SequenceEnvironment(Self.small(.shared))
        let configs = [TrainingConfig(loss: .spo, steps: 15), TrainingConfig(loss: .sigmoid, steps: 15),
                       TrainingConfig(loss: .ipo, steps: 15)]
        let one = try SequenceRuns.train(configs, environment: env, threads: 1)
        let three = try SequenceRuns.train(configs, environment: env, threads: 3)
        for (a, b) in zip(one, three) {
            #expect(bits(a.metrics) == bits(b.metrics))
            #expect(a.summary == b.summary)
        }
    }
}
