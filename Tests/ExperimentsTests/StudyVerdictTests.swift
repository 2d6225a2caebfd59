import Foundation
import Testing
import LossMath
import Experiments

/// The study's verdicts (``StudyAnalysis``) against an independent recomputation: the
/// test's own readings, mean, standard deviation and 95% interval with the t quantile taken
/// from a literal table (not from GSL), and its own application of the rule.
///
/// t_{0.975, df} from mpmath (Tools/student_t_quantiles.py: the root of the t CDF written
/// with the regularised incomplete beta function, 40 digits; df = 1 and 2 also match the
/// closed forms tan(0.475 pi) and 0.95 / sqrt(2 * 0.975 * 0.025)).
@Suite struct StudyVerdictTests {
    static let t975: [Int: Double] = [
        1: 12.706204736174705, 2: 4.3026527297494639, 3: 3.1824463052837096, 4: 2.7764451051977944,
        5: 2.5705818356363155, 6: 2.44691185114497, 7: 2.3646242515927853, 8: 2.3060041352041667,
        9: 2.2621571627982055,
    ]

    /// A tiny grid: shared policy, P = 2, V = 2, T = 3 (8 responses: exact win rates), n = 4,
    /// proxy bias 0 and 1, 4 seeds, 40 steps.
    static func tinySpec(seeds: Int = 4) -> StudySpec {
        var base = StudySpec.defaultBase
        base.prompts = 2
        base.vocabulary = 2
        base.length = 3
        base.pairsPerPrompt = 4
        base.heldOutPairsPerPrompt = 8
        var training = StudySpec.defaultTraining
        training.steps = 40
        training.logEvery = 5
        return StudySpec(policies: [.shared], betas: [0.5], proxyBiases: [0, 1], rewardNoises: [0], seeds: seeds,
                         base: base, training: training)
    }

    static let tiny: (spec: StudySpec, results: [StudyRunner.UnitResult])? = {
        let spec = tinySpec()
        guard let r = try? StudyRunner.run(spec, units: spec.units, workers: 1) else { return nil }
        return (spec, r)
    }()

    /// Linear interpolation at the first crossing, written independently of MatchedKL.
    static func interpolate(_ path: [StudyTrajectoryPoint], at k: Double, _ value: (StudyTrajectoryPoint) -> Double) -> Double? {
        var previous: StudyTrajectoryPoint?
        for p in path {
            if p.kl >= k {
                guard let q = previous else { return value(p) }
                let f = (k - q.kl) / (p.kl - q.kl)
                return value(q) * (1 - f) + value(p) * f
            }
            previous = p
        }
        return nil
    }

    /// A tiny tabular and log-linear grid: P = 2, K = 4, n = 4, d = 3, 4 seeds, 40 steps.
    static func tinyTabularSpec(seeds: Int = 4) -> StudySpec {
        var spec = tinySpec(seeds: seeds)
        spec.policies = [.tabular, .loglinear]
        spec.tabularBase.responses = 4
        spec.tabularBase.features = 3
        return spec
    }

    static let tinyTabular: (spec: StudySpec, results: [StudyRunner.UnitResult])? = {
        let spec = tinyTabularSpec()
        guard let r = try? StudyRunner.run(spec, units: spec.units, workers: 1) else { return nil }
        return (spec, r)
    }()

    @Test func everyVerdictMatchesAnIndependentPairedInterval() throws {
        let tiny = try #require(Self.tiny)
        try Self.checkVerdicts(tiny)
    }

    /// The same recomputation on tabular and log-linear cells, which have proxy bias 0 only
    /// and no hacking measures.
    @Test func tabularVerdictsMatchAnIndependentPairedInterval() throws {
        let tiny = try #require(Self.tinyTabular)
        #expect(tiny.spec.cells.map(\.policy) == [.tabular, .loglinear])
        #expect(tiny.spec.cells.allSatisfy { $0.proxyBias == 0 })
        let analysis = StudyAnalysis(spec: tiny.spec, records: tiny.results.flatMap(\.records), trajectories: tiny.results.flatMap(\.trajectory))
        #expect(!analysis.comparisons.contains { $0.measure == .hacked || $0.measure == .spurious })
        #expect(tiny.results.flatMap(\.records).allSatisfy { $0.status == .ok && $0[.hacked] == nil && $0[.finalSpuriousCount] == nil })
        try Self.checkVerdicts(tiny)
    }

    static func checkVerdicts(_ tiny: (spec: StudySpec, results: [StudyRunner.UnitResult])) throws {
        let records = tiny.results.flatMap(\.records)
        let points = tiny.results.flatMap(\.trajectory)
        let analysis = StudyAnalysis(spec: tiny.spec, records: records, trajectories: points)
        #expect(!analysis.comparisons.isEmpty)
        var decided = 0
        for c in analysis.comparisons {
            let rs = records.filter { $0.cell == c.cell }
            // Matched KL: the median over seeds of the smaller of the two runs' max KL.
            var minima: [Double] = []
            for s in 1...tiny.spec.seeds {
                let own = rs.filter { $0.seed == UInt64(s) && $0.status == .ok && ($0.arm == c.arm || $0.arm == c.baseline) }
                let maxima = own.compactMap { r in points.filter { $0.unit == r.unit && $0.arm == r.arm }.map(\.kl).max() }
                if maxima.count == 2, let m = maxima.min() { minima.append(m) }
            }
            minima.sort()
            let k = minima.isEmpty ? Double.nan : minima.count % 2 == 1 ? minima[minima.count / 2] : (minima[minima.count / 2 - 1] + minima[minima.count / 2]) / 2
            func read(_ r: StudyRunRecord) -> Double? {
                func v(_ key: StudyRunValue) -> Double? { r.values[StudyRunValue.allCases.firstIndex(of: key) ?? 0] }
                let path = points.filter { $0.unit == r.unit && $0.arm == r.arm }.sorted { $0.step < $1.step }
                switch c.measure {
                case .maxH: return v(.maxH)
                case .absGap: return v(c.arm.isOracle ? .absTrue : .absFitted)
                case .collapseForce: return v(.log10MaxCollapseForce)
                case .gradNorm: return v(.maxGradNorm)
                case .trueReward: return v(.finalTrueReward)
                case .winRate: return v(.finalWinRate)
                case .headToHead:
                    if r.arm == c.baseline { return 0 }
                    return StudyRunValue.winVersus(c.baseline).flatMap(v).map { $0 - 0.5 }
                case .trueRewardMatched: return Self.interpolate(path, at: k) { $0.trueReward }
                case .winRateMatched: return Self.interpolate(path, at: k) { $0.winRate }
                case .hacked: return v(.finalProxyReward).flatMap { p in v(.finalTrueReward).map { p - $0 } }
                case .spurious: return v(.finalSpuriousCount).map { c.cell.proxyBias > 0 ? $0 : -$0 }
                }
            }
            var d: [Double] = []
            for s in 1...tiny.spec.seeds {
                guard let a = rs.first(where: { $0.seed == UInt64(s) && $0.arm == c.arm }),
                      let b = rs.first(where: { $0.seed == UInt64(s) && $0.arm == c.baseline }),
                      a.status == .ok, b.status == .ok, let x = read(a), let y = read(b) else { continue }
                d.append(x - y)
            }
            #expect(c.n == d.count, "\(c.measure) \(c.arm) vs \(c.baseline)")
            guard d.count >= 2, let t = Self.t975[d.count - 1] else {
                #expect(c.verdict == .notComparable)
                continue
            }
            let n = Double(d.count)
            let mean = d.reduce(0, +) / n
            let sd = (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
            let half = t * sd / n.squareRoot()
            let (lo, hi) = (mean - half, mean + half)
            #expect(close(c.mean, mean, abs: 1e-12, rel: 1e-10), "\(c.measure) \(c.arm) vs \(c.baseline)")
            #expect(close(c.lower, lo, abs: 1e-12, rel: 1e-9) && close(c.upper, hi, abs: 1e-12, rel: 1e-9),
                    "\(c.measure) \(c.arm) vs \(c.baseline): [\(c.lower), \(c.upper)] vs [\(lo), \(hi)]")
            // The rule, applied by the test (an interval end within 1e-9 of 0 could go either way).
            guard Swift.abs(lo) > 1e-9 * Swift.max(1, Swift.abs(mean)), Swift.abs(hi) > 1e-9 * Swift.max(1, Swift.abs(mean)) else { continue }
            let claimed = c.measure.direction == .positive ? lo > 0 : hi < 0
            let opposite = c.measure.direction == .positive ? hi < 0 : lo > 0
            let expected: Verdict = claimed ? .reproduced : (opposite ? .contradicted : .notSignificant)
            #expect(c.verdict == expected, "\(c.measure) \(c.arm) vs \(c.baseline)")
            if expected != .notSignificant { decided += 1 }
        }
        // The test can fail: some verdicts are decided either way on this grid.
        #expect(decided > 0)
    }

    @Test(arguments: [false, true]) func resultsDoNotDependOnThreadsOrSharding(tabular: Bool) throws {
        let tiny = try #require(tabular ? Self.tinyTabular : Self.tiny)
        let parallel = try StudyRunner.run(tiny.spec, units: tiny.spec.units, workers: 2)
        let shard = try StudyRunner.run(tiny.spec, units: tiny.spec.shard(index: 1, count: 3), workers: 1)
        #expect(parallel.map(\.records) == tiny.results.map(\.records))
        #expect(parallel.map(\.trajectory) == tiny.results.map(\.trajectory))
        let ids = tiny.spec.shard(index: 1, count: 3).map(\.id)
        #expect(shard.map(\.records) == tiny.results.filter { ids.contains($0.unit.id) }.map(\.records))
        #expect(Set(tiny.spec.units.map(\.id)) == Set((0..<3).flatMap { tiny.spec.shard(index: $0, count: 3).map(\.id) }))
    }

    @Test func everyArmOfASeedSeesTheSameDataAndTheOracleIsTheTrueGap() throws {
        let spec = Self.tinySpec()
        let unit = try #require(spec.units.last)
        let env = try SequenceEnvironment(spec.environmentConfig(unit))
        #expect(env.config.target == .fitted)
        #expect(StudyArm.spoOracle.toldGaps(env) == env.trueGaps)
        #expect(StudyArm.spo.toldGaps(env) == env.targetGaps)
        #expect(StudyArm.cdpoMatched.toldGaps(env) == env.targetGaps.map { max($0, 0) })
        #expect(StudyArm.allCases.filter(\.isOracle) == [.spoOracle, .spoBTOracle])
    }

    /// cdpo with eps = min(sigma(-d), 1/2) is spo_bt at max(d, 0): value and derivatives.
    @Test func informationMatchedDPOIsClampedCDPO() {
        for d in [-3.0, -0.5, 0, 0.2, 1, 4] {
            for h in [-6.0, -1, 0, 0.5, 2, 9] {
                let pair = PairLogProbs(chosen: -3 + h, rejected: -3, refChosen: -3, refRejected: -3)
                let eps = min(1 / (1 + exp(d)), 0.5)
                let a = Loss.cdpo.evaluate(pair, LossParameters(beta: 0.5, labelSmoothing: eps))
                let b = Loss.spoBT.evaluate(pair, LossParameters(beta: 0.5, rewardGap: max(d, 0)))
                #expect(close(a.value, b.value, abs: 1e-15, rel: 1e-12), "d \(d) h \(h)")
                #expect(close(a.dChosen, b.dChosen, abs: 1e-15, rel: 1e-12) && close(a.dRejected, b.dRejected, abs: 1e-15, rel: 1e-12))
            }
        }
    }
}
