extension Loss {
    /// NeMo-Aligner's `rpo_sq`; see ``Losses/RPOSquared``.
    public static let rpoSq = Loss(Losses.RPOSquared.self)
}

extension Losses {
    /// Reward-aware squared loss (NeMo-Aligner `rpo_sq`, Nvidia 2024, arXiv 2406.11704):
    ///
    ///     l = (x - dr)^2,    dl/dx = 2 (x - dr),    x = beta h;
    ///
    /// the same function as ``SPO`` (whose kernel it runs). Log space: a polynomial, not needed.
    public struct RPOSquared: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "rpo_sq", summary: "reward-aware squared loss (NeMo-Aligner RPO)", rewardGap: .required, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = SPO.rooflineOps
        public static let rooflineGradientOps: RooflineOps? = SPO.rooflineGradientOps

        public let base: SPO
        @inlinable public init(unchecked p: LossParameters) { base = SPO(unchecked: p) }

        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            base.evaluate(uW: uW, uL: uL, rewardGap: rewardGap)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            base.derivatives(uW: uW, uL: uL, rewardGap: rewardGap)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm { .plainIsAccurate }
    }
}
