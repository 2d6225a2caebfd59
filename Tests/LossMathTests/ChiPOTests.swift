import GSLKit
import LossMath
import Testing

/// chipo's structure, derived from its definition (the mpmath references, up to u = 1000, are
/// in ReferenceTests): swapping the responses negates the logit, the derivatives' ratio is
/// that of phi', and it is finite wherever the true values are representable although e^u is not.
@Suite struct ChiPOTests {
    /// l(u_w, u_l) - l(u_l, u_w) = softplus(-x) - softplus(x) = -x, x = beta (e^{u_w} + u_w - e^{u_l} - u_l).
    @Test func swapNegatesTheLogit() {
        forAll(2000, seed: 0xC41) { rng in
            let beta = rng.logUniform(1e-3, 10)
            let uW = rng.uniform(-20, 5), uL = rng.uniform(-20, 5)
            let p = LossParameters(beta: beta)
            let a = Loss.chipo.evaluate(PairLogProbs(chosen: uW, rejected: uL, refChosen: 0, refRejected: 0), p)
            let b = Loss.chipo.evaluate(PairLogProbs(chosen: uL, rejected: uW, refChosen: 0, refRejected: 0), p)
            let x = beta * ((Double.exp(uW) + uW) - (Double.exp(uL) + uL))
            #expect(abs((a.value - b.value) + x) <= 1e-12 * max(1, abs(x)))
            // Both derivatives share beta sigma(-x): their ratio is -(1 + e^{u_w}) / (1 + e^{u_l}).
            guard abs(a.dRejected) > 1e-290 else { return }   // sigma(-x) below the normal range
            let ratio = -(1 + Double.exp(uW)) / (1 + Double.exp(uL))
            #expect(abs(a.dChosen / a.dRejected - ratio) <= 1e-13 * abs(ratio))
        }
    }

    /// e^u overflows past u = 709.8; the loss, scaled by a small beta, does not.
    @Test func finiteBeyondTheExponentialRange() {
        let p = LossParameters(beta: 1e-300)
        for (uW, uL) in [(999.0, 1000.0), (1000.0, 999.0), (720.0, 710.0), (-800.0, 1000.0)] {
            let e = Loss.chipo.evaluate(PairLogProbs(chosen: uW, rejected: uL, refChosen: 0, refRejected: 0), p)
            #expect(e.value.isFinite && e.dChosen.isFinite && e.dRejected.isFinite, "\(uW), \(uL): \(e)")
            let d = Loss.chipo.logDerivatives(PairLogProbs(chosen: uW, rejected: uL, refChosen: 0, refRejected: 0), p)
            #expect(!d.chosen.logMagnitude.isNaN && !d.rejected.logMagnitude.isNaN)
        }
        // u_w = 999, u_l = 1000: x = -1e-300 e^1000 (1 - e^-1) - 1e-300 ~ -1.2420e134, l = -x.
        let e = Loss.chipo.evaluate(PairLogProbs(chosen: 999, rejected: 1000, refChosen: 0, refRejected: 0), p)
        let expected = 1e-300 * Double.exp(700) * Double.exp(300) * (1 - Double.exp(-1))
        #expect(abs(e.value - expected) <= 1e-12 * expected)
    }
}
