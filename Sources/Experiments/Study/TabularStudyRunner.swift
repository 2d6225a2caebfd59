import GSLKit
import LossMath

extension Environment {
    /// `base` with each training pair's reward-model gap replaced by `gaps[i]` (what a
    /// trainer with ``RewardGapSource/rewardModel`` tells the loss); everything else, the
    /// labels included, unchanged. For the study's arms (``TabularStudyRunner``).
    init(_ base: Environment, toldGaps gaps: [Double]) {
        precondition(gaps.count == base.pairs.count, "one gap per pair")
        config = base.config
        family = base.family
        logReference = base.logReference
        rewards = base.rewards
        modelRewards = base.modelRewards
        logOptimal = base.logOptimal
        logPartition = base.logPartition
        referenceParameters = base.referenceParameters
        optimalParameters = base.optimalParameters
        seen = base.seen
        pairs = zip(base.pairs, gaps).map { p, g in
            PreferencePair(prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, trueRewardGap: p.trueRewardGap, modelRewardGap: g)
        }
    }
}

/// Runs one unit of a study on a tabular or log-linear ``Environment`` (`docs/theory.md §6.1`):
/// the seed's pairs and labels, a ``TabularRewardModel`` fitted to those labels, and every
/// ``StudyArm`` trained on them by the tabular ``Trainer`` with the gaps it is told (fitted
/// `dr_hat`; `max(dr_hat, 0)` for cdpo_matched; the true gap for the oracles).
///
/// Measures (``StudyRunValue``), at every logged step from the trainer's policy: `max h`
/// over the training pairs; the largest collapse force (each arm's loss with its told gap);
/// at the end the mean `|beta h - dr_hat|` and `|beta h - dr|`; KL, true reward, regret;
/// the exact win rate against `pi_ref` and, at the end, against each baseline's final
/// policy, `W = (1/P) sum_x sum_{y, y'} pi(y|x) pi'(y'|x) ([r(x,y) > r(x,y')] + [r(x,y) = r(x,y')]/2)`.
/// There is no proxy reward: the proxy reward, the amount hacked and the spurious count are
/// left empty (not applicable), and the trajectory's proxy column repeats the true reward.
/// `rm_accuracy` is ``TabularRewardModel/orderingAccuracy(_:)``.
///
/// See also: ``StudyRunner``, ``TabularRewardModel``.
public enum TabularStudyRunner {
    /// Runs `unit` (a tabular or log-linear cell) of `spec`, serially.
    public static func run(_ spec: StudySpec, unit: StudySpec.Unit) throws(ExperimentError) -> StudyRunner.UnitResult {
        let env = try Environment(spec.tabularConfig(unit))
        let model = try TabularRewardModel(environment: env, l2: spec.base.rewardModelL2)
        let fitted = model.gaps(env)
        let trueGaps = env.pairs.map(\.trueRewardGap)
        let P = env.prompts, K = env.responses, beta = env.config.beta
        let labelAgreement = trueGaps.reduce(0.0) { $0 + ($1 > 0 ? 1 : ($1 == 0 ? 0.5 : 0)) } / Double(Swift.max(1, trueGaps.count))
        let accuracy = model.orderingAccuracy(env)
        var records: [StudyRunRecord] = []
        var trajectory: [StudyTrajectoryPoint] = []
        var policies: [StudyArm: [Double]] = [:]
        for arm in StudyArm.allCases {
            let told = arm.toldGaps(fitted: fitted, trueGaps: trueGaps)
            let trainer = try Trainer(environment: Environment(env, toldGaps: told), config: spec.trainingConfig(arm))
            trainer.threads = 1
            let parameters = trainer.config.lossParameters(beta: beta)
            var maxH = -Double.infinity, maxForce = -Double.infinity
            var absFitted = Double.nan, absTrue = Double.nan
            var points: [StudyTrajectoryPoint] = []
            var last: [Double] = []
            let result = trainer.run { m, t in
                var logPolicy = [Double](repeating: 0, count: P * K)
                for x in 0..<P { logPolicy.replaceSubrange(x * K ..< (x + 1) * K, with: t.logPolicy(prompt: x)) }
                var sumFitted = 0.0, sumTrue = 0.0
                for (i, p) in env.pairs.enumerated() {
                    let w = p.prompt * K + p.chosen, l = p.prompt * K + p.rejected
                    let pair = PairLogProbs(chosen: logPolicy[w], rejected: logPolicy[l],
                                            refChosen: env.logReference[w], refRejected: env.logReference[l])
                    var q = parameters
                    q.rewardGap = told[i]
                    let force = ProbabilityGradients(loss: arm.loss, pair: pair, parameters: q).collapseForce
                    if !force.isZero { maxForce = Swift.max(maxForce, force.log10Magnitude) }
                    let h = pair.logitsDifference
                    maxH = Swift.max(maxH, h)
                    sumFitted += Swift.abs(beta * h - fitted[i])
                    sumTrue += Swift.abs(beta * h - trueGaps[i])
                }
                let n = Double(Swift.max(1, env.pairs.count))
                absFitted = sumFitted / n
                absTrue = sumTrue / n
                last = logPolicy
                points.append(StudyTrajectoryPoint(unit: unit.id, arm: arm, step: m.step, kl: m.klReference, trueReward: m.expectedReward,
                                                   proxyReward: m.expectedReward,
                                                   winRate: winRate(logPolicy, against: env.logReference, environment: env)))
            }
            var values = [Double?](repeating: nil, count: StudyRunValue.allCases.count)
            let ok = result.summary.status == .ok && !points.isEmpty && maxH.isFinite && absFitted.isFinite && absTrue.isFinite
                && (maxForce.isFinite || maxForce == -.infinity)
            if ok, let m = result.metrics.last, let end = points.last {
                func set(_ k: StudyRunValue, _ v: Double) {
                    if let i = StudyRunValue.allCases.firstIndex(of: k), v.isFinite { values[i] = v }
                }
                set(.finalKL, m.klReference)
                set(.maxKL, points.map(\.kl).max() ?? .nan)
                set(.finalTrueReward, m.expectedReward)
                set(.finalWinRate, end.winRate)
                set(.finalRegret, m.regret)
                set(.maxH, maxH)
                set(.absFitted, absFitted)
                set(.absTrue, absTrue)
                set(.log10MaxCollapseForce, maxForce.isFinite ? maxForce : StudyRunValue.zeroCollapseForceLog10)
                set(.maxGradNorm, result.summary.maxGradNorm)
                policies[arm] = last
                trajectory += points
            }
            let status: RunStatus = ok ? .ok : (result.summary.status == .ok ? .diverged(atStep: trainer.stepCount) : result.summary.status)
            records.append(StudyRunRecord(unit: unit.id, cell: unit.cell, seed: unit.seed, arm: arm, status: status, values: values,
                                          rewardModelAccuracy: accuracy, labelAgreement: labelAgreement))
        }
        for k in records.indices {
            guard let mine = policies[records[k].arm] else { continue }
            for b in StudyArm.baselines {
                guard let theirs = policies[b], let key = StudyRunValue.winVersus(b),
                      let i = StudyRunValue.allCases.firstIndex(of: key) else { continue }
                let w = winRate(mine, against: theirs, environment: env)
                if w.isFinite { records[k].values[i] = w }
            }
        }
        return StudyRunner.UnitResult(unit: unit, records: records, trajectory: trajectory)
    }

    /// The exact win rate of `logPolicy` against `other` (both `P K`, normalised per prompt)
    /// under the true reward; see the type's documentation. In [0, 1], 1/2 for equal policies.
    ///
    /// Per prompt the responses are sorted by reward (ties, by exact equality, form one
    /// group `g`, with masses `p_g` under `pi` and `q_g` under `pi'`), and the win rate
    /// `P(>) + P(=)/2` is computed in the form
    ///
    ///     1/2 + (P(>) - P(<)) / 2,   P(>) = sum_g p_g Q_g,   P(<) = sum_g q_g Pm_g,
    ///
    /// with `Q_g`, `Pm_g` the masses of the groups strictly below `g` (equal to the first
    /// form because `P(>) + P(=) + P(<) = 1`; the two differ by rounding only). The two sums
    /// run over the groups in the same order with the same operations, so for identical
    /// policies they are the same bits and the win rate is exactly 1/2 (the direct form
    /// `sum_g p_g (Q_g + q_g / 2)` gave 0.49999999999999994 at step 0). `O(P K log K)`.
    public static func winRate(_ logPolicy: [Double], against other: [Double], environment env: Environment) -> Double {
        winRate(logPolicy, against: other, rewards: env.rewards, prompts: env.prompts, responses: env.responses)
    }

    /// The same under the reward table `rewards` (`P K`).
    public static func winRate(_ logPolicy: [Double], against other: [Double], rewards: [Double], prompts P: Int, responses K: Int) -> Double {
        var total = 0.0
        for x in 0..<P {
            let base = x * K
            let order = (0..<K).sorted { rewards[base + $0] < rewards[base + $1] }
            // wins = P(>), losses = P(<): the same operations in the same order on (p, q)
            // and on (q, p), so equal policies give equal bits.
            var theirsBelow = 0.0, mineBelow = 0.0, wins = 0.0, losses = 0.0, i = 0
            while i < K {
                let r = rewards[base + order[i]]
                var mine = 0.0, theirs = 0.0, j = i
                while j < K && rewards[base + order[j]] == r {
                    mine += Double.exp(logPolicy[base + order[j]])
                    theirs += Double.exp(other[base + order[j]])
                    j += 1
                }
                wins += mine * theirsBelow
                losses += theirs * mineBelow
                theirsBelow += theirs
                mineBelow += mine
                i = j
            }
            total += 0.5 + (wins - losses) / 2
        }
        return total / Double(Swift.max(1, P))
    }
}
