/// Readings of a run at a given `KL(pi || pi_ref)` (`docs/theory.md §6`): a way to compare
/// losses that does not look at the true reward (an early stop at a KL budget), as well as
/// at the final step.
///
/// **Rule.** The logged trajectory `(k_0, v_0), (k_1, v_1), ...` in step order (`k_j` the
/// KL, `v_j` the true reward or the win rate) is read at the *first* point where it reaches
/// `k`: with `j` the first index such that `k_j >= k`, the value is `v_0` when `j = 0`, else
///
///     v_{j-1} + (k - k_{j-1}) / (k_j - k_{j-1}) (v_j - v_{j-1}),
///
/// linear in KL between the two logged points (`k_{j-1} < k <= k_j`, so the denominator is
/// positive). A `k` that the trajectory never reaches is **not reached**: nil (missing),
/// never extrapolated. A non-monotone trajectory is read at its first crossing, as an early
/// stop would read it.
///
/// See also: ``StudyAnalysis``, ``StudyTrajectoryPoint``.
public enum MatchedKL {
    /// The value at KL `k` along `points` (`(kl, value)` in step order), or nil when the
    /// trajectory never reaches `k` or `k` is not finite.
    public static func value(at k: Double, along points: [(kl: Double, value: Double)]) -> Double? {
        guard k.isFinite else { return nil }
        for j in points.indices where points[j].kl >= k {
            if j == points.startIndex { return points[j].value }
            let (k0, v0) = points[j - 1], (k1, v1) = points[j]
            return v0 + (k - k0) / (k1 - k0) * (v1 - v0)
        }
        return nil
    }

    /// `count >= 2` KL values evenly spaced in `sqrt(KL)` from 0 to `maximum` (both included),
    /// the grid of the over-optimisation frontiers: `(maximum (i / (count - 1))^2)`.
    public static func grid(maximum: Double, count: Int) -> [Double] {
        guard maximum.isFinite && maximum > 0 && count >= 2 else { return [0] }
        return (0..<count).map { i in
            let f = Double(i) / Double(count - 1)
            return maximum * f * f
        }
    }
}
