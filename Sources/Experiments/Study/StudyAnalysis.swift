import GSLKit

/// A study's verdicts and curves, computed only from its run records and trajectories (so
/// that a merge of shards, which reads them back from CSV, computes the same bytes).
///
/// - **Matched KL** of a comparison (principled arm, baseline, cell): the median over seeds
///   of `min(max_kl(arm), max_kl(baseline))` over the seeds where both ended ok: the largest
///   KL that both runs of a typical seed reached. Each run is read there by
///   ``MatchedKL/value(at:along:)``; a run that never reaches it is *not reached* for that
///   reading (counted, not compared).
/// - **Comparisons**: every principled arm against every baseline (``StudyArm``), every
///   measure (``StudyMeasure``) that applies, every cell; ``PairedComparison`` gives the
///   mean, interval and verdict, except that fewer than 2 comparable seeds give
///   ``Verdict/notComparable``.
/// - **Frontiers**: per cell and arm, the true reward read at ``frontierPoints`` KL values
///   evenly spaced in `sqrt(KL)` up to the cell's largest `max_kl`, with the mean over the
///   seeds that reached each value and its 95% t-interval (n >= 2).
///
/// See also: ``StudyClaims``, ``StudyRunner``, ``MatchedKL``.
public struct StudyAnalysis: Sendable {
    /// One verdict: a principled arm against a baseline on one measure in one cell.
    public struct Comparison: Sendable, Hashable {
        public var cell: StudySpec.Cell
        public var measure: StudyMeasure
        public var arm: StudyArm
        public var baseline: StudyArm
        /// Seeds compared, seeds with a diverged run, seeds where a run did not reach the KL.
        public var n: Int
        public var notComparable: Int
        public var notReached: Int
        public var mean: Double
        public var standardDeviation: Double
        public var lower: Double
        public var upper: Double
        public var verdict: Verdict
        /// The comparison's matched KL (nil when no seed has both runs ok).
        public var matchedKL: Double?
    }

    /// The seed mean of the true reward at one KL value of a frontier.
    public struct FrontierPoint: Sendable, Hashable {
        public var cell: StudySpec.Cell
        public var arm: StudyArm
        public var kl: Double
        public var n: Int
        public var mean: Double
        public var lower: Double
        public var upper: Double
    }

    public static let frontierPoints = 21

    public let spec: StudySpec
    public let records: [StudyRunRecord]
    public let comparisons: [Comparison]
    public let frontiers: [FrontierPoint]

    /// Analyses `records` and `trajectories` of `spec` (any order).
    public init(spec: StudySpec, records: [StudyRunRecord], trajectories: [StudyTrajectoryPoint]) {
        self.spec = spec
        let records = records.sorted { ($0.unit, StudyArm.allCases.firstIndex(of: $0.arm) ?? 0) < ($1.unit, StudyArm.allCases.firstIndex(of: $1.arm) ?? 0) }
        self.records = records
        var paths: [String: [(kl: Double, value: Double)]] = [:]
        var winPaths: [String: [(kl: Double, value: Double)]] = [:]
        for p in trajectories.sorted(by: { ($0.unit, $0.arm.rawValue, $0.step) < ($1.unit, $1.arm.rawValue, $1.step) }) {
            paths["\(p.unit) \(p.arm.rawValue)", default: []].append((p.kl, p.trueReward))
            winPaths["\(p.unit) \(p.arm.rawValue)", default: []].append((p.kl, p.winRate))
        }
        var byCell: [StudySpec.Cell: [StudyRunRecord]] = [:]
        for r in records { byCell[r.cell, default: []].append(r) }

        var comparisons: [Comparison] = []
        var frontiers: [FrontierPoint] = []
        for cell in spec.cells {
            let rs = byCell[cell] ?? []
            var bySeed: [UInt64: [StudyArm: StudyRunRecord]] = [:]
            for r in rs { bySeed[r.seed, default: [:]][r.arm] = r }
            func reading(_ r: StudyRunRecord, _ m: StudyMeasure, against principled: StudyArm, baseline: StudyArm, k: Double?) -> Double? {
                let key = "\(r.unit) \(r.arm.rawValue)"
                switch m {
                case .maxH: return r[.maxH]
                case .absGap: return r[principled.isOracle ? .absTrue : .absFitted]
                case .collapseForce: return r[.log10MaxCollapseForce]
                case .gradNorm: return r[.maxGradNorm]
                case .trueReward: return r[.finalTrueReward]
                case .winRate: return r[.finalWinRate]
                case .headToHead:
                    if r.arm == baseline { return r.status == .ok ? 0 : nil }
                    return StudyRunValue.winVersus(baseline).flatMap { r[$0] }.map { $0 - 0.5 }
                case .trueRewardMatched:
                    guard r.status == .ok, let k, let p = paths[key] else { return nil }
                    return MatchedKL.value(at: k, along: p)
                case .winRateMatched:
                    guard r.status == .ok, let k, let p = winPaths[key] else { return nil }
                    return MatchedKL.value(at: k, along: p)
                case .hacked: return r[.hacked]
                case .spurious: return r[.finalSpuriousCount].map { cell.proxyBias > 0 ? $0 : -$0 }
                }
            }
            for arm in StudyArm.principled {
                for baseline in StudyArm.baselines {
                    let k = Self.median(bySeed.keys.sorted().compactMap { s -> Double? in
                        guard let a = bySeed[s]?[arm]?[.maxKL], let b = bySeed[s]?[baseline]?[.maxKL] else { return nil }
                        return Swift.min(a, b)
                    })
                    for m in StudyMeasure.allCases where m.applies(to: cell) {
                        var d: [Double] = []
                        var diverged = 0, notReached = 0
                        for s in bySeed.keys.sorted() {
                            guard let a = bySeed[s]?[arm], let b = bySeed[s]?[baseline] else { continue }
                            if a.status != .ok || b.status != .ok { diverged += 1; continue }
                            guard let x = reading(a, m, against: arm, baseline: baseline, k: k),
                                  let y = reading(b, m, against: arm, baseline: baseline, k: k) else { notReached += 1; continue }
                            d.append(x - y)
                        }
                        let c = PairedComparison(differences: d, direction: m.direction)
                        comparisons.append(Comparison(cell: cell, measure: m, arm: arm, baseline: baseline, n: c.n,
                                                      notComparable: diverged, notReached: notReached, mean: c.meanDifference,
                                                      standardDeviation: c.standardDeviation, lower: c.lower, upper: c.upper,
                                                      verdict: c.n < 2 ? .notComparable : c.verdict,
                                                      matchedKL: (m == .trueRewardMatched || m == .winRateMatched) ? k : nil))
                    }
                }
            }
            // Frontiers.
            let top = rs.compactMap { $0[.maxKL] }.max() ?? 0
            for arm in StudyArm.allCases {
                let runs = rs.filter { $0.arm == arm && $0.status == .ok }
                for kl in MatchedKL.grid(maximum: top, count: Self.frontierPoints) {
                    let v = runs.compactMap { r in paths["\(r.unit) \(r.arm.rawValue)"].flatMap { MatchedKL.value(at: kl, along: $0) } }
                    let (mean, half) = Self.meanAndHalfWidth(v)
                    frontiers.append(FrontierPoint(cell: cell, arm: arm, kl: kl, n: v.count, mean: mean,
                                                   lower: mean - half, upper: mean + half))
                }
            }
        }
        self.comparisons = comparisons
        self.frontiers = frontiers
    }

    /// The median (the mean of the two middle values for an even count); nil when empty.
    static func median(_ x: [Double]) -> Double? {
        guard !x.isEmpty else { return nil }
        let s = x.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }

    /// The mean and the 95% t half-width (NaN for n < 2; mean NaN for n = 0).
    public static func meanAndHalfWidth(_ x: [Double]) -> (Double, Double) {
        guard !x.isEmpty else { return (.nan, .nan) }
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        guard x.count >= 2 else { return (mean, .nan) }
        let s = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
        return (mean, StudentT.quantile(0.975, degreesOfFreedom: n - 1) * s / n.squareRoot())
    }

    /// Per arm and cell: the mean over ok seeds of `key` with its half-width, the ok count
    /// and the diverged count.
    public func armMean(_ cell: StudySpec.Cell, _ arm: StudyArm, _ key: StudyRunValue) -> (mean: Double, half: Double, n: Int, diverged: Int) {
        let rs = records.filter { $0.cell == cell && $0.arm == arm }
        let v = rs.compactMap { $0[key] }
        let (m, h) = Self.meanAndHalfWidth(v)
        return (m, h, v.count, rs.filter { $0.status != .ok }.count)
    }
}
