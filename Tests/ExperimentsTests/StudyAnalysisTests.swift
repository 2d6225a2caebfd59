import Testing
import Experiments

/// ``MatchedKL`` readings (hand-derived values) and the study analysis's handling of
/// diverged runs (never compared as numbers; counted).
@Suite struct StudyAnalysisTests {
    @Test func matchedKLInterpolatesLinearlyInKLAndNeverExtrapolates() {
        let path: [(kl: Double, value: Double)] = [(0, 1), (1, 3), (3, 7)]
        #expect(MatchedKL.value(at: 0, along: path) == 1)
        #expect(MatchedKL.value(at: 0.5, along: path) == 2)
        #expect(MatchedKL.value(at: 1, along: path) == 3)
        #expect(MatchedKL.value(at: 2, along: path) == 5)
        #expect(MatchedKL.value(at: 3, along: path) == 7)
        // Not reached: missing, never extrapolated.
        #expect(MatchedKL.value(at: 3.0000001, along: path) == nil)
        #expect(MatchedKL.value(at: .nan, along: path) == nil)
        #expect(MatchedKL.value(at: 1, along: []) == nil)
        // A trajectory that starts above the KL asked for is read at its first point.
        #expect(MatchedKL.value(at: 0.1, along: [(0.5, 4), (1, 5)]) == 4)
    }

    @Test func aNonMonotoneTrajectoryIsReadAtItsFirstCrossing() {
        let path: [(kl: Double, value: Double)] = [(0, 0), (2, 2), (1, 10), (4, 4)]
        // First crossing of 1.5: between (0, 0) and (2, 2).
        #expect(MatchedKL.value(at: 1.5, along: path) == 1.5)
        // 3 is first reached between (1, 10) and (4, 4): 10 + (2/3)(-6) = 6.
        #expect(MatchedKL.value(at: 3, along: path) == 6)
    }

    @Test func theFrontierGridIsEvenInSquareRootKL() {
        #expect(MatchedKL.grid(maximum: 4, count: 3) == [0, 1, 4])
        #expect(MatchedKL.grid(maximum: 9, count: 4) == [0, 1, 4, 9])
        #expect(MatchedKL.grid(maximum: 0, count: 5) == [0])
    }

    /// Records of one cell with 3 seeds and every arm; principled arms have a smaller max h
    /// than every baseline by 1 + seed/10.
    static func records(diverged: [(seed: UInt64, arm: StudyArm)]) -> (StudySpec, [StudyRunRecord], [StudyTrajectoryPoint]) {
        let spec = StudySpec(proxyBiases: [0], seeds: 3)
        let cell = spec.cells[0]
        var rs: [StudyRunRecord] = []
        var points: [StudyTrajectoryPoint] = []
        for unit in spec.units {
            for arm in StudyArm.allCases {
                let bad = diverged.contains { $0.seed == unit.seed && $0.arm == arm }
                var values = [Double?](repeating: bad ? nil : 0.25, count: StudyRunValue.allCases.count)
                if !bad, let i = StudyRunValue.allCases.firstIndex(of: .maxH) {
                    values[i] = StudyArm.principled.contains(arm) ? 1 : 2 + Double(unit.seed) / 10
                }
                if !bad, let i = StudyRunValue.allCases.firstIndex(of: .maxKL) { values[i] = 1 }
                rs.append(StudyRunRecord(unit: unit.id, cell: cell, seed: unit.seed, arm: arm,
                                         status: bad ? .diverged(atStep: 3) : .ok, values: values,
                                         rewardModelAccuracy: 0.9, labelAgreement: 0.8))
                if !bad {
                    points += [StudyTrajectoryPoint(unit: unit.id, arm: arm, step: 0, kl: 0, trueReward: 0, proxyReward: 0, winRate: 0.5),
                               StudyTrajectoryPoint(unit: unit.id, arm: arm, step: 10, kl: 1, trueReward: 1, proxyReward: 1, winRate: 0.7)]
                }
            }
        }
        return (spec, rs, points)
    }

    @Test func aPairWithADivergedRunIsCountedNotCompared() throws {
        let (spec, rs, points) = Self.records(diverged: [(2, .dpo)])
        let a = StudyAnalysis(spec: spec, records: rs, trajectories: points)
        let vsDPO = try #require(a.comparisons.first { $0.measure == .maxH && $0.arm == .spo && $0.baseline == .dpo })
        #expect(vsDPO.n == 2 && vsDPO.notComparable == 1)
        // Seeds 1 and 3: differences -1.1 and -1.3.
        #expect(close(vsDPO.mean, -1.2, rel: 1e-12))
        // sd 0.1414, t_{0.975,1} = 12.706: interval -1.2 ± 1.2706 contains 0.
        #expect(vsDPO.verdict == .notSignificant)
        let vsIPO = try #require(a.comparisons.first { $0.measure == .maxH && $0.arm == .spo && $0.baseline == .ipo })
        #expect(vsIPO.n == 3 && vsIPO.notComparable == 0)
        // -1.1, -1.2, -1.3: sd 0.1, t_{0.975,2} = 4.3027: -1.2 ± 0.2484, below 0.
        #expect(vsIPO.verdict == .reproduced)
        #expect(close(vsIPO.upper, -1.2 + 4.3026527297494639 * 0.1 / 3.0.squareRoot(), rel: 1e-9))
        // The diverged run enters no mean either.
        #expect(a.armMean(spec.cells[0], .dpo, .maxH).n == 2)
        #expect(a.armMean(spec.cells[0], .dpo, .maxH).diverged == 1)
        // Even a value present in a diverged record is never read.
        #expect(rs.first { $0.status != .ok }?[.maxH] == nil)
    }

    @Test func fewerThanTwoComparableSeedsIsNotComparable() throws {
        let (spec, rs, points) = Self.records(diverged: [(1, .dpo), (3, .spo)])
        let a = StudyAnalysis(spec: spec, records: rs, trajectories: points)
        let c = try #require(a.comparisons.first { $0.measure == .maxH && $0.arm == .spo && $0.baseline == .dpo })
        #expect(c.n == 1 && c.notComparable == 2)
        #expect(c.verdict == .notComparable)
        // The hacking measures are not measured without a proxy bias.
        #expect(!a.comparisons.contains { $0.measure == .hacked || $0.measure == .spurious })
    }
}
