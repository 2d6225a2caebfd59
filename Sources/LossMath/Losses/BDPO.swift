import RealModule

extension Loss {
    /// Bounded DPO (`bdpo`); see ``Losses/BDPO``.
    public static let bdpo = Loss(Losses.BDPO.self)
}

extension Losses {
    /// Bounded DPO (`bdpo`, Cho et al. 2025): DPO with `u_l` replaced by
    /// `u_l' = log(lam e^{u_l} + 1 - lam)`, which stays >= log(1 - lam) as pi_l -> 0:
    ///
    ///     l = softplus(-beta (u_w - u_l')),    dl/du_w = -beta sigma(-beta h'),
    ///     dl/du_l = beta sigma(-beta h') sigma(u_l + log(lam/(1-lam))),   h' = u_w - u_l'.
    ///
    /// Log space: `log|dl/du_w| = log beta - softplus(beta h')`, and `dl/du_l` adds
    /// `log sigma(u_l + log(lam/(1-lam)))`.
    public struct BDPO: PreferenceLoss {
        /// The mixing weight `lam` (`--loss-param bdpo_lambda=...`).
        public static let lambda = LossParameter(
            name: "bdpo_lambda", symbol: "lambda", summary: "weight of pi_l in the mixture with the reference",
            defaultValue: 0.5, range: ParameterRange(lower: 0, included: false, upper: 1))
        public static let descriptor = LossDescriptor(
            name: "bdpo", summary: "bounded DPO (Cho et al. 2025)", rewardGap: .ignored, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: false, hasFlatRegion: false, parameters: [lambda])
        public static let rooflineOps: RooflineOps? = RooflineOps(exp: 3, log1p: 2, div: 2)
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double, lambda: Double
        /// `log lam` and `log(1 - lam)`, formed once.
        public let logLam: Double, log1mLam: Double
        @inlinable public init(unchecked p: LossParameters) {
            beta = p.beta
            lambda = Self.lambda.value(in: p)
            logLam = Elementary.log(lambda)
            log1mLam = Elementary.log(onePlus: -lambda)
        }
        /// `u_l'` and `d u_l'/d u_l`.
        @inlinable @inline(__always)
        func mixed(_ uL: Double) -> (uL: Double, weight: Double) {
            if lambda >= 1 { return (uL, 1) }
            return (logAddExp(logLam + uL, log1mLam), BranchFree.sigmoid(uL + logLam - log1mLam))
        }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let (uLMixed, weight) = mixed(uL)
            let x = beta * (uW - uLMixed)
            let e = BranchFree.expNegAbs(x), l = Elementary.log(onePlus: e)
            let s = BranchFree.sigmoidNeg(x, e)
            return (BranchFree.softplusNeg(x, e, l), -beta * s, beta * s * weight)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let (uLMixed, weight) = mixed(uL)
            let s = BranchFree.sigmoid(-(beta * (uW - uLMixed)))
            return (-beta * s, beta * s * weight)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            let logBeta = Elementary.log(beta)
            let lam = lambda
            let uLMixed = lam >= 1 ? uL : logAddExp(Elementary.log(lam) + uL, Elementary.log(onePlus: -lam))
            let xm = beta * (uW - uLMixed)
            let logWeight = lam >= 1 ? 0 : -softplus(-(uL + Elementary.log(lam) - Elementary.log(onePlus: -lam)))
            return .separate(chosen: SignedLog(logMagnitude: logBeta - softplus(xm), sign: -1),
                             rejected: SignedLog(logMagnitude: logBeta - softplus(xm) + logWeight, sign: 1))
        }
    }
}
