import LossMath
import Testing
@testable import Experiments

/// The fused per-prompt trainer path (tabular, full batch) and its threads: bit-identical to
/// the generic path, and to itself for every thread count.
@Suite struct FusedTrainerTests {
    static let sim = SimulationConfig(prompts: 7, responses: 6, pairsPerPrompt: 5, rewardNoise: 0.3, labels: .bt, seed: 31)

    static func run(_ sim: SimulationConfig, _ cfg: TrainingConfig, fused: Bool = true, threads: Int = 1, grain: Int? = nil) throws -> (TrainingResult, [Double]) {
        let t = try Trainer(environment: try Environment(sim), config: cfg)
        t.useFusedPath = fused
        t.threads = threads
        if let grain { t.parallelGrain = grain }
        let r = t.run()
        return (r, t.parameters)
    }

    static func bits(_ xs: [Double]) -> [UInt64] { xs.map(\.bitPattern) }

    @Test(arguments: Loss.allCases)
    func fusedEqualsGenericBitForBit(loss: Loss) throws {
        for cfg in [TrainingConfig(loss: loss, steps: 60, logEvery: 7),
                    TrainingConfig(loss: loss, optimizer: .sgd, learningRate: 0.3, steps: 40, logEvery: 10),
                    TrainingConfig(loss: loss, steps: 40, clipNorm: 0.05, logEvery: 10)] {
            let (a, pa) = try Self.run(Self.sim, cfg, fused: true)
            let (b, pb) = try Self.run(Self.sim, cfg, fused: false)
            #expect(bitPatterns(a.metrics) == bitPatterns(b.metrics), "\(loss.rawValue) \(cfg.optimizer) clip \(String(describing: cfg.clipNorm))")
            #expect(Self.bits(pa) == Self.bits(pb))
        }
    }

    /// Threads split the prompts; every sum across prompts is formed serially afterwards, so
    /// the bits do not depend on the thread count (grain 1 forces the split on a small problem).
    @Test(arguments: [Loss.sigmoid, .ncaPair, .spo, .bdpo])
    func threadCountDoesNotChangeBits(loss: Loss) throws {
        let sim = SimulationConfig(prompts: 23, responses: 7, pairsPerPrompt: 9, rewardNoise: 0.5, labels: .bt, seed: 5)
        for cfg in [TrainingConfig(loss: loss, steps: 50, logEvery: 5),
                    TrainingConfig(loss: loss, steps: 30, clipNorm: 0.1, logEvery: 5)] {
            let (one, p1) = try Self.run(sim, cfg, threads: 1)
            for threads in [2, 3, 8] {
                let (many, pn) = try Self.run(sim, cfg, threads: threads, grain: 1)
                #expect(bitPatterns(one.metrics) == bitPatterns(many.metrics), "\(loss.rawValue), \(threads) threads")
                #expect(Self.bits(p1) == Self.bits(pn))
            }
        }
    }

    @Test func meanLossAndGradientIsTheSameOnBothPaths() throws {
        for loss in Loss.allCases {
            let env = try Environment(Self.sim)
            let t = try Trainer(environment: env, config: TrainingConfig(loss: loss, steps: 5))
            _ = t.run()
            let fused = t.meanLossAndGradient()
            t.useFusedPath = false
            let generic = t.meanLossAndGradient()
            #expect(fused.value.bitPattern == generic.value.bitPattern, "\(loss.rawValue)")
            #expect(Self.bits(fused.gradient) == Self.bits(generic.gradient), "\(loss.rawValue)")
        }
    }

    /// Stepping by hand (no metrics call in between) leaves a consistent state.
    @Test func manualStepsMatchRun() throws {
        let env = try Environment(Self.sim)
        let cfg = TrainingConfig(loss: .cdpo, steps: 25, logEvery: 25)
        let a = try Trainer(environment: env, config: cfg)
        for _ in 0..<25 { a.step() }
        let ma = a.metrics()
        let b = try Trainer(environment: env, config: cfg)
        b.useFusedPath = false
        for _ in 0..<25 { b.step() }
        let mb = b.metrics()
        #expect(bitPatterns([ma]) == bitPatterns([mb]))
    }

    /// PopulationOptimum drives the engine's full-batch pass directly (weighted pairs, all K(K-1)
    /// ordered pairs per prompt) through the fused path.
    @Test func populationOptimumStillSolves() throws {
        let sim = SimulationConfig(prompts: 3, responses: 4, pairsPerPrompt: 3, seed: 9)
        let r = try PopulationOptimum.solve(sim, training: TrainingConfig(loss: .spo))
        #expect(r.regret.isFinite)
    }
}
