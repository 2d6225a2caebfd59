import GSLKit
import LossMath
import Testing

/// dpop's structure, derived from its definition (the mpmath references are in ReferenceTests):
/// with lambda = 0, or wherever u_w >= 0, it is DPO; below, DPO with u_w scaled by 1 + lambda.
@Suite struct DPOPTests {
    @Test func reducesToDPO() {
        forAll(2000, seed: 0xD909) { rng in
            let beta = rng.logUniform(1e-3, 10)
            let pair = PairLogProbs(chosen: rng.uniform(-900, 0), rejected: rng.uniform(-900, 0),
                                    refChosen: rng.uniform(-900, 0), refRejected: rng.uniform(-900, 0))
            let dpo = Loss.sigmoid.evaluate(pair, LossParameters(beta: beta))
            let zero = Loss.dpop.evaluate(pair, LossParameters(beta: beta, values: [Losses.DPOP.lambda.name: 0]))
            #expect(zero.value == dpo.value && zero.dChosen == dpo.dChosen && zero.dRejected == dpo.dRejected)
            let lam = rng.uniform(0, 100)
            let p = LossParameters(beta: beta, values: [Losses.DPOP.lambda.name: lam])
            let e = Loss.dpop.evaluate(pair, p)
            if pair.chosenLogRatio >= 0 {
                #expect(e.value == dpo.value && e.dChosen == dpo.dChosen && e.dRejected == dpo.dRejected)
            } else {
                // x = beta ((1 + lambda) u_w - u_l): DPO at u_w' = (1 + lambda) u_w.
                let x = beta * ((1 + lam) * pair.chosenLogRatio - pair.rejectedLogRatio)
                #expect(abs(e.value - softplus(-x)) <= 1e-12 * max(1, e.value))
                #expect(abs(e.dChosen - (1 + lam) * -e.dRejected) <= 1e-12 * abs(e.dChosen))
            }
            #expect(e.dH == nil)
        }
    }

    /// A chosen response far below its reference (u_w = -800) with the rejected one further down
    /// (u_l = -995): DPO's margin is already +195, but the penalty makes x = -3980.5, so
    /// sigma(-x) = 1 and the chosen side is pushed up with the full slope beta (1 + lambda).
    @Test func pushesAChosenResponseBelowItsReferenceUp() {
        let p = LossParameters(beta: 0.1, values: [Losses.DPOP.lambda.name: 50])
        let pair = PairLogProbs(chosen: -810, rejected: -1000, refChosen: -10, refRejected: -5)
        let e = Loss.dpop.evaluate(pair, p)
        // x = 0.1 (51 * -800 + 995) = -3980.5: sigma(-x) = 1 to double precision.
        #expect(e.dChosen == -0.1 * 51 && e.dRejected == 0.1)
        #expect(abs(e.value - 3980.5) <= 4 * (3980.5).ulp)
    }
}
