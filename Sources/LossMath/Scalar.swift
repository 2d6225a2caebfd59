import RealModule

// Scalar building blocks, each accurate to a few ulps over the whole double range.
//
// The losses are built from these so that no loss ever forms exp(t) for a large t or
// log(1 - something) by subtraction. Sequence log-probabilities of -800 or -1e5 are
// ordinary inputs: exp(-800) is 0 in double precision, so every quantity is kept in
// log space until the last step.

/// The softplus function `log(1 + exp(x))`.
///
/// Accurate to a few ulps for every finite `x`: for `x > 0` it is evaluated as
/// `x + log1p(exp(-x))`, so `exp` never overflows; for `x <= 0` as `log1p(exp(x))`, which
/// keeps full relative accuracy down to the underflow of `exp(x)` (x < -745, where the true
/// value is below the smallest subnormal and 0 is the correctly rounded result).
///
/// `-log(sigmoid(x)) == softplus(-x)`.
///
/// See also: ``logSigmoid(_:)``, ``sigmoid(_:)``.
@inlinable @inline(__always)
public func softplus(_ x: Double) -> Double {
    // `(x > 0 ? x : 0) + l` is the branch `x > 0 ? x + l : l` (l = log1p(exp(-|x|)) is
    // +0 or more, or NaN), written as a select so that loops over pairs vectorise.
    (x > 0 ? x : 0) + Elementary.log(onePlus: Elementary.exp(-Swift.abs(x)))
}

/// `log(sigmoid(x)) = -softplus(-x)`, accurate for every finite `x`.
///
/// See also: ``softplus(_:)``.
@inlinable
public func logSigmoid(_ x: Double) -> Double { -softplus(-x) }

/// The logistic function `sigmoid(x) = 1 / (1 + exp(-x))`.
///
/// Evaluated as `1/(1+exp(-x))` for `x >= 0` and `exp(x)/(1+exp(x))` for `x < 0`, so that
/// neither branch overflows and small results keep full relative accuracy (no `1 - p`).
///
/// See also: ``sigmoidDifference(_:_:)``, ``logSigmoid(_:)``.
@inlinable @inline(__always)
public func sigmoid(_ x: Double) -> Double {
    // Both branches share e = exp(-|x|): x >= 0 -> 1/(1 + e), x < 0 -> e/(1 + e).
    let e = Elementary.exp(-Swift.abs(x))
    return (x >= 0 ? 1 : e) / (1 + e)
}

/// `sigmoid(x) * sigmoid(-x)`, the logistic density, without cancellation.
@inlinable @inline(__always)
public func sigmoidDensity(_ x: Double) -> Double {
    let a = Swift.abs(x)
    let e = Elementary.exp(-a)
    let d = 1 + e
    return e / (d * d)
}

/// `k sigma(x) sigma(-x)`: the logistic density times a factor, accurate also where the
/// product is subnormal.
///
/// For `|x| <= 600` it is `k * sigmoidDensity(x)`. Beyond, the density itself would be
/// subnormal from `|x| ~ 708` and carry only a few significant bits into the product (exo_pair
/// and rpo_fwd_kl lost up to ~160 subnormal ulps); there it is
/// `(k e^{-(|x| - 600)}) e^{-600}`, where `|x| - 600` is exact (Sterbenz, up to `|x| = 1200`),
/// `(1 + e^{-|x|})^-2 = 1` to double precision, and the product is rounded into the subnormal
/// range once. Both forms are computed and one selected (no branch), so batch loops vectorise.
///
/// See also: ``sigmoidDensity(_:)``.
@inlinable @inline(__always)
public func sigmoidDensity(_ x: Double, times k: Double) -> Double {
    let a = Swift.abs(x)
    let near = k * sigmoidDensity(x)
    let eMinus600 = 0x1.4dd4d0d12c071p-866       // e^-600, correctly rounded (mpmath)
    let far = (k * Elementary.exp(600 - a)) * eMinus600
    return a > 600 ? far : near
}

/// `sigmoid(a) - sigmoid(b)` with full relative accuracy, even when `a` and `b` are close.
///
/// `sigmoid(a) - sigmoid(b) = (e^a - e^b) / ((1 + e^a)(1 + e^b))`. When `a` and `b` have the
/// same sign the numerator is rewritten around the larger of `e^a, e^b` (or of `e^-a, e^-b`
/// for positive arguments) with `expm1(-|a - b|)`, which is exact to an ulp or two, instead
/// of subtracting two nearly equal probabilities. With opposite signs numerator and
/// denominator are divided by `e^max(a, b)`, which leaves the same shape: `expm1(-|a - b|)`
/// over a product in `[1, 4]` (no cancellation, even near 0 where both probabilities are
/// close to 1/2).
///
/// See also: ``sigmoid(_:)``.
@inlinable @inline(__always)
public func sigmoidDifference(_ a: Double, _ b: Double) -> Double {
    // One formula for every case, so that loops vectorise:
    // sigma(a) - sigma(b) = sign * F * (-expm1(-gap)) / ((1 + e^P)(1 + e^Q)), gap = |a - b|,
    // - same signs: both >= 0 are first mapped to (-b, -a) (sigma(a) - sigma(b) =
    //   sigma(-b) - sigma(-a)); then P, Q <= 0 are the two arguments and F = e^max(P, Q);
    // - opposite signs, hi = max(a, b) >= 0 >= lo: dividing numerator and denominator of
    //   (e^hi - e^lo) / ((1 + e^hi)(1 + e^lo)) by e^hi gives P = -hi, Q = lo and F = 1.
    // No cancellation anywhere: -expm1(-gap) is accurate for small gaps, and the
    // denominator is in [1, 4].
    // In every case {P, Q} = {-|a|, -|b|}, so the two exponentials are e^-|a| and e^-|b|
    // (which a caller's softplus or sigmoid of a or b computes too; inlined, they are shared).
    let sign: Double = a > b ? 1 : -1
    let gap = Swift.abs(a - b)
    let same = (a >= 0 && b >= 0) || (a <= 0 && b <= 0)
    let ea = Elementary.exp(-Swift.abs(a)), eb = Elementary.exp(-Swift.abs(b))
    let f = same ? Swift.max(ea, eb) : 1          // e^max(P, Q): exp is monotone
    let difference = sign * (f * -Elementary.expMinusOne(-gap)) / ((1 + ea) * (1 + eb))
    return a == b ? 0 : difference
}

/// The Kullback–Leibler divergence between two Bernoulli distributions given by their
/// logits: `KL(Bern(sigma(x)) || Bern(sigma(y)))`.
///
/// This is the Bregman divergence of softplus: `softplus(y) - softplus(x) - sigma(x)(y - x)`,
/// which equals `log1p(s e) - s d` with `s = sigma(x)`, `d = y - x`, `e = expm1(d)`. That
/// form cancels badly near `y = x`, where the divergence is `sigma'(x) d^2/2` and well
/// conditioned. So, with `G(e) = e - log1p(e) >= 0`:
///
/// - `(x, y)` is first mapped to `(-x, -y)` if `x > 0` (the same divergence), so that
///   `s <= 1/2`;
/// - for `d <= log 4` the divergence is `s G(e) - G(s e)`. For `e <= 0`,
///   `G(s e) <= s^2 G(e)`, so the difference loses at most a factor `1/(1 - s) <= 2`; for
///   `0 < e <= 3` at most about 3.6. `G` itself has no cancellation:
///   `G(e) = e^2/(2+e) + 2u^3 P(u^2)` with `u = -e/(2+e)` and `P(v) = sum v^j/(2j+3)`
///   (from `log1p(e) = 2 atanh(e/(2+e))`) for `e` in `[-0.75, 3]`, `P` a degree-18
///   Chebyshev fit on `[0, 0.36]` (Tools/bernoulli_kl_coefficients.py); below `e = -0.75`,
///   `G = e - d`.
/// - for `d > log 4`, `log1p(s e) - s d` directly (it loses at most a factor of about 4
///   there); where `e` overflows (`d > 700`) or `s e` may underflow (`x < -700`),
///   `softplus(y) - softplus(x) - s d`.
///
/// Every case is computed and one selected, so that loops over pairs vectorise. `d = y - x`
/// is exact only when x and y are close; its rounding error is taken exactly (TwoSum) and
/// carried into `e` to first order, since `e^d` magnifies it.
///
/// Measured against mpmath on 30,000 random pairs (x within ±3, ±40 or ±800; d within
/// ±log 4, ±8, ±800 or ±1e-3), over normal results: for `|y - x| <= log 4` at most 7.8
/// ulps, 99.9% within 5.2, mean 1.0; beyond, 99.9% within 3 ulps, at most 15 where
/// `sigma(x)` is itself subnormal (`|x| > 708`). Subnormal results have the absolute
/// accuracy of a subnormal. The algorithm this replaced (a positive-term series up to
/// `log 4`, the four-softplus definition beyond) measured up to 14 and 52 ulps on such
/// samples, and its series took up to 130 iterations.
///
/// See also: ``softplus(_:)``, ``sigmoidDifference(_:_:)``.
// @_transparent rather than @inline(__always): batch loops must inline it to vectorise,
// and next to rpo_bwd_kl's large derivative the optimiser's size limits would otherwise
// leave it a call.
@_transparent
public func bernoulliKL(logitP x: Double, logitQ y: Double) -> Double {
    bernoulliKL(x, y, extremeForm: true)
}

/// ``bernoulliKL(logitP:logitQ:)`` for batch loops: the same bits, except `NaN` where the
/// divergence needs the softplus form (`y - x` beyond 700, or `|x| > 700` with
/// `|y - x| > log 4`, or a NaN argument), which the loop then recomputes with
/// ``bernoulliKL(logitP:logitQ:)``. Leaving that form (two more `log1p` per pair) out of the
/// common case speeds the vectorised loops of exo_pair and rpo_*_kl by 12-34%.
@_transparent
public func bernoulliKLUnlessExtreme(logitP x: Double, logitQ y: Double) -> Double {
    bernoulliKL(x, y, extremeForm: false)
}

/// The body of both: `extremeForm` is a constant at each call site, so after inlining the
/// softplus form is either computed for every pair (a select, which vectorises) or not at all.
@_transparent @usableFromInline
func bernoulliKL(_ x: Double, _ y: Double, extremeForm: Bool) -> Double {
    // KL(Bern(p) || Bern(q)) = KL(Bern(1-p) || Bern(1-q)): flip so that s = sigma(x) <= 1/2.
    let flip = x > 0
    let px = flip ? -x : x, qy = flip ? -y : y
    let d = qy - px
    let s = sigmoid(px)
    let e0 = Elementary.expMinusOne(d)
    // d = y - x may round (x and y of opposite signs or far apart), and e^d would magnify
    // that into many ulps (x = -690, y = -2.2: 34 ulps). So take the rounding error dd of
    // d exactly (TwoSum) and use e^(d + dd) - 1 = e + (1 + e) dd to first order.
    let bv = d - qy
    let dd = (qy - (d - bv)) + (-px - bv)
    let e = e0 + (1 + e0) * dd
    // d <= log 4: s G(e) - G(s e).
    let gE = e < -0.75 ? e - (d + dd) : bernoulliKLG(e)
    let near = s * gE - bernoulliKLG(s * e)
    // d > log 4: log1p(s e) - s d, unless e overflows (d > 700) or s is tiny (x < -700,
    // where s e may underflow although the divergence, about softplus(y), does not): then
    // softplus(y) - softplus(x) - s d, the same quantity.
    let far = Elementary.log(onePlus: s * e) - (s * d + s * dd)
    let softplusForm = extremeForm ? (softplus(qy) - softplus(px)) - s * d : .nan
    let value = d <= 1.3862943611198906 ? near : (d <= 700 && px >= -700 ? far : softplusForm)
    return x == y ? 0 : value
}

/// `G(e) = e - log1p(e)` for `e` in `[-0.75, 3]`, without cancellation: see
/// ``bernoulliKL(logitP:logitQ:)``.
@inlinable @inline(__always)
func bernoulliKLG(_ e: Double) -> Double {
    let den = 2 + e
    let u = -e / den
    let v = u * u
    // P(v) = sum_{j>=0} v^j/(2j+3) on [0, 0.36]: Chebyshev fit, error below 5e-20.
    var p = 1.142220377394731
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

/// `log(1 - exp(x))` for `x < 0`, accurate to a few ulps (Mächler's log1mexp).
///
/// For `x > -log 2`, `1 - exp(x)` is small and is formed as `-expm1(x)`; otherwise as
/// `log1p(-exp(x))`. Returns `-infinity` at `x == 0` (the true value).
@inlinable
public func log1mexp(_ x: Double) -> Double {
    precondition(x <= 0, "log1mexp needs x <= 0")
    if x > -0.693_147_180_559_945_3 {
        return Elementary.log(-Elementary.expMinusOne(x))
    }
    return Elementary.log(onePlus: -Elementary.exp(x))
}

/// `log(exp(a) + exp(b))` without overflow or underflow.
///
/// `max(a, b) + log1p(exp(-|a - b|))`; either argument may be `-infinity`.
@inlinable @inline(__always)
public func logAddExp(_ a: Double, _ b: Double) -> Double {
    let m = Swift.max(a, b)
    let sum = m + Elementary.log(onePlus: Elementary.exp(-Swift.abs(a - b)))
    return m == -.infinity ? -.infinity : sum      // -inf - -inf is NaN: select it away
}

/// `log(sum_i exp(x_i))`, shifted by the maximum so that log-probabilities of -800 do not
/// underflow. Returns `-infinity` for an empty collection.
@inlinable
public func logSumExp<C: Collection>(_ xs: C) -> Double where C.Element == Double {
    guard let m = xs.max(), m > -.infinity else { return -.infinity }
    if m == .infinity { return .infinity }
    var s = 0.0
    for x in xs { s += Elementary.exp(x - m) }
    return m + Elementary.log(s)
}
