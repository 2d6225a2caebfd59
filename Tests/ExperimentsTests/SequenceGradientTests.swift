import Foundation
import Testing
import GSLKit
import LossMath
@testable import Experiments

/// Analytic gradients of `sum_i g_i log pi(y_i|x_i)` in both parameterisations against GSL's
/// central-difference derivative, one parameter at a time (P = 2, V = 3, T = 3).
@Suite struct SequenceGradientTests {
    let space: SequenceSpace
    let batch: ResponseBatch
    let weights: [Double]

    init() throws {
        space = try SequenceSpace(prompts: 2, length: 3, vocabulary: 3)
        let sampler = MarkovPolicy(space: space, logits: gaussianTable(space.tableCount, sigma: 0.5, seed: 71))
        // Repeated prompts, so states are visited by several responses and several times.
        batch = sampler.sample(prompts: [0, 1, 0, 1, 0, 0], generator: RandomGenerator(seed: 72))
        weights = [0.7, -1.3, 0.4, 2.0, -0.6, 1.1]
    }

    /// `f = sum_i g_i log pi(y_i|x_i)`, with log pi computed from the logits independently.
    func objective(_ logits: [Double]) -> Double {
        (0..<batch.count).reduce(0.0) { total, i in
            total + weights[i] * bruteLogProbability(logits: logits, space: space, prompt: batch.prompts[i],
                                                     tokens: Array(batch.response(i)))
        }
    }

    func numericalGradient(_ f: @escaping ([Double]) -> Double, at theta: [Double]) throws -> [(Double, Double)] {
        try theta.indices.map { j in
            let d = try NumericalDerivative.central({ v in
                var p = theta
                p[j] = v
                return f(p)
            }, at: theta[j], step: 1e-3)
            return (d.value, d.absoluteError)
        }
    }

    @Test func markovGradientMatchesNumericalDerivative() throws {
        let logits = gaussianTable(space.tableCount, sigma: 1, seed: 73)
        let pi = MarkovPolicy(space: space, logits: logits)
        var analytic = [Double](repeating: 0.5, count: space.tableCount)   // accumulates: starts non-zero on purpose
        var scratch = [Double](repeating: 0, count: space.stateCount)
        pi.accumulateGradient(weights: weights, batch: batch, into: &analytic, stateWeights: &scratch)
        #expect(scratch.allSatisfy { $0 == 0 }, "scratch is left zero")
        for (j, (value, error)) in try numericalGradient(objective, at: logits).enumerated() {
            #expect(close(analytic[j] - 0.5, value, abs: 1e-8 + 10 * error, rel: 1e-6), "logit \(j)")
        }
        #expect(pi.gradient(weights: weights, batch: batch).contains { abs($0) > 0.1 }, "a non-trivial case")
    }

    @Test func sharedLogitsFollowTheDocumentedForm() throws {
        let shared = SharedLogits(space: space)
        #expect(shared.parameterCount == (3 + 1 + 2 + 3) * 3)
        let theta = gaussianTable(shared.parameterCount, sigma: 1, seed: 74)
        let logits = shared.logits(theta)
        // State (x = 1, t = 2, previous = 0), token 2: A[0, 2] + B[1, 2] + C[2, 2].
        let s = space.state(prompt: 1, position: 2, previous: 0)
        #expect(logits[space.entry(state: s, token: 2)] == (theta[0 * 3 + 2] + theta[12 + 1 * 3 + 2]) + theta[18 + 2 * 3 + 2])
        // Position 0 uses the start row V = 3 of A.
        let s0 = space.state(prompt: 0, position: 0, previous: -1)
        #expect(logits[space.entry(state: s0, token: 1)] == (theta[3 * 3 + 1] + theta[12 + 1]) + theta[18 + 1])
    }

    @Test func sharedBaseMakesZeroParametersTheReference() throws {
        let referenceLogits = gaussianTable(space.tableCount, sigma: 1, seed: 76)
        let shared = SharedLogits(space: space, base: referenceLogits)
        let zero = [Double](repeating: 0, count: shared.parameterCount)
        #expect(MarkovPolicy(space: space, logits: shared.logits(zero)) == MarkovPolicy(space: space, logits: referenceLogits))
        let theta = gaussianTable(shared.parameterCount, sigma: 1, seed: 77)
        let unshifted = SharedLogits(space: space).logits(theta)
        #expect(shared.logits(theta) == zip(referenceLogits, unshifted).map { $0 + $1 })
    }

    @Test(arguments: [false, true])
    func sharedGradientMatchesNumericalDerivative(withBase: Bool) throws {
        let shared = SharedLogits(space: space, base: withBase ? gaussianTable(space.tableCount, sigma: 1, seed: 78) : nil)
        let theta = gaussianTable(shared.parameterCount, sigma: 1, seed: 75)
        let pi = MarkovPolicy(space: space, logits: shared.logits(theta))
        var analytic = [Double](repeating: 0, count: shared.parameterCount)
        shared.backpropagate(pi.gradient(weights: weights, batch: batch), into: &analytic)
        let f: ([Double]) -> Double = { objective(shared.logits($0)) }
        for (j, (value, error)) in try numericalGradient(f, at: theta).enumerated() {
            #expect(close(analytic[j], value, abs: 1e-8 + 10 * error, rel: 1e-6), "parameter \(j)")
        }
    }

    /// With shared parameters, a step that lowers log pi(y_l) alone moves log pi(y_w) too
    /// when the two share transitions; with markov logits it moves only states y_l visits.
    @Test func sharedParametersCoupleChosenAndRejected() throws {
        let shared = SharedLogits(space: space)
        let theta = [Double](repeating: 0, count: shared.parameterCount)
        let chosen = ResponseBatch(length: 3, prompts: [0], tokens: [0, 1, 2])
        let rejected = ResponseBatch(length: 3, prompts: [1], tokens: [1, 1, 2])   // another prompt, shares (1, 2)
        var g = [Double](repeating: 0, count: shared.parameterCount)
        let logits = shared.logits(theta)
        let pi = MarkovPolicy(space: space, logits: logits)
        shared.backpropagate(pi.gradient(weights: [1], batch: rejected), into: &g)
        let stepped = zip(theta, g).map { $0 - 0.5 * $1 }                           // descend log pi(y_l)
        let after = MarkovPolicy(space: space, logits: shared.logits(stepped))
        #expect(after.logProbabilities(of: rejected)[0] < pi.logProbabilities(of: rejected)[0])
        #expect(after.logProbabilities(of: chosen)[0] != pi.logProbabilities(of: chosen)[0], "shared: y_w moved")
        let markovStep = zip(logits, pi.gradient(weights: [1], batch: rejected)).map { $0 - 0.5 * $1 }
        let markovAfter = MarkovPolicy(space: space, logits: markovStep)
        #expect(markovAfter.logProbabilities(of: chosen)[0] == pi.logProbabilities(of: chosen)[0], "markov: y_w fixed")
    }
}
