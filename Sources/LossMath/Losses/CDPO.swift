import RealModule

extension Loss {
    /// Conservative DPO (TRL `cdpo`); see ``Losses/CDPO``.
    public static let cdpo = Loss(Losses.CDPO.self)
}

extension Losses {
    /// Conservative DPO (TRL `cdpo`; TRL's `sigmoid` with `label_smoothing`, Mitchell 2023),
    /// with `x = beta h`:
    ///
    ///     l = (1-eps) softplus(-x) + eps softplus(x),    dl/dx = eps - sigma(-x).
    ///
    /// Valid for `0 <= eps <= 0.5`; minimised at `x = log((1-eps)/eps)` when `eps > 0`.
    /// Log space: as DPO for `eps = 0`; for `eps > 0` `dl/dx` tends to `eps` and `eps - 1`, so
    /// the plain derivative cannot underflow away from its zero.
    public struct CDPO: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "cdpo", summary: "conservative DPO (TRL label_smoothing)", rewardGap: .ignored,
            labelSmoothing: LabelSmoothingUse(range: ParameterRange(lower: 0, upper: 0.5), defaultValue: 0),
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = RooflineOps(exp: 1, log1p: 1, div: 1)
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double, eps: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta; eps = p.labelSmoothing }

        // eps - sigma(-x) == sigma(x) - (1 - eps); the form whose sigmoid is the small one, so
        // it is computed without a `1 - p`.
        @inlinable @inline(__always)
        func dx(_ x: Double, _ e: Double) -> Double {
            x >= 0 ? eps - BranchFree.sigmoidNeg(x, e) : BranchFree.sigmoidPos(x, e) - (1 - eps)
        }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let e = BranchFree.expNegAbs(x), l = Elementary.log(onePlus: e)
            let value = (1 - eps) * BranchFree.softplusNeg(x, e, l) + eps * BranchFree.softplusPos(x, e, l)
            let dh = beta * dx(x, e)
            return (value, dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let dh = beta * dx(x, BranchFree.expNegAbs(x))
            return (dh, -dh)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            eps == 0 ? .logitsDifference(SignedLog(logMagnitude: -softplus(beta * (uW - uL)), sign: -1)) : .plainIsAccurate
        }
    }
}
