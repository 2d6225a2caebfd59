extension Loss {
    /// NeMo-Aligner's `rpo_bwd_kl`; see ``Losses/RPOBackwardKL``.
    public static let rpoBackwardKL = Loss(Losses.RPOBackwardKL.self)
}

extension Losses {
    /// NeMo-Aligner's `rpo_bwd_kl` (arXiv 2406.11704): `KL(q || p)` with `q = (sigma(dr), sigma(-dr))`,
    /// `p = (sigma(x), sigma(-x))`, `x = beta h`:
    ///
    ///     l = sum_± q_± (log q_± - log p_±),    dl/dx = sigma(x) - sigma(dr).
    ///
    /// Equal to ``SPOBT`` minus the entropy of `q`, so it has the same derivative.
    /// Log space: ``logSigmoidDifference(_:_:)``.
    public struct RPOBackwardKL: PreferenceLoss, BernoulliKLKernel {
        public static let descriptor = LossDescriptor(
            name: "rpo_bwd_kl", summary: "reward-aware backward KL (NeMo-Aligner RPO)", rewardGap: .required, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = nil
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta }

        @inlinable @inline(__always)
        public func bernoulliKLArguments(uW: Double, uL: Double, rewardGap: Double) -> (logitP: Double, logitQ: Double) {
            (rewardGap, beta * (uW - uL))
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let dh = beta * sigmoidDifference(beta * (uW - uL), rewardGap)
            return (dh, -dh)
        }
        /// The batch loop runs the eight-lane forms below (the same bits per pair).
        @inlinable public static var hasEightLaneKernel: Bool { true }
        /// ``evaluate(uW:uL:rewardGap:)-(Double,_,_)`` of eight pairs (the eight-lane
        /// ``bernoulliKL(logitP:logitQ:)-(SIMD8<Double>,_)`` and
        /// ``sigmoidDifference(_:_:)-(SIMD8<Double>,_)``, sharing `e^-|dr|` and `e^-|x|`):
        /// lane i is the scalar result bit for bit.
        @inlinable @inline(__always)
        public func evaluate(uW: SIMD8<Double>, uL: SIMD8<Double>, rewardGap: SIMD8<Double>)
            -> (value: SIMD8<Double>, dChosen: SIMD8<Double>, dRejected: SIMD8<Double>) {
            eightLanes(uW, uL, rewardGap, extremeForm: true)
        }
        /// ``evaluateForBatch(uW:uL:rewardGap:)-(Double,_,_)`` of eight pairs, lane i bit for bit.
        @inlinable @inline(__always)
        public func evaluateForBatch(uW: SIMD8<Double>, uL: SIMD8<Double>, rewardGap: SIMD8<Double>)
            -> (value: SIMD8<Double>, dChosen: SIMD8<Double>, dRejected: SIMD8<Double>) {
            eightLanes(uW, uL, rewardGap, extremeForm: false)
        }
        @inlinable @inline(__always)
        func eightLanes(_ uW: SIMD8<Double>, _ uL: SIMD8<Double>, _ dr: SIMD8<Double>, extremeForm: Bool)
            -> (value: SIMD8<Double>, dChosen: SIMD8<Double>, dRejected: SIMD8<Double>) {
            let x = beta * (uW - uL)
            let ex = BranchFree.expNegAbs(x), er = BranchFree.expNegAbs(dr)
            let dh = beta * sigmoidDifference(x, dr, expNegAbsA: ex, expNegAbsB: er)
            let value = bernoulliKL(dr, x, expNegAbsX: er, expNegAbsY: ex, extremeForm: extremeForm)
            return (value, dh, SIMD8Sign.negated(dh))
        }
        /// ``derivatives(uW:uL:rewardGap:)-(Double,_,_)`` of eight pairs, lane i bit for bit.
        @inlinable @inline(__always)
        public func derivatives(uW: SIMD8<Double>, uL: SIMD8<Double>, rewardGap: SIMD8<Double>)
            -> (dChosen: SIMD8<Double>, dRejected: SIMD8<Double>) {
            let dh = beta * sigmoidDifference(beta * (uW - uL), rewardGap)
            return (dh, SIMD8Sign.negated(dh))
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            .logitsDifference(logSigmoidDifference(beta * (uW - uL), rewardGap))
        }
    }
}
