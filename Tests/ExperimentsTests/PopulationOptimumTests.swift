import Testing
#if canImport(Glibc)
import Glibc
#endif
import LossMath
import Experiments

/// Where each loss's population (infinite-data) minimiser sits relative to pi* (T5, T10).
@Suite struct PopulationOptimumTests {

    func twoResponses(_ labels: SimulationConfig.Labels, beta: Double, seed: UInt64) throws -> (SimulationConfig, Double) {
        let sim = SimulationConfig(prompts: 1, responses: 2, pairsPerPrompt: 1, labels: labels, beta: beta, seed: seed)
        let env = try Environment(sim)
        return (sim, env.rewards[0] - env.rewards[1])
    }

    /// h of the ordered pair (0 chosen, 1 rejected) at the final point (minus h of (1, 0)
    /// when only that order carries weight).
    func h01(_ r: PopulationOptimum.Result) -> Double {
        if let p = r.pairs.first(where: { $0.chosen == 0 && $0.rejected == 1 }) { return p.h }
        return -r.pairs.first(where: { $0.chosen == 1 && $0.rejected == 0 })!.h
    }

    /// T5 in closed form: one pair, both orders weighted by sigma(+-dr):
    /// sigma(dr) l(h) + sigma(-dr) l(-h) is minimised by DPO at beta*h = dr exactly.
    @Test(arguments: [(0.5, UInt64(1)), (0.1, 2), (2.0, 3)])
    func dpoUnderBradleyTerryLandsOnTheTarget(beta: Double, seed: UInt64) throws {
        let (sim, dr) = try twoResponses(.bt, beta: beta, seed: seed)
        let r = try PopulationOptimum.solve(sim, training: TrainingConfig(loss: .sigmoid))
        #expect(r.status == .minimum)
        #expect(close(h01(r), dr / beta, abs: 1e-5))
        #expect(Swift.abs(r.regret) < 1e-10)
    }

    /// IPO's population minimiser: under BT, argmin sigma(dr)(h - c)^2 + sigma(-dr)(h + c)^2 is
    /// h = c tanh(dr/2); under hard labels it is its own target c = 1/(2 beta) (T10).
    @Test(arguments: [0.5, 2.0])
    func ipoLandsAtItsOwnTarget(beta: Double) throws {
        let c = 1 / (2 * beta)
        let (bt, dr) = try twoResponses(.bt, beta: beta, seed: 4)
        let r = try PopulationOptimum.solve(bt, training: TrainingConfig(loss: .ipo))
        #expect(r.status == .minimum)
        #expect(close(h01(r), c * tanh(dr / 2), abs: 1e-7))
        let (hard, _) = try twoResponses(.hard, beta: beta, seed: 4)
        let rh = try PopulationOptimum.solve(hard, training: TrainingConfig(loss: .ipo))
        #expect(rh.pairs.count == 1)
        #expect(close(rh.pairs[0].h, c, abs: 1e-7))
        // Which is pi* only by coincidence (dr = 1/2).
        #expect(rh.regret > 1e-6)
    }

    /// The target losses reach pi* exactly under either label model (tabular and log-linear).
    @Test(arguments: [Loss.spo, .spoBT, .rpoBackwardKL])
    func targetLossesReachTheOptimum(loss: Loss) throws {
        for labels in SimulationConfig.Labels.allCases {
            for policy in SimulationConfig.Policy.allCases {
                let sim = SimulationConfig(policy: policy, prompts: 2, responses: 4, pairsPerPrompt: 3, features: 2, labels: labels, beta: 0.5, seed: 5)
                let r = try PopulationOptimum.solve(sim, training: TrainingConfig(loss: loss))
                #expect(r.status == .minimum, "\(loss) \(labels) \(policy)")
                #expect(Swift.abs(r.regret) < 1e-10, "\(loss) \(labels) \(policy): regret \(r.regret)")
                #expect(r.maxAbsHMinusTarget < 1e-5)
            }
        }
    }

    /// DPO: at pi* in population under BT labels (T5), but without a minimiser under hard
    /// labels, where the solver must say so instead of reporting the point it stopped at.
    @Test(arguments: [SimulationConfig.Policy.tabular, .loglinear])
    func dpoPopulationOptimumDependsOnTheLabels(policy: SimulationConfig.Policy) throws {
        var sim = SimulationConfig(policy: policy, prompts: 3, responses: 4, pairsPerPrompt: 3, features: 2, labels: .bt, beta: 0.5, seed: 9)
        let bt = try PopulationOptimum.solve(sim, training: TrainingConfig(loss: .sigmoid))
        #expect(bt.status == .minimum)
        #expect(Swift.abs(bt.regret) < 1e-10)
        sim.labels = .hard
        let hard = try PopulationOptimum.solve(sim, training: TrainingConfig(loss: .sigmoid))
        #expect(hard.status == .diverging)
        #expect(hard.maxAbsH > 10 / 0.5)
        #expect(hard.regret > 0.01)
    }

    /// IPO with hard labels on several responses: a finite minimiser that is not pi*
    /// (pairwise differences cannot all equal 1/(2 beta)).
    @Test func ipoMinimiserIsNotTheOptimum() throws {
        let sim = SimulationConfig(prompts: 2, responses: 4, pairsPerPrompt: 3, labels: .hard, beta: 0.5, seed: 5)
        let r = try PopulationOptimum.solve(sim, training: TrainingConfig(loss: .ipo))
        #expect(r.status == .minimum)
        #expect(r.regret > 1e-3)
        // Its stationarity: the weighted residuals h - c sum to ~0 in each prompt's gradient;
        // check the solver's own gradient norm.
        #expect(r.gradientNorm < 1e-7)
    }
}
