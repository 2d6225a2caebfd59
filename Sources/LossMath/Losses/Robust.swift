import RealModule

extension Loss {
    /// Robust DPO (TRL `robust`); see ``Losses/Robust``.
    public static let robust = Loss(Losses.Robust.self)
}

extension Losses {
    /// Robust DPO (TRL `robust`, Chowdhury et al. 2024, arXiv 2403.00409), `x = beta h`:
    ///
    ///     l = [(1-eps) softplus(-x) - eps softplus(x)] / (1 - 2 eps)
    ///     dl/dx = -[(1-eps) sigma(-x) + eps sigma(x)] / (1 - 2 eps)   (always < 0).
    ///
    /// Needs `0 <= eps < 0.5`. Log space: as DPO for `eps = 0`; for `eps > 0` `dl/dx` tends to
    /// `-eps/(1-2 eps)` and `-(1-eps)/(1-2 eps)`, so the plain derivative cannot underflow.
    public struct Robust: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "robust", summary: "robust DPO (Chowdhury et al. 2024)", rewardGap: .ignored,
            labelSmoothing: LabelSmoothingUse(range: ParameterRange(lower: 0, included: true, upper: 0.5, included: false), defaultValue: 0),
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = RooflineOps(exp: 1, log1p: 1, div: 2)
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double, eps: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta; eps = p.labelSmoothing }

        @inlinable @inline(__always)
        func dx(_ x: Double, _ e: Double) -> Double {
            let scale = 1 / (1 - 2 * eps)
            return -((1 - eps) * BranchFree.sigmoidNeg(x, e) + eps * BranchFree.sigmoidPos(x, e)) * scale
        }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let e = BranchFree.expNegAbs(x), l = Elementary.log(onePlus: e)
            let scale = 1 / (1 - 2 * eps)
            let value = ((1 - eps) * BranchFree.softplusNeg(x, e, l) - eps * BranchFree.softplusPos(x, e, l)) * scale
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
