import RealModule

extension Loss {
    /// The principled loss, Bradley–Terry cross-entropy form (`spo_bt`); see ``Losses/SPOBT``.
    public static let spoBT = Loss(Losses.SPOBT.self)
}

extension Losses {
    /// The principled loss's Bradley–Terry form (`spo_bt`): cross-entropy to the soft label
    /// `sigma(dr)`, `x = beta h`:
    ///
    ///     l = sigma(dr) softplus(-x) + sigma(-dr) softplus(x),    dl/dx = sigma(x) - sigma(dr),
    ///
    /// bounded by 1 in magnitude and zero exactly at `x = dr`. Log space: ``logSigmoidDifference(_:_:)``.
    public struct SPOBT: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "spo_bt", summary: "principled loss, Bradley-Terry cross-entropy form", rewardGap: .required, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = nil
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta }

        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap dr: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let x = beta * (uW - uL)
            let e = BranchFree.expNegAbs(x), l = Elementary.log(onePlus: e)
            let ed = BranchFree.expNegAbs(dr)
            let value = BranchFree.sigmoidPos(dr, ed) * BranchFree.softplusNeg(x, e, l) + BranchFree.sigmoidNeg(dr, ed) * BranchFree.softplusPos(x, e, l)
            let dh = beta * sigmoidDifference(x, dr)
            return (value, dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap dr: Double) -> (dChosen: Double, dRejected: Double) {
            let dh = beta * sigmoidDifference(beta * (uW - uL), dr)
            return (dh, -dh)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            .logitsDifference(logSigmoidDifference(beta * (uW - uL), rewardGap))
        }
    }
}
