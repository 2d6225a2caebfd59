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
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            .logitsDifference(logSigmoidDifference(beta * (uW - uL), rewardGap))
        }
    }
}
