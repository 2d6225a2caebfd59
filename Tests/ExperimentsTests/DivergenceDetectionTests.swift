import LossMath
import Testing
@testable import Experiments

/// Issue 13, part 1, at the trainer: every step path (generic, batched, clipped, fused)
/// stops at the first non-finite value and reports `diverged at step N`; a healthy run is
/// `ok`. The run of the CLI test (`report train --lr 1000 --optimizer sgd`) on each path.
@Suite struct DivergenceDetectionTests {
    static func config(_ loss: Loss, clip: Double? = nil, batch: Int? = nil, logEvery: Int = 20) -> TrainingConfig {
        var t = TrainingConfig(loss: loss)
        t.optimizer = .sgd
        t.learningRate = 1000
        t.steps = 200
        t.clipNorm = clip
        t.batchSize = batch
        t.logEvery = logEvery
        return t
    }

    static func run(_ t: TrainingConfig, fused: Bool = true) throws -> (TrainingResult, Trainer) {
        let trainer = try Trainer(environment: try Environment(SimulationConfig()), config: t)
        trainer.useFusedPath = fused
        return (trainer.run(), trainer)
    }

    @Test(arguments: [(nil, nil, true), (nil, nil, false), (1e300, nil, true), (nil, 24, false)] as [(Double?, Int?, Bool)])
    func ipoDivergesOnEveryPath(clip: Double?, batch: Int?, fused: Bool) throws {
        let (result, trainer) = try Self.run(Self.config(.ipo, clip: clip, batch: batch), fused: fused)
        let n = try #require(trainer.divergedAtStep)
        #expect(n > 0 && n < 200)
        #expect(result.summary.status == .diverged(atStep: n))
        #expect(trainer.stepCount == n)
        // Its records are the finite ones, up to step n; the summary is the last of them.
        #expect(result.metrics.allSatisfy { $0.isFinite && $0.step <= n })
        #expect(result.summary.finalRegret == result.metrics.last?.regret)
        #expect(result.summary.finalRegret > 0)
    }

    /// The step of divergence does not depend on how often metrics are logged.
    @Test func theStepDoesNotDependOnLogging() throws {
        let a = try Self.run(Self.config(.ipo, logEvery: 1)).1.divergedAtStep
        let b = try Self.run(Self.config(.ipo, logEvery: 20)).1.divergedAtStep
        #expect(a != nil && a == b)
    }

    @Test func aHealthyRunIsOK() throws {
        var t = TrainingConfig(loss: .spo)
        t.steps = 50
        let (result, trainer) = try Self.run(t)
        #expect(trainer.divergedAtStep == nil && result.summary.status == .ok)
        #expect(result.metrics.count == 4)
    }

    /// The findings never compare with a diverged run, and name it.
    @Test func findingsSkipDivergedRuns() throws {
        let dpo = RunSummary(loss: .sigmoid, finalRegret: 1, finalKLRef: 1, finalExpectedReward: 1, minLogpRejected: -3, meanAbsHMinusTarget: 1,
                             maxH: 3, unseenMass: 0, maxGradNorm: 1, maxLog10AbsDPRejected: 0)
        var spo = dpo
        spo.loss = .spo
        spo.finalRegret = 1e-3
        #expect(TrainingFindings.finalRegret(dpo: dpo, spo: spo, trainedSteps: 100).verdict == .reproduced)
        spo.status = .diverged(atStep: 7)
        let f = TrainingFindings.finalRegret(dpo: dpo, spo: spo, trainedSteps: 100)
        #expect(f.verdict == .notComparable)
        #expect(f.number("DPO/spo") == nil)
        #expect(f.exception == "spo diverged at step 7")
        #expect(PaperClaims.instability(t9: 1, dpo: dpo, spo: spo, maxTarget: 1).verdict == .notComparable)
        #expect(RunStatus("diverged at step 7") == .diverged(atStep: 7) && RunStatus("ok") == .ok && RunStatus("bad") == nil)
    }
}
