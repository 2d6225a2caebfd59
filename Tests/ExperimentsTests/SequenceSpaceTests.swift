import Foundation
import Testing
import GSLKit
import LossMath
@testable import Experiments

/// A table of `count` normal deviates with standard deviation `sigma`.
func gaussianTable(_ count: Int, sigma: Double, seed: UInt64) -> [Double] {
    let g = RandomGenerator(seed: seed)
    return (0..<count).map { _ in g.gaussian(sigma: sigma) }
}

/// The tokens of response number `index` of `V^T` in lexicographic order (last token fastest).
func responseTokens(_ index: Int, vocabulary v: Int, length t: Int) -> [Int] {
    var y = [Int](repeating: 0, count: t)
    var i = index
    for k in stride(from: t - 1, through: 0, by: -1) { y[k] = i % v; i /= v }
    return y
}

/// `log pi(y|x)` straight from the logits with Foundation's exp and log, token by token:
/// independent of MarkovPolicy's log-softmax.
func bruteLogProbability(logits: [Double], space: SequenceSpace, prompt x: Int, tokens y: [Int]) -> Double {
    var total = 0.0
    for t in 0..<space.length {
        let s = t == 0 ? space.state(prompt: x, position: 0, previous: -1) : space.state(prompt: x, position: t, previous: y[t - 1])
        let row = (0..<space.vocabulary).map { logits[s * space.vocabulary + $0] }
        let m = row.max() ?? 0
        total += row[y[t]] - m - Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
    }
    return total
}

@Suite struct SequenceSpaceTests {
    @Test func layoutMatchesTheDocumentedFormula() throws {
        let space = try SequenceSpace(prompts: 2, length: 4, vocabulary: 3)
        #expect(space.statesPerPrompt == 10 && space.stateCount == 20 && space.tableCount == 60)
        // Hand-computed from the doc: t = 0 -> x S; t >= 1 -> x S + 1 + (t - 1) V + p.
        #expect(space.state(prompt: 0, position: 0, previous: -1) == 0)
        #expect(space.state(prompt: 1, position: 0, previous: -1) == 10)
        #expect(space.state(prompt: 1, position: 1, previous: 2) == 13)
        #expect(space.state(prompt: 0, position: 3, previous: 1) == 8)
        #expect(space.entry(state: 13, token: 2) == 41)
        var seen = Set<Int>()
        for x in 0..<2 {
            for t in 0..<4 {
                for p in (t == 0 ? [-1] : [0, 1, 2]) {
                    let s = space.state(prompt: x, position: t, previous: p)
                    seen.insert(s)
                    #expect(space.components(ofState: s) == (x, t, p))
                }
            }
        }
        #expect(seen == Set(0..<20), "the map is a bijection onto 0..<P S")
        #expect(space.responseCount(atMost: 81) == 81 && space.responseCount(atMost: 80) == nil)
    }

    @Test func invalidSpacesAreRejected() {
        #expect(experimentError { _ = try SequenceSpace(prompts: 0, length: 2, vocabulary: 2) }?.parameterName == "prompts P")
        #expect(experimentError { _ = try SequenceSpace(prompts: 1, length: 0, vocabulary: 2) }?.parameterName == "length T")
        #expect(experimentError { _ = try SequenceSpace(prompts: 1, length: 2, vocabulary: 1) }?.parameterName == "vocabulary V")
        #expect(experimentError { _ = try SequenceSpace(prompts: 1 << 20, length: 1 << 20, vocabulary: 64) } != nil)
        let json = Data(#"{"prompts":2,"length":3,"vocabulary":1}"#.utf8)
        #expect(throws: ExperimentError.self) { _ = try JSONDecoder().decode(SequenceSpace.self, from: json) }
        let space = try? SequenceSpace(prompts: 2, length: 3, vocabulary: 4)
        let encoded = try? JSONEncoder().encode(space)
        #expect(encoded.flatMap { try? JSONDecoder().decode(SequenceSpace.self, from: $0) } == space)
    }

    @Test func logProbabilityMatchesTheProductOfSoftmaxes() throws {
        let space = try SequenceSpace(prompts: 2, length: 4, vocabulary: 3)
        let logits = gaussianTable(space.tableCount, sigma: 2, seed: 3)
        let pi = MarkovPolicy(space: space, logits: logits)
        var total = [0.0, 0.0]
        for x in 0..<2 {
            for i in 0..<81 {
                let y = responseTokens(i, vocabulary: 3, length: 4)
                let lp = pi.logProbability(prompt: x, tokens: y)
                #expect(close(lp, bruteLogProbability(logits: logits, space: space, prompt: x, tokens: y), abs: 1e-13))
                total[x] += Foundation.exp(lp)
            }
        }
        #expect(close(total[0], 1, rel: 1e-13) && close(total[1], 1, rel: 1e-13), "a distribution over responses")
    }

    @Test func logSoftmaxIsStableForHugeLogits() {
        let row = MarkovPolicy.logSoftmax([1e300, 1e300, -1e300, 0][...])
        #expect(row.allSatisfy { $0.isFinite })
        #expect(close(row[0], -Foundation.log(2), rel: 1e-15) && row[2] < -1e299)
    }

    @Test func samplingFollowsThePolicyAndIsReproducible() throws {
        let space = try SequenceSpace(prompts: 1, length: 2, vocabulary: 3)
        let pi = MarkovPolicy(space: space, logits: gaussianTable(space.tableCount, sigma: 1, seed: 5))
        let n = 40_000
        let a = pi.sample(prompts: [Int](repeating: 0, count: n), generator: RandomGenerator(seed: 9))
        let b = pi.sample(prompts: [Int](repeating: 0, count: n), generator: RandomGenerator(seed: 9))
        #expect(a == b, "same seed, same responses")
        var counts = [Int](repeating: 0, count: 9)
        for i in 0..<n { counts[a.tokens[2 * i] * 3 + a.tokens[2 * i + 1]] += 1 }
        for k in 0..<9 {
            let p = Foundation.exp(pi.logProbability(prompt: 0, tokens: responseTokens(k, vocabulary: 3, length: 2)))
            // Binomial standard deviation sqrt(n p (1-p)); 5 of them fail with probability < 1e-6.
            #expect(abs(Double(counts[k]) - Double(n) * p) <= 5 * (Double(n) * p * (1 - p)).squareRoot())
        }
    }

    /// The bisecting sampler and the row scan draw the same tokens from the same uniforms,
    /// including rows where some tokens have probability 0 (logits -1e300).
    @Test func bisectionAndScanSampleTheSameResponses() throws {
        let space = try SequenceSpace(prompts: 3, length: 5, vocabulary: 7)
        var logits = gaussianTable(space.tableCount, sigma: 3, seed: 15)
        for e in stride(from: 0, to: space.tableCount, by: 5) { logits[e] = -1e300 }
        let pi = MarkovPolicy(space: space, logits: logits)
        let prompts = (0..<500).map { $0 % 3 }
        let bisected = SequenceSampler(policy: pi).sample(prompts: prompts, generator: RandomGenerator(seed: 16))
        let g = RandomGenerator(seed: 16)
        let scanned = space.sample(prompts: prompts) { pi.sampleToken(state: $0, generator: g) }
        #expect(bisected == scanned)
        #expect(pi.sample(prompts: prompts, generator: RandomGenerator(seed: 16)) == scanned)
        // A small batch takes the scan inside MarkovPolicy.sample: the same responses again.
        #expect(pi.sample(prompts: [2, 0], generator: RandomGenerator(seed: 17))
                == SequenceSampler(policy: pi).sample(prompts: [2, 0], generator: RandomGenerator(seed: 17)))
        for i in 0..<bisected.count {
            #expect(pi.logProbability(prompt: bisected.prompts[i], tokens: bisected.response(i)) > -1e299, "no zero-probability token")
        }
    }

    /// V = 32, T = 256: log-probabilities of sampled responses near -T log V = -887, exact in
    /// log space, and every metric finite.
    @Test func largeSpaceStaysFiniteInLogSpace() throws {
        let space = try SequenceSpace(prompts: 2, length: 256, vocabulary: 32)
        let reference = MarkovPolicy(space: space, logits: gaussianTable(space.tableCount, sigma: 0.5, seed: 11))
        let rho = gaussianTable(space.tableCount, sigma: 1, seed: 12)
        let optimum = SoftBellman(reference: reference, reward: rho, beta: 0.1)
        let batch = reference.sample(prompts: [0, 1, 0, 1], generator: RandomGenerator(seed: 13))
        for (i, lp) in reference.logProbabilities(of: batch).enumerated() {
            #expect(lp.isFinite && lp < -800, "log pi_ref(y) = \(lp)")
            // Against a compensated (Neumaier) sum of the same terms: within T ulps of 900.
            var (sum, compensation) = (0.0, 0.0)
            for t in 0..<256 {
                let term = reference.logProbabilities[space.entry(state: space.state(prompt: batch.prompts[i], position: t,
                                                                                      of: batch.response(i)),
                                                                  token: batch.tokens[i * 256 + t])]
                let next = sum + term
                compensation += abs(sum) >= abs(term) ? (sum - next) + term : (term - next) + sum
                sum = next
            }
            #expect(abs(lp - (sum + compensation)) <= 256 * (900.0).ulp)
            let lo = optimum.optimal.logProbability(prompt: batch.prompts[i], tokens: batch.response(i))
            #expect(lo.isFinite && lo < -800, "log pi*(y) = \(lo) for a reference sample")
        }
        let occupancy = SequenceOccupancy(policy: reference)
        let metrics = [occupancy.klDivergence(to: optimum.optimal), occupancy.expectedReward(rho),
                       occupancy.expectedCount(token: 3), SequenceOccupancy(policy: optimum.optimal).klDivergence(to: reference)]
        #expect(metrics.allSatisfy { $0.isFinite } && metrics[0] > 100, "\(metrics)")
        #expect(optimum.logPartition.allSatisfy { $0.isFinite } && optimum.values.allSatisfy { $0.isFinite })
        let w = WinRate.compute(policy: optimum.optimal, against: reference, reward: rho, samplesPerPrompt: 32, seed: 14)
        #expect(!w.isExact && w.value > 0.9 && w.standardError.isFinite)
    }
}
