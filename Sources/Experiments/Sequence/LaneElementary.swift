import LossMath

// Elementary.exp on eight lanes at once, for the sequence trainer's packed row kernel.

/// `e^x` lane by lane: exactly ``Elementary/exp(_:)``'s operations (the same clamp,
/// Cody-Waite reduction, degree-13 polynomial, Fast2Sum and two-factor scaling by `2^k`)
/// on a `SIMD8<Double>`, so every lane is **the same bits** as the scalar function (each
/// step an IEEE basic operation; Swift fuses nothing into an FMA, on any build).
///
/// Valid on all of `Double` as the scalar function: `+inf` above 709.78..., `+0` below
/// -745.13..., `NaN` for `NaN`; within 1 ulp of `e^x` (Tests/LossMathTests/ElementaryTests.swift
/// checks the scalar function against mpmath; SequencePackedBlockTests checks this one
/// against it bit for bit).
///
/// Why: the scalar function inlined into a loop over one row vectorises only within the
/// row; the packed kernel holds eight rows in the lanes, one vector per token.
///
/// See also: ``markovGroupStep(_:previous:count:update:)``.
@inline(__always)
func laneExp(_ x: SIMD8<Double>) -> SIMD8<Double> {
    // The constants of Elementary (internal to LossMath, copied digit for digit).
    let shift = SIMD8<Double>(repeating: 0x1.8p52)
    let shiftBits = SIMD8<Int64>(repeating: 0x4338_0000_0000_0000)
    let ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10
    var xc = x
    xc.replace(with: -746, where: x .< -746)
    xc.replace(with: 710, where: x .> 710)
    let shifted = xc * 1.4426950408889634 + shift
    let kd = shifted - shift
    let rHi = xc - kd * ln2Hi
    let r = rHi - kd * ln2Lo
    let c = (rHi - r) - kd * ln2Lo
    var q = SIMD8<Double>(repeating: 1.6059043836821613e-10)   // 1/13!
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
    let k = unsafeBitCast(shifted, to: SIMD8<Int64>.self) &- shiftBits
    let tail = (r * r) * q + c * (1 + r)
    let hi = 1 + r
    let lo = (1 - hi) + r
    let p = hi + (lo + tail)
    let half = kd * 0.5 + shift
    let k1 = unsafeBitCast(half, to: SIMD8<Int64>.self) &- shiftBits
    let k2 = k &- k1
    let s1 = unsafeBitCast((k1 &+ 1023) &<< 52, to: SIMD8<Double>.self)
    let s2 = unsafeBitCast((k2 &+ 1023) &<< 52, to: SIMD8<Double>.self)
    return (p * s1) * s2
}

/// `log(x)` lane by lane: exactly ``Elementary/log(_:)``'s operations (fdlibm's e_log.c
/// with its subnormal scaling and its special cases selected the same way) on a
/// `SIMD8<Double>`, so every lane is **the same bits** as the scalar function.
///
/// - Returns: `-inf` for `±0`, `NaN` for `x < 0` and `NaN`, `+inf` for `+inf`; within
///   1 ulp elsewhere (the scalar function's accuracy, checked there against mpmath).
///
/// See also: ``laneExp(_:)``, ``finishGroupSoftmax(probabilities:sum:count:)``.
@inline(__always)
func laneLog(_ x: SIMD8<Double>) -> SIMD8<Double> {
    let ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10
    let subnormal = x .< 0x1p-1022
    var xs = x
    xs.replace(with: x * 0x1p54, where: subnormal)
    var shiftK = SIMD8<Double>(repeating: 0)
    shiftK.replace(with: -54, where: subnormal)
    let core = laneLogNormal(xs, correction: shiftK * ln2Lo) + shiftK * ln2Hi
    var special = SIMD8<Double>(repeating: .nan)
    special.replace(with: x, where: x .== .infinity)
    special.replace(with: -.infinity, where: x .== 0)
    var result = core
    result.replace(with: special, where: .!((x .> 0) .& (x .< .infinity)))
    return result
}

/// `Elementary.logNormal` on eight lanes (positive, finite, normal `w`), the same
/// operations in the same order.
@inline(__always)
func laneLogNormal(_ w: SIMD8<Double>, correction c: SIMD8<Double>) -> SIMD8<Double> {
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
