import RealModule

extension Loss {
    /// The principled loss, asymmetric form (`spo_asym`); see ``Losses/SPOAsym``.
    public static let spoAsym = Loss(Losses.SPOAsym.self)
}

extension Losses {
    /// The principled loss's asymmetric form (`spo_asym`), with `z = x/dr`, `x = beta h`:
    ///
    ///     l = -z e^-z,    dl/dx = (z - 1) e^-z / dr,
    ///
    /// minimum `-1/e` at `z = 1` (`h = dr/beta`). Under-separation (z -> -inf) is penalised
    /// like `|z| e^|z|`: past z ~ -703 the value exceeds the double range and is returned as
    /// +infinity (the correctly rounded result); callers that print it check `isFinite`.
    /// Needs `dr != 0`. Log space: `log|dl/dx| = log|(z-1)/dr| - z`.
    public struct SPOAsym: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "spo_asym", summary: "principled loss, asymmetric form -z e^-z", rewardGap: .requiredNonzero, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = RooflineOps(exp: 2, div: 3)
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta }

        /// The value and `dl/dx` at `x`.
        @inlinable @inline(__always)
        public func ofLogit(_ x: Double, rewardGap dr: Double) -> (value: Double, dx: Double) {
            let z = x / dr
            // z > 700: e^-z is near or below the subnormal range, where z e^-z would round
            // twice. There w = e^(-z/2) is still normal, and (z w) w rounds once at the end
            // (z w is normal). Both forms are computed and one selected (no branch, so batch
            // loops vectorise).
            let c = (z - 1) / dr
            let w = Elementary.exp(-0.5 * z)
            let e = Elementary.exp(-z)
            let far = z > 700
            return (far ? -(z * w) * w : -z * e, far ? (c * w) * w : (z - 1) * e / dr)
        }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let r = ofLogit(beta * (uW - uL), rewardGap: rewardGap)
            let dh = beta * r.dx
            return (r.value, dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap dr: Double) -> (dChosen: Double, dRejected: Double) {
            let z = beta * (uW - uL) / dr
            let c = (z - 1) / dr
            let w = Elementary.exp(-0.5 * z)
            let dx = z > 700 ? (c * w) * w : (z - 1) * Elementary.exp(-z) / dr   // as ofLogit
            let dh = beta * dx
            return (dh, -dh)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap dr: Double) -> LogDerivativeForm {
            let z = beta * (uW - uL) / dr
            let c = (z - 1) / dr
            return .logitsDifference(c == 0 ? SignedLog(0) : SignedLog(logMagnitude: Elementary.log(Swift.abs(c)) - z, sign: c > 0 ? 1 : -1))
        }
    }
}
