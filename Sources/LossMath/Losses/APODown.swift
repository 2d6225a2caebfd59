import RealModule

extension Loss {
    /// APO-down (TRL `apo_down`); see ``Losses/APODown``.
    public static let apoDown = Loss(Losses.APODown.self)
}

extension Losses {
    /// APO-down (TRL `apo_down`, D'Oosterlinck et al. 2024, arXiv 2408.06266), `a = beta u_w`, `x = beta h`:
    ///
    ///     l = sigma(a) + 1 - sigma(x) = sigma(a) + sigma(-x)
    ///     dl/du_w = beta (sigma'(a) - sigma'(x)),    dl/du_l = beta sigma'(x),   sigma' = sigma(t) sigma(-t).
    ///
    /// Log space: `log dl/du_l = log beta - softplus(-x) - softplus(x)`. `dl/du_w` has no log
    /// form: it is the plain difference where the two densities are a factor 4 apart, and a
    /// sinh-cosh form without cancellation where they are close (below); it underflows to 0
    /// where both densities are below the double range (|a| and |x| beyond ~745).
    public struct APODown: PreferenceLoss {
        public static let descriptor = LossDescriptor(
            name: "apo_down", summary: "APO-down (D'Oosterlinck et al. 2024)", rewardGap: .ignored, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: false, hasFlatRegion: false, parameters: [])
        public static let rooflineOps: RooflineOps? = nil
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta }

        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let a = beta * uW, x = beta * (uW - uL)
            let densityA = sigmoidDensity(a), densityX = sigmoidDensity(x)
            let dx = beta * densityX
            // dl/du_w = beta (sigma'(a) - sigma'(x)) cancels when u_l ~ 0 (a ~ x). With
            // sigma'(t) = 1/(4 cosh^2(t/2)) and cosh^2 P - cosh^2 Q = sinh(P+Q) sinh(P-Q):
            // sigma'(a) - sigma'(x) = sinh((x+a)/2) sinh((x-a)/2) / (4 cosh^2(a/2) cosh^2(x/2)),
            // where (x - a)/2 = -beta u_l / 2 is formed without subtraction.
            let p = 0.5 * (a + x), q = -0.5 * beta * uL
            let ha = 0.5 * a, hx = 0.5 * x
            // Both forms are computed and one selected (no branch, so batch loops vectorise).
            // With m = expm1(|t|) >= 0: sinh t = sign(t) (m + m/(1 + m))/2 (expm1(-|t|) =
            // -m/(1 + m); the two terms have the same sign, so no cancellation, and 1 + m >= 1);
            // cosh t = (E + 1/E)/2 with E = e^t.
            @inline(__always) func sinh(_ t: Double) -> Double {
                let m = Elementary.expMinusOne(Swift.abs(t))
                return Double(signOf: t, magnitudeOf: 0.5 * (m + m / (1 + m)))
            }
            @inline(__always) func cosh(_ t: Double) -> Double {
                let e = Elementary.exp(t)
                return 0.5 * (e + 1 / e)
            }
            let ca = cosh(ha), cx = cosh(hx)
            let sp = sinh(p), sq = sinh(q)
            // Divided pairwise (each quotient is at most 1: 2 cosh(ha) cosh(hx) >= cosh(p) >=
            // |sinh(p)|, and likewise for q), so that nothing overflows while
            // |ha| + |hx| < 700 (|p| and |q| are at most that; 4 ca^2 cx^2 alone would overflow
            // from |ha| + |hx| ~ 355).
            let nearby = beta * (sp / (2 * ca * cx)) * (sq / (2 * ca * cx))
            // The direct difference is exact to a few ulps when the densities are a factor 4
            // or more apart (error amplification at most 5/3). The sinh form is not there:
            // its p = (a + x)/2 and q carry rounding errors of ulp(x), which e^p amplifies
            // (up to ~400 ulps with u_l collapsed, beta h in the hundreds, |beta u_w| ~ 1e-3).
            let far = beta * (densityA - densityX)
            let apart = densityX < 0.25 * densityA || densityX > 4 * densityA
            let dW = Swift.abs(ha) + Swift.abs(hx) < 700 && !apart ? nearby : far
            return (LossMath.sigmoid(a) + LossMath.sigmoid(-x), dW, dx)
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let r = evaluate(uW: uW, uL: uL, rewardGap: rewardGap)
            return (r.dChosen, r.dRejected)
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            let x = beta * (uW - uL)
            return .separate(chosen: nil, rejected: SignedLog(logMagnitude: Elementary.log(beta) - softplus(-x) - softplus(x), sign: 1))
        }
    }
}
