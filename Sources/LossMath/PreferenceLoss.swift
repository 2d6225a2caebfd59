/// One loss of the catalogue as a specialisable per-pair kernel: the one definition that the
/// batch path (``Loss/evaluateBatch(chosen:rejected:refChosen:refRejected:rewardGaps:parameters:values:dChosen:dRejected:)``,
/// the trainer's fused step) and the per-pair path (``Loss/evaluate(_:_:)``) both run.
///
/// Inputs are the log-ratios `u_w = log pi(y_w) - log pi_ref(y_w)`, `u_l` and the pair's
/// reward gap `dr` (ignored by losses that do not use it).
///
/// Kernels are written without branches (selects), so that loops over pairs vectorise, and
/// are `@inlinable`, so that a caller's generic loop is specialised per loss (see
/// ``Loss/withKernel(_:_:)``).
public protocol PairLossKernel: Sendable {
    /// The loss, `dl/du_w` and `dl/du_l`.
    func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double)
    /// `dl/du_w` and `dl/du_l` only, bit-identical to those of ``evaluate(uW:uL:rewardGap:)``
    /// (a trainer's step discards the value, and the value is where most `log1p` calls are).
    func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double)
    /// True when ``evaluateForBatch(uW:uL:rewardGap:)`` may leave a value for the caller to
    /// recompute (the Bernoulli-KL losses; see ``bernoulliKLUnlessExtreme(logitP:logitQ:)``).
    static var batchValueMayBeDeferred: Bool { get }
    /// ``evaluate(uW:uL:rewardGap:)``, except that where `batchValueMayBeDeferred` the value
    /// may be NaN for rare arguments that need a costlier form; the caller then takes the
    /// value from `evaluate`. Bit-identical to `evaluate` everywhere else.
    func evaluateForBatch(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double)
    /// True when the kernel has its own eight-lane forms (``evaluate(uW:uL:rewardGap:)-(SIMD8<Double>,_,_)``
    /// and ``derivatives(uW:uL:rewardGap:)-(SIMD8<Double>,_,_)``): the batch loop then runs
    /// them, eight pairs at a time. False by default: the batch loop runs the scalar kernel,
    /// which LLVM vectorises (at 256 bits where it prefers ymm registers).
    static var hasEightLaneKernel: Bool { get }
    /// ``evaluate(uW:uL:rewardGap:)`` of eight pairs: lane i is the scalar result for lane i's
    /// arguments, bit for bit. The default goes lane by lane through the scalar kernel (the
    /// batch loop does not use it: see ``hasEightLaneKernel``).
    func evaluate(uW: SIMD8<Double>, uL: SIMD8<Double>, rewardGap: SIMD8<Double>)
        -> (value: SIMD8<Double>, dChosen: SIMD8<Double>, dRejected: SIMD8<Double>)
    /// ``derivatives(uW:uL:rewardGap:)`` of eight pairs, lane i bit for bit the scalar result.
    func derivatives(uW: SIMD8<Double>, uL: SIMD8<Double>, rewardGap: SIMD8<Double>)
        -> (dChosen: SIMD8<Double>, dRejected: SIMD8<Double>)
}

extension PairLossKernel {
    @inlinable public static var batchValueMayBeDeferred: Bool { false }
    @inlinable @inline(__always)
    public func evaluateForBatch(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
        evaluate(uW: uW, uL: uL, rewardGap: rewardGap)
    }
    @inlinable public static var hasEightLaneKernel: Bool { false }
    @inlinable
    public func evaluate(uW: SIMD8<Double>, uL: SIMD8<Double>, rewardGap: SIMD8<Double>)
        -> (value: SIMD8<Double>, dChosen: SIMD8<Double>, dRejected: SIMD8<Double>) {
        var value = SIMD8<Double>(), dChosen = value, dRejected = value
        for l in 0..<8 {
            let e = evaluate(uW: uW[l], uL: uL[l], rewardGap: rewardGap[l])
            value[l] = e.value
            dChosen[l] = e.dChosen
            dRejected[l] = e.dRejected
        }
        return (value, dChosen, dRejected)
    }
    @inlinable
    public func derivatives(uW: SIMD8<Double>, uL: SIMD8<Double>, rewardGap: SIMD8<Double>)
        -> (dChosen: SIMD8<Double>, dRejected: SIMD8<Double>) {
        var dChosen = SIMD8<Double>(), dRejected = dChosen
        for l in 0..<8 {
            let d = derivatives(uW: uW[l], uL: uL[l], rewardGap: rewardGap[l])
            dChosen[l] = d.dChosen
            dRejected[l] = d.dRejected
        }
        return (dChosen, dRejected)
    }
}

/// A loss of the catalogue: its kernel, its catalogue entry and its log-space derivatives.
///
/// Adding a loss is one file with one type conforming to this protocol (and, in the same file,
/// a static member such as `Loss.sigmoid`), its tests, and one line in ``Loss/registry(_:)``.
///
/// See also: ``Loss``, ``LossDescriptor``, `docs/loss-catalogue.md`.
public protocol PreferenceLoss: PairLossKernel {
    /// Name (TRL `loss_type`), flags and parameters. Every field is stated by the loss.
    static var descriptor: LossDescriptor { get }
    /// The kernel for `parameters`, which ``Loss/validate(_:)`` has accepted. Derived
    /// constants (logs of parameters) are computed here, once per configuration.
    init(unchecked parameters: LossParameters)
    /// The per-pair evaluation with token lengths (only ipo reads them) and `dl/dh` for losses
    /// of `h` alone. The default runs ``evaluate(uW:uL:rewardGap:)``.
    func evaluate(_ pair: PairLogProbs, rewardGap: Double) -> LossEvaluation
    /// The derivatives in log space where the plain ones underflow (see
    /// ``Loss/logDerivatives(_:_:evaluation:)``). Every loss states its form: a loss whose
    /// plain derivatives cannot underflow while the true value is representable says
    /// ``LogDerivativeForm/plainIsAccurate``.
    func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm
    /// The operations of one value-and-gradient evaluation in the batch path, for the
    /// roofline model; nil when the model does not count this loss.
    static var rooflineOps: RooflineOps? { get }
    /// The operations of one derivative-only evaluation (the trainer's step); nil when the
    /// model does not count this loss.
    static var rooflineGradientOps: RooflineOps? { get }
}

extension PreferenceLoss {
    @inlinable @inline(__always)
    public func evaluate(_ pair: PairLogProbs, rewardGap: Double) -> LossEvaluation {
        let r = evaluate(uW: pair.chosenLogRatio, uL: pair.rejectedLogRatio, rewardGap: rewardGap)
        return LossEvaluation(value: r.value, dChosen: r.dChosen, dRejected: r.dRejected,
                              dH: Self.descriptor.dependsOnLogitsDifferenceOnly ? r.dChosen : nil)
    }
}

/// How a loss computes `log|dl/du_w|` and `log|dl/du_l|` where the plain derivatives underflow.
public enum LogDerivativeForm: Sendable, Equatable {
    /// A loss of `h` alone: `log|dl/dx|` with its sign (`x = beta h`); then
    /// `dl/du_w = beta dl/dx` and `dl/du_l = -beta dl/dx`.
    case logitsDifference(SignedLog)
    /// Each side on its own; `nil` for a side without a log form, whose plain derivative is
    /// used (the loss's doc comment says why: it tends to a nonzero constant, or, for
    /// apo_down's `dl/du_w`, no log form is known).
    case separate(chosen: SignedLog?, rejected: SignedLog?)
    /// Both plain derivatives are accurate wherever the true values are representable: the
    /// loss is a polynomial, or its derivatives tend to nonzero constants (stated per loss).
    case plainIsAccurate
}

/// Operation counts of one kernel evaluation per pair, for the roofline model of
/// `report bench`: Elementary's vectorised functions, and lanes of vectorised divisions and
/// square roots. Common subexpressions are merged (`exp(-|x|)` of a sigmoid and of its
/// density is one exponential); divisions by loop-invariant parameters are hoisted by the
/// compiler and not counted. Memory traffic is the caller's (it depends on the loop).
/// `flop`: the kernel's own additions, subtractions, multiplications and selects outside
/// those functions (their insides are in the functions' measured rates); counted only where
/// the trainer's roofline needs them (DPO's and spo's derivatives), 0 elsewhere.
public struct RooflineOps: Sendable, Hashable {
    public var exp: Double, log1p: Double, log: Double, expm1: Double, div: Double, sqrt: Double
    public var flop: Double
    public init(exp: Double = 0, log1p: Double = 0, log: Double = 0, expm1: Double = 0, div: Double = 0, sqrt: Double = 0,
                flop: Double = 0) {
        self.exp = exp
        self.log1p = log1p
        self.log = log
        self.expm1 = expm1
        self.div = div
        self.sqrt = sqrt
        self.flop = flop
    }
    /// No transcendental operation and no division (polynomial losses).
    public static let arithmeticOnly = RooflineOps()
}
