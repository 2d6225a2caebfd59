import RealModule

extension Loss {
    /// EXO on pairs (TRL `exo_pair`); see ``Losses/ExoPair``.
    public static let exoPair = Loss(Losses.ExoPair.self)
}

extension Losses {
    /// EXO (TRL `exo_pair`, Ji et al. 2024, arXiv 2402.00856): the KL divergence from
    /// `(q_w, q_l) = (sigma(x), sigma(-x))` to `(1-eps, eps)`, `x = beta h`:
    ///
    ///     l = q_w (log q_w - log(1-eps)) + q_l (log q_l - log eps)
    ///     dl/dx = sigma(x) sigma(-x) (x - log((1-eps)/eps)).
    ///
    /// Needs `0 < eps < 1`. The value is `KL(Bern(sigma(x)) || Bern(1-eps))`.
    /// Log space: `log|dl/dx| = -softplus(x) - softplus(-x) + log|x - t|`.
    public struct ExoPair: PreferenceLoss, BernoulliKLKernel {
        public static let descriptor = LossDescriptor(
            name: "exo_pair", summary: "EXO on pairs (Ji et al. 2024)", rewardGap: .ignored,
            labelSmoothing: LabelSmoothingUse(range: ParameterRange(lower: 0, included: false, upper: 1, included: false),
                                              defaultValue: 1e-3, note: "TRL silently replaces 0 by 1e-3"),
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = nil
        public static let rooflineGradientOps: RooflineOps? = nil

        /// `t = log((1-eps)/eps)`, the target logit of `(1-eps, eps)`, formed once.
        public let beta: Double, target: Double
        @inlinable public init(unchecked p: LossParameters) {
            beta = p.beta
            target = Elementary.log(onePlus: -p.labelSmoothing) - Elementary.log(p.labelSmoothing)
        }
        @inlinable @inline(__always)
        public func bernoulliKLArguments(uW: Double, uL: Double, rewardGap: Double) -> (logitP: Double, logitQ: Double) {
            (beta * (uW - uL), target)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            // The density times beta (x - target) in one rounding where it is subnormal (|x| > 600).
            let dh = sigmoidDensity(x, times: beta * (x - target))
            return (dh, -dh)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            let x = beta * (uW - uL)
            return .logitsDifference(logDensityTimes(x, x - target))
        }
    }
}
