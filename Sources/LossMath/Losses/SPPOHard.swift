extension Loss {
    /// SPPO with hard labels (TRL `sppo_hard`); see ``Losses/SPPOHard``.
    public static let sppoHard = Loss(Losses.SPPOHard.self)
}

extension Losses {
    /// SPPO with hard labels (TRL `sppo_hard`, Wu et al. 2024, arXiv 2405.00675), `c = 1/(2 beta)`:
    ///
    ///     l = (u_w - c)^2 + (u_l + c)^2,    dl/du_w = 2 (u_w - c),    dl/du_l = 2 (u_l + c).
    ///
    /// Log space: a polynomial, not needed.
    public struct SPPOHard: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "sppo_hard", summary: "SPPO with hard labels (Wu et al. 2024)", rewardGap: .ignored, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: false, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = .arithmeticOnly
        public static let rooflineGradientOps: RooflineOps? = .arithmeticOnly

        public let beta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta }

        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let c = 1 / (2 * beta)
            let rw = uW - c, rl = uL + c
            return (rw * rw + rl * rl, 2 * rw, 2 * rl)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let c = 1 / (2 * beta)
            return (2 * (uW - c), 2 * (uL + c))
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm { .plainIsAccurate }
    }
}
