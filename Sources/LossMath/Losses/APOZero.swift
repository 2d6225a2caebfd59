import RealModule

extension Loss {
    /// APO-zero (TRL `apo_zero`); see ``Losses/APOZero``.
    public static let apoZero = Loss(Losses.APOZero.self)
}

extension Losses {
    /// APO-zero (TRL `apo_zero`, D'Oosterlinck et al. 2024, arXiv 2408.06266), `a = beta u_w`, `b = beta u_l`:
    ///
    ///     l = 1 - sigma(a) + sigma(b) = sigma(-a) + sigma(b)
    ///     dl/du_w = -beta sigma(a) sigma(-a),    dl/du_l = beta sigma(b) sigma(-b).
    ///
    /// Log space: `log|dl/du| = log beta - softplus(-t) - softplus(t)` for `t = a, b`.
    public struct APOZero: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "apo_zero", summary: "APO-zero (D'Oosterlinck et al. 2024)", rewardGap: .ignored, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: false, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = RooflineOps(exp: 2, div: 4)
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta }

        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let a = beta * uW, b = beta * uL
            return (LossMath.sigmoid(-a) + LossMath.sigmoid(b), -beta * sigmoidDensity(a), beta * sigmoidDensity(b))
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            (-beta * sigmoidDensity(beta * uW), beta * sigmoidDensity(beta * uL))
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            let logBeta = Elementary.log(beta)
            let a = beta * uW, b = beta * uL
            return .separate(chosen: SignedLog(logMagnitude: logBeta - softplus(-a) - softplus(a), sign: -1),
                             rejected: SignedLog(logMagnitude: logBeta - softplus(-b) - softplus(b), sign: 1))
        }
    }
}
