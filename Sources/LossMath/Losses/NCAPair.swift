import RealModule

extension Loss {
    /// NCA on pairs (TRL `nca_pair`); see ``Losses/NCAPair``.
    public static let ncaPair = Loss(Losses.NCAPair.self)
}

extension Losses {
    /// NCA (TRL `nca_pair`, Chen et al. 2024, arXiv 2402.05369), with `a = beta u_w`, `b = beta u_l`:
    ///
    ///     l = softplus(-a) + softplus(a)/2 + softplus(b)/2
    ///     dl/du_w = beta (sigma(a)/2 - sigma(-a)),    dl/du_l = beta sigma(b)/2.
    ///
    /// Log space: `log dl/du_l = log(beta/2) - softplus(-b)`; `dl/du_w` tends to `±beta/2`.
    public struct NCAPair: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "nca_pair", summary: "NCA on pairs (Chen et al. 2024)", rewardGap: .ignored, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: false, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = RooflineOps(exp: 2, log1p: 2, div: 3)
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta }

        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let a = beta * uW, b = beta * uL
            let ea = BranchFree.expNegAbs(a), la = Elementary.log(onePlus: ea)
            let eb = BranchFree.expNegAbs(b), lb = Elementary.log(onePlus: eb)
            let value = BranchFree.softplusNeg(a, ea, la) + 0.5 * BranchFree.softplusPos(a, ea, la) + 0.5 * BranchFree.softplusPos(b, eb, lb)
            return (value, beta * (0.5 * BranchFree.sigmoidPos(a, ea) - BranchFree.sigmoidNeg(a, ea)), beta * 0.5 * BranchFree.sigmoidPos(b, eb))
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let a = beta * uW, b = beta * uL
            let ea = BranchFree.expNegAbs(a)
            return (beta * (0.5 * BranchFree.sigmoidPos(a, ea) - BranchFree.sigmoidNeg(a, ea)), beta * 0.5 * BranchFree.sigmoid(b))
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            let rejected = SignedLog(logMagnitude: Elementary.log(beta) - Elementary.log(2) - softplus(-(beta * uL)), sign: 1)
            return .separate(chosen: nil, rejected: rejected)
        }
    }
}
