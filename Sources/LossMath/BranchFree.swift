import RealModule

/// `softplus(-x)`, `softplus(x)`, `sigma(-x)`, `sigma(x)` from the one exponential
/// `e = exp(-|x|)` that each of them evaluates (see ``softplus(_:)``, ``sigmoid(_:)``), with
/// `l = log1p(e)`. Each function reproduces its scalar counterpart's branches, so a kernel that
/// shares `e` between a value and a derivative gets the scalar functions' exact bits.
///
/// They are written as selects rather than branches: the sign of x is random in a batch, and a
/// mispredicted branch costs more than the arithmetic. `(c ? a : 0) + l` equals the branch
/// `c ? a + l : l` because `l = log1p(e) >= +0` (or NaN, which propagates either way).
@usableFromInline
enum BranchFree {
    @inlinable @inline(__always)
    static func softplusNeg(_ x: Double, _ e: Double, _ l: Double) -> Double {
        // softplus(t), t = -x: t > 0 -> t + log1p(exp(-t)); else log1p(exp(t)).
        (-x > 0 ? -x : 0) + l
    }
    @inlinable @inline(__always)
    static func softplusPos(_ x: Double, _ e: Double, _ l: Double) -> Double {
        (x > 0 ? x : 0) + l
    }
    @inlinable @inline(__always)
    static func sigmoidNeg(_ x: Double, _ e: Double) -> Double {
        // sigmoid(t), t = -x: t >= 0 -> 1/(1 + exp(-t)); else exp(t)/(1 + exp(t)).
        (-x >= 0 ? 1 : e) / (1 + e)
    }
    @inlinable @inline(__always)
    static func sigmoidPos(_ x: Double, _ e: Double) -> Double {
        (x >= 0 ? 1 : e) / (1 + e)
    }
    /// `sigmoid(t)` as ``sigmoid(_:)`` computes it, without a branch.
    @inlinable @inline(__always)
    static func sigmoid(_ t: Double) -> Double { sigmoidPos(t, expNegAbs(t)) }
    @inlinable @inline(__always)
    static func expNegAbs(_ x: Double) -> Double { Elementary.exp(-Swift.abs(x)) }
}

/// The same helpers on eight lanes (`SIMD8<Double>`, one 512-bit register in the native
/// build): lane i runs the scalar helper's operations in the same order, the ternaries as
/// selects on the same comparisons, so it gives the scalar helper's bits. Negation is a
/// sign-bit flip, as the scalar `-x` (SIMD's `0 - x` would turn `-0` into `+0`).
///
/// See also: ``Elementary/exp(_:)-(SIMD8<Double>)``, ``Elementary/log(onePlus:)-(SIMD8<Double>)``.
extension BranchFree {
    @inlinable @inline(__always)
    static func softplusNeg(_ x: SIMD8<Double>, _ e: SIMD8<Double>, _ l: SIMD8<Double>) -> SIMD8<Double> {
        let t = SIMD8Sign.negated(x)
        return Elementary.select(t .> 0, t, SIMD8(repeating: 0)) + l
    }
    @inlinable @inline(__always)
    static func softplusPos(_ x: SIMD8<Double>, _ e: SIMD8<Double>, _ l: SIMD8<Double>) -> SIMD8<Double> {
        Elementary.select(x .> 0, x, SIMD8(repeating: 0)) + l
    }
    @inlinable @inline(__always)
    static func sigmoidNeg(_ x: SIMD8<Double>, _ e: SIMD8<Double>) -> SIMD8<Double> {
        Elementary.select(SIMD8Sign.negated(x) .>= 0, SIMD8(repeating: 1), e) / (1 + e)
    }
    @inlinable @inline(__always)
    static func sigmoidPos(_ x: SIMD8<Double>, _ e: SIMD8<Double>) -> SIMD8<Double> {
        Elementary.select(x .>= 0, SIMD8(repeating: 1), e) / (1 + e)
    }
    @inlinable @inline(__always)
    static func sigmoid(_ t: SIMD8<Double>) -> SIMD8<Double> { sigmoidPos(t, expNegAbs(t)) }
    @inlinable @inline(__always)
    static func expNegAbs(_ x: SIMD8<Double>) -> SIMD8<Double> { Elementary.exp(Elementary.negativeMagnitude(x)) }
}

/// A loss whose value is ``bernoulliKL(logitP:logitQ:)`` of two logits of the pair
/// (exo_pair, rpo_bwd_kl, rpo_fwd_kl): it supplies the logits and its derivatives; the value,
/// and its deferred batch form, come from here.
public protocol BernoulliKLKernel: PairLossKernel {
    /// The logits whose Bernoulli KL is the loss.
    func bernoulliKLArguments(uW: Double, uL: Double, rewardGap: Double) -> (logitP: Double, logitQ: Double)
}

extension BernoulliKLKernel {
    @inlinable public static var batchValueMayBeDeferred: Bool { true }
    @inlinable @inline(__always)
    public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
        let d = derivatives(uW: uW, uL: uL, rewardGap: rewardGap)
        let a = bernoulliKLArguments(uW: uW, uL: uL, rewardGap: rewardGap)
        return (bernoulliKL(logitP: a.logitP, logitQ: a.logitQ), d.dChosen, d.dRejected)
    }
    @inlinable @inline(__always)
    public func evaluateForBatch(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
        let d = derivatives(uW: uW, uL: uL, rewardGap: rewardGap)
        let a = bernoulliKLArguments(uW: uW, uL: uL, rewardGap: rewardGap)
        return (bernoulliKLUnlessExtreme(logitP: a.logitP, logitQ: a.logitQ), d.dChosen, d.dRejected)
    }
}
