import LossMath
import Testing
@testable import Experiments

/// The fused step's explicit eight-lane loops (the softmax's exponentials, DPO's and spo's
/// derivatives, Adam; each with a scalar tail): the same bits as the generic path, one step
/// at a time or temporally blocked, for every thread count, at row widths K = 8, 11, 16, 21
/// (rows that fill whole vectors, and rows and blocks that leave tails; the other tests use
/// K <= 7) and 13 pairs per prompt.
extension TemporalBlockingTests {
    @Test(arguments: [8, 11, 16, 21])
    func widerRowsGiveTheSameBits(responses K: Int) throws {
        let sim = SimulationConfig(prompts: 3 * (256 / K) + 5, responses: K, pairsPerPrompt: 13, rewardNoise: 0.3, labels: .bt, seed: 29)
        for cfg in [TrainingConfig(loss: .sigmoid, steps: 40, logEvery: 9),
                    TrainingConfig(loss: .spo, steps: 30, logEvery: 7),
                    TrainingConfig(loss: .ipo, steps: 25, logEvery: 25),
                    TrainingConfig(loss: .sigmoid, optimizer: .sgd, learningRate: 0.3, steps: 20, logEvery: 5)] {
            let what = "K \(K) \(cfg.loss.rawValue) \(cfg.optimizer)"
            let blocked = try Self.run(sim, cfg, .blocked)
            Self.expectSame(blocked, try Self.run(sim, cfg, .perStep), what + " vs per step")
            Self.expectSame(blocked, try Self.run(sim, cfg, .generic), what + " vs generic")
            Self.expectSame(blocked, try Self.run(sim, cfg, .blocked, threads: 2, grain: 1), what + " vs 2 threads")
            #expect(blocked.diverged == nil && blocked.steps == cfg.steps)
        }
    }
}

