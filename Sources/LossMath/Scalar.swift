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
@inlinable
public func softplus(_ x: Double) -> Double {
    if x > 0 {
        return x + Double.log(onePlus: Double.exp(-x))
    }
    return Double.log(onePlus: Double.exp(x))
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
@inlinable
public func sigmoid(_ x: Double) -> Double {
    if x >= 0 {
        return 1 / (1 + Double.exp(-x))
    }
    let e = Double.exp(x)
    return e / (1 + e)
}

/// `sigmoid(x) * sigmoid(-x)`, the logistic density, without cancellation.
@inlinable
public func sigmoidDensity(_ x: Double) -> Double {
    let a = Swift.abs(x)
    let e = Double.exp(-a)
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
@inlinable
public func sigmoidDifference(_ a: Double, _ b: Double) -> Double {
    if a == b { return 0 }
    let sign: Double = a > b ? 1 : -1
    let gap = Swift.abs(a - b)
    if a >= 0 && b >= 0 {
        // sigma(a) - sigma(b) = sigma(-b) - sigma(-a) = e^-min * (1 - e^-gap) / ((1+e^-a)(1+e^-b))
        let m = Swift.min(a, b)
        let num = Double.exp(-m) * -Double.expMinusOne(-gap)
        return sign * num / ((1 + Double.exp(-a)) * (1 + Double.exp(-b)))
    }
    if a <= 0 && b <= 0 {
        let m = Swift.max(a, b)
        let num = Double.exp(m) * -Double.expMinusOne(-gap)
        return sign * num / ((1 + Double.exp(a)) * (1 + Double.exp(b)))
    }
    return sigmoid(a) - sigmoid(b)
}

/// `log(1 - exp(x))` for `x < 0`, accurate to a few ulps (Mächler's log1mexp).
///
/// For `x > -log 2`, `1 - exp(x)` is small and is formed as `-expm1(x)`; otherwise as
/// `log1p(-exp(x))`. Returns `-infinity` at `x == 0` (the true value).
@inlinable
public func log1mexp(_ x: Double) -> Double {
    precondition(x <= 0, "log1mexp needs x <= 0")
    if x > -0.693_147_180_559_945_3 {
        return Double.log(-Double.expMinusOne(x))
    }
    return Double.log(onePlus: -Double.exp(x))
}

/// `log(exp(a) + exp(b))` without overflow or underflow.
///
/// `max(a, b) + log1p(exp(-|a - b|))`; either argument may be `-infinity`.
@inlinable
public func logAddExp(_ a: Double, _ b: Double) -> Double {
    let m = Swift.max(a, b)
    if m == -.infinity { return -.infinity }
    return m + Double.log(onePlus: Double.exp(-Swift.abs(a - b)))
}

/// `log(sum_i exp(x_i))`, shifted by the maximum so that log-probabilities of -800 do not
/// underflow. Returns `-infinity` for an empty collection.
@inlinable
public func logSumExp<C: Collection>(_ xs: C) -> Double where C.Element == Double {
    guard let m = xs.max(), m > -.infinity else { return -.infinity }
    if m == .infinity { return .infinity }
    var s = 0.0
    for x in xs { s += Double.exp(x - m) }
    return m + Double.log(s)
}
