extension Loss {
    /// NeMo-Aligner's `rpo_fwd_kl`; see ``Losses/RPOForwardKL``.
    public static let rpoForwardKL = Loss(Losses.RPOForwardKL.self)
}

extension Losses {
    /// NeMo-Aligner's `rpo_fwd_kl` (arXiv 2406.11704): `KL(p || q)` with `p = (sigma(x), sigma(-x))`,
    /// `q = (sigma(dr), sigma(-dr))`, `x = beta h`:
    ///
    ///     l = sum_± p_± (log p_± - log q_±),    dl/dx = sigma(x) sigma(-x) (x - dr).
    ///
    /// Log space: `log|dl/dx| = -softplus(x) - softplus(-x) + log|x - dr|`.
    public struct RPOForwardKL: PreferenceLoss, BernoulliKLKernel {
        public static let descriptor = LossDescriptor(
            name: "rpo_fwd_kl", summary: "reward-aware forward KL (NeMo-Aligner RPO)", rewardGap: .required, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = nil
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta }

        @inlinable @inline(__always)
        public func bernoulliKLArguments(uW: Double, uL: Double, rewardGap: Double) -> (logitP: Double, logitQ: Double) {
            (beta * (uW - uL), rewardGap)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            // The density times beta (x - rewardGap) in one rounding where it is subnormal (|x| > 600).
            let dh = sigmoidDensity(x, times: beta * (x - rewardGap))
            return (dh, -dh)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            let x = beta * (uW - uL)
            return .logitsDifference(logDensityTimes(x, x - rewardGap))
        }
    }
}
