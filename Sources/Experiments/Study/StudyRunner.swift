import Dispatch
import GSLKit
import LossMath
import Synchronization

/// Runs a study's units (`docs/theory.md §6`): per sequence-level unit one
/// ``SequenceEnvironment`` (the seed's pairs, labels and fitted reward model; tabular and
/// log-linear units: ``TabularStudyRunner``), every ``StudyArm`` trained on it with the
/// gaps the arm is told, the measures of ``StudyRunValue`` and each run's trajectory.
///
/// Every run is serial and deterministic; units run side by side on `workers` threads, so
/// the records do not depend on the number of threads or on sharding.
///
/// See also: ``StudySpec``, ``StudyRunRecord``, ``StudyAnalysis``.
public enum StudyRunner {
    /// The runs of one unit, in ``StudyArm/allCases`` order, and their logged trajectories.
    public struct UnitResult: Sendable {
        public var unit: StudySpec.Unit
        public var records: [StudyRunRecord]
        public var trajectory: [StudyTrajectoryPoint]

        public init(unit: StudySpec.Unit, records: [StudyRunRecord], trajectory: [StudyTrajectoryPoint]) {
            self.unit = unit
            self.records = records
            self.trajectory = trajectory
        }
    }

    /// Runs `unit` of `spec`.
    ///
    /// - Throws: ``ExperimentError`` from the environment (configuration, reward-model fit)
    ///   or a training configuration the trainer refuses.
    public static func run(_ spec: StudySpec, unit: StudySpec.Unit) throws(ExperimentError) -> UnitResult {
        if unit.cell.policy.sequence == nil { return try TabularStudyRunner.run(spec, unit: unit) }
        let env = try SequenceEnvironment(spec.environmentConfig(unit))
        let fitted = env.targetGaps
        var records: [StudyRunRecord] = []
        var trajectory: [StudyTrajectoryPoint] = []
        var policies: [StudyArm: MarkovPolicy] = [:]
        for arm in StudyArm.allCases {
            var armEnv = env
            armEnv.targetGaps = arm.toldGaps(env)
            let told = armEnv.targetGaps
            let trainer = try SequenceTrainer(environment: armEnv, config: spec.trainingConfig(arm))
            let parameters = trainer.config.lossParameters(beta: env.config.beta)
            var maxH = -Double.infinity
            var maxForce = -Double.infinity
            var absFitted = Double.nan
            var points: [StudyTrajectoryPoint] = []
            let result = trainer.run { m, t in
                let lp = t.policy
                let chosen = lp.logProbabilities(of: env.pairs.chosen)
                let rejected = lp.logProbabilities(of: env.pairs.rejected)
                var sumAbs = 0.0
                for i in chosen.indices {
                    let pair = PairLogProbs(chosen: chosen[i], rejected: rejected[i],
                                            refChosen: env.referenceLogpChosen[i], refRejected: env.referenceLogpRejected[i])
                    var p = parameters
                    p.rewardGap = told[i]
                    let force = ProbabilityGradients(loss: arm.loss, pair: pair, parameters: p).collapseForce
                    if !force.isZero { maxForce = Swift.max(maxForce, force.log10Magnitude) }
                    sumAbs += Swift.abs(env.config.beta * pair.logitsDifference - fitted[i])
                }
                absFitted = sumAbs / Double(Swift.max(1, chosen.count))
                maxH = Swift.max(maxH, m.maxH)
                points.append(StudyTrajectoryPoint(unit: unit.id, arm: arm, step: m.step, kl: m.klReference,
                                                   trueReward: m.expectedReward, proxyReward: m.proxyReward, winRate: m.winRate))
            }
            var values = [Double?](repeating: nil, count: StudyRunValue.allCases.count)
            let ok = result.summary.status == .ok && !points.isEmpty
                && maxH.isFinite && absFitted.isFinite && (maxForce.isFinite || maxForce == -.infinity)
            if ok, let last = result.metrics.last {
                func set(_ k: StudyRunValue, _ v: Double) {
                    if let i = StudyRunValue.allCases.firstIndex(of: k), v.isFinite { values[i] = v }
                }
                set(.finalKL, last.klReference)
                set(.maxKL, points.map(\.kl).max() ?? .nan)
                set(.finalTrueReward, last.expectedReward)
                set(.finalProxyReward, last.proxyReward)
                set(.hacked, last.proxyReward - last.expectedReward)
                set(.finalWinRate, last.winRate)
                set(.finalSpuriousCount, last.spuriousCount)
                set(.finalRegret, last.regret)
                set(.maxH, maxH)
                set(.absFitted, absFitted)
                set(.absTrue, last.meanAbsBetaHMinusGap)
                set(.log10MaxCollapseForce, maxForce.isFinite ? maxForce : StudyRunValue.zeroCollapseForceLog10)
                set(.maxGradNorm, result.summary.maxGradNorm)
                policies[arm] = MarkovPolicy(space: env.space, normalizedLogProbabilities: result.finalLogPolicy)
                trajectory += points
            }
            let status: RunStatus = ok ? .ok : (result.summary.status == .ok ? .diverged(atStep: trainer.stepCount) : result.summary.status)
            records.append(StudyRunRecord(unit: unit.id, cell: unit.cell, seed: unit.seed, arm: arm, status: status,
                                          values: values, rewardModelAccuracy: env.rewardModelAccuracy ?? .nan,
                                          labelAgreement: env.labelAgreement))
        }
        // Head to head: each run against each baseline's final policy, under the true reward.
        let seed = RandomGenerator.derivedSeed(env.config.seed, SequenceRandomStream.winRate.rawValue)
        for k in records.indices {
            guard let mine = policies[records[k].arm] else { continue }
            for b in StudyArm.baselines {
                guard let theirs = policies[b], let key = StudyRunValue.winVersus(b),
                      let i = StudyRunValue.allCases.firstIndex(of: key) else { continue }
                let w = WinRate.compute(policy: mine, against: theirs, reward: env.reward,
                                        samplesPerPrompt: env.config.winRateSamplesPerPrompt, seed: seed).value
                if w.isFinite { records[k].values[i] = w }
            }
        }
        return UnitResult(unit: unit, records: records, trajectory: trajectory)
    }

    /// Runs `units` of `spec` on up to `workers` threads and returns the results in unit-id
    /// order. `finished` is called with each unit's result as it completes, one call at a
    /// time (under a lock), from the worker threads.
    ///
    /// - Throws: ``ExperimentError`` from ``StudySpec/validate()`` before any work, or the
    ///   first unit that failed.
    public static func run(_ spec: StudySpec, units: [StudySpec.Unit], workers: Int,
                           finished: (@Sendable (UnitResult) -> Void)? = nil) throws(ExperimentError) -> [UnitResult] {
        try spec.validate()
        let ordered = units.sorted { $0.id < $1.id }
        let state = Mutex<(next: Int, results: [Int: Result<UnitResult, ExperimentError>])>((0, [:]))
        let threads = Swift.max(1, Swift.min(workers, ordered.count))
        let work: @Sendable (Int) -> Void = { _ in
            while true {
                let k: Int = state.withLock { s in
                    let k = s.next
                    s.next += 1
                    return k
                }
                guard k < ordered.count else { return }
                let outcome = Result { () throws(ExperimentError) -> UnitResult in try run(spec, unit: ordered[k]) }
                state.withLock { s in
                    s.results[k] = outcome
                    if case .success(let r) = outcome { finished?(r) }
                }
            }
        }
        if threads == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: threads, execute: work) }
        let results = state.withLock { $0.results }
        var out: [UnitResult] = []
        for k in ordered.indices {
            guard let r = results[k] else { continue }
            switch r {
            case .success(let u): out.append(u)
            case .failure(let e): throw e
            }
        }
        return out
    }
}
