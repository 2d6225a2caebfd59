import LossMath
import Testing
@testable import Experiments

/// The policy-family protocol and the shared optimiser: every registered family starts at
/// the reference and agrees with the environment's tables; Adam, SGD and clipping match
/// values derived by hand.
@Suite struct PolicyFamilyTests {
    static func logPolicy(_ f: any PolicyFamily, _ theta: [Double], prompt x: Int) throws -> [Double] {
        var out = [Double](repeating: .nan, count: f.responses)
        try theta.withUnsafeBufferPointer { th in
            try out.withUnsafeMutableBufferPointer { o in
                f.logPolicy(prompt: x, parameters: try #require(th.baseAddress), into: try #require(o.baseAddress))
            }
        }
        return out
    }

    /// At `theta_ref` the family's `log pi` is the environment's `log pi_ref`; at `theta*`
    /// it is `log pi*` (T1), for every registered family.
    @Test(arguments: SimulationConfig.Policy.allCases)
    func familyStartsAtTheReferenceAndReachesTheOptimum(policy: SimulationConfig.Policy) throws {
        let sim = SimulationConfig(policy: policy, prompts: 4, responses: 5, pairsPerPrompt: 4, features: 3, beta: 0.7, seed: 12)
        let env = try Environment(sim)
        let f = env.family
        #expect(type(of: f) == policy.family)
        #expect(f.parameterCount == sim.parameterCount && f.referenceParameters.count == sim.parameterCount)
        #expect(f.prompts == 4 && f.responses == 5)
        for x in 0..<sim.prompts {
            let ref = try Self.logPolicy(f, env.referenceParameters, prompt: x)
            let star = try Self.logPolicy(f, env.optimalParameters, prompt: x)
            for y in 0..<sim.responses {
                #expect(close(ref[y], env.logReference[x * 5 + y], abs: 1e-13))
                #expect(close(star[y], env.logOptimal[x * 5 + y], abs: 1e-12))
            }
        }
    }

    /// The default exact metrics are zero regret at `pi*` and zero KL at `pi_ref` (T2).
    @Test(arguments: SimulationConfig.Policy.allCases)
    func exactMetricsVanishWhereTheyShould(policy: SimulationConfig.Policy) throws {
        let env = try Environment(SimulationConfig(policy: policy, prompts: 3, responses: 4, pairsPerPrompt: 2, features: 2, seed: 3))
        var atRef = ExactMetricTotals(), atStar = ExactMetricTotals()
        for x in 0..<3 {
            let r = try Self.logPolicy(env.family, env.referenceParameters, prompt: x)
            let s = try Self.logPolicy(env.family, env.optimalParameters, prompt: x)
            r.withUnsafeBufferPointer { env.family.addExactMetrics(prompt: x, logPolicy: $0.baseAddress!, environment: env, into: &atRef) }
            s.withUnsafeBufferPointer { env.family.addExactMetrics(prompt: x, logPolicy: $0.baseAddress!, environment: env, into: &atStar) }
        }
        #expect(Swift.abs(atRef.klReference) < 1e-12)
        #expect(Swift.abs(atStar.regret) < 1e-12)
        #expect(atRef.regret > 0 && atStar.klReference > 0)
        #expect(atRef.unseenMass > 0, "2 pairs of 4 responses leave some unseen")
    }

    /// Adam's first step moves each parameter by `lr g/(|g| + eps)`: with `m = (1-b1) g`,
    /// `v = (1-b2) g^2`, `c1 = 1-b1`, `c2 = 1-b2`, the corrected moments are `g` and `g^2`.
    @Test func adamFirstStepIsSignDescent() {
        let state = OptimizerState(.adam, learningRate: 0.1, parameterCount: 3)
        let theta = UnsafeMutableBufferPointer<Double>.allocate(capacity: 3)
        let g = UnsafeMutableBufferPointer<Double>.allocate(capacity: 3)
        defer { theta.deallocate(); g.deallocate() }
        _ = theta.initialize(from: [1, 2, 3])
        _ = g.initialize(from: [0.5, -2, 1e-3])
        state.step(parameters: theta, gradient: g, clipNorm: nil)
        let expected = [1 - 0.1 * 0.5 / (0.5 + 1e-8), 2 + 0.1 * 2 / (2 + 1e-8), 3 - 0.1 * 1e-3 / (1e-3 + 1e-8)]
        for j in 0..<3 { #expect(close(theta[j], expected[j], rel: 1e-14)) }
        #expect(state.steps == 1)
    }

    /// SGD with clipping: `g = (3, 4)` has norm 5; clipped to 1 it is `(0.6, 0.8)`.
    @Test func sgdWithClipping() {
        let state = OptimizerState(.sgd, learningRate: 0.5, parameterCount: 2)
        let theta = UnsafeMutableBufferPointer<Double>.allocate(capacity: 2)
        let g = UnsafeMutableBufferPointer<Double>.allocate(capacity: 2)
        defer { theta.deallocate(); g.deallocate() }
        _ = theta.initialize(from: [0, 0])
        _ = g.initialize(from: [3, 4])
        state.step(parameters: theta, gradient: g, clipNorm: 1)
        #expect(close(theta[0], -0.3, rel: 1e-15) && close(theta[1], -0.4, rel: 1e-15))
        // Below the threshold the gradient is untouched.
        _ = g.update(fromContentsOf: [0.3, 0.4])
        state.step(parameters: theta, gradient: g, clipNorm: 1)
        #expect(close(theta[0], -0.45, rel: 1e-15) && close(theta[1], -0.6, rel: 1e-15))
    }
}
