import RealModule

extension Loss {
    /// DiscoPOP (TRL `discopop`); see ``Losses/DiscoPOP``.
    public static let discopop = Loss(Losses.DiscoPOP.self)
}

extension Losses {
    /// DiscoPOP (TRL `discopop`, Chris Lu et al. 2024, arXiv 2406.08414), `x = beta h`,
    /// `m = sigma(x/tau)`:
    ///
    ///     l = (1-m) softplus(-x) + m exp(-x)
    ///     dl/dx = m'(e^-x - softplus(-x)) - (1-m) sigma(-x) - m e^-x,    m' = m(1-m)/tau.
    ///
    /// Products such as `m e^-x` are formed as `exp(log m - x)`, since `e^-x` alone overflows
    /// for x < -709 while the product is tiny. Log space for `x >= 0`: `m e^-x` factored out;
    /// for `x < 0` `dl/dx` tends to -1 and cannot underflow.
    public struct DiscoPOP: PreferenceLoss {
        /// The temperature `tau` (TRL `discopop_tau`; `--loss-param discopop_tau=...`).
        public static let tau = LossParameter(
            name: "discopop_tau", symbol: "tau", summary: "temperature of the mixing sigmoid (TRL discopop_tau)",
            defaultValue: 0.05, range: ParameterRange(lower: 0, included: false))
        public static let descriptor = LossDescriptor(
            name: "discopop", summary: "DiscoPOP (Lu et al. 2024)", rewardGap: .ignored, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: true, hasFlatRegion: false, parameters: [tau])
        public static let rooflineOps: RooflineOps? = nil
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double, tau: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta; tau = Self.tau.value(in: p) }

        /// The value and `dl/dx` at `x`.
        @inlinable @inline(__always)
        public func ofLogit(_ x: Double) -> (value: Double, dx: Double) {
            let logM = -softplus(-x / tau)       // log m
            let log1mM = -softplus(x / tau)      // log(1 - m)
            // m and 1 - m themselves come from the same exponential as their logs (no products
            // with e^-x, so no log space needed): sigma(±x/tau).
            let m = LossMath.sigmoid(x / tau), oneMinusM = LossMath.sigmoid(-x / tau)
            let sp = softplus(-x)
            let value = oneMinusM * sp + Elementary.exp(logM - x)
            let mm = m * oneMinusM / tau                                 // m' = m(1-m)/tau
            let t1 = Elementary.exp(logM + log1mM - x) / tau             // m' e^-x
            let t2 = mm * sp                                             // m' softplus(-x)
            let t3 = oneMinusM * LossMath.sigmoid(-x)                    // (1-m) sigma(-x)
            let t4 = Elementary.exp(logM - x)                            // m e^-x
            // Near x = 0 the four terms (about 5, 3.5, 0.25, 0.5 at tau = 0.05) cancel to
            // about 0.78 (up to ~17 ulps lost). There t1 - t2 = m' (e^-x - softplus(-x)) is
            // formed as m' ((1 - log 2) + em - log1p(em/2)), em = expm1(-x), whose terms do
            // not cancel for |x| <= 1/32; one subtraction of two positive terms is left.
            let em = Elementary.expMinusOne(-x)
            let g = 0x1.3a37a020b8c22p-2 + em - Elementary.log(onePlus: 0.5 * em)   // 1 - log 2 = 0.30685...
            let small = sigmoidDensity(x / tau) / tau * g - (t3 + t4)
            return (value, Swift.abs(x) <= 0x1p-5 ? small : t1 - t2 - t3 - t4)
        }
        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let r = ofLogit(beta * (uW - uL))
            let dh = beta * r.dx
            return (r.value, dh, -dh)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let r = evaluate(uW: uW, uL: uL, rewardGap: rewardGap)
            return (r.dChosen, r.dRejected)
        }
        /// The batch loop runs the eight-lane forms below (the same bits per pair).
        @inlinable public static var hasEightLaneKernel: Bool { true }
        /// ``ofLogit(_:)-(Double)`` in eight lanes, lane i bit for bit the scalar result. The
        /// terms that the scalar form evaluates twice with the same bits are formed once:
        /// `e^-|x/tau|` and its `log1p` (shared by `softplus(±x/tau)`, `sigma(±x/tau)` and the
        /// density; `(-x)/tau` is `-(x/tau)` exactly), and `e^-|x|` with its `log1p`.
        @inlinable @inline(__always)
        public func ofLogit(_ x: SIMD8<Double>) -> (value: SIMD8<Double>, dx: SIMD8<Double>) {
            let t = x / tau, negX = SIMD8Sign.negated(x)
            let et = BranchFree.expNegAbs(t), lt = Elementary.log(onePlus: et)
            let ex = BranchFree.expNegAbs(x), lx = Elementary.log(onePlus: ex)
            let logM = SIMD8Sign.negated(BranchFree.softplusNeg(t, et, lt))      // -softplus(-x/tau)
            let log1mM = SIMD8Sign.negated(BranchFree.softplusPos(t, et, lt))    // -softplus(x/tau)
            let m = BranchFree.sigmoidPos(t, et), oneMinusM = BranchFree.sigmoidNeg(t, et)
            let sp = BranchFree.softplusNeg(x, ex, lx)                            // softplus(-x)
            let t4 = Elementary.exp(logM - x)
            let value = oneMinusM * sp + t4
            let mm = m * oneMinusM / tau
            let t1 = Elementary.exp(logM + log1mM - x) / tau
            let t2 = mm * sp
            let t3 = oneMinusM * BranchFree.sigmoidNeg(x, ex)                     // (1-m) sigma(-x)
            // The |x| <= 1/32 form; expm1 without its |x| > 40 branch, which those lanes never take.
            let em = Elementary.expMinusOneWithin40(negX)
            let g = 0x1.3a37a020b8c22p-2 + em - Elementary.log(onePlus: 0.5 * em)
            let d = 1 + et                                                        // sigmoidDensity(x/tau)
            let small = et / (d * d) / tau * g - (t3 + t4)
            let near = (x .<= 0x1p-5) .& (x .>= -0x1p-5)
            return (value, Elementary.select(near, small, t1 - t2 - t3 - t4))
        }
        /// ``evaluate(uW:uL:rewardGap:)-(Double,_,_)`` of eight pairs, lane i bit for bit the
        /// scalar result.
        @inlinable @inline(__always)
        public func evaluate(uW: SIMD8<Double>, uL: SIMD8<Double>, rewardGap: SIMD8<Double>)
            -> (value: SIMD8<Double>, dChosen: SIMD8<Double>, dRejected: SIMD8<Double>) {
            let r = ofLogit(beta * (uW - uL))
            let dh = beta * r.dx
            return (r.value, dh, SIMD8Sign.negated(dh))
        }
        /// ``derivatives(uW:uL:rewardGap:)-(Double,_,_)`` of eight pairs (those of the
        /// eight-lane `evaluate`, as in the scalar form).
        @inlinable @inline(__always)
        public func derivatives(uW: SIMD8<Double>, uL: SIMD8<Double>, rewardGap: SIMD8<Double>)
            -> (dChosen: SIMD8<Double>, dRejected: SIMD8<Double>) {
            let r = evaluate(uW: uW, uL: uL, rewardGap: rewardGap)
            return (r.dChosen, r.dRejected)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            let x = beta * (uW - uL)
            guard x >= 0 else { return .plainIsAccurate }
            let logM = -softplus(-x / tau), log1mM = -softplus(x / tau)
            // d = t1 - t2 - t3 - t4 with t4 = m e^-x; divide through by t4.
            let r1 = Elementary.exp(log1mM) / tau
            let r2 = Elementary.exp(log1mM + x) * softplus(-x) / tau
            let r3 = Elementary.exp(log1mM - logM + x - softplus(x))
            let q = r1 - r2 - r3 - 1
            if q == 0 { return .logitsDifference(SignedLog(0)) }
            return .logitsDifference(SignedLog(logMagnitude: logM - x + Elementary.log(Swift.abs(q)), sign: q > 0 ? 1 : -1))
        }
    }
}
