import Testing
import LossMath
@testable import Experiments

/// The fused markov step against the generic step on larger vocabularies than the other
/// sequence tests use (V >= 8, where LLVM vectorises the row loops, with and without a
/// remainder of V mod 4 and V mod 8 entries): the same bits.
@Suite struct SequenceFusedStepTests {
    /// A problem with vocabulary V = `vocabulary`, P = 3, T = 4.
    static func problem(vocabulary: Int) -> SequenceConfig {
        SequenceConfig(prompts: 3, vocabulary: vocabulary, length: 4, pairsPerPrompt: 6, rewardSpread: 0.8,
                       target: .trueReward, heldOutPairsPerPrompt: 2, beta: 0.5, seed: 17)
    }

    func bits(_ ms: [SequenceStepMetrics]) -> [[UInt64]] {
        ms.map { [UInt64(bitPattern: Int64($0.step))] + $0.metricValues.map(\.bitPattern) }
    }

    /// The fused markov step (active rows, one pass per row) against the generic step over
    /// the whole table (gradient table, norm, update, log-softmax as separate passes), and
    /// the blocked path against both: the same bits, with Adam and SGD, including the
    /// largest gradient norm.
    @Test(arguments: [8, 11, 16, 19])
    func fusedAndBlockedMatchTheGenericStep(vocabulary: Int) throws {
        let env = try SequenceEnvironment(Self.problem(vocabulary: vocabulary))
        for config in [TrainingConfig(loss: .sigmoid, learningRate: 0.2, steps: 20, logEvery: 5),
                       TrainingConfig(loss: .ipo, optimizer: .sgd, learningRate: 1, steps: 20, logEvery: 5)] {
            let generic = try SequenceTrainer(environment: env, config: config)
            generic.restrictToActiveStates = false
            let fused = try SequenceTrainer(environment: env, config: config)
            fused.allowsBlocking = false
            let blocked = try SequenceTrainer(environment: env, config: config)
            #expect(blocked.blockingApplies && !generic.blockingApplies)
            let a = generic.run(), b = fused.run(), c = blocked.run()
            for (other, trainer) in [(b, fused), (c, blocked)] {
                #expect(bits(a.metrics) == bits(other.metrics), "\(config.optimizer), V = \(vocabulary)")
                #expect(a.finalLogPolicy.map(\.bitPattern) == other.finalLogPolicy.map(\.bitPattern))
                #expect(generic.parameters.map(\.bitPattern) == trainer.parameters.map(\.bitPattern))
                #expect(generic.maxGradientNorm.bitPattern == trainer.maxGradientNorm.bitPattern)
                #expect(generic.lastStepLoss.bitPattern == trainer.lastStepLoss.bitPattern)
            }
            #expect(a.metrics.last.map { $0.klReference > 1e-3 } == true, "the policy moved")
        }
    }
}
