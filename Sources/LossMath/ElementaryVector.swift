// Eight-lane forms of Elementary's functions, for loops that LLVM would otherwise vectorise
// at 256 bits only (it prefers ymm registers even where AVX-512 is available; an explicit
// `SIMD8<Double>` becomes one zmm register in the native build and two ymm or four xmm
// registers elsewhere).
//
// **Same bits.** Each lane runs exactly the scalar function's sequence of IEEE-754 basic
// operations (Swift never fuses a*b+c on its own, for SIMD types either), and the integer
// steps are the same two's-complement bit operations (done on UInt64 lanes: `&+`, `&-`
// and `&<<` give the same bit patterns signed or unsigned). So lane i of `exp(x)` is
// `Elementary.exp(x[i])` bit for bit, on every input (tested on NaN, infinities, zeros,
// subnormal results and random arguments: Tests/LossMathTests/ElementaryVectorTests.swift).

extension Elementary {
    /// `e^x` in each of eight lanes: lane i is ``exp(_:)`` of `x[i]`, bit for bit.
    ///
    /// - Returns: per lane, `+inf` for `x > 709.78...`, `+0` for `x < -745.13...`, `NaN`
    ///   for `NaN` (see ``exp(_:)``).
    /// - Accuracy: within 1 ulp (it is ``exp(_:)``).
    ///
    /// See also: ``exp(_:)``, ``sigmoid(_:)-(SIMD8<Double>)``.
    @inlinable @inline(__always)
    public static func exp(_ x: SIMD8<Double>) -> SIMD8<Double> {
        typealias V = SIMD8<Double>
        typealias U = SIMD8<UInt64>
        // The clamps of the scalar form, `x < -746 ? -746 : (x > 710 ? 710 : x)` (the two
        // conditions are disjoint; NaN fails both and passes through).
        var xc = x
        xc.replace(with: V(repeating: -746), where: x .< V(repeating: -746))
        xc.replace(with: V(repeating: 710), where: x .> V(repeating: 710))
        let (kd, k, r, tail) = reduced(xc)
        // e^(r+c) = 1 + r + tail with 1 + r summed exactly (Fast2Sum), as in exp(_:).
        let hi = 1.0 + r
        let lo = (1.0 - hi) + r
        let p = hi + (lo + tail)
        // 2^k = 2^k1 * 2^k2, k1 = round(k/2).
        let half = kd * 0.5 + roundingShift
        let k1 = unsafeBitCast(half, to: U.self) &- U(repeating: roundingShiftBits)
        let k2 = k &- k1
        let s1 = unsafeBitCast((k1 &+ 1023) &<< 52, to: V.self)
        let s2 = unsafeBitCast((k2 &+ 1023) &<< 52, to: V.self)
        return (p * s1) * s2
    }

    /// ``reduced(_:)`` in eight lanes: `x = k ln 2 + r` and `tail = e^(r+c) - 1 - r`, the
    /// same operations in the same order (k as a double and, two's complement, in UInt64 lanes).
    @inlinable @inline(__always)
    static func reduced(_ x: SIMD8<Double>) -> (kd: SIMD8<Double>, k: SIMD8<UInt64>, r: SIMD8<Double>, tail: SIMD8<Double>) {
        let shifted = x * 1.4426950408889634 + roundingShift
        let kd = shifted - roundingShift
        let rHi = x - kd * ln2Hi
        let r = rHi - kd * ln2Lo
        let c = (rHi - r) - kd * ln2Lo
        var q = SIMD8<Double>(repeating: 1.6059043836821613e-10)
        q = q * r + 2.08767569878681e-09
        q = q * r + 2.505210838544172e-08
        q = q * r + 2.755731922398589e-07
        q = q * r + 2.7557319223985893e-06
        q = q * r + 2.48015873015873e-05
        q = q * r + 0.0001984126984126984
        q = q * r + 0.001388888888888889
        q = q * r + 0.008333333333333333
        q = q * r + 0.041666666666666664
        q = q * r + 0.16666666666666666
        q = q * r + 0.5
        let k = unsafeBitCast(shifted, to: SIMD8<UInt64>.self) &- SIMD8<UInt64>(repeating: roundingShiftBits)
        return (kd, k, r, (r * r) * q + c * (1 + r))
    }

    /// `e^x - 1` in each of eight lanes: lane i is ``expMinusOne(_:)`` of `x[i]`, bit for bit.
    ///
    /// - Returns: per lane, `x` for `|x| < 2^-54`, `-1` below `-40`, `e^x` above `40`, `NaN`
    ///   for `NaN` (see ``expMinusOne(_:)``).
    /// - Accuracy: within 1 ulp (it is ``expMinusOne(_:)``).
    ///
    /// See also: ``expMinusOne(_:)``, ``exp(_:)-(SIMD8<Double>)``.
    @inlinable @inline(__always)
    public static func expMinusOne(_ x: SIMD8<Double>) -> SIMD8<Double> {
        let above = x .> 40
        let big = select(above, exp(x), SIMD8(repeating: -1))       // x > 40 ? exp(x) : -1
        return select(above .| (x .< -40), big, expMinusOneWithin40(x))
    }

    /// ``expMinusOne(_:)-(SIMD8<Double>)`` for lanes with `|x| <= 40` (and NaN), bit for bit;
    /// other lanes hold a finite placeholder. For kernels that use the result only where
    /// `|x|` is small (discopop), so that no lane pays for the exponential of `|x| > 40`.
    @inlinable @inline(__always)
    static func expMinusOneWithin40(_ x: SIMD8<Double>) -> SIMD8<Double> {
        typealias V = SIMD8<Double>
        let xc = select(x .< -40, V(repeating: -40), select(x .> 40, V(repeating: 40), x))
        let (_, k, r, tail) = reduced(xc)
        // e^x - 1 = (2^k - 1) + 2^k r + 2^k tail, the first two summed exactly, as in expMinusOne(_:).
        let scale = unsafeBitCast((k &+ 1023) &<< 52, to: V.self)
        let a = scale - 1, b = scale * r
        let hi = a + b
        let lo = (a - hi) + b
        let core = hi + (lo + scale * tail)
        return select((x .< 0x1p-54) .& (x .> -0x1p-54), x, core)
    }

    /// The logistic function in each of eight lanes: lane i is LossMath's `sigmoid(x[i])`
    /// bit for bit, `(x >= 0 ? 1 : e) / (1 + e)` with `e = exp(-|x|)` (no overflow, full
    /// relative accuracy for small results).
    ///
    /// See also: ``exp(_:)-(SIMD8<Double>)``, `sigmoid(_:)`.
    @inlinable @inline(__always)
    public static func sigmoid(_ x: SIMD8<Double>) -> SIMD8<Double> {
        typealias V = SIMD8<Double>
        let e = exp(negativeMagnitude(x))
        var numerator = V(repeating: 1)
        numerator.replace(with: e, where: .!(x .>= V(repeating: 0)))
        return numerator / (1 + e)
    }

    /// `mask ? a : b` per lane, as bit operations on the lanes' patterns (SIMD's
    /// `replace(with:where:)` is a loop over the lanes, larger code until LLVM joins it).
    @inlinable @inline(__always)
    static func select(_ mask: SIMDMask<SIMD8<Int64>>, _ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> {
        let m = unsafeBitCast(mask, to: SIMD8<UInt64>.self)
        let ai = unsafeBitCast(a, to: SIMD8<UInt64>.self), bi = unsafeBitCast(b, to: SIMD8<UInt64>.self)
        return unsafeBitCast(bi ^ ((ai ^ bi) & m), to: SIMD8<Double>.self)
    }

    /// `-|x|` per lane: the sign bit set, the bits of the scalar `-Swift.abs(x)` (NaN and
    /// zeros included; SIMD's `0 - x` would give `+0` for `-(+0)`).
    @inlinable @inline(__always)
    static func negativeMagnitude(_ x: SIMD8<Double>) -> SIMD8<Double> {
        let sign = SIMD8<UInt64>(repeating: 0x8000_0000_0000_0000)
        return unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt64>.self) | sign, to: SIMD8<Double>.self)
    }

    /// `log(x)` lane by lane: exactly ``Elementary/log(_:)``'s operations (fdlibm's e_log.c
    /// with its subnormal scaling and its special cases selected the same way) on a
    /// `SIMD8<Double>`, so every lane is **the same bits** as the scalar function.
    ///
    /// - Returns: `-inf` for `±0`, `NaN` for `x < 0` and `NaN`, `+inf` for `+inf`; within
    ///   1 ulp elsewhere (the scalar function's accuracy, checked there against mpmath).
    ///
    /// See also: ``log(_:)``, ``exp(_:)-(SIMD8<Double>)``.
    @inlinable @inline(__always)
    public static func log(_ x: SIMD8<Double>) -> SIMD8<Double> {
        let ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10
        let subnormal = x .< 0x1p-1022
        var xs = x
        xs.replace(with: x * 0x1p54, where: subnormal)
        var shiftK = SIMD8<Double>(repeating: 0)
        shiftK.replace(with: -54, where: subnormal)
        let core = logNormal(xs, correction: shiftK * ln2Lo) + shiftK * ln2Hi
        var special = SIMD8<Double>(repeating: .nan)
        special.replace(with: x, where: x .== .infinity)
        special.replace(with: -.infinity, where: x .== 0)
        var result = core
        result.replace(with: special, where: .!((x .> 0) .& (x .< .infinity)))
        return result
    }

    /// `log(1 + u)` lane by lane: exactly ``Elementary/log(onePlus:)``'s operations (the
    /// rounding error of `1 + u` as a correction to fdlibm's log of `w = 1 + u`, `u` itself
    /// for `|u| < 2^-54`, the special cases selected the same way) on a `SIMD8<Double>`, so
    /// every lane is **the same bits** as the scalar function.
    ///
    /// - Returns: `-inf` for `u = -1`, `NaN` for `u < -1` and `NaN`, `+inf` for `+inf`; `u`
    ///   for `|u| < 2^-54` (zeros of both signs and subnormals exact); within 1 ulp elsewhere
    ///   (the scalar function's accuracy, checked there against mpmath).
    ///
    /// See also: ``log(onePlus:)``, ``log(_:)-(SIMD8<Double>)``.
    @inlinable @inline(__always)
    public static func log(onePlus u: SIMD8<Double>) -> SIMD8<Double> {
        let w = 1.0 + u
        let c = (u - (w - 1.0)) / w
        let core = logNormal(w, correction: c)
        // tiny ? u : (w > 0 && w < inf ? core : (w == 0 ? -inf : (w == inf ? w : nan))),
        // |u| < 2^-54 as two comparisons (false for NaN, as the scalar test).
        let special = select(w .== 0, SIMD8(repeating: -.infinity), select(w .== .infinity, w, SIMD8(repeating: .nan)))
        let regular = select((w .> 0) .& (w .< .infinity), core, special)
        return select((u .< 0x1p-54) .& (u .> -0x1p-54), u, regular)
    }

    /// ``logNormal(_:correction:)`` on eight lanes (positive, finite, normal `w`), the same
    /// operations in the same order.
    @inlinable @inline(__always)
    static func logNormal(_ w: SIMD8<Double>, correction c: SIMD8<Double>) -> SIMD8<Double> {
        let ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10
        let shift = SIMD8<Double>(repeating: 0x1.8p52)
        let shiftBits = SIMD8<UInt64>(repeating: 0x4338_0000_0000_0000)
        let t = unsafeBitCast(w, to: SIMD8<UInt64>.self) &+ 0x0009_5f62_0000_0000
        let kd = unsafeBitCast((t &>> 52) &+ shiftBits &- 1023, to: SIMD8<Double>.self) - shift
        let m = unsafeBitCast((t & 0x000f_ffff_ffff_ffff) &+ 0x3fe6_a09e_0000_0000, to: SIMD8<Double>.self)
        let f = m - 1.0
        let hfsq = (0.5 * f) * f
        let s = f / (2.0 + f)
        let z = s * s
        let w2 = z * z
        let t1a = 2.222219843214978396e-01 + w2 * 1.531383769920937332e-01
        let t1 = w2 * (3.999999999940941908e-01 + w2 * t1a)
        let t2a = 1.818357216161805012e-01 + w2 * 1.479819860511658591e-01
        let t2b = 2.857142874366239149e-01 + w2 * t2a
        let t2 = z * (6.666666666666735130e-01 + w2 * t2b)
        let rr = t2 + t1
        let head = s * (hfsq + rr) + (kd * ln2Lo + c)
        return ((head - hfsq) + f) + kd * ln2Hi
    }
}
