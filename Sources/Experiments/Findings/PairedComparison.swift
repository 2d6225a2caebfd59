import GSLKit

/// A comparison of two conditions across seeds, paired by seed: the differences
/// `d_i = a_i - b_i` of the same seed's runs, their mean, sample standard deviation, and the
/// 95% Student-t interval
///
///     mean ± t_{0.975, n-1} · s / sqrt(n),   s² = Σ (d_i - mean)² / (n - 1),
///
/// with the t quantile from GSL (`gsl_cdf_tdist_Pinv`, see ``StudentT``).
///
/// The verdict is taken in the claimed direction (``Direction``): ``Verdict/reproduced`` when
/// the whole interval lies on the claimed side of 0, ``Verdict/contradicted`` when it lies
/// wholly on the other side, and ``Verdict/notSignificant`` when it contains 0 (or when
/// n < 2, where no interval exists).
///
/// Valid for n ≥ 2 finite differences; the interval assumes the differences are roughly
/// normal (or n large).
///
/// See also: ``Finding``, ``PaperClaims``.
public struct PairedComparison: Sendable, Codable, Hashable {
    /// The sign a claim predicts for `a - b`.
    public enum Direction: String, Sendable, Codable, Hashable {
        /// `a > b`.
        case positive
        /// `a < b`.
        case negative
    }

    /// Number of pairs.
    public let n: Int
    public let meanDifference: Double
    /// Sample standard deviation of the differences (n - 1 in the denominator); NaN for n < 2.
    public let standardDeviation: Double
    /// The 95% interval's ends; NaN for n < 2.
    public let lower: Double
    public let upper: Double
    public let direction: Direction
    public let verdict: Verdict

    /// The rule text, for a claim that `a - b` has the sign of `direction`.
    public static func rule(_ direction: Direction) -> String {
        "paired by seed, 95% Student-t interval of the mean difference: reproduced if it lies wholly "
            + (direction == .positive ? "above" : "below") + " 0, contradicted if wholly "
            + (direction == .positive ? "below" : "above") + " 0, not significant if it contains 0 (or n < 2)"
    }

    /// The comparison of the paired `differences` (each `a_i - b_i` of one seed).
    /// Non-finite differences make the interval NaN and the verdict ``Verdict/notSignificant``.
    public init(differences d: [Double], direction: Direction) {
        n = d.count
        self.direction = direction
        guard n >= 1 else {
            (meanDifference, standardDeviation, lower, upper, verdict) = (.nan, .nan, .nan, .nan, .notSignificant)
            return
        }
        let mean = d.reduce(0, +) / Double(n)
        meanDifference = mean
        guard n >= 2 else {
            (standardDeviation, lower, upper, verdict) = (.nan, .nan, .nan, .notSignificant)
            return
        }
        let ss = d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let s = (ss / Double(n - 1)).squareRoot()
        standardDeviation = s
        let half = StudentT.quantile(0.975, degreesOfFreedom: Double(n - 1)) * s / Double(n).squareRoot()
        lower = mean - half
        upper = mean + half
        guard lower.isFinite && upper.isFinite else { verdict = .notSignificant; return }
        let (claimed, opposite) = direction == .positive ? (lower > 0, upper < 0) : (upper < 0, lower > 0)
        verdict = claimed ? .reproduced : (opposite ? .contradicted : .notSignificant)
    }

    /// Pairs `a` and `b` by seed: the differences `a[s] - b[s]` over the seeds present in
    /// both, in increasing seed order (seeds present in only one are left out).
    public init(_ a: [UInt64: Double], minus b: [UInt64: Double], direction: Direction) {
        let seeds = Set(a.keys).intersection(b.keys).sorted()
        self.init(differences: seeds.compactMap { s in a[s].flatMap { x in b[s].map { x - $0 } } }, direction: direction)
    }

    /// The numbers of the comparison, for a ``Finding``.
    public var numbers: [Measured] {
        [Measured("mean difference", meanDifference), Measured("95% low", lower), Measured("95% high", upper),
         Measured("sd", standardDeviation), Measured("n", Double(n))]
    }
}
