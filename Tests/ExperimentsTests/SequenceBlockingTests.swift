import Testing
import LossMath
@testable import Experiments

/// Temporal blocking over prompts (``SequenceTrainer/blockedSteps(to:threads:)``) against
/// the step path: the same bits for the logged rows, the final policy, the parameters, the
/// last loss, the largest gradient norm and the divergence step, for Adam and SGD, hard and
/// Bradley-Terry labels, logging every step or every few, one or two threads, and runs that
/// diverge.
@Suite struct SequenceBlockingTests {
    /// P = 6 prompts, V = 3, T = 4.
    static func problem(labels: SimulationConfig.Labels) -> SequenceConfig {
        SequenceConfig(prompts: 6, vocabulary: 3, length: 4, pairsPerPrompt: 5, rewardSpread: 0.8, labels: labels,
                       target: .trueReward, heldOutPairsPerPrompt: 4, beta: 0.5, seed: 21)
    }

    func bits(_ ms: [SequenceStepMetrics]) -> [[UInt64]] {
        ms.map { [UInt64(bitPattern: Int64($0.step))] + $0.metricValues.map(\.bitPattern) }
    }

    /// Runs `config` on the step path and blocked (every gap between logged steps blocked,
    /// even a single step) on `threads` threads, after `prefix` plain steps, and compares.
    func compare(_ env: SequenceEnvironment, _ config: TrainingConfig, threads: Int, prefix: Int = 0) throws {
        let plain = try SequenceTrainer(environment: env, config: config)
        plain.allowsBlocking = false
        let blocked = try SequenceTrainer(environment: env, config: config)
        blocked.minimumBlockSteps = 1
        #expect(blocked.blockingApplies && !plain.blockingApplies)
        for _ in 0..<prefix { plain.step(); blocked.step() }
        let a = plain.run(), b = blocked.run(threads: threads)
        let label = "\(config.optimizer) lr \(config.learningRate) log every \(config.logEvery) threads \(threads)"
        #expect(!blocked.blockSnapshot.isEmpty, "the blocked path ran: \(label)")
        #expect(bits(a.metrics) == bits(b.metrics), "\(label)")
        #expect(a.summary == b.summary, "\(label)")
        #expect(a.finalLogPolicy.map(\.bitPattern) == b.finalLogPolicy.map(\.bitPattern), "\(label)")
        #expect(plain.parameters.map(\.bitPattern) == blocked.parameters.map(\.bitPattern), "\(label)")
        #expect(plain.logPolicy.map(\.bitPattern) == blocked.logPolicy.map(\.bitPattern), "\(label)")
        #expect(plain.divergedAtStep == blocked.divergedAtStep && plain.stepCount == blocked.stepCount, "\(label)")
        #expect(plain.maxGradientNorm.bitPattern == blocked.maxGradientNorm.bitPattern, "\(label)")
        #expect(plain.lastStepLoss.bitPattern == blocked.lastStepLoss.bitPattern, "\(label)")
    }

    @Test(arguments: SimulationConfig.Labels.allCases, [1, 2])
    func blockedMatchesTheStepPath(labels: SimulationConfig.Labels, threads: Int) throws {
        let env = try SequenceEnvironment(Self.problem(labels: labels))
        for logEvery in [1, 7] {
            try compare(env, TrainingConfig(loss: .sigmoid, learningRate: 0.3, steps: 30, logEvery: logEvery), threads: threads)
            try compare(env, TrainingConfig(loss: .spo, optimizer: .sgd, learningRate: 2, steps: 30, logEvery: logEvery),
                        threads: threads)
        }
        // Steps taken before the run: blocks start off the logging grid.
        try compare(env, TrainingConfig(loss: .ipo, learningRate: 0.2, steps: 25, logEvery: 6), threads: threads, prefix: 4)
    }

    /// Diverging learning rates: the blocked run reruns its block on the step path and stops
    /// at the same step with the same state: at the first step (Adam, 1e308), inside a block
    /// after several steps (Adam, 1e307), at the second step (SGD, 1e100), and at a logged
    /// step whose metrics are not finite though every step was (SGD, 1e308).
    @Test(arguments: [1, 2])
    func divergenceMatchesTheStepPath(threads: Int) throws {
        let env = try SequenceEnvironment(Self.problem(labels: .hard))
        var steps: [Int] = []
        for config in [TrainingConfig(loss: .sigmoid, optimizer: .adam, learningRate: 1e308, steps: 20, logEvery: 5),
                       TrainingConfig(loss: .sigmoid, optimizer: .adam, learningRate: 1e307, steps: 40, logEvery: 40),
                       TrainingConfig(loss: .ipo, optimizer: .sgd, learningRate: 1e100, steps: 20, logEvery: 10),
                       TrainingConfig(loss: .sigmoid, optimizer: .sgd, learningRate: 1e308, steps: 40, logEvery: 40)] {
            try compare(env, config, threads: threads)
            let result = try SequenceTrainer(environment: env, config: config).run(threads: threads)
            #expect(result.summary.status.isDiverged)
            #expect(result.metrics.allSatisfy { $0.isFinite })
            if case .diverged(let n) = result.summary.status { steps.append(n) }
        }
        #expect(steps.contains { $0 % 5 != 0 && $0 > 2 }, "a divergence inside a block, after several steps: \(steps)")
    }

    /// The multi-loss runner gives spare threads to each run's prompts: the same results.
    @Test func runnerWithSpareThreadsMatchesOneThread() throws {
        let env = try SequenceEnvironment(Self.problem(labels: .bt))
        let configs = [TrainingConfig(loss: .sigmoid, learningRate: 0.3, steps: 24, logEvery: 8)]
        let one = try SequenceRuns.train(configs, environment: env, threads: 1)
        let two = try SequenceRuns.train(configs, environment: env, threads: 2)
        #expect(one.map { bits($0.metrics) } == two.map { bits($0.metrics) })
        #expect(one.map(\.summary) == two.map(\.summary))
        #expect(one.map { $0.finalLogPolicy.map(\.bitPattern) } == two.map { $0.finalLogPolicy.map(\.bitPattern) })
    }

    /// Clipping and the shared family keep the step path.
    @Test func blockingAppliesOnlyToUnclippedMarkov() throws {
        let env = try SequenceEnvironment(Self.problem(labels: .hard))
        let shared = try SequenceEnvironment(SequenceConfig(parameterisation: .shared, prompts: 2, vocabulary: 3, length: 3,
                                                            pairsPerPrompt: 2, target: .proxy))
        #expect(try SequenceTrainer(environment: env, config: TrainingConfig(loss: .sigmoid)).blockingApplies)
        #expect(try !SequenceTrainer(environment: env, config: TrainingConfig(loss: .sigmoid, clipNorm: 1)).blockingApplies)
        #expect(try !SequenceTrainer(environment: shared, config: TrainingConfig(loss: .sigmoid)).blockingApplies)
    }
}
