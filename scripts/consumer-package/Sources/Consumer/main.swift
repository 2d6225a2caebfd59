// Uses the public API of LossMath and Experiments as a dependent package would, and checks
// results against values derived by hand (not read off the toolkit's output). Exits 1 on any
// failed check.
import Experiments
import Foundation
import LossMath

var failures = 0
var checks = 0
@MainActor func check(_ ok: Bool, _ what: String) {
    checks += 1
    if !ok { failures += 1; print("consumer: FAILED: \(what)") }
}

// DPO at h = 0: -log sigma(0) = log 2, dl/du_w = -beta sigma(0) = -beta/2, dl/du_l = +beta/2.
do {
    let beta = 0.1
    let pair = PairLogProbs(chosen: -12.5, rejected: -30.25, refChosen: -12.5, refRejected: -30.25)
    let e = try Loss(name: "sigmoid").evaluate(pair, LossParameters(beta: beta))
    check(abs(e.value - 0.693_147_180_559_945_3) <= 1e-15, "sigmoid value at h = 0 is log 2, got \(e.value)")
    check(abs(e.dChosen + beta / 2) <= 1e-16 && abs(e.dRejected - beta / 2) <= 1e-16,
          "sigmoid derivatives at h = 0 are -+beta/2, got \(e.dChosen), \(e.dRejected)")
} catch {
    check(false, "sigmoid: \(error)")
}

// The principled loss (beta h - dr)^2 at its target: beta = 0.5, h = 2, dr = 1 gives 0 and a
// zero gradient (docs/theory.md, T4 and T8).
do {
    let pair = PairLogProbs(chosen: -3, rejected: -9, refChosen: -4, refRejected: -8)
    let e = try Loss(name: "spo").evaluate(pair, LossParameters(beta: 0.5, rewardGap: 1))
    check(e.value == 0 && e.dChosen == 0 && e.dRejected == 0, "spo at its target is 0 with zero gradient, got \(e)")
} catch {
    check(false, "spo: \(error)")
}

// The trainer: the principled loss on the default simulated problem lowers the exact regret
// beta KL(pi || pi*) (docs/theory.md, T2) from its value at pi_ref; regret is never negative.
do {
    let environment = try Environment(SimulationConfig())
    let trainer = try Trainer(environment: environment, config: TrainingConfig(loss: .spo, steps: 300))
    let result = trainer.run()
    let regrets = result.metrics.map(\.regret)
    if let first = regrets.first, let last = regrets.last {
        check(regrets.count >= 2, "the run logs at least the first and the last step")
        check(regrets.allSatisfy { $0.isFinite && $0 >= -1e-12 }, "regrets are finite and >= 0: \(regrets)")
        check(last < 0.5 * first, "spo halves the regret in 300 steps: \(first) -> \(last)")
    } else {
        check(false, "the run logged no metrics")
    }
} catch {
    check(false, "trainer: \(error)")
}

print("consumer: \(checks - failures) of \(checks) checks hold")
if failures > 0 { exit(1) }
