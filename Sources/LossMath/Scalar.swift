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

/// `sigmoid(a) - sigmoid(b)` with full relative accuracy, even when `a` and `b` are close.
///
/// `sigmoid(a) - sigmoid(b) = (e^a - e^b) / ((1 + e^a)(1 + e^b))`. When `a` and `b` have the
/// same sign the numerator is rewritten around the larger of `e^a, e^b` (or of `e^-a, e^-b`
/// for positive arguments) with `expm1(-|a - b|)`, which is exact to an ulp or two, instead
/// of subtracting two nearly equal probabilities. With opposite signs there is no
/// cancellation and the direct difference is accurate.
///
/// See also: ``sigmoid(_:)``.
@inlinable @inline(__always)
public func sigmoidDifference(_ a: Double, _ b: Double) -> Double {
    // Every case is computed and the right one selected, so that loops vectorise.
    let sign: Double = a > b ? 1 : -1
    let gap = Swift.abs(a - b)
    // Same signs. Both >= 0: sigma(a) - sigma(b) = sigma(-b) - sigma(-a), so map (a, b) to
    // (p, q) = (-b, -a); then p, q <= 0 and, with M = max(p, q),
    // sigma(p) - sigma(q) = e^M (1 - e^-gap) / ((1 + e^p)(1 + e^q)) (sign from a > b).
    let positive = a >= 0 && b >= 0
    let p = positive ? -b : a, q = positive ? -a : b
    let num = Elementary.exp(Swift.max(p, q)) * -Elementary.expMinusOne(-gap)
    let sameSigns = sign * num / ((1 + Elementary.exp(p)) * (1 + Elementary.exp(q)))
    // Opposite signs: sigma(t) = (1 + tanh(t/2))/2, and tanh(a/2), tanh(b/2) have opposite
    // signs, so their difference has no cancellation, and tanh is accurate near 0 (where
    // sigma(a) - sigma(b) itself would subtract two numbers close to 1/2).
    let oppositeSigns = 0.5 * (Elementary.tanh(0.5 * a) - Elementary.tanh(0.5 * b))
    let same = positive || (a <= 0 && b <= 0)
    return a == b ? 0 : (same ? sameSigns : oppositeSigns)
}

/// The Kullback–Leibler divergence between two Bernoulli distributions given by their
/// logits: `KL(Bern(sigma(x)) || Bern(sigma(y)))`.
///
/// This is the Bregman divergence of softplus: `softplus(y) - softplus(x) - sigma(x)(y - x)`,
/// which equals `log1p(sigma(x) expm1(y - x)) - sigma(x)(y - x)`. Both forms cancel badly
/// near `y = x`, where the divergence is `sigma'(x)(y-x)^2/2` and is well conditioned. So:
///
/// - `y > x` is first mapped to the complementary pair `(-x, -y)` (the same divergence),
///   which makes `e = expm1(y - x)` negative;
/// - for `-0.75 <= e < 0` the series `sum_{k>=2} (-e)^k s(1-s)(1 + s + ... + s^(k-2)) / k`
///   (with `s = sigma(x)`) has only positive terms, so it sums without cancellation;
/// - otherwise (`|y - x| > log 4`) the definition with softplus logs cancels by at most a
///   small factor.
///
/// Accurate to a few ulps for all finite arguments.
///
/// See also: ``softplus(_:)``, ``sigmoidDifference(_:_:)``.
@inlinable
public func bernoulliKL(logitP x: Double, logitQ y: Double) -> Double {
    if x == y { return 0 }
    // KL(Bern(p) || Bern(q)) = KL(Bern(1-p) || Bern(1-q)): flip so that y < x.
    let (px, qy) = y > x ? (-x, -y) : (x, y)
    let d = qy - px                       // < 0
    let s = sigmoid(px), t = sigmoid(-px) // s + t = 1, both accurate
    let e = Elementary.expMinusOne(d)     // in (-1, 0)
    if e >= -0.75 {
        // B = log1p(s e) - s log1p(e) = sum_{k>=2} (-1)^(k+1) (s^k - s) e^k / k,
        // and (-1)^(k+1)(s^k - s) e^k = s t (1 + s + ... + s^(k-2)) (-e)^k >= 0.
        let m = -e
        var power = m * m                 // (-e)^k
        var geometric = 1.0               // 1 + s + ... + s^(k-2)
        var sPower = 1.0                  // s^(k-2)
        var sum = 0.0
        let st = s * t
        for k in 2...400 {
            let term = st * geometric * power / Double(k)
            sum += term
            if term <= sum * 1e-17 { break }
            power *= m
            sPower *= s
            geometric += sPower
        }
        return sum
    }
    // |y - x| > log 4: the definition p log(p/q) + (1-p) log((1-p)/(1-q)) with every log
    // as a softplus. Its two terms have opposite signs but differ in size by a factor of
    // two or more here, and neither overflows (log1p(s e) - s d would lose everything to
    // cancellation when x and y are both large).
    return s * (softplus(-qy) - softplus(-px)) + t * (softplus(qy) - softplus(px))
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
