import RealModule

// Monomorphic per-loss kernels and a batch API over contiguous arrays.
//
// `Loss.evaluate(_:_:)` switches on the loss for every pair and returns a struct with an
// optional. That is the right shape for one pair; for millions of pairs the switch belongs
// outside the loop. Each kernel below is a small struct holding the loss's parameters (and
// constants derived from them, computed once) with two methods:
//
// - `evaluate(uW:uL:rewardGap:)`: value, dl/du_w, dl/du_l;
// - `derivatives(uW:uL:rewardGap:)`: the two derivatives only (a trainer's step discards the
//   value, and the value is where most `log1p` calls are).
//
// **Both are bit-for-bit equal to `Loss.evaluate`** (for unit lengths, TRL's default): they
// call the same scalar functions in the same order, only sharing sub-expressions that are
// provably identical. For example DPO's `softplus(-x)` and `sigma(-x)` both evaluate
// `exp(-|x|)` on every branch, so the kernel computes it once. `Tests/LossMathTests`
// checks the equality bit for bit on random and extreme inputs (NaN, infinities, -0).
//
// `Loss.withKernel(_:_:)` performs the one switch and hands the concrete kernel to a
// generic visitor, so a caller's loop is specialised per loss (no existential, no per-pair
// switch). `Loss.evaluateBatch` is such a loop over struct-of-arrays buffers.
//
// Every kernel is written without branches (selects), so that the loop vectorises. The
// Bernoulli-KL losses (exo_pair, rpo_*_kl) have one form that only extreme arguments need
// (two more log1p per pair); their `evaluateForBatch` leaves NaN there and
// `evaluateBatch` fills those values in afterwards with `evaluate`, so the results are
// still `Loss.evaluate`'s bits.

/// One loss of the catalogue as a specialisable per-pair kernel. Inputs are the log-ratios
/// `u_w = log pi(y_w) - log pi_ref(y_w)`, `u_l` and the pair's reward gap `dr` (ignored by
/// losses that do not use it). Results are bit-identical to ``Loss/evaluate(_:_:)`` with
/// unit lengths and `parameters.rewardGap = dr`.
public protocol PairLossKernel: Sendable {
    /// The loss, `dl/du_w` and `dl/du_l`.
    func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double)
    /// `dl/du_w` and `dl/du_l` only.
    func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double)
    /// True when ``evaluateForBatch(uW:uL:rewardGap:)`` may leave a value for the caller to
    /// recompute (the Bernoulli-KL losses; see ``bernoulliKLUnlessExtreme(logitP:logitQ:)``).
    static var batchValueMayBeDeferred: Bool { get }
    /// ``evaluate(uW:uL:rewardGap:)``, except that where `batchValueMayBeDeferred` the value
    /// may be NaN for rare arguments that need a costlier form; the caller then takes the
    /// value from `evaluate`. Bit-identical to `evaluate` everywhere else.
    func evaluateForBatch(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double)
}

extension PairLossKernel {
    @inlinable public static var batchValueMayBeDeferred: Bool { false }
    @inlinable @inline(__always)
    public func evaluateForBatch(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
        evaluate(uW: uW, uL: uL, rewardGap: rewardGap)
    }
}

/// A loss whose value is ``bernoulliKL(logitP:logitQ:)`` of two logits of the pair
/// (exo_pair, rpo_bwd_kl, rpo_fwd_kl): it supplies the logits and its derivatives; the
/// value, and its deferred batch form, come from here.
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

/// A generic operation run with the concrete kernel of a loss; see ``Loss/withKernel(_:_:)``.
public protocol PairLossKernelVisitor {
    associatedtype Output
    func visit<K: PairLossKernel>(_ kernel: K) -> Output
}

/// Namespace of the concrete kernels (one per catalogue entry; `spo` and `rpo_sq` share one).
public enum PairKernels {

    // MARK: Shared pieces

    /// `softplus(-x)`, `softplus(x)`, `sigma(-x)`, `sigma(x)` from the one exponential
    /// `e = exp(-|x|)` that each of them evaluates (see ``softplus(_:)``, ``sigmoid(_:)``),
    /// with `l = log1p(e)`. Each function below reproduces its scalar counterpart's branches.
    //
    // They are written as selects rather than branches: the sign of x is random in a batch,
    // and a mispredicted branch costs more than the arithmetic. `(c ? a : 0) + l` equals the
    // branch `c ? a + l : l` because `l = log1p(e) >= +0` (or NaN, which propagates either way).
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
    static func sigmoidSelect(_ t: Double) -> Double { sigmoidPos(t, expNegAbs(t)) }
    @inlinable @inline(__always)
    static func expNegAbs(_ x: Double) -> Double { Elementary.exp(-Swift.abs(x)) }

    // MARK: Losses of h alone

    public struct Sigmoid: PairLossKernel {
        public let beta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let e = expNegAbs(x), l = Elementary.log(onePlus: e)
            let dh = beta * -sigmoidNeg(x, e)
            return (softplusNeg(x, e, l), dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let dh = beta * -sigmoidSelect(-x)
            return (dh, -dh)
        }
    }

    public struct CDPO: PairLossKernel {
        public let beta: Double, eps: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta; eps = p.labelSmoothing }
        @inlinable @inline(__always)
        func dx(_ x: Double, _ e: Double) -> Double {
            x >= 0 ? eps - sigmoidNeg(x, e) : sigmoidPos(x, e) - (1 - eps)
        }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let e = expNegAbs(x), l = Elementary.log(onePlus: e)
            let value = (1 - eps) * softplusNeg(x, e, l) + eps * softplusPos(x, e, l)
            let dh = beta * dx(x, e)
            return (value, dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let dh = beta * dx(x, expNegAbs(x))
            return (dh, -dh)
        }
    }

    public struct Hinge: PairLossKernel {
        public let beta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let r = Kernels.hinge(x: beta * (uW - uL))
            let dh = beta * r.dx
            return (r.value, dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let dh = beta * (beta * (uW - uL) < 1 ? -1.0 : 0.0)
            return (dh, -dh)
        }
    }

    /// IPO with unit lengths (TRL's default; `Loss.evaluate` handles other lengths).
    public struct IPO: PairLossKernel {
        public let beta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let r = Kernels.ipo(h: uW - uL, beta: beta)
            return (r.value, r.dh, -r.dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let dh = 2 * ((uW - uL) - 1 / (2 * beta))
            return (dh, -dh)
        }
    }

    public struct ExoPair: BernoulliKLKernel {
        public let beta: Double, target: Double
        @inlinable public init(_ p: LossParameters) {
            beta = p.beta
            // The same expression as Kernels.exoPair, evaluated once.
            target = Elementary.log(onePlus: -p.labelSmoothing) - Elementary.log(p.labelSmoothing)
        }
        @inlinable @inline(__always)
        public func bernoulliKLArguments(uW: Double, uL: Double, rewardGap: Double) -> (logitP: Double, logitQ: Double) {
            (beta * (uW - uL), target)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let dh = beta * (sigmoidDensity(x) * (x - target))
            return (dh, -dh)
        }
    }

    public struct Robust: PairLossKernel {
        public let beta: Double, eps: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta; eps = p.labelSmoothing }
        @inlinable @inline(__always)
        func dx(_ x: Double, _ e: Double) -> Double {
            let scale = 1 / (1 - 2 * eps)
            return -((1 - eps) * sigmoidNeg(x, e) + eps * sigmoidPos(x, e)) * scale
        }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let e = expNegAbs(x), l = Elementary.log(onePlus: e)
            let scale = 1 / (1 - 2 * eps)
            let value = ((1 - eps) * softplusNeg(x, e, l) - eps * softplusPos(x, e, l)) * scale
            let dh = beta * dx(x, e)
            return (value, dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let dh = beta * dx(x, expNegAbs(x))
            return (dh, -dh)
        }
    }

    public struct Discopop: PairLossKernel {
        public let beta: Double, tau: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta; tau = p.discopopTau }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let r = Kernels.discopop(x: beta * (uW - uL), tau: tau)
            let dh = beta * r.dx
            return (r.value, dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let r = evaluate(uW: uW, uL: uL, rewardGap: rewardGap)
            return (r.dChosen, r.dRejected)
        }
    }

    /// `spo` (default squared form) and `rpo_sq`: `(x - dr)^2`.
    public struct SquaredTarget: PairLossKernel {
        public let beta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let r = beta * (uW - uL) - rewardGap
            let d = derivatives(uW: uW, uL: uL, rewardGap: rewardGap)
            return (r * r, d.dChosen, d.dRejected)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let dh = beta * (2 * (beta * (uW - uL) - rewardGap))
            return (dh, -dh)
        }
    }

    /// `rpo_bwd_kl`: `KL(q || p)`, derivative `sigma(x) - sigma(dr)`.
    public struct RPOBackwardKL: BernoulliKLKernel {
        public let beta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta }
        @inlinable @inline(__always)
        public func bernoulliKLArguments(uW: Double, uL: Double, rewardGap: Double) -> (logitP: Double, logitQ: Double) {
            (rewardGap, beta * (uW - uL))
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let dh = beta * sigmoidDifference(beta * (uW - uL), rewardGap)
            return (dh, -dh)
        }
    }

    /// `rpo_fwd_kl`: `KL(p || q)`, derivative `sigma(x) sigma(-x) (x - dr)`.
    public struct RPOForwardKL: BernoulliKLKernel {
        public let beta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta }
        @inlinable @inline(__always)
        public func bernoulliKLArguments(uW: Double, uL: Double, rewardGap: Double) -> (logitP: Double, logitQ: Double) {
            (beta * (uW - uL), rewardGap)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let dh = beta * (sigmoidDensity(x) * (x - rewardGap))
            return (dh, -dh)
        }
    }

    /// `spo_bt`: cross-entropy to the soft label `sigma(dr)`.
    public struct SoftLabel: PairLossKernel {
        public let beta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap dr: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let e = expNegAbs(x), l = Elementary.log(onePlus: e)
            let ed = expNegAbs(dr)
            let value = sigmoidPos(dr, ed) * softplusNeg(x, e, l) + sigmoidNeg(dr, ed) * softplusPos(x, e, l)
            let dh = beta * sigmoidDifference(x, dr)
            return (value, dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap dr: Double) -> (dChosen: Double, dRejected: Double) {
            let dh = beta * sigmoidDifference(beta * (uW - uL), dr)
            return (dh, -dh)
        }
    }

    /// `spo_asym`: `-z e^-z`, `z = x/dr`.
    public struct AsymmetricTarget: PairLossKernel {
        public let beta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let r = Kernels.asymmetricTarget(x: beta * (uW - uL), rewardGap: rewardGap)
            let dh = beta * r.dx
            return (r.value, dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap dr: Double) -> (dChosen: Double, dRejected: Double) {
            let z = beta * (uW - uL) / dr
            let c = (z - 1) / dr
            let w = Elementary.exp(-0.5 * z)
            let dx = z > 700 ? (c * w) * w : (z - 1) * Elementary.exp(-z) / dr   // as Kernels.asymmetricTarget
            let dh = beta * dx
            return (dh, -dh)
        }
    }

    // MARK: Losses of the two log-ratios

    public struct NCAPair: PairLossKernel {
        public let beta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let a = beta * uW, b = beta * uL
            let ea = expNegAbs(a), la = Elementary.log(onePlus: ea)
            let eb = expNegAbs(b), lb = Elementary.log(onePlus: eb)
            let value = softplusNeg(a, ea, la) + 0.5 * softplusPos(a, ea, la) + 0.5 * softplusPos(b, eb, lb)
            return (value, beta * (0.5 * sigmoidPos(a, ea) - sigmoidNeg(a, ea)), beta * 0.5 * sigmoidPos(b, eb))
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let a = beta * uW, b = beta * uL
            let ea = expNegAbs(a)
            return (beta * (0.5 * sigmoidPos(a, ea) - sigmoidNeg(a, ea)), beta * 0.5 * sigmoidSelect(b))
        }
    }

    public struct BCOPair: PairLossKernel {
        public let beta: Double, delta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta; delta = p.bcoDelta }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let a = beta * uW - delta, b = beta * uL - delta
            let ea = expNegAbs(a), la = Elementary.log(onePlus: ea)
            let eb = expNegAbs(b), lb = Elementary.log(onePlus: eb)
            return (softplusNeg(a, ea, la) + softplusPos(b, eb, lb), -beta * sigmoidNeg(a, ea), beta * sigmoidPos(b, eb))
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let a = beta * uW - delta, b = beta * uL - delta
            return (-beta * sigmoidSelect(-a), beta * sigmoidSelect(b))
        }
    }

    public struct SPPOHard: PairLossKernel {
        public let beta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let r = Kernels.sppoHard(uW: uW, uL: uL, beta: beta)
            return (r.value, r.dW, r.dL)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let c = 1 / (2 * beta)
            return (2 * (uW - c), 2 * (uL + c))
        }
    }

    public struct APOZero: PairLossKernel {
        public let beta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let r = Kernels.apoZero(uW: uW, uL: uL, beta: beta)
            return (r.value, r.dW, r.dL)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            (-beta * sigmoidDensity(beta * uW), beta * sigmoidDensity(beta * uL))
        }
    }

    public struct APODown: PairLossKernel {
        public let beta: Double
        @inlinable public init(_ p: LossParameters) { beta = p.beta }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let r = Kernels.apoDown(uW: uW, uL: uL, beta: beta)
            return (r.value, r.dW, r.dL)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let r = Kernels.apoDown(uW: uW, uL: uL, beta: beta)
            return (r.dW, r.dL)
        }
    }

    public struct BDPO: PairLossKernel {
        public let beta: Double, lambda: Double
        /// `log lam`, `log(1 - lam)` and `log(lam/(1-lam))` as Kernels.bdpo forms them.
        public let logLam: Double, log1mLam: Double
        @inlinable public init(_ p: LossParameters) {
            beta = p.beta
            lambda = p.bdpoLambda
            logLam = Elementary.log(p.bdpoLambda)
            log1mLam = Elementary.log(onePlus: -p.bdpoLambda)
        }
        @inlinable @inline(__always)
        func mixed(_ uL: Double) -> (uL: Double, weight: Double) {
            if lambda >= 1 { return (uL, 1) }
            return (logAddExp(logLam + uL, log1mLam), sigmoidSelect(uL + logLam - log1mLam))
        }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let (uLMixed, weight) = mixed(uL)
            let x = beta * (uW - uLMixed)
            let e = expNegAbs(x), l = Elementary.log(onePlus: e)
            let s = sigmoidNeg(x, e)
            return (softplusNeg(x, e, l), -beta * s, beta * s * weight)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let (uLMixed, weight) = mixed(uL)
            let s = sigmoidSelect(-(beta * (uW - uLMixed)))
            return (-beta * s, beta * s * weight)
        }
    }
}

extension Loss {
    /// Runs `visitor` with this loss's concrete kernel for `parameters` (one switch; the
    /// visitor's generic code is specialised per kernel). Does not validate.
    @inlinable
    public func withKernel<V: PairLossKernelVisitor>(_ parameters: LossParameters, _ visitor: V) -> V.Output {
        let p = parameters
        switch self {
        case .sigmoid: return visitor.visit(PairKernels.Sigmoid(p))
        case .cdpo: return visitor.visit(PairKernels.CDPO(p))
        case .hinge: return visitor.visit(PairKernels.Hinge(p))
        case .ipo: return visitor.visit(PairKernels.IPO(p))
        case .exoPair: return visitor.visit(PairKernels.ExoPair(p))
        case .ncaPair: return visitor.visit(PairKernels.NCAPair(p))
        case .robust: return visitor.visit(PairKernels.Robust(p))
        case .bcoPair: return visitor.visit(PairKernels.BCOPair(p))
        case .sppoHard: return visitor.visit(PairKernels.SPPOHard(p))
        case .apoZero: return visitor.visit(PairKernels.APOZero(p))
        case .apoDown: return visitor.visit(PairKernels.APODown(p))
        case .discopop: return visitor.visit(PairKernels.Discopop(p))
        case .bdpo: return visitor.visit(PairKernels.BDPO(p))
        case .rpoSq, .spo: return visitor.visit(PairKernels.SquaredTarget(p))
        case .rpoBackwardKL: return visitor.visit(PairKernels.RPOBackwardKL(p))
        case .rpoForwardKL: return visitor.visit(PairKernels.RPOForwardKL(p))
        case .spoBT: return visitor.visit(PairKernels.SoftLabel(p))
        case .spoAsym: return visitor.visit(PairKernels.AsymmetricTarget(p))
        }
    }

    /// Evaluates the loss on `n` pairs stored as struct-of-arrays, with the switch hoisted
    /// out of the loop. Element `i` of every output is bit-identical to
    /// `evaluate(PairLogProbs(chosen: chosen[i], ...), p)` with `p.rewardGap = rewardGaps[i]`
    /// (or `parameters.rewardGap ?? 0` for every pair when `rewardGaps` is nil), for unit
    /// lengths. Allocates nothing. Does not validate: call ``validate(_:)`` first.
    ///
    /// - Parameters:
    ///   - values: where to write the losses, or nil to skip them (cheaper: most `log1p`
    ///     calls are in the values).
    ///   - dChosen, dRejected: `dl/d log pi(y_w)` and `dl/d log pi(y_l)`.
    /// - Precondition: every buffer has the length of `chosen`.
    public func evaluateBatch(chosen: UnsafeBufferPointer<Double>, rejected: UnsafeBufferPointer<Double>,
                              refChosen: UnsafeBufferPointer<Double>, refRejected: UnsafeBufferPointer<Double>,
                              rewardGaps: UnsafeBufferPointer<Double>? = nil, parameters: LossParameters,
                              values: UnsafeMutableBufferPointer<Double>?,
                              dChosen: UnsafeMutableBufferPointer<Double>, dRejected: UnsafeMutableBufferPointer<Double>) {
        let n = chosen.count
        precondition(rejected.count == n && refChosen.count == n && refRejected.count == n
                     && dChosen.count == n && dRejected.count == n
                     && (rewardGaps?.count ?? n) == n && (values?.count ?? n) == n,
                     "evaluateBatch: every buffer needs \(n) elements")
        let batch = BatchVisitor(chosen: chosen, rejected: rejected, refChosen: refChosen,
                                 refRejected: refRejected, rewardGaps: rewardGaps,
                                 defaultGap: parameters.rewardGap ?? 0, values: values,
                                 dChosen: dChosen, dRejected: dRejected)
        withKernel(parameters, batch)
        // Values the vectorised loop deferred (see PairLossKernel.batchValueMayBeDeferred), in a
        // second pass: a call after the loop in the same function kept LLVM from vectorising
        // the loop as well (half the speed, measured).
        if values != nil { withKernel(parameters, DeferredValuesVisitor(batch: batch)) }
    }

    /// Array convenience for ``evaluateBatch(chosen:rejected:refChosen:refRejected:rewardGaps:parameters:values:dChosen:dRejected:)``.
    public func evaluateBatch(_ pairs: [PairLogProbs], rewardGaps: [Double]? = nil, parameters: LossParameters)
        -> (values: [Double], dChosen: [Double], dRejected: [Double]) {
        let n = pairs.count
        precondition(rewardGaps.map { $0.count == n } ?? true)
        let c = pairs.map(\.chosen), r = pairs.map(\.rejected), rc = pairs.map(\.refChosen), rr = pairs.map(\.refRejected)
        var v = [Double](repeating: 0, count: n), dw = v, dl = v
        c.withUnsafeBufferPointer { c in r.withUnsafeBufferPointer { r in
            rc.withUnsafeBufferPointer { rc in rr.withUnsafeBufferPointer { rr in
                v.withUnsafeMutableBufferPointer { v in dw.withUnsafeMutableBufferPointer { dw in dl.withUnsafeMutableBufferPointer { dl in
                    if let g = rewardGaps {
                        g.withUnsafeBufferPointer { g in
                            evaluateBatch(chosen: c, rejected: r, refChosen: rc, refRejected: rr, rewardGaps: g,
                                          parameters: parameters, values: v, dChosen: dw, dRejected: dl)
                        }
                    } else {
                        evaluateBatch(chosen: c, rejected: r, refChosen: rc, refRejected: rr, rewardGaps: nil,
                                      parameters: parameters, values: v, dChosen: dw, dRejected: dl)
                    }
                } } }
            } }
        } }
        return (v, dw, dl)
    }
}

/// Recomputes, with the per-pair evaluation (the same bits as `Loss.evaluate`), the values
/// a batch loop left NaN: rare extreme arguments, and NaN inputs, which come out NaN again
/// (see ``PairLossKernel/batchValueMayBeDeferred``).
@usableFromInline
struct DeferredValuesVisitor: PairLossKernelVisitor {
    let batch: BatchVisitor

    @usableFromInline
    func visit<K: PairLossKernel>(_ k: K) {
        guard K.batchValueMayBeDeferred, let v = batch.values?.baseAddress else { return }
        // A plain scan; the recomputation is a call, so that LLVM does not vectorise the
        // whole evaluation into this loop under a mask (it did: a second full pass).
        for i in 0..<batch.chosen.count where v[i].isNaN { v[i] = value(k, i) }
    }

    @inline(never) @usableFromInline
    func value<K: PairLossKernel>(_ k: K, _ i: Int) -> Double {
        let c = batch.chosen, r = batch.rejected, rc = batch.refChosen, rr = batch.refRejected
        return k.evaluate(uW: c[i] - rc[i], uL: r[i] - rr[i], rewardGap: batch.rewardGaps?[i] ?? batch.defaultGap).value
    }
}

/// The batch loop, specialised per kernel.
@usableFromInline
struct BatchVisitor: PairLossKernelVisitor {
    let chosen: UnsafeBufferPointer<Double>, rejected: UnsafeBufferPointer<Double>
    let refChosen: UnsafeBufferPointer<Double>, refRejected: UnsafeBufferPointer<Double>
    let rewardGaps: UnsafeBufferPointer<Double>?
    let defaultGap: Double
    let values: UnsafeMutableBufferPointer<Double>?
    let dChosen: UnsafeMutableBufferPointer<Double>, dRejected: UnsafeMutableBufferPointer<Double>

    @usableFromInline
    func visit<K: PairLossKernel>(_ k: K) {
        let n = chosen.count
        guard n > 0 else { return }
        let c = chosen.baseAddress!, r = rejected.baseAddress!
        let rc = refChosen.baseAddress!, rr = refRejected.baseAddress!
        let dw = dChosen.baseAddress!, dl = dRejected.baseAddress!
        let g = rewardGaps?.baseAddress
        let dr = defaultGap
        if let v = values?.baseAddress {
            if let g {
                for i in 0..<n {
                    let e = k.evaluateForBatch(uW: c[i] - rc[i], uL: r[i] - rr[i], rewardGap: g[i])
                    v[i] = e.value; dw[i] = e.dChosen; dl[i] = e.dRejected
                }
            } else {
                for i in 0..<n {
                    let e = k.evaluateForBatch(uW: c[i] - rc[i], uL: r[i] - rr[i], rewardGap: dr)
                    v[i] = e.value; dw[i] = e.dChosen; dl[i] = e.dRejected
                }
            }

        } else {
            if let g {
                for i in 0..<n {
                    let e = k.derivatives(uW: c[i] - rc[i], uL: r[i] - rr[i], rewardGap: g[i])
                    dw[i] = e.dChosen; dl[i] = e.dRejected
                }
            } else {
                for i in 0..<n {
                    let e = k.derivatives(uW: c[i] - rc[i], uL: r[i] - rr[i], rewardGap: dr)
                    dw[i] = e.dChosen; dl[i] = e.dRejected
                }
            }
        }
    }
}
