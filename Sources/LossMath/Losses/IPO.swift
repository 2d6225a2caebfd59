extension Loss {
    /// IPO (TRL `ipo`); see ``Losses/IPO``.
    public static let ipo = Loss(Losses.IPO.self)
}

extension Losses {
    /// IPO (TRL `ipo`, Azar et al. 2023, arXiv 2310.12036). With `h = u_w/len_w - u_l/len_l`
    /// (TRL averages each log-ratio over its tokens; lengths 1 by default):
    ///
    ///     l = (h - 1/(2 beta))^2,    dl/dh = 2 (h - 1/(2 beta)).
    ///
    /// Its target is `1/(2 beta)` whatever the reward (docs/theory.md, T10). The kernel takes unit
    /// lengths; ``evaluate(_:rewardGap:)`` reads the pair's. Log space: a polynomial, not needed.
    public struct IPO: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "ipo", summary: "IPO (Azar et al. 2023), length-averaged log-ratios", rewardGap: .ignored, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = .arithmeticOnly
        public static let rooflineGradientOps: RooflineOps? = .arithmeticOnly

        public let beta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta }

        /// The loss of `h` itself (not `x`) and `dl/dh`.
        @inlinable @inline(__always)
        public func ofLogitsDifference(_ h: Double) -> (value: Double, dh: Double) {
            let r = h - 1 / (2 * beta)
            return (r * r, 2 * r)
        }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let r = ofLogitsDifference(uW - uL)
            return (r.value, r.dh, -r.dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let dh = 2 * ((uW - uL) - 1 / (2 * beta))
            return (dh, -dh)
        }
        /// With the pair's token lengths; `dH` only when both are 1.
        public func evaluate(_ pair: PairLogProbs, rewardGap: Double) -> LossEvaluation {
            let lw = pair.chosenLength, ll = pair.rejectedLength
            let r = ofLogitsDifference(pair.chosenLogRatio / lw - pair.rejectedLogRatio / ll)
            let isPlain = lw == 1 && ll == 1
            return LossEvaluation(value: r.value, dChosen: r.dh / lw, dRejected: -r.dh / ll, dH: isPlain ? r.dh : nil)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm { .plainIsAccurate }
    }
}
