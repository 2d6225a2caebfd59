import Testing
import Experiments

/// ``PairedComparison`` against independent values, and each of its verdicts.
///
/// Reference values from scipy 1.x / numpy (not from this code):
///
///     import numpy as np; from scipy import stats
///     for d in ([1.2,0.8,1.5,0.9,1.1], [1.0,-1.0,0.5,-0.4], [-0.3,-0.5,-0.2]):
///         d = np.array(d); n = len(d); m = d.mean(); s = d.std(ddof=1)
///         h = stats.t.ppf(0.975, n - 1) * s / np.sqrt(n); print(m, s, m - h, m + h)
@Suite struct FindingsPairedComparisonTests {
    static func close(_ a: Double, _ b: Double, _ tol: Double = 1e-12) -> Bool { abs(a - b) <= tol * max(1, abs(b)) }

    @Test func meanSDAndIntervalMatchScipy() {
        let c = PairedComparison(differences: [1.2, 0.8, 1.5, 0.9, 1.1], direction: .positive)
        #expect(c.n == 5)
        #expect(Self.close(c.meanDifference, 1.1))
        #expect(Self.close(c.standardDeviation, 0.27386127875258304))
        #expect(Self.close(c.lower, 0.7599563096708724, 1e-10))
        #expect(Self.close(c.upper, 1.4400436903291278, 1e-10))
        #expect(c.verdict == .reproduced)

        let d = PairedComparison(differences: [1.0, -1.0, 0.5, -0.4], direction: .positive)
        #expect(Self.close(d.meanDifference, 0.024999999999999994))
        #expect(Self.close(d.standardDeviation, 0.8958236433584458))
        #expect(Self.close(d.lower, -1.400455321995938, 1e-10))
        #expect(Self.close(d.upper, 1.4504553219959377, 1e-10))
        #expect(d.verdict == .notSignificant)
    }

    @Test func theClaimedDirectionDecidesReproducedOrContradicted() {
        let up = [1.2, 0.8, 1.5, 0.9, 1.1]
        #expect(PairedComparison(differences: up, direction: .positive).verdict == .reproduced)
        #expect(PairedComparison(differences: up, direction: .negative).verdict == .contradicted)
        #expect(PairedComparison(differences: up.map { -$0 }, direction: .negative).verdict == .reproduced)
        #expect(PairedComparison(differences: up.map { -$0 }, direction: .positive).verdict == .contradicted)
        // Mean -1/3 but the interval (-0.713, 0.046) contains 0: not significant either way.
        let small = PairedComparison(differences: [-0.3, -0.5, -0.2], direction: .negative)
        #expect(Self.close(small.lower, -0.7127916366930093, 1e-10) && Self.close(small.upper, 0.04612497002634264, 1e-10))
        #expect(small.verdict == .notSignificant)
        #expect(PairedComparison(differences: [-0.3, -0.5, -0.2], direction: .positive).verdict == .notSignificant)
    }

    @Test func tooFewPairsOrNonFiniteAreNotSignificant() {
        let one = PairedComparison(differences: [5], direction: .positive)
        #expect(one.n == 1 && one.meanDifference == 5 && one.lower.isNaN && one.verdict == .notSignificant)
        #expect(PairedComparison(differences: [], direction: .positive).verdict == .notSignificant)
        #expect(PairedComparison(differences: [1, .nan, 2], direction: .positive).verdict == .notSignificant)
        // Identical positive differences: a zero-width interval above 0.
        #expect(PairedComparison(differences: [0.5, 0.5, 0.5], direction: .positive).verdict == .reproduced)
    }

    @Test func pairsBySeedAndDropsUnmatchedSeeds() {
        let a: [UInt64: Double] = [1: 3, 2: 5, 3: 7], b: [UInt64: Double] = [2: 1, 3: 2, 4: 100]
        let c = PairedComparison(a, minus: b, direction: .positive)
        // Seeds 2 and 3: differences 4 and 5.
        #expect(c.n == 2 && c.meanDifference == 4.5)
        #expect(Self.close(c.standardDeviation, 0.5.squareRoot()))
    }

    /// Claim 5's combination of cells: each label of ``Verdict`` appears for its case.
    @Test func claimFiveCombinesCellsByItsRule() {
        typealias S = PaperClaims.SeedRegret
        func cell(_ beta: Double, _ dpo: [Double], _ spo: [Double]) -> [S] {
            dpo.enumerated().map { S(loss: .sigmoid, beta: beta, rewardNoise: 0, seed: UInt64($0.offset), finalRegret: $0.element) }
                + spo.enumerated().map { S(loss: .spo, beta: beta, rewardNoise: 0, seed: UInt64($0.offset), finalRegret: $0.element) }
        }
        let better = cell(0.1, [1.2, 1.3, 1.1, 1.25], [0.1, 0.2, 0.15, 0.1])       // DPO worse on every seed
        let noisy = cell(0.5, [1.0, 0.2, 0.9, 0.1], [0.5, 0.6, 0.4, 0.7])         // signs disagree
        let worse = cell(0.9, [0.1, 0.2, 0.15, 0.1], [1.2, 1.3, 1.1, 1.25])       // spo worse on every seed
        #expect(PaperClaims.alignment(better).verdict == .reproduced)
        #expect(PaperClaims.alignment(noisy).verdict == .notSignificant)
        let mixed = PaperClaims.alignment(better + noisy)
        #expect(mixed.verdict == .qualified)
        #expect(mixed.details.map(\.verdict) == [.reproduced, .notSignificant])
        #expect(mixed.exception?.contains("beta 0.5, noise 0") == true)
        #expect(PaperClaims.alignment(better + noisy + worse).verdict == .contradicted)
        // The cell's numbers are the paired comparison's: DPO minus spo, seed by seed.
        let diffs = zip([1.2, 1.3, 1.1, 1.25], [0.1, 0.2, 0.15, 0.1]).map { $0 - $1 }
        #expect(Self.close(PaperClaims.alignment(better).details[0].number("mean difference") ?? .nan, diffs.reduce(0, +) / 4))
    }
}
