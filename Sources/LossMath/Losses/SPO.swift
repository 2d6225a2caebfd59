extension Loss {
    /// The principled loss, default squared form (`spo`); see ``Losses/SPO``.
    public static let spo = Loss(Losses.SPO.self)
}

extension Losses {
    /// The seed paper's principled loss (arXiv 2508.07137), default squared form (`spo`):
    ///
    ///     l = (x - dr)^2,    dl/dx = 2 (x - dr),    x = beta h.
    ///
    /// Minimised at the target `h* = dr/beta` (docs/theory.md, T4, T8). Equal to ``RPOSquared``.
    /// Log space: a polynomial, not needed.
    public struct SPO: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "spo", summary: "principled loss, squared form (arXiv 2508.07137)", rewardGap: .required, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = .arithmeticOnly
        /// The derivative `beta (2 (beta (u_w - u_l) - dr))`: five operations.
        public static let rooflineGradientOps: RooflineOps? = RooflineOps(flop: 5)

        public let beta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta }

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
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm { .plainIsAccurate }
    }
}
