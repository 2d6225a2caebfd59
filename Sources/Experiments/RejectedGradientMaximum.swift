import LossMath

/// The metric ``StepMetrics/maxLog10AbsDPRejected``, `max_i log10 |dl/dpi_l|` over pairs, with
/// a libm `log10` for the few pairs that can be the maximum instead of for every pair: the
/// same bits as evaluating every pair.
///
/// Each pair's value is `g_i = log10 |d_i| - l_i / ln 10` (``LossMath/SignedLogMagnitude/probabilityGradient(logDerivative:logProbability:)``,
/// `d_i = dl/d log pi_l`, `l_i = log pi_l`), and the maximum keeps the first of equal values,
/// NaN winning (``PairMetricSums``). Libm's `log10` is opaque to the vectoriser and, at 48
/// pairs, costs as much as the rest of the metrics; so:
///
/// 1. ``estimate(derivatives:logProbabilities:range:lower:upper:)`` bounds each `g_i` without
///    a logarithm: for a normal `|d_i| = 2^k m`, `m` in `[1, 2)`, `log2 m` lies between the
///    chord `m - 1` and `m - 1 + 0.0861` (its largest gap, at `m = 1/ln 2`), so
///    `u_i = (k + (m - 1) + 0.043) log10(2)` is within `0.0431 log10(2) < 0.013` of
///    `log10 |d_i|`. With `v_i = l_i (1/ln 10)` and `a_i = u_i - v_i`, the bound
///    `e_i = 0.02 + 1e-13 (|u_i| + |v_i| + 1)` covers that, libm's `log10` (within 2 ulp by
///    glibc's manual) and every rounding (a few half ulps of `|u_i| + |v_i|`):
///    `a_i - e_i <= g_i <= a_i + e_i` (tested on random and extreme arguments).
/// 2. ``maximum(derivatives:logProbabilities:count:lower:upper:)``: with `L = max_j (a_j - e_j)`,
///    every pair whose `g_i` equals the maximum `G` has `a_i + e_i >= g_i = G >= g_j >= a_j - e_j`
///    for every `j`, so `a_i + e_i >= L`. Taking the maximum of the exact `g_i` over the
///    pairs with `a_i + e_i >= L` (typically one or two), in pair order, gives the first
///    pair attaining `G`: the same value, bits and sign of zero included, as over every pair.
///
/// A pair with `d_i = 0` has `g_i = -inf` and can only be the maximum if every pair is (the
/// result is then `-inf`, the maximum's starting value); it is kept out of `L`. Any other
/// pair without a finite bound (a subnormal, infinite or NaN derivative, `l_i` infinite or
/// NaN) sends the whole maximum to the exact loop, ``exactMaximum(derivatives:logProbabilities:count:)``.
///
/// See also: ``Trainer/metrics()``, FusedMetrics.swift.
enum RejectedGradientMaximum {
    /// The estimates' multipliers, `1 / ln 10` and `log10(2)` rounded.
    static var inverseLn10: Double { 0.434_294_481_903_251_8 }
    static var log10Of2: Double { 0.301_029_995_663_981_2 }
    /// The bounds' absolute part: the chord's error `0.0431 log10(2) < 0.013`, with margin.
    static var chordBound: Double { 0.02 }
    /// A pair with `d_i = 0`: below every other pair's bounds, never a candidate unless
    /// every pair is one (their exact values, `-inf`, then give `-inf`).
    static var zeroDerivative: Double { -Double.greatestFiniteMagnitude }

    /// Pair `i`'s exact value `g_i` (libm's `log10`).
    @inline(__always)
    static func exact(_ d: Double, _ l: Double) -> Double {
        SignedLogMagnitude.probabilityGradient(logDerivative: d, logProbability: l).log10Magnitude
    }

    /// The bounds `a_i - e_i` and `a_i + e_i` (step 1 above) of the pairs in `range`, eight
    /// lanes at a time. A pair with `d_i = 0` gets ``zeroDerivative`` for both; a pair
    /// without a finite bound gets a NaN lower bound.
    static func estimate(derivatives d: UnsafePointer<Double>, logProbabilities l: UnsafePointer<Double>, range: Range<Int>,
                         lower: UnsafeMutablePointer<Double>, upper: UnsafeMutablePointer<Double>) {
        typealias V = SIMD8<Double>
        typealias U = SIMD8<UInt64>
        // Bit operations throughout (SIMD's comparisons and `replacing(with:where:)` are loops
        // over the lanes).
        @inline(__always) func magnitude(_ x: V) -> V { unsafeBitCast(unsafeBitCast(x, to: U.self) & 0x7fff_ffff_ffff_ffff, to: V.self) }
        @inline(__always) func select(_ m: U, _ x: V, _ y: V) -> V {
            let xi = unsafeBitCast(x, to: U.self), yi = unsafeBitCast(y, to: U.self)
            return unsafeBitCast(yi ^ ((xi ^ yi) & m), to: V.self)
        }
        let zeroLanes = V(repeating: zeroDerivative), nanLanes = V(repeating: .nan)
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let bits = unsafeBitCast(load8(d + i), to: U.self) & 0x7fff_ffff_ffff_ffff
            // The biased exponent E (exactly, through the bits of 2^52 + E) and m - 1.
            let biased = bits &>> 52
            let exponent = unsafeBitCast(biased | 0x4330_0000_0000_0000, to: V.self) - 0x1p52
            let fraction = unsafeBitCast((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000, to: V.self) - 1
            let u = ((exponent - 1023) + (fraction + 0.043)) * log10Of2
            let v = load8(l + i) * inverseLn10
            let a = u - v
            let e = chordBound + 1e-13 * (magnitude(u) + magnitude(v) + 1)
            // All-ones masks of zero derivatives (bits = 0) and of subnormal (E = 0), infinite
            // or NaN (E = 2047) ones, by integer arithmetic (SIMD's `.==` builds its mask
            // lane by lane): bits - 1 has its top bit set only for bits = 0 (bits < 2^63),
            // and E + 1 reaches 2^11 only for E = 2047.
            let zero = U(repeating: 0) &- ((bits &- 1) &>> 63)
            let special = U(repeating: 0) &- (((biased &- 1) &>> 63) | ((biased &+ 1) &>> 11))
            store8(select(zero, zeroLanes, select(special, nanLanes, a - e)), lower + i)
            store8(select(zero, zeroLanes, a + e), upper + i)
            i += 8
        }
        while i < range.upperBound {
            let (lo, hi) = bounds(d[i], l[i])
            lower[i] = lo; upper[i] = hi
            i += 1
        }
    }

    /// One pair's bounds, as a lane of ``estimate(derivatives:logProbabilities:range:lower:upper:)``.
    @inline(__always)
    static func bounds(_ d: Double, _ l: Double) -> (lower: Double, upper: Double) {
        if d == 0 { return (zeroDerivative, zeroDerivative) }
        let magnitude = Swift.abs(d)
        guard magnitude.isNormal else { return (.nan, .nan) }
        let bits = magnitude.bitPattern
        let exponent = Double(bits >> 52)
        let fraction = Double(bitPattern: (bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000) - 1
        let u = ((exponent - 1023) + (fraction + 0.043)) * log10Of2, v = l * inverseLn10
        let a = u - v, e = chordBound + 1e-13 * (Swift.abs(u) + Swift.abs(v) + 1)
        return (a - e, a + e)
    }

    /// `max_i g_i` over pairs `0 ..< count` (the first of equal values, NaN winning) from the
    /// bounds of ``estimate(derivatives:logProbabilities:range:lower:upper:)``: the bits of
    /// ``exactMaximum(derivatives:logProbabilities:count:)``.
    static func maximum(derivatives d: UnsafePointer<Double>, logProbabilities l: UnsafePointer<Double>, count n: Int,
                        lower: UnsafePointer<Double>, upper: UnsafePointer<Double>) -> Double {
        // L = max_j (a_j - e_j) in four partial maxima (the order does not matter: only
        // finite values count); `x * 0` is NaN exactly when some lower bound is not finite.
        var m0 = zeroDerivative, m1 = zeroDerivative, m2 = zeroDerivative, m3 = zeroDerivative
        var check = 0.0
        var i = 0
        while i + 4 <= n {
            let x0 = lower[i], x1 = lower[i + 1], x2 = lower[i + 2], x3 = lower[i + 3]
            m0 = x0 > m0 ? x0 : m0; m1 = x1 > m1 ? x1 : m1
            m2 = x2 > m2 ? x2 : m2; m3 = x3 > m3 ? x3 : m3
            check += (x0 * 0 + x1 * 0) + (x2 * 0 + x3 * 0)
            i += 4
        }
        while i < n { m0 = lower[i] > m0 ? lower[i] : m0; check += lower[i] * 0; i += 1 }
        guard check == 0 else { return exactMaximum(derivatives: d, logProbabilities: l, count: n) }
        let lowest = Swift.max(Swift.max(m0, m1), Swift.max(m2, m3))
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
