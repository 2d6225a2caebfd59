// Branch-free exp, log and log1p in plain Swift arithmetic, so that loops over pairs
// vectorise.
//
// Why not libm? A call to glibc's `exp` is opaque to LLVM's loop vectoriser, so a loop that
// evaluates a loss per pair runs one pair at a time. These functions use only + - * /,
// comparisons with selects, and integer operations on bit patterns. Inlined into a loop
// they vectorise to the machine's full SIMD width (8 lanes with AVX-512 under the
// package's native build, see Package.swift).
//
// Results are the same bits on every machine and at every vector width: each step is an
// IEEE-754 basic operation (correctly rounded), Swift never fuses a*b+c into an FMA on its
// own, and nothing depends on the libm version. So a batch kernel and the per-pair API give
// identical results, and so do the portable and native builds.
//
// Accuracy (measured): the largest error against mpmath over 20,000 random arguments per
// function was 0.66 ulp for exp (on [-745, 709]), 0.78 for log1p (on [0, 1]), 0.85 for
// expm1 (on [-3, 3]) and 1.32 for tanh (on [-1.2, 1.2]). The tests hold every function
// to 1 ulp (tanh: 2) of mpmath literals on their whole domains, and to glibc on random
// inputs (Tests/LossMathTests/ElementaryTests.swift).
//
// The algorithms are the classic ones:
//  - exp: Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, with ln2 split into a head with
//    21 trailing zero bits (k*ln2Hi is exact for |k| < 2^21) and a tail; a degree-13 Taylor
//    polynomial for e^r - 1 - r (truncation < 5e-18 relative); scaling by 2^k in two
//    factors 2^k1 * 2^k2 so subnormal results round once and exp(709.78) does not overflow
//    early.
//  - log: fdlibm's e_log.c (Sun Microsystems, 1993): x = 2^k m with m in [sqrt(2)/2,
//    sqrt(2)), s = f/(2+f) for f = m-1, log(1+f) = f - f^2/2 + s(f^2/2 + R(s^2)) with its
//    degree-14 minimax polynomial R (|error| < 2^-58.45).
//    The rounding error of r is carried as a correction term, and the leading sum 1 + r
//    is formed exactly (Fast2Sum), so the result rounds essentially once.
//  - expm1: the same reduction and polynomial without the leading 1, e^x - 1 =
//    (2^k - 1) + 2^k r + 2^k r^2 q(r), the first two terms summed exactly (Fast2Sum).
//    |x| > 40 is exp(x) or -1 to the last bit.
//  - tanh: its Taylor series (coefficients from mpmath) below |y| = 0.55, and
//    sign(y) (1 - 2e/(1 + e)) with e = exp(-2|y|) above: no cancellation anywhere.
//  - log1p: w = 1+u rounded, log1p(u) = log(w) + (u - (w-1))/w, the second term the first
//    order correction for the rounding of 1+u (Goldberg, "What every computer scientist
//    should know about floating-point arithmetic", Theorem 4 uses the same idea).
//
// Integer <-> double conversions go through the bit pattern of 1.5 * 2^52 (adding it to a
// double in [-2^51, 2^51] rounds to an integer whose value sits in the low mantissa bits),
// because a vector Int64 <-> Double conversion only exists with AVX-512.

/// Vectorisable elementary functions: `exp`, `expMinusOne`, `log`, `log(onePlus:)`, `tanh`.
///
/// Drop-in replacements for RealModule's functions of the same names on every input (NaN,
/// infinities, zeros, subnormals), within 1 ulp (`tanh`: 2), and the same bits on every
/// machine.
///
/// See also: ``softplus(_:)``, ``sigmoid(_:)`` and the loss kernels in ``Losses``,
/// which are built on them.
public enum Elementary {

    // 1.5 * 2^52: adding it rounds a double of magnitude < 2^51 to an integer, held in the
    // low bits of the sum's bit pattern.
    @usableFromInline static let roundingShift = 0x1.8p52
    @usableFromInline static let roundingShiftBits: UInt64 = 0x4338_0000_0000_0000

    // ln 2 = ln2Hi + ln2Lo; ln2Hi has 21 trailing zero bits (fdlibm's split).
    @usableFromInline static let ln2Hi = 6.93147180369123816490e-01
    @usableFromInline static let ln2Lo = 1.90821492927058770002e-10

    /// The reduction both `exp` and `expMinusOne` start from: `x = k ln 2 + r`, `|r| <= ln2/2`
    /// (k as a double and as an integer), and `tail = e^(r+c) - 1 - r` to first order in the
    /// rounding error `c` of `r`: `r^2 q(r) + c e^r`, `q` the Taylor series
    /// `1/2! + r/3! + ... + r^11/13!` (truncation below 5e-18 relative).
    /// `x` must be within ±746 (k fits the exponent arithmetic).
    @inlinable @inline(__always)
    static func reduced(_ x: Double) -> (kd: Double, k: Int64, r: Double, tail: Double) {
        // k = round(x / ln 2) as a double and, in the low bits of `shifted`, as an integer.
        let shifted = x * 1.4426950408889634 + roundingShift
        let kd = shifted - roundingShift
        // r = x - k ln 2: the first product and subtraction are exact (Sterbenz), the
        // second rounds; `c` is that rounding error, so r + c = x - k ln 2 to ~2^-80.
        let rHi = x - kd * ln2Hi
        let r = rHi - kd * ln2Lo
        let c = (rHi - r) - kd * ln2Lo
        var q = 1.6059043836821613e-10   // 1/13!
        q = q * r + 2.08767569878681e-09  // 1/12!
        q = q * r + 2.505210838544172e-08 // 1/11!
        q = q * r + 2.755731922398589e-07 // 1/10!
        q = q * r + 2.7557319223985893e-06 // 1/9!
        q = q * r + 2.48015873015873e-05  // 1/8!
        q = q * r + 0.0001984126984126984 // 1/7!
        q = q * r + 0.001388888888888889  // 1/6!
        q = q * r + 0.008333333333333333  // 1/5!
        q = q * r + 0.041666666666666664  // 1/4!
        q = q * r + 0.16666666666666666   // 1/3!
        q = q * r + 0.5
        let k = Int64(bitPattern: shifted.bitPattern &- roundingShiftBits)
        return (kd, k, r, (r * r) * q + c * (1 + r))
    }

    /// `e^x`.
    ///
    /// - Returns: `+inf` for `x > 709.78...` (overflow), `+0` for `x < -745.13...`
    ///   (underflow; subnormal results in between are correctly scaled), `NaN` for `NaN`.
    /// - Accuracy: within 1 ulp (Tests/LossMathTests/ElementaryTests.swift).
    @inlinable @inline(__always)
    public static func exp(_ x: Double) -> Double {
        // Clamp so that k stays small (the results at the clamps are 0 and +inf anyway).
        // Comparisons with NaN are false, so NaN passes through.
        let xc = x < -746 ? -746 : (x > 710 ? 710 : x)
        let (kd, k, r, tail) = reduced(xc)
        // e^(r+c) = 1 + r + tail: sum 1 + r exactly as hi + lo (Fast2Sum, |1| >= |r|), so
        // the result rounds essentially once.
        let hi = 1.0 + r
        let lo = (1.0 - hi) + r
        let p = hi + (lo + tail)
        // 2^k = 2^k1 * 2^k2 with k1 = round(k/2): each factor is a normal double for
        // k in [-1077, 1025], and p * 2^k1 is exact, so the result rounds once.
        let half = kd * 0.5 + roundingShift
        let k1 = Int64(bitPattern: half.bitPattern &- roundingShiftBits)
        let k2 = k &- k1
        let s1 = Double(bitPattern: UInt64(bitPattern: k1 &+ 1023) &<< 52)
        let s2 = Double(bitPattern: UInt64(bitPattern: k2 &+ 1023) &<< 52)
        return (p * s1) * s2
    }

    /// `e^x - 1`, accurate for small `x`.
    ///
    /// - Returns: `x` itself for `|x| < 2^-54` (keeps `-0` and subnormals), `-1` below
    ///   `x = -40`, `e^x` above `40` (`+inf` past 709.78...), `NaN` for `NaN`.
    /// - Accuracy: within 1 ulp.
    @inlinable @inline(__always)
    public static func expMinusOne(_ x: Double) -> Double {
        let xc = x < -40 ? -40 : (x > 40 ? 40 : x)
        let (_, k, r, tail) = reduced(xc)
        // e^x - 1 = (2^k - 1) + 2^k r + 2^k tail. |k| <= 58 here, so 2^k is normal and
        // 2^k - 1 is exact up to k = 53 (above it rounds to 2^k, far below the result's
        // ulp). For k != 0, |2^k - 1| >= |2^k r| (|r| <= ln2/2), so Fast2Sum gives the first
        // two terms' sum exactly as hi + lo, and the result rounds essentially once; for
        // k = 0, hi = r and lo = 0.
        let scale = Double(bitPattern: UInt64(bitPattern: k &+ 1023) &<< 52)
        let a = scale - 1, b = scale * r
        let hi = a + b
        let lo = (a - hi) + b
        let core = hi + (lo + scale * tail)
        let big = x > 40 ? exp(x) : -1.0
        let outside = x > 40 || x < -40
        return Swift.abs(x) < 0x1p-54 ? x : (outside ? big : core)
    }

    /// The hyperbolic tangent: below `|y| = 0.55` its Taylor series to degree 39, above
    /// `sign(y) (1 - 2e/(1 + e))` with `e = exp(-2|y|)`.
    ///
    /// - Returns: `±1` beyond `|y| ~ 19`, `y` for tiny `y` (sign of zero kept), `NaN` for `NaN`.
    /// - Accuracy: within 2 ulps (1.32 measured).
    @inlinable @inline(__always)
    public static func tanh(_ y: Double) -> Double {
        let a = Swift.abs(y)
        // Small |y|: the Taylor series y + y^3 P(y^2) to degree 39 (truncation below 3e-19
        // at 0.55, well inside the radius pi/2). The leading y is exact and the rest is
        // at most a tenth of it, so the sum rounds essentially once.
        let z = a * a
        var q = -2.859136662305254e-08                 // y^39
        q = q * z + 7.054636946400968e-08
        q = q * z - 1.7406618963571648e-07
        q = q * z + 4.294911078273806e-07
        q = q * z - 1.0597268320104654e-06
        q = q * z + 2.6147711512907546e-06
        q = q * z - 6.451689215655431e-06
        q = q * z + 1.5918905069328964e-05
        q = q * z - 3.927832388331683e-05
        q = q * z + 9.691537956929451e-05
        q = q * z - 0.00023912911424355248
        q = q * z + 0.000590027440945586
        q = q * z - 0.0014558343870513183
        q = q * z + 0.003592128036572481
        q = q * z - 0.008863235529902197
        q = q * z + 0.021869488536155203
        q = q * z - 0.05396825396825397
        q = q * z + 0.13333333333333333
        q = q * z - 0.3333333333333333               // y^3
        let small = a + a * (z * q)
        // |y| >= 0.55 (tanh >= 0.5): 1 - 2e/(1 + e), e = e^(-2|y|); the subtracted term is
        // below 0.5, so its rounding errors count at most half in the result's ulps.
        let e = exp(-2 * a)
        let large = 1 - 2 * e / (1 + e)
        return Double(signOf: y, magnitudeOf: a < 0.55 ? small : large)
    }

    /// `log(w)` for a positive, finite, normal `w`, plus `correction` added where it costs
    /// no accuracy (next to the small term k ln2Lo). fdlibm's e_log.c.
    @inlinable @inline(__always)
    static func logNormal(_ w: Double, correction c: Double) -> Double {
        // Move the exponent boundary to sqrt(2)/2: adding 0x95f62 (= 0x3ff00000 -
        // 0x3fe6a09e) to the high word carries into the exponent exactly when the mantissa
        // is >= sqrt(2)'s, so the exponent field of `t` is k + 1023 with m in
        // [sqrt(2)/2, sqrt(2)).
        let t = w.bitPattern &+ 0x0009_5f62_0000_0000
        let kd = Double(bitPattern: (t &>> 52) &+ roundingShiftBits &- 1023) - roundingShift
        let m = Double(bitPattern: (t & 0x000f_ffff_ffff_ffff) &+ 0x3fe6_a09e_0000_0000)
        let f = m - 1.0
        let hfsq = 0.5 * f * f
        let s = f / (2.0 + f)
        let z = s * s
        let w2 = z * z
        // fdlibm's Lg1..Lg7, split in even and odd powers of s^2 as in e_log.c.
        let t1 = w2 * (3.999999999940941908e-01 + w2 * (2.222219843214978396e-01 + w2 * 1.531383769920937332e-01))
        let t2 = z * (6.666666666666735130e-01 + w2 * (2.857142874366239149e-01
                        + w2 * (1.818357216161805012e-01 + w2 * 1.479819860511658591e-01)))
        let rr = t2 + t1
        return (s * (hfsq + rr) + (kd * ln2Lo + c)) - hfsq + f + kd * ln2Hi
    }

    /// The natural logarithm `log(x)`.
    ///
    /// - Returns: `-inf` for `±0`, `NaN` for `x < 0` and `NaN`, `+inf` for `+inf`.
    /// - Accuracy: within 1 ulp, subnormal arguments included.
    @inlinable @inline(__always)
    public static func log(_ x: Double) -> Double {
        // Subnormal x: scale by 2^54 into the normal range and subtract 54 ln 2 afterwards
        // (as one more multiple of ln 2, both halves, so nothing is lost).
        let subnormal = x < 0x1p-1022
        let xs = subnormal ? x * 0x1p54 : x
        let shiftK: Double = subnormal ? -54 : 0
        let core = logNormal(xs, correction: shiftK * ln2Lo) + shiftK * ln2Hi
        return x > 0 && x < .infinity ? core : (x == 0 ? -.infinity : (x == .infinity ? x : .nan))
    }

    /// `log(1 + u)`, accurate for small `u`.
    ///
    /// - Returns: `-inf` for `u = -1`, `NaN` for `u < -1` and `NaN`, `+inf` for `+inf`; `u`
    ///   itself for `|u| < 2^-54` (where `log(1+u)` rounds to `u`; this keeps `-0` and
    ///   subnormals exact).
    /// - Accuracy: within 1 ulp.
    @inlinable @inline(__always)
    public static func log(onePlus u: Double) -> Double {
        let w = 1.0 + u
        // The rounding error of 1 + u, divided by w: log(1+u) = log(w) + log(1 + err/w)
        // and err/w is below 2^-53, so its first-order term is all that matters. (w - 1 is
        // exact: Sterbenz for w <= 2, and a multiple of ulp(w) below w above.)
        let c = (u - (w - 1.0)) / w
        let core = logNormal(w, correction: c)
        let tiny = Swift.abs(u) < 0x1p-54
        return tiny ? u : (w > 0 && w < .infinity ? core : (w == 0 ? -.infinity : (w == .infinity ? w : .nan)))
    }
}
