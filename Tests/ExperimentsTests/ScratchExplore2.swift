import Testing
import LossMath
@testable import Experiments
#if canImport(Glibc)
import Glibc
#endif

@Test func scratchDPOGrowth() throws {
    guard getenv("EXPLORE2") != nil else { return }
    let beta = 0.5
    let sim = SimulationConfig(prompts: 2, responses: 3, pairsPerPrompt: 2, labels: .hard, beta: beta, seed: 3)
    for (opt, lr) in [(Optimizer.adam, 0.1), (.adam, 1.0), (.adam, 10.0), (.sgd, 1.0), (.sgd, 100.0)] {
        let r = try Trainer.train(sim, TrainingConfig(loss: .sigmoid, optimizer: opt, learningRate: lr, steps: 1_000_000, logEvery: 1))
        let pick = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000]
        print(opt, lr, pick.map { (t: Int) in (t, beta * r.metrics[t].maxH) })
    }
}
