import RealModule

extension Loss {
    /// DPO-Positive (`dpop`); see ``Losses/DPOP``.
    public static let dpop = Loss(Losses.DPOP.self)
}

extension Losses {
    /// DPO-Positive (`dpop`, Pal et al. 2024, "Smaug", arXiv 2402.13228, eq. 3): DPO with a
    /// penalty `lambda max(0, log pi_ref(y_w) - log pi(y_w)) = lambda max(0, -u_w)` inside the
    /// sigmoid, which acts only while the chosen response is below its reference likelihood
    /// (the paper's remedy for likelihood displacement). With `x = beta (u_w - u_l - lambda max(0, -u_w))`:
    ///
    ///     l = -log sigma(x) = softplus(-x)
    ///     dl/du_w = -beta sigma(-x) (1 + lambda [u_w < 0]),    dl/du_l = beta sigma(-x).
    ///
    /// beta multiplies the penalty too, as in the paper. At the kink `u_w = 0` the penalty's
    /// derivative is taken as 0 (torch's relu convention). `lambda >= 0`; `lambda = 0` is DPO.
    /// Log space: `log|dl/du_w| = log beta + log(1 + lambda [u_w < 0]) - softplus(x)`,
    /// `log dl/du_l = log beta - softplus(x)`.
    public struct DPOP: PreferenceLoss {
        /// The penalty weight `lambda` (`--loss-param dpop_lambda=...`); the paper uses 50.
        public static let lambda = LossParameter(
            name: "dpop_lambda", symbol: "lambda", summary: "weight of the penalty max(0, -u_w) (Smaug: 50)",
            defaultValue: 50, range: ParameterRange(lower: 0))
        public static let descriptor = LossDescriptor(
            name: "dpop", summary: "DPO-Positive (Pal et al. 2024, Smaug)", rewardGap: .ignored, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: false, hasFlatRegion: false, parameters: [lambda])
        public static let rooflineOps: RooflineOps? = RooflineOps(exp: 1, log1p: 1, div: 1)
        public static let rooflineGradientOps: RooflineOps? = RooflineOps(exp: 1, div: 1)

        public let beta: Double, lambda: Double
        /// `1 + lambda`, the slope of `x / beta` in `u_w` where `u_w < 0`.
        public let penaltySlope: Double
        @inlinable public init(unchecked p: LossParameters) {
            beta = p.beta
            lambda = Self.lambda.value(in: p)
            penaltySlope = 1 + lambda
        }

        /// `x` and `dx/du_w / beta`.
        @inlinable @inline(__always)
        func logit(_ uW: Double, _ uL: Double) -> (x: Double, slope: Double) {
            let below = uW < 0
            let penalty = below ? lambda * -uW : 0
            return (beta * ((uW - uL) - penalty), below ? penaltySlope : 1)
        }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let (x, slope) = logit(uW, uL)
            let e = BranchFree.expNegAbs(x), l = Elementary.log(onePlus: e)
            let s = BranchFree.sigmoidNeg(x, e)
            return (BranchFree.softplusNeg(x, e, l), -(beta * s) * slope, beta * s)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let (x, slope) = logit(uW, uL)
            let s = BranchFree.sigmoid(-x)
            return (-(beta * s) * slope, beta * s)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            let (x, slope) = logit(uW, uL)
            let logD = Elementary.log(beta) - softplus(x)
            return .separate(chosen: SignedLog(logMagnitude: logD + Elementary.log(slope), sign: -1),
                             rejected: SignedLog(logMagnitude: logD, sign: 1))
        }
    }
}
