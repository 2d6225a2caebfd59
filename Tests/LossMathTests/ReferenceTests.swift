import LossMath
import RealModule
import Testing

/// Values and derivatives against 50-digit mpmath references (Tests/LossMathTests/
/// ReferenceValues.swift, generated once by Tools/make_references.py and committed).
///
/// Error model. The references are exact functions of the double inputs, but our code,
/// like any double-precision code, first forms `u = logp - ref` and `h = u_w - u_l`,
/// each rounded. That input rounding is not the function's fault: where the function is
/// ill-conditioned (near a stationary point, or a huge `u` cancelling to a small `h`), it
/// is amplified. So each output is allowed
///
///     16 ulps of the reference  +  the spread of our own output when the inputs move by
///                                  one ulp of u_w, u_l and h (an empirical condition term)
///
/// and the tests also report the largest error in ulps over the cases that are well
/// conditioned (spread below one ulp), where the goal is a few ulps.
@Suite struct ReferenceTests {
    static func evaluate(_ r: LossReference, chosenShift: Double = 0, rejectedShift: Double = 0, betaScale: Double = 1) -> LossEvaluation {
        let loss = Loss(rawValue: r.loss)!
        let pair = PairLogProbs(chosen: r.logpChosen + chosenShift, rejected: r.logpRejected + rejectedShift,
                                refChosen: r.refChosen, refRejected: r.refRejected)
        return loss.evaluate(pair, LossParameters(beta: r.beta * betaScale, labelSmoothing: r.labelSmoothing, rewardGap: r.rewardGap))
    }

    /// The spread of each output when log-probabilities move by about one ulp of the
    /// log-ratios they form, and beta by one ulp (1/(2 beta) in ipo and sppo_hard is rounded):
    /// the rounding our formulas cannot avoid.
    static func spread(_ r: LossReference) -> (value: Double, dChosen: Double, dRejected: Double) {
        let base = evaluate(r)
        let uW = r.logpChosen - r.refChosen, uL = r.logpRejected - r.refRejected
        let sW = max(uW.magnitude.ulp, r.logpChosen.magnitude.ulp, r.refChosen.magnitude.ulp, (uW - uL).magnitude.ulp)
        let sL = max(uL.magnitude.ulp, r.logpRejected.magnitude.ulp, r.refRejected.magnitude.ulp, (uW - uL).magnitude.ulp)
        var out = (value: 0.0, dChosen: 0.0, dRejected: 0.0)
        for (a, b, c) in [(sW, 0.0, 1.0), (-sW, 0.0, 1.0), (0.0, sL, 1.0), (0.0, -sL, 1.0), (sW, -sL, 1.0), (-sW, sL, 1.0),
                          (0.0, 0.0, 1 + Double.ulpOfOne), (0.0, 0.0, 1 - Double.ulpOfOne / 2)] {
            let e = evaluate(r, chosenShift: a, rejectedShift: b, betaScale: c)
            out.value = max(out.value, abs(e.value - base.value))
            out.dChosen = max(out.dChosen, abs(e.dChosen - base.dChosen))
            out.dRejected = max(out.dRejected, abs(e.dRejected - base.dRejected))
        }
        return out
    }

    @Test(arguments: Loss.allCases)
    func lossMatchesMpmath(loss: Loss) {
        let cases = lossReferences.filter { $0.loss == loss.rawValue }
        #expect(cases.count >= 40, "too few reference cases for \(loss.rawValue)")
        var worstWellConditioned = 0.0
        for r in cases {
            let e = Self.evaluate(r)
            let s = Self.spread(r)
            for (name, got, want, cond) in [("value", e.value, r.value, s.value),
                                            ("d_logp_chosen", e.dChosen, r.dLogpChosen, s.dChosen),
                                            ("d_logp_rejected", e.dRejected, r.dLogpRejected, s.dRejected)] {
                #expect(got.isFinite, "\(loss.rawValue) \(name) not finite at \(r)")
                // No spurious zero: a representable nonzero reference must not come back as 0.
                if want != 0 && abs(want) >= Double.leastNormalMagnitude && cond < abs(want) / 2 {
                    #expect(got != 0, "\(loss.rawValue) \(name) underflowed to 0; reference \(want) at \(r)")
                }
                let allowed = 16 * max(want.magnitude.ulp, Double.leastNonzeroMagnitude) + 2 * cond
                #expect(abs(got - want) <= allowed,
                        "\(loss.rawValue) \(name): got \(got), mpmath \(want) (\(ulps(got, want)) ulps, allowed \(allowed)) at \(r)")
                if cond <= want.magnitude.ulp && abs(want) >= Double.leastNormalMagnitude {
                    worstWellConditioned = max(worstWellConditioned, ulps(got, want))
                }
            }
        }
        print("accuracy: \(loss.rawValue): worst error \(worstWellConditioned) ulps over well-conditioned mpmath cases")
        // The accuracy goal: a few ulps where the function is well conditioned.
        #expect(worstWellConditioned <= 8, "\(loss.rawValue): worst well-conditioned error \(worstWellConditioned) ulps")
    }

    @Test func scalarFunctionsMatchMpmath() {
        var worst: [String: Double] = [:]
        for r in scalarReferences {
            let got: Double
            switch r.function {
            case "softplus": got = softplus(r.x)
            case "logSigmoid": got = logSigmoid(r.x)
            case "sigmoid": got = sigmoid(r.x)
            case "log1mexp": got = log1mexp(r.x)
            case "logAddExp": got = logAddExp(r.x, r.y)
            case "sigmoidDifference": got = sigmoidDifference(r.x, r.y)
            default: Issue.record("unknown scalar function \(r.function)"); continue
            }
            let e = ulps(got, r.value)
            worst[r.function] = max(worst[r.function] ?? 0, e)
            // Subnormal results carry fewer significant bits: allow their absolute ulp.
            #expect(e <= 4 || abs(got - r.value) <= 4 * Double.leastNonzeroMagnitude,
                    "\(r.function)(\(r.x), \(r.y)) = \(got), mpmath \(r.value): \(e) ulps")
        }
        #expect(worst.count == 6, "all six scalar functions have references: \(worst.keys.sorted())")
    }

    @Test func optimalPolicyMatchesMpmath() {
        #expect(logZReferences.count >= 5)
        for r in logZReferences {
            let (star, logZ) = Theory.optimalPolicy(logReference: r.logRef, rewards: r.rewards, beta: r.beta)
            // log Z is a sum of the shifted inputs' maximum and a log1p-like term: a few ulps
            // of the largest shifted input.
            let scale = r.logRef.indices.map { abs(r.logRef[$0]) + abs(r.rewards[$0] / r.beta) }.max()!
            #expect(abs(logZ - r.logZ) <= 8 * scale.ulp, "log Z \(logZ) vs \(r.logZ)")
            for i in star.indices {
                #expect(abs(star[i] - r.logPiStar[i]) <= 16 * scale.ulp, "log pi*[\(i)] \(star[i]) vs \(r.logPiStar[i])")
            }
            #expect(abs(r.beta * logZ - r.optimalValue) <= 8 * (r.beta * scale).ulp)
        }
    }

    /// bernoulliKL where y - x rounds or sigma(x) is tiny: values from mpmath at 60+ digits
    /// (p log(p/q) + (1-p) log((1-p)/(1-q)) with p = sigma(x), q = sigma(y)). The first
    /// case lost 34 ulps before the rounding error of y - x was carried into e^(y-x).
    @Test func bernoulliKLFarApartLogitsMatchMpmath() {
        let cases: [(x: Double, y: Double, kl: Double)] = [
            (690.0, 2.1972245773362196, 0.10536051565782628),
            (-800.0, -100.0, 3.720075976020836e-44),
            (-800.0, 10.0, 10.000045398899218),
            (-1e5, 1e5, 100000.0),
            (-720.0, -700.5, 5.980195702032476e-305),
            (30.0, 28.0, 4.107113216285979e-13),
            (700.0, 0.0, 0.6931471805599453),
            (0.0, 700.5, 349.55685281944005),
            (-710.0, -706.0, 2.2201551581233204e-307),
        ]
        for c in cases {
            let got = bernoulliKL(logitP: c.x, logitQ: c.y)
            #expect(ulps(got, c.kl) <= 2, "KL(\(c.x) || \(c.y)) = \(got), mpmath \(c.kl): \(ulps(got, c.kl)) ulps")
        }
    }

    /// apo_down's dl/du_w = beta (sigma'(a) - sigma'(x)) for large a with u_l ~ 0, where the
    /// direct difference cancels and the sinh-cosh form once overflowed to 0 (a = 400)
    /// although the value is representable. mpmath at 60 digits, beta = 1.
    @Test func apoDownLargeLogitsMatchMpmath() {
        let cases: [(uW: Double, uL: Double, dW: Double)] = [
            (400, -0x1p-10, 1.8693698824639313e-177),
            (650, -0x1p-10, 4.9897037995002715e-286),
            (-300, 0x1p-20, 4.909703986701613e-137),
        ]
        for c in cases {
            let got = Losses.APODown(unchecked: LossParameters(beta: 1)).evaluate(uW: c.uW, uL: c.uL, rewardGap: 0).dChosen
            #expect(ulps(got, c.dW) <= 8, "apo_down dW(\(c.uW), \(c.uL)) = \(got), mpmath \(c.dW): \(ulps(got, c.dW)) ulps")
        }
    }
}
