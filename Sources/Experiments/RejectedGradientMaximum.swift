import LossMath

/// The metric ``StepMetrics/maxLog10AbsDPRejected``, `max_i log10 |dl/dpi_l|` over pairs, with
/// a libm `log10` for the few pairs that can be the maximum instead of for every pair: the
/// same bits as evaluating every pair.
///
/// Each pair's value is `g_i = log10 |d_i| - l_i / ln 10` (``LossMath/SignedLogMagnitude/probabilityGradient(logDerivative:logProbability:)``,
/// `d_i = dl/d log pi_l`, `l_i = log pi_l`), and the maximum keeps the first of equal values,
/// NaN winning (``PairMetricSums``). Libm's `log10` is opaque to the vectoriser and costs
/// as much as the rest of a small problem's metrics; so:
///
/// 1. ``estimate(derivatives:logProbabilities:range:lower:upper:)`` computes
///    `a_i = u_i - v_i`, `u_i = log(|d_i|) (1/ln 10)`, `v_i = l_i (1/ln 10)`, with Elementary's
///    eight-lane `log`, and a bound `e_i = 1e-13 (|u_i| + |v_i| + 1)` on `|a_i - g_i|`. Both
///    logarithms are within 2 ulp (Elementary's within 1 ulp of mpmath, tested; glibc's
///    `log10` within 2 ulp by its manual); the rounded `1/ln 10`, the products and quotient
///    and the subtractions add a few half ulps: `|a_i - g_i| < 8 * 2^-53 (|u_i| + |v_i|)`
///    plus an ulp of `g_i`, more than 100 times below `e_i`.
/// 2. ``maximum(derivatives:logProbabilities:count:lower:upper:)``: with `L = max_j (a_j - e_j)`,
///    every pair whose `g_i` equals the maximum `G` has `a_i + e_i >= g_i = G >= g_j >= a_j - e_j`
///    for every `j`, so `a_i + e_i >= L`. Taking the maximum of the exact `g_i` over the
///    pairs with `a_i + e_i >= L`, in pair order, gives the first pair attaining `G`: the
///    same value, bits and sign of zero included, as over every pair.
///
/// A pair with `d_i = 0` has `g_i = -inf` and can only be the maximum if every pair is (the
/// result is then `-inf`, the maximum's starting value); it is kept out of `L`. Any other
/// non-finite estimate (an infinite or NaN derivative, `l_i = -inf`) sends the whole
/// maximum to the exact loop, ``exactMaximum(derivatives:logProbabilities:count:)``.
///
/// See also: ``Trainer/metrics()``, FusedMetrics.swift.
enum RejectedGradientMaximum {
    /// The divisor of ``LossMath/SignedLogMagnitude/probabilityGradient(logDerivative:logProbability:)``.
    static let ln10 = 2.302_585_092_994_045_7
    /// The estimates' multiplier, `1 / ln 10` rounded.
    static let inverseLn10 = 1 / ln10
    /// A pair with `d_i = 0`: below every other pair's bounds, never a candidate unless
    /// every pair is one (their exact values, `-inf`, then give `-inf`).
    static let zeroDerivative = -Double.greatestFiniteMagnitude

    /// Pair `i`'s exact value `g_i` (libm's `log10`).
    @inline(__always)
    static func exact(_ d: Double, _ l: Double) -> Double {
        SignedLogMagnitude.probabilityGradient(logDerivative: d, logProbability: l).log10Magnitude
    }

    /// The bounds `a_i - e_i` and `a_i + e_i` (step 1 above) of the pairs in `range`, eight
    /// lanes at a time. A pair with `d_i = 0` gets ``zeroDerivative`` for both; any other
    /// non-finite estimate leaves a non-finite lower bound (an infinity or NaN).
    static func estimate(derivatives d: UnsafePointer<Double>, logProbabilities l: UnsafePointer<Double>, range: Range<Int>,
                         lower: UnsafeMutablePointer<Double>, upper: UnsafeMutablePointer<Double>) {
        typealias V = SIMD8<Double>
        let magnitudeMask = SIMD8<UInt64>(repeating: 0x7fff_ffff_ffff_ffff)
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let dv = load8(d + i)
            let u = Elementary.log(unsafeBitCast(unsafeBitCast(dv, to: SIMD8<UInt64>.self) & magnitudeMask, to: V.self)) * inverseLn10
            let v = load8(l + i) * inverseLn10
            let a = u - v
            let e = 1e-13 * (unsafeBitCast(unsafeBitCast(u, to: SIMD8<UInt64>.self) & magnitudeMask, to: V.self)
                             + unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt64>.self) & magnitudeMask, to: V.self) + 1)
            let zero = dv .== 0
            store8((a - e).replacing(with: zeroDerivative, where: zero), lower + i)
            store8((a + e).replacing(with: zeroDerivative, where: zero), upper + i)
            i += 8
        }
        while i < range.upperBound {
            let u = Elementary.log(Swift.abs(d[i])) * inverseLn10, v = l[i] * inverseLn10
            let a = u - v, e = 1e-13 * (Swift.abs(u) + Swift.abs(v) + 1)
            lower[i] = d[i] == 0 ? zeroDerivative : a - e
            upper[i] = d[i] == 0 ? zeroDerivative : a + e
            i += 1
        }
    }

    /// `max_i g_i` over pairs `0 ..< count` (the first of equal values, NaN winning) from the
    /// bounds of ``estimate(derivatives:logProbabilities:range:lower:upper:)``: the bits of
    /// ``exactMaximum(derivatives:logProbabilities:count:)``.
    static func maximum(derivatives d: UnsafePointer<Double>, logProbabilities l: UnsafePointer<Double>, count n: Int,
                        lower: UnsafePointer<Double>, upper: UnsafePointer<Double>) -> Double {
        // L = max_j (a_j - e_j) in eight partial maxima (the order does not matter: only
        // finite values count); `x * 0` is NaN exactly when some lower bound is not finite.
        var most = SIMD8<Double>(repeating: zeroDerivative), nonFinite = SIMD8<Double>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let x = load8(lower + i)
            most = pointwiseMax(most, x)
            nonFinite += x * 0
            i += 8
        }
        var lowest = most.max(), check = nonFinite.sum()
        while i < n { lowest = Swift.max(lowest, lower[i]); check += lower[i] * 0; i += 1 }
        guard check == 0 else { return exactMaximum(derivatives: d, logProbabilities: l, count: n) }
        var best = -Double.infinity
        for i in 0..<n where upper[i] >= lowest {
            let g = exact(d[i], l[i])
            if g > best || g.isNaN { best = g }
        }
        return best
    }

    /// `max_i g_i` with every pair's `g_i` from libm (the reference, and the fallback of
    /// ``maximum(derivatives:logProbabilities:count:lower:upper:)``).
    static func exactMaximum(derivatives d: UnsafePointer<Double>, logProbabilities l: UnsafePointer<Double>, count n: Int) -> Double {
        var best = -Double.infinity
        for i in 0..<n {
            let g = exact(d[i], l[i])
            if g > best || g.isNaN { best = g }
        }
        return best
    }
}
