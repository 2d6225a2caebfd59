import GSLKit
import LossMath
import RealModule

// Deterministic random inputs for property tests: GSL's MT19937 with a fixed seed per
// test, so a failure reproduces exactly on every machine. (PropertyBased's generators are
// used where shrinking helps; its seeds are random per run and printed on failure.)

/// Runs `body` `count` times with a generator seeded by `seed`.
func forAll(_ count: Int, seed: UInt64, _ body: (RandomGenerator) throws -> Void) rethrows {
    let rng = RandomGenerator(seed: seed)
    for _ in 0..<count { try body(rng) }
}

extension RandomGenerator {
    /// Uniform in [a, b).
    func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }
    /// Log-uniform in [a, b), a > 0.
    func logUniform(_ a: Double, _ b: Double) -> Double {
        Double.exp(uniform(Double.log(a), Double.log(b)))
    }
}

/// The error of `computed` against `reference`, in units of the reference's ulp.
func ulps(_ computed: Double, _ reference: Double) -> Double {
    if computed == reference { return 0 }
    let scale = reference == 0 ? Double.leastNonzeroMagnitude : reference.magnitude.ulp
    return Swift.abs(computed - reference) / scale
}

/// Every loss with parameters it accepts (eps = 0.1 where used, dr given).
func parameters(for loss: Loss, beta: Double, rewardGap: Double = 1) -> LossParameters {
    LossParameters(beta: beta, labelSmoothing: loss.usesLabelSmoothing ? 0.1 : 0, rewardGap: rewardGap)
}

/// The h-only losses with a finite target at beta h = dr.
let targetLosses: [Loss] = [.spo, .spoBT, .spoAsym, .rpoSq, .rpoBackwardKL, .rpoForwardKL]
