extension Loss {
    /// SLiC's hinge loss (TRL `hinge`); see ``Losses/Hinge``.
    public static let hinge = Loss(Losses.Hinge.self)
}

extension Losses {
    /// SLiC's hinge loss (TRL `hinge`, Zhao et al. 2023, arXiv 2305.10425), `x = beta h`:
    ///
    ///     l = max(0, 1 - x),    dl/dx = -1 for x < 1, else 0 (0 at the kink, as torch's relu).
    ///
    /// Flat from `x = 1` on. Log space: not needed (the derivative is -1 or 0).
    public struct Hinge: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "hinge", summary: "SLiC hinge (Zhao et al. 2023)", rewardGap: .ignored, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: true, parameters: [])
        public static let rooflineOps: RooflineOps? = .arithmeticOnly
        public static let rooflineGradientOps: RooflineOps? = .arithmeticOnly

        public let beta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta }

        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let r: (value: Double, dx: Double) = x < 1 ? (1 - x, -1) : (0, 0)
            let dh = beta * r.dx
            return (r.value, dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let dh = beta * (beta * (uW - uL) < 1 ? -1.0 : 0.0)
            return (dh, -dh)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm { .plainIsAccurate }
    }
}
