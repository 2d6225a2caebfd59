// Scalar.swift's building blocks that the eight-lane rpo_bwd_kl kernel runs (the Bernoulli
// KL and sigmoidDifference), on eight lanes (`SIMD8<Double>`, one zmm register in the native build).
//
// **Same bits.** Lane i runs the scalar function's IEEE-754 operations in the same order; the
// scalar form's selects (`c ? a : b`, both sides computed) are bit selects on the same
// comparisons, negations are sign-bit flips (as the scalar `-x`), and `Swift.max(p, q)` is
// its definition `q >= p ? q : p`. The exponentials `e^-|x|` that several helpers share are
// passed in, formed once per kernel; `-|x|` has the same bits for `x` and `-x`, so the
// exponential of a flipped argument is the unflipped one's. Tested lane by lane against the
// scalar functions: Tests/LossMathTests/ScalarEightLanesTests.swift.

/// ``sigmoidDifference(_:_:)`` in each of eight lanes: lane i is
/// `sigmoidDifference(a[i], b[i])` bit for bit.
///
/// See also: ``sigmoidDifference(_:_:)``, ``Elementary/sigmoid(_:)-(SIMD8<Double>)``.
@inlinable @inline(__always)
public func sigmoidDifference(_ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> {
    sigmoidDifference(a, b, expNegAbsA: BranchFree.expNegAbs(a), expNegAbsB: BranchFree.expNegAbs(b))
}

/// ``sigmoidDifference(_:_:)-(SIMD8<Double>,_)`` with `ea = e^-|a|` and `eb = e^-|b|` given.
@inlinable @inline(__always)
func sigmoidDifference(_ a: SIMD8<Double>, _ b: SIMD8<Double>,
                       expNegAbsA ea: SIMD8<Double>, expNegAbsB eb: SIMD8<Double>) -> SIMD8<Double> {
    typealias V = SIMD8<Double>
    let sign = Elementary.select(a .> b, V(repeating: 1), V(repeating: -1))
    let same = ((a .>= 0) .& (b .>= 0)) .| ((a .<= 0) .& (b .<= 0))
    let f = Elementary.select(same, Elementary.select(eb .>= ea, eb, ea), V(repeating: 1))
    // -gap = -|a - b| <= 0 (or NaN): expm1 is -1 below -40 and its |x| <= 40 core elsewhere.
    let minusGap = Elementary.negativeMagnitude(a - b)
    let em1 = expMinusOneNonPositive(minusGap)
    let difference = sign * (f * SIMD8Sign.negated(em1)) / ((1 + ea) * (1 + eb))
    return Elementary.select(a .== b, V(repeating: 0), difference)
}

/// ``bernoulliKL(logitP:logitQ:)`` in each of eight lanes: lane i is
/// `bernoulliKL(logitP: x[i], logitQ: y[i])` bit for bit.
///
/// See also: ``bernoulliKLUnlessExtreme(logitP:logitQ:)-(SIMD8<Double>,_)``.
@inlinable @inline(__always)
public func bernoulliKL(logitP x: SIMD8<Double>, logitQ y: SIMD8<Double>) -> SIMD8<Double> {
    bernoulliKL(x, y, expNegAbsX: BranchFree.expNegAbs(x), expNegAbsY: BranchFree.expNegAbs(y), extremeForm: true)
}

/// ``bernoulliKLUnlessExtreme(logitP:logitQ:)`` in each of eight lanes (NaN in the lanes
/// that need the softplus form, for the batch loop to fill in), lane i bit for bit.
@inlinable @inline(__always)
public func bernoulliKLUnlessExtreme(logitP x: SIMD8<Double>, logitQ y: SIMD8<Double>) -> SIMD8<Double> {
    bernoulliKL(x, y, expNegAbsX: BranchFree.expNegAbs(x), expNegAbsY: BranchFree.expNegAbs(y), extremeForm: false)
}

/// The body of both, with `ex = e^-|x|` and `ey = e^-|y|` given (`ey` is used by the
/// softplus form only). The scalar body's steps, in its order: see ``bernoulliKL(logitP:logitQ:)``.
@inlinable @inline(__always)
func bernoulliKL(_ x: SIMD8<Double>, _ y: SIMD8<Double>, expNegAbsX ex: SIMD8<Double>, expNegAbsY ey: SIMD8<Double>,
                 extremeForm: Bool) -> SIMD8<Double> {
    typealias V = SIMD8<Double>
    let flip = x .> 0
    let px = Elementary.select(flip, SIMD8Sign.negated(x), x), qy = Elementary.select(flip, SIMD8Sign.negated(y), y)
    let d = qy - px
    let s = BranchFree.sigmoidPos(px, ex)          // sigmoid(px): e^-|px| = e^-|x|
    let e0 = Elementary.expMinusOne(d)
    let bv = d - qy
    let dd = (qy - (d - bv)) + (SIMD8Sign.negated(px) - bv)
    let e = e0 + (1 + e0) * dd
    let gE = Elementary.select(e .< -0.75, e - (d + dd), bernoulliKLG(e))
    let near = s * gE - bernoulliKLG(s * e)
    let far = Elementary.log(onePlus: s * e) - (s * d + s * dd)
    let softplusForm: V
    if extremeForm {
        let spQ = BranchFree.softplusPos(qy, ey, Elementary.log(onePlus: ey))
        let spP = BranchFree.softplusPos(px, ex, Elementary.log(onePlus: ex))
        softplusForm = (spQ - spP) - s * d
    } else {
        softplusForm = V(repeating: .nan)
    }
    let value = Elementary.select(d .<= 1.3862943611198906, near,
                                  Elementary.select((d .<= 700) .& (px .>= -700), far, softplusForm))
    return Elementary.select(x .== y, V(repeating: 0), value)
}

/// ``bernoulliKLG(_:)`` in each of eight lanes, the same operations.
@inlinable @inline(__always)
func bernoulliKLG(_ e: SIMD8<Double>) -> SIMD8<Double> {
    let den = 2 + e
    let u = SIMD8Sign.negated(e) / den
    let v = u * u
    var p = SIMD8<Double>(repeating: 1.142220377394731)
    p = p * v - 2.7139223278074516
    p = p * v + 3.3217202712475324
    p = p * v - 2.4521759471303954
    p = p * v + 1.328018003793182
    p = p * v - 0.4578512192218872
    p = p * v + 0.1769982666318883
    p = p * v + 0.009799720348453297
    p = p * v + 0.04845130841660182
    p = p * v + 0.046995206864559234
    p = p * v + 0.05269069111655149
    p = p * v + 0.05881936453597199
    p = p * v + 0.06666687957245562
    p = p * v + 0.076923069309926
    p = p * v + 0.09090909108940586
    p = p * v + 0.11111111110851254
    p = p * v + 0.14285714285716258
    p = p * v + 0.19999999999999993
    p = p * v + 0.3333333333333333
    return e * e / den + 2 * (u * v) * p
}

/// ``Elementary/expMinusOne(_:)-(SIMD8<Double>)`` for lanes with `x <= 0` (or NaN), bit for
/// bit: `-1` below `-40`, the `|x| <= 40` core elsewhere (one reduction, of `max(x, -40)`).
@inlinable @inline(__always)
func expMinusOneNonPositive(_ x: SIMD8<Double>) -> SIMD8<Double> {
    typealias V = SIMD8<Double>
    let below = x .< -40
    let xc = Elementary.select(below, V(repeating: -40), x)
    let (_, k, r, tail) = Elementary.reduced(xc)
    let scale = unsafeBitCast((k &+ 1023) &<< 52, to: V.self)
    let a = scale - 1, b = scale * r
    let hi = a + b
    let lo = (a - hi) + b
    let core = hi + (lo + scale * tail)
    return Elementary.select(below, V(repeating: -1), Elementary.select(x .> -0x1p-54, x, core))
}
