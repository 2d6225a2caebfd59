import RealModule

extension Loss {
    /// chi-PO (`chipo`); see ``Losses/ChiPO``.
    public static let chipo = Loss(Losses.ChiPO.self)
}

extension Losses {
    /// chi^2-preference optimisation (`chipo`, Huang et al. 2024, arXiv 2407.13399): DPO with
    /// the log link replaced by `phi(z) = z + log z` of the likelihood ratio `z = pi/pi_ref`,
    /// i.e. `phi = e^u + u` of the log-ratio `u`. With `x = beta ((e^{u_w} + u_w) - (e^{u_l} + u_l))`:
    ///
    ///     l = -log sigma(x) = softplus(-x)
    ///     dl/du_w = -beta sigma(-x) (1 + e^{u_w}),    dl/du_l = beta sigma(-x) (1 + e^{u_l}).
    ///
    /// The paper's algorithm also clips `x` to `[-2 R_max, 2 R_max]` for a reward bound
    /// `R_max`; a per-pair loss has no such bound, so this is the unclipped link (the paper's
    /// `R_max -> infinity`).
    ///
    /// Overflow: `e^u` overflows for u > 709 while `beta e^u` and the loss may not. So
    /// `beta (e^{u_w} - e^{u_l}) = ± beta e^m (-expm1(-|u_w - u_l|))`, `m = max(u_w, u_l)`, is
    /// formed as `exp(m + log beta + log(-expm1(-gap)))` past `m = 700`, and
    /// `beta (1 + e^u) sigma(-x)` as `exp(log beta + softplus(u) - softplus(x))` past `u = 700`
    /// (below, the direct products are a few ulps more accurate). Both forms are computed and
    /// one selected, so loops vectorise.
    /// Log space: `log|dl/du| = log beta + softplus(u) - softplus(x)` for `u = u_w, u_l`.
    public struct ChiPO: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "chipo", summary: "chi-squared preference optimisation (Huang et al. 2024), unclipped",
            rewardGap: .ignored, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: false, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = nil
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double, logBeta: Double
        @inlinable public init(unchecked p: LossParameters) {
            beta = p.beta
            logBeta = Elementary.log(p.beta)
        }

        /// Past this log-ratio the exponentials are formed in log space.
        @usableFromInline static var far: Double { 700 }

        /// `x = beta (phi(u_w) - phi(u_l))`.
        @inlinable @inline(__always)
        func logit(_ uW: Double, _ uL: Double) -> Double {
            let m = Swift.max(uW, uL), gap = Swift.abs(uW - uL)
            let shrink = -Elementary.expMinusOne(-gap)                    // 1 - e^-gap, in [0, 1]
            let near = beta * Elementary.exp(m) * shrink
            let far = Elementary.exp(m + logBeta + Elementary.log(shrink))
            let d = m > Self.far ? far : near                              // beta |e^{u_w} - e^{u_l}|
            return (uW >= uL ? d : -d) + beta * (uW - uL)
        }
        /// `beta (1 + e^u) sigma(-x)`, with `s = sigma(-x)` and `sp = softplus(x)`.
        @inlinable @inline(__always)
        func weight(_ u: Double, _ s: Double, _ sp: Double) -> Double {
            let near = s * (beta * (1 + Elementary.exp(u)))
            let far = Elementary.exp(logBeta + softplus(u) - sp)
            return u > Self.far ? far : near
        }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let x = logit(uW, uL)
            let e = BranchFree.expNegAbs(x), l = Elementary.log(onePlus: e)
            let s = BranchFree.sigmoidNeg(x, e), sp = BranchFree.softplusPos(x, e, l)
            return (BranchFree.softplusNeg(x, e, l), -weight(uW, s, sp), weight(uL, s, sp))
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let r = evaluate(uW: uW, uL: uL, rewardGap: rewardGap)
            return (r.dChosen, r.dRejected)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            let sp = softplus(logit(uW, uL))
            // x = +infinity (beta e^{u_w} beyond the double range): both logs are -infinity,
            // read as zero rather than as a signed magnitude.
            let w = logBeta + softplus(uW) - sp, l = logBeta + softplus(uL) - sp
            return .separate(chosen: SignedLog(logMagnitude: w, sign: w == -.infinity ? 0 : -1),
                             rejected: SignedLog(logMagnitude: l, sign: l == -.infinity ? 0 : 1))
        }
    }
}
