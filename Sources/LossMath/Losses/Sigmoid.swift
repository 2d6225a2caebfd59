import RealModule

extension Loss {
    /// DPO (TRL `sigmoid`); see ``Losses/Sigmoid``.
    public static let sigmoid = Loss(Losses.Sigmoid.self)
}

extension Losses {
    /// DPO (TRL `sigmoid`, Rafailov et al. 2023, arXiv 2305.18290), with `x = beta h`:
    ///
    ///     l = -log sigma(x) = softplus(-x),    dl/dx = -sigma(-x).
    ///
    /// Strictly decreasing with infimum 0 as x -> +inf (docs/theory.md, T5): no finite minimiser.
    /// Log space: `log|dl/dx| = -softplus(x)`.
    public struct Sigmoid: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "sigmoid", summary: "DPO (Rafailov et al. 2023)", rewardGap: .ignored, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = RooflineOps(exp: 1, log1p: 1, div: 1)
        /// The derivative: `u_w - u_l`, `beta x`, the sigmoid's select and `1 + e`, `beta sigma` (negations are sign flips).
        public static let rooflineGradientOps: RooflineOps? = RooflineOps(exp: 1, div: 1, flop: 5)

        public let beta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta }

        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let e = BranchFree.expNegAbs(x), l = Elementary.log(onePlus: e)
            let dh = beta * -BranchFree.sigmoidNeg(x, e)
            return (BranchFree.softplusNeg(x, e, l), dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let dh = beta * -BranchFree.sigmoid(-x)
            return (dh, -dh)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            .logitsDifference(SignedLog(logMagnitude: -softplus(beta * (uW - uL)), sign: -1))
        }
    }
}
