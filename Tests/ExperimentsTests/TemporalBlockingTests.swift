import LossMath
import Testing
@testable import Experiments

/// Temporal blocking (TemporalBlocking.swift): windows of steps run prompt block by prompt
/// block give the same bits as the per-step fused path and as the generic path: metrics at
/// every logged step, the summary and status, the step of divergence, and the final
/// parameters; for every thread count.
@Suite struct TemporalBlockingTests {
    enum Path { case blocked, perStep, generic }

    struct Outcome {
        let metrics: [[UInt64]], summary: RunSummary, parameters: [UInt64], steps: Int, diverged: Int?
    }

    static func run(_ sim: SimulationConfig, _ cfg: TrainingConfig, _ path: Path, threads: Int = 1, grain: Int? = nil) throws -> Outcome {
        let t = try Trainer(environment: try Environment(sim), config: cfg)
        t.useFusedPath = path != .generic
        t.useTemporalBlocking = path == .blocked
        // The problems here are several blocks of prompts, so the blocked path is taken.
        if path == .blocked && cfg.clipNorm == nil { #expect(t.canBlockSteps) }
        t.threads = threads
        if let grain { t.parallelGrain = grain }
        let r = t.run()
        return Outcome(metrics: bitPatterns(r.metrics), summary: r.summary, parameters: t.parameters.map(\.bitPattern),
                       steps: t.stepCount, diverged: t.divergedAtStep)
    }

    static func expectSame(_ a: Outcome, _ b: Outcome, _ what: String) {
        #expect(a.metrics == b.metrics, "metrics: \(what)")
        #expect(summaryBits(a.summary) == summaryBits(b.summary), "summary: \(what)")
        #expect(a.summary.status == b.summary.status, "status: \(what)")
        #expect(a.parameters == b.parameters, "parameters: \(what)")
        #expect(a.steps == b.steps && a.diverged == b.diverged, "steps: \(what)")
    }

    /// RunSummary's numbers as bits (NaN-safe, unlike ==).
    static func summaryBits(_ s: RunSummary) -> [UInt64] {
        [s.finalRegret, s.finalKLRef, s.finalExpectedReward, s.minLogpRejected, s.meanAbsHMinusTarget, s.maxH,
         s.unseenMass, s.maxGradNorm, s.maxLog10AbsDPRejected].map(\.bitPattern)
    }

    static let configs: [TrainingConfig] = [
        TrainingConfig(loss: .sigmoid, steps: 60, logEvery: 7),
        TrainingConfig(loss: .spo, steps: 45, logEvery: 20),
        TrainingConfig(loss: .ipo, steps: 30, logEvery: 1),
        TrainingConfig(loss: .ncaPair, steps: 25, logEvery: 1000),
        TrainingConfig(loss: .bdpo, optimizer: .sgd, learningRate: 0.3, steps: 40, logEvery: 9),
        TrainingConfig(loss: .spoBT, optimizer: .sgd, learningRate: 0.5, steps: 33, logEvery: 5),
    ]

    @Test(arguments: [SimulationConfig.Labels.hard, .bt])
    func blockedEqualsPerStepAndGeneric(labels: SimulationConfig.Labels) throws {
        let sim = SimulationConfig(prompts: 97, responses: 6, pairsPerPrompt: 5, rewardNoise: 0.3, labels: labels, seed: 17)
        for cfg in Self.configs {
            let what = "\(cfg.loss.rawValue) \(cfg.optimizer) log \(cfg.logEvery) \(labels)"
            let blocked = try Self.run(sim, cfg, .blocked)
            Self.expectSame(blocked, try Self.run(sim, cfg, .perStep), what + " vs per step")
            Self.expectSame(blocked, try Self.run(sim, cfg, .generic), what + " vs generic")
            #expect(blocked.diverged == nil && blocked.steps == cfg.steps)
        }
    }

    /// A diverging run (SGD, lr 1000) stops at the same step with the same state as the
    /// per-step fused path: the window that contains the divergence is undone and redone step
    /// by step. (The generic path checks divergence on other reductions, the mean loss rather
    /// than each prompt's log-sum-exp, and may stop a step later: not compared here.)
    @Test(arguments: [Loss.ipo, .sigmoid, .spo])
    func divergenceIsTheSameStep(loss: Loss) throws {
        let sim = SimulationConfig(prompts: 90, responses: 6, pairsPerPrompt: 4, seed: 3)
        for logEvery in [1, 6, 20, 500] {
            let cfg = TrainingConfig(loss: loss, optimizer: .sgd, learningRate: 1000, steps: 300, logEvery: logEvery)
            let blocked = try Self.run(sim, cfg, .blocked)
            Self.expectSame(blocked, try Self.run(sim, cfg, .perStep), "\(loss.rawValue) log \(logEvery)")
            if loss == .ipo { #expect(blocked.diverged != nil) }
        }
    }

    /// The blocks are split over threads (grain 1 forces the split on a small problem); the
    /// bits do not depend on the count.
    @Test func threadCountDoesNotChangeBits() throws {
        let sim = SimulationConfig(prompts: 113, responses: 7, pairsPerPrompt: 9, rewardNoise: 0.5, labels: .bt, seed: 5)
        for cfg in [TrainingConfig(loss: .sigmoid, steps: 50, logEvery: 25),
                    TrainingConfig(loss: .ipo, optimizer: .sgd, learningRate: 1000, steps: 80, logEvery: 40)] {
            let one = try Self.run(sim, cfg, .blocked)
            Self.expectSame(one, try Self.run(sim, cfg, .perStep), "per step")
            for threads in [2, 3, 8] {
                Self.expectSame(one, try Self.run(sim, cfg, .blocked, threads: threads, grain: 1), "\(threads) threads")
            }
        }
    }

    /// Clipping and minibatches couple the prompts: such runs take the per-step path. A
    /// problem of one block of prompts (the default one) runs windows too: nothing to keep in
    /// cache there, but a window pays the step's fixed cost (dispatch, closures) once.
    @Test func clippedAndMinibatchRunsDoNotBlock() throws {
        let env = try Environment(SimulationConfig(prompts: 200, responses: 4, pairsPerPrompt: 3))
        #expect(try Trainer(environment: env, config: TrainingConfig(loss: .sigmoid)).canBlockSteps)
        #expect(try Trainer(environment: try Environment(SimulationConfig()), config: TrainingConfig(loss: .sigmoid)).canBlockSteps)
        #expect(try !Trainer(environment: env, config: TrainingConfig(loss: .sigmoid, clipNorm: 1)).canBlockSteps)
        #expect(try !Trainer(environment: env, config: TrainingConfig(loss: .sigmoid, batchSize: 4)).canBlockSteps)
    }
}
