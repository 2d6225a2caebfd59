import Foundation
import Testing
import GSLKit
import LossMath
@testable import Experiments

/// The study's reward model for tabular and log-linear cells (``TabularRewardModel``):
/// its gradient against GSL's numerical derivative, its fit against the truth, and the
/// environment the arms train on.
@Suite struct TabularRewardModelTests {
    static func environment(_ policy: SimulationConfig.Policy, prompts: Int = 3, responses: Int = 5, n: Int = 6,
                            labels: SimulationConfig.Labels = .hard, noise: Double = 0.5) throws -> Environment {
        try Environment(SimulationConfig(policy: policy, prompts: prompts, responses: responses, pairsPerPrompt: n, features: 3,
                                         rewardNoise: noise, labels: labels, seed: 7))
    }

    @Test(arguments: [SimulationConfig.Policy.tabular, .loglinear])
    func gradientMatchesGSLNumericalDerivative(policy: SimulationConfig.Policy) throws {
        let env = try Self.environment(policy)
        let count = TabularRewardModel.parameterCount(env)
        let rng = RandomGenerator(seed: 3)
        let theta = (0..<count).map { _ in rng.gaussian(sigma: 1) }
        var gradient: [Double] = []
        _ = TabularRewardModel.objective(theta, environment: env, l2: 0.3, gradient: &gradient)
        #expect(gradient.count == count)
        for j in 0..<count {
            let d = try NumericalDerivative.central({ x in
                var t = theta
                t[j] = x
                var g: [Double] = []
                return TabularRewardModel.objective(t, environment: env, l2: 0.3, gradient: &g)
            }, at: theta[j], step: 1e-3)
            #expect(Swift.abs(gradient[j] - d.value) <= 1e-7 + 10 * d.absoluteError, "component \(j): \(gradient[j]) vs \(d.value)")
        }
    }

    /// The fit is a minimum: gradient ~ 0, and the value is below nearby points.
    @Test(arguments: [SimulationConfig.Policy.tabular, .loglinear])
    func fitIsAStationaryMinimum(policy: SimulationConfig.Policy) throws {
        let env = try Self.environment(policy)
        let model = try TabularRewardModel(environment: env, l2: 1e-2)
        #expect(model.converged)
        var g: [Double] = []
        let value = TabularRewardModel.objective(model.parameters, environment: env, l2: 1e-2, gradient: &g)
        #expect(g.map { $0 * $0 }.reduce(0, +).squareRoot() < 1e-6)
        for j in model.parameters.indices {
            for step in [-1e-3, 1e-3] {
                var t = model.parameters
                t[j] += step
                var h: [Double] = []
                #expect(TabularRewardModel.objective(t, environment: env, l2: 1e-2, gradient: &h) > value)
            }
        }
        // Its gaps are score differences of its own scores.
        let K = env.responses
        for (p, gap) in zip(env.pairs, model.gaps(env)) {
            #expect(gap == model.scores[p.prompt * K + p.chosen] - model.scores[p.prompt * K + p.rejected])
        }
    }

    /// Log-linear, Bradley–Terry labels from the true reward (no noise), many pairs: the
    /// MLE recovers w* (the true reward lies in the family). Standard error about 0.02 here.
    @Test func logLinearFitRecoversTheTrueWeightsOnManyLabels() throws {
        let env = try Self.environment(.loglinear, prompts: 400, responses: 8, n: 28, labels: .bt, noise: 0)
        let model = try TabularRewardModel(environment: env, l2: 1e-8)
        let truth = try #require(env.family as? LogLinearPolicy).rewardWeights
        for (a, b) in zip(model.parameters, truth) { #expect(Swift.abs(a - b) < 0.1, "\(model.parameters) vs \(truth)") }
        #expect(model.orderingAccuracy(env) > 0.95)
    }

    /// Tabular, hard noise-free labels on every pair of each prompt: the free reward orders
    /// every pair as the truth does.
    @Test func tabularFitOrdersTheResponsesAsTheTruth() throws {
        let env = try Self.environment(.tabular, prompts: 20, responses: 5, n: 10, labels: .hard, noise: 0)
        let model = try TabularRewardModel(environment: env, l2: 1e-2)
        #expect(model.orderingAccuracy(env) == 1)
        #expect(model.gaps(env).allSatisfy { $0 > 0 })
    }

    /// The arms' environment differs from the base one only in the told gaps.
    @Test func toldGapsReplaceOnlyTheModelGap() throws {
        let env = try Self.environment(.tabular)
        let gaps = env.pairs.indices.map { Double($0) - 3 }
        let told = Environment(env, toldGaps: gaps)
        #expect(told.pairs.map(\.modelRewardGap) == gaps)
        #expect(told.pairs.map(\.trueRewardGap) == env.pairs.map(\.trueRewardGap))
        #expect(told.pairs.map(\.chosen) == env.pairs.map(\.chosen) && told.pairs.map(\.rejected) == env.pairs.map(\.rejected))
        #expect(told.logReference == env.logReference && told.rewards == env.rewards && told.seen == env.seen)
    }

    /// The exact win rate: 1/2 against itself; against pi_ref, by brute force over pairs.
    @Test func exactWinRate() throws {
        let env = try Self.environment(.tabular)
        #expect(Swift.abs(TabularStudyRunner.winRate(env.logReference, against: env.logReference, environment: env) - 0.5) < 1e-14)
        // The optimum beats the reference.
        #expect(TabularStudyRunner.winRate(env.logOptimal, against: env.logReference, environment: env) > 0.5)
        // A point mass on each prompt's best response wins against everything else.
        let K = env.responses
        var best = [Double](repeating: -Double.infinity, count: env.logReference.count)
        var expected = 0.0
        for x in 0..<env.prompts {
            let r = env.rewards(prompt: x)
            let y = try #require(r.indices.max { r[$0] < r[$1] })
            best[x * K + y] = 0
            expected += (0..<K).map { exp(env.logReference[x * K + $0]) * (r[$0] < r[y] ? 1 : 0.5 * (r[$0] == r[y] ? 1 : 0)) }.reduce(0, +)
        }
        #expect(Swift.abs(TabularStudyRunner.winRate(best, against: env.logReference, environment: env) - expected / Double(env.prompts)) < 1e-14)
        // Any two policies, against the double sum over (y, y') written out, ties included.
        var tied = env.rewards
        for x in 0..<env.prompts { tied[x * K + 1] = tied[x * K] }
        let rng = RandomGenerator(seed: 5)
        func randomPolicy() -> [Double] {
            var p = (0..<tied.count).map { _ in rng.gaussian(sigma: 1) }
            for x in 0..<env.prompts {
                let m = (0..<K).map { exp(p[x * K + $0]) }.reduce(0, +)
                for y in 0..<K { p[x * K + y] -= log(m) }
            }
            return p
        }
        let a = randomPolicy(), b = randomPolicy()
        var brute = 0.0
        for x in 0..<env.prompts { for y in 0..<K { for z in 0..<K {
            let s = tied[x * K + y] > tied[x * K + z] ? 1.0 : (tied[x * K + y] == tied[x * K + z] ? 0.5 : 0)
            brute += exp(a[x * K + y]) * exp(b[x * K + z]) * s
        } } }
        let w = TabularStudyRunner.winRate(a, against: b, rewards: tied, prompts: env.prompts, responses: K)
        #expect(Swift.abs(w - brute / Double(env.prompts)) < 1e-14, "\(w) vs \(brute / Double(env.prompts))")
        // Identical policies: exactly 1/2 (P(>) and P(<) are the same sums), ties or not,
        // for the reference (step 0 of every arm: it printed 0.49999999999999994) and random ones.
        #expect(TabularStudyRunner.winRate(env.logReference, against: env.logReference, environment: env) == 0.5)
        for p in [a, b, randomPolicy(), randomPolicy()] {
            #expect(TabularStudyRunner.winRate(p, against: p, rewards: tied, prompts: env.prompts, responses: K) == 0.5)
            #expect(TabularStudyRunner.winRate(p, against: p, rewards: env.rewards, prompts: env.prompts, responses: K) == 0.5)
        }
        // Swapping the policies gives 1 - w (to rounding).
        let v = TabularStudyRunner.winRate(b, against: a, rewards: tied, prompts: env.prompts, responses: K)
        #expect(Swift.abs(v + w - 1) < 1e-15)
    }
}
