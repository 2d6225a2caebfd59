import GSLKit
import LossMath
import Testing

/// Every analytic derivative against GSL's numerical differentiation (`gsl_deriv_central`).
@Suite struct DerivativeTests {
    /// A pair in the regime where central differences are accurate: |beta u| <= 30.
    /// chipo's logit is beta e^u: its log-ratios stay below log(30/beta) there.
    static func randomCase(_ rng: RandomGenerator, loss: Loss? = nil) -> (PairLogProbs, Double, Double) {
        let beta = rng.logUniform(1e-2, 10)
        let spread = 30 / beta
        let top = loss == .chipo ? Swift.min(0.5 * spread, Double.log(30 / beta)) : 0.5 * spread
        let refW = rng.uniform(-900, -1), refL = rng.uniform(-900, -1)
        let pair = PairLogProbs(chosen: refW + Swift.min(rng.uniform(-spread, spread) * 0.5, top),
                                rejected: refL + Swift.min(rng.uniform(-spread, spread) * 0.5, top),
                                refChosen: refW, refRejected: refL)
        let dr = rng.uniform(-5, 5)
        return (pair, beta, dr)
    }

    @Test(arguments: Loss.allCases)
    func analyticMatchesNumerical(loss: Loss) throws {
        var checked = 0
        try forAll(200, seed: 0xD1FF + UInt64(Loss.allCases.firstIndex(of: loss)!)) { rng in
            let (pair, beta, dr) = Self.randomCase(rng, loss: loss)
            let p = parameters(for: loss, beta: beta, rewardGap: loss == .spoAsym && abs(dr) < 0.3 ? 1 : dr)
            let e = loss.evaluate(pair, p)
            if loss == .hinge && abs(beta * pair.logitsDifference - 1) < 1e-3 { return }   // the kink
            if loss == .dpop && abs(pair.chosenLogRatio) < 2e-3 { return }                    // the kink at u_w = 0
            for side in 0..<2 {
                let f: (Double) -> Double = { t in
                    var q = pair
                    if side == 0 { q.chosen = t } else { q.rejected = t }
                    return loss.evaluate(q, p).value
                }
                let at = side == 0 ? pair.chosen : pair.rejected
                let analytic = side == 0 ? e.dChosen : e.dRejected
                let step = 1e-3 / max(1, beta)
                let (numeric, err) = try NumericalDerivative.central(f, at: at, step: step)
                let tol = 1e-6 * max(1, abs(analytic)) + 10 * err
                #expect(abs(numeric - analytic) <= tol,
                        "\(loss.rawValue) d/d\(side == 0 ? "chosen" : "rejected") at \(pair), beta \(beta): analytic \(analytic), numeric \(numeric) ± \(err)")
                checked += 1
            }
            if let dH = e.dH {
                #expect(dH == e.dChosen && -dH == e.dRejected, "\(loss.rawValue): dl/dh must equal dl/du_w = -dl/du_l")
            }
        }
        #expect(checked > 300)
    }

    /// The log-space derivatives agree with the plain ones wherever the plain ones are normal.
    @Test(arguments: Loss.allCases)
    func logDerivativesAgreeWithPlain(loss: Loss) {
        forAll(300, seed: 0x10D) { rng in
            let (pair, beta, dr) = Self.randomCase(rng, loss: loss)
            let p = parameters(for: loss, beta: beta, rewardGap: loss == .spoAsym && abs(dr) < 0.3 ? 1 : dr)
            let e = loss.evaluate(pair, p)
            let d = loss.logDerivatives(pair, p)
            for (plain, logged) in [(e.dChosen, d.chosen), (e.dRejected, d.rejected)] where abs(plain) > 1e-280 {
                #expect(logged.sign == (plain > 0 ? 1 : -1))
                #expect(abs(logged.logMagnitude - Double.log(abs(plain))) < 1e-12 * max(1, abs(logged.logMagnitude)))
            }
        }
    }

    /// Where the plain derivative underflows, the log form keeps the probability-space
    /// gradient: DPO at beta = 1 has dl/dpi_l -> beta * pi_ref_l / ... a finite constant.
    @Test func probabilityGradientSurvivesUnderflow() {
        let p = LossParameters(beta: 1)
        let logRef = Double.log(0.1)
        // pi_l = 1e-400: sigma(-beta h) = e^-919 underflows, yet dl/dpi_l = sigma(-h)/pi_l
        // -> (pi_ref_w/(pi_w pi_ref_l)) * ... = 1/pi_ref_l * (pi_ref... ) exactly:
        // sigma(-h) / pi_l ~ e^{-h} / pi_l = (pi_l/pi_ref_l)(pi_ref_w/pi_w) / pi_l = pi_ref_w / (pi_w pi_ref_l).
        let pair = PairLogProbs(chosen: logRef, rejected: -400 * Double.log(10), refChosen: logRef, refRejected: logRef)
        #expect(Loss.sigmoid.evaluate(pair, p).dRejected == 0)   // the plain derivative underflows
        let g = ProbabilityGradients(loss: .sigmoid, pair: pair, parameters: p).rejected
        // beta * pi_ref_w / (pi_w * pi_ref_l) = 1 * 0.1 / (0.1 * 0.1) = 10.
        #expect(g.sign == 1)
        #expect(abs(g.log10Magnitude - 1) < 1e-12)
    }
}
