import Foundation
import Testing
import GSLKit
import LossMath
@testable import Experiments

/// The soft Bellman optimum, the occupancy metrics and the win rate against brute-force
/// enumeration of all `V^T` responses (P = 2, V = 3, T = 4: 81 responses per prompt), with
/// probabilities from the logits by Foundation's exp and log (`bruteLogProbability`).
@Suite struct SequenceOptimumTests {
    let space: SequenceSpace
    let beta = 0.7
    let referenceLogits: [Double]
    let rho: [Double]
    let reference: MarkovPolicy
    let optimum: SoftBellman
    let n = 81

    init() throws {
        space = try SequenceSpace(prompts: 2, length: 4, vocabulary: 3)
        referenceLogits = gaussianTable(space.tableCount, sigma: 1, seed: 21)
        rho = gaussianTable(space.tableCount, sigma: 0.8, seed: 22)
        reference = MarkovPolicy(space: space, logits: referenceLogits)
        optimum = SoftBellman(reference: reference, reward: rho, beta: beta)
    }

    /// All responses of prompt x: (tokens, log pi_ref, reward summed with Foundation).
    func responses(_ x: Int) -> [(y: [Int], logRef: Double, reward: Double)] {
        (0..<n).map { i in
            let y = responseTokens(i, vocabulary: 3, length: 4)
            var r = 0.0
            for t in 0..<4 { r += rho[space.entry(state: space.state(prompt: x, position: t, of: y), token: y[t])] }
            return (y, bruteLogProbability(logits: referenceLogits, space: space, prompt: x, tokens: y), r)
        }
    }

    /// Brute-force `E_pi[r]`, `KL(pi || pi_ref)` and `KL(pi || q)` of prompt x, pi and q given by logits.
    func bruteMetrics(_ x: Int, logits: [Double], q: [Double]) -> (reward: Double, klRef: Double, klQ: Double) {
        var (er, kr, kq) = (0.0, 0.0, 0.0)
        for (y, lref, r) in responses(x) {
            let lp = bruteLogProbability(logits: logits, space: space, prompt: x, tokens: y)
            let p = Foundation.exp(lp)
            er += p * r
            kr += p * (lp - lref)
            kq += p * (lp - bruteLogProbability(logits: q, space: space, prompt: x, tokens: y))
        }
        return (er, kr, kq)
    }

    @Test func logPartitionAndOptimumMatchEnumeration() {
        for x in 0..<2 {
            let all = responses(x)
            let z = all.reduce(0.0) { $0 + Foundation.exp($1.logRef + $1.reward / beta) }
            #expect(close(optimum.logPartition[x], Foundation.log(z), rel: 1e-9), "log Z(\(x))")
            var total = 0.0
            for (y, lref, r) in all {
                let expected = lref + r / beta - Foundation.log(z)     // pi* = pi_ref exp(r/beta) / Z
                let actual = optimum.optimal.logProbability(prompt: x, tokens: y)
                #expect(close(actual, expected, abs: 1e-12, rel: 1e-9))
                total += Foundation.exp(actual)
            }
            #expect(close(total, 1, rel: 1e-12))
        }
    }

    /// T1: J(pi*) = beta log Z is the maximum; T2: J(pi*) - J(pi) = beta KL(pi || pi*), for
    /// random Markov policies, everything by enumeration and by the occupancy pass.
    @Test(arguments: [31, 32, 33] as [UInt64])
    func theoremsT1AndT2HoldAtSequenceLevel(seed: UInt64) {
        let optimalLogits = optimum.optimal.logProbabilities       // normalised rows are valid logits
        let logits = gaussianTable(space.tableCount, sigma: 1.5, seed: seed)
        let pi = MarkovPolicy(space: space, logits: logits)
        let occupancy = SequenceOccupancy(policy: pi)
        var jStar = 0.0, j = 0.0, kl = 0.0
        for x in 0..<2 {
            let star = bruteMetrics(x, logits: optimalLogits, q: referenceLogits)
            let m = bruteMetrics(x, logits: logits, q: optimalLogits)
            #expect(close(star.reward - beta * star.klRef, beta * optimum.logPartition[x], rel: 1e-9), "T1, prompt \(x)")
            jStar += (star.reward - beta * star.klRef) / 2
            j += (m.reward - beta * m.klRef) / 2
            kl += m.klQ / 2
            #expect(close(occupancy.klDivergencePerPrompt(to: optimum.optimal)[x], m.klQ, rel: 1e-9))
            #expect(close(occupancy.klDivergencePerPrompt(to: reference)[x], m.klRef, rel: 1e-9))
            #expect(close(occupancy.expectedSumPerPrompt(rho)[x], m.reward, rel: 1e-9))
        }
        #expect(j < jStar, "T1: a random policy is below the optimum")
        #expect(close(jStar - j, beta * kl, rel: 1e-9), "T2 by enumeration")
        #expect(close(optimum.optimalObjective(beta: beta) - occupancy.objective(reward: rho, reference: reference, beta: beta),
                      beta * occupancy.klDivergence(to: optimum.optimal), rel: 1e-9), "T2 by occupancy")
        #expect(close(occupancy.expectedReward(rho), (0..<2).map { bruteMetrics($0, logits: logits, q: logits).reward }.reduce(0, +) / 2,
                      rel: 1e-9))
    }

    @Test func expectedTokenCountMatchesEnumeration() {
        let logits = gaussianTable(space.tableCount, sigma: 1, seed: 41)
        let occupancy = SequenceOccupancy(policy: MarkovPolicy(space: space, logits: logits))
        for k in 0..<3 {
            var expected = 0.0
            for x in 0..<2 {
                for i in 0..<n {
                    let y = responseTokens(i, vocabulary: 3, length: 4)
                    let p = Foundation.exp(bruteLogProbability(logits: logits, space: space, prompt: x, tokens: y))
                    expected += p * Double(y.filter { $0 == k }.count) / 2
                }
            }
            #expect(close(occupancy.expectedCount(token: k), expected, rel: 1e-9), "token \(k)")
        }
    }

    /// Brute-force win rate: a double loop over all pairs of responses.
    func bruteWinRate(_ p: [Double], _ q: [Double], reward: [Double]) -> Double {
        var total = 0.0
        for x in 0..<2 {
            for i in 0..<n {
                let y = responseTokens(i, vocabulary: 3, length: 4)
                let py = Foundation.exp(bruteLogProbability(logits: p, space: space, prompt: x, tokens: y))
                let ry = space.pathSum(reward, prompt: x, tokens: y)
                for j in 0..<n {
                    let z = responseTokens(j, vocabulary: 3, length: 4)
                    let pz = Foundation.exp(bruteLogProbability(logits: q, space: space, prompt: x, tokens: z))
                    let rz = space.pathSum(reward, prompt: x, tokens: z)
                    total += py * pz * (ry > rz ? 1 : (ry == rz ? 0.5 : 0)) / 2
                }
            }
        }
        return total
    }

    @Test func exactWinRateMatchesEnumeration() throws {
        let logits = gaussianTable(space.tableCount, sigma: 1, seed: 51)
        let pi = MarkovPolicy(space: space, logits: logits)
        let w = try #require(WinRate.exact(policy: pi, against: reference, reward: rho))
        #expect(w.isExact && w.standardError == 0)
        #expect(close(w.value, bruteWinRate(logits, referenceLogits, reward: rho), rel: 1e-9))
        // Integer rewards (the count of token 1) tie often: the ties count one half.
        let counts = space.tokenIndicator(1)
        #expect(space.pathSum(counts, prompt: 1, tokens: [1, 0, 1, 1]) == 3)
        let tied = try #require(WinRate.exact(policy: pi, against: reference, reward: counts))
        #expect(close(tied.value, bruteWinRate(logits, referenceLogits, reward: counts), rel: 1e-9))
        let selfWin = try #require(WinRate.exact(policy: pi, against: pi, reward: counts))
        #expect(selfWin.value == 0.5, "a policy against itself wins exactly half")
        let selfWinRho = try #require(WinRate.exact(policy: pi, against: pi, reward: rho))
        #expect(selfWinRho.value == 0.5, "exactly half with real-valued rewards too")
        // Swapping the policies gives 1 - W (to rounding).
        let swapped = try #require(WinRate.exact(policy: reference, against: pi, reward: counts))
        #expect(close(tied.value + swapped.value, 1, abs: 1e-15))
        #expect(WinRate.exact(policy: optimum.optimal, against: reference, reward: rho).map { $0.value > 0.5 } == true)
    }

    @Test func monteCarloWinRateAgreesWithinItsStandardError() throws {
        let pi = optimum.optimal
        let exact = try #require(WinRate.exact(policy: pi, against: reference, reward: rho))
        let mc = WinRate.monteCarlo(policy: pi, against: reference, reward: rho, samplesPerPrompt: 4000,
                                    generator: RandomGenerator(seed: 61))
        let again = WinRate.monteCarlo(policy: pi, against: reference, reward: rho, samplesPerPrompt: 4000,
                                       generator: RandomGenerator(seed: 61))
        #expect(mc == again, "same seed, same estimate")
        #expect(!mc.isExact && mc.standardError > 0 && mc.standardError < 0.01)
        // 5 standard errors: fails with probability < 1e-6 for a correct estimator.
        #expect(abs(mc.value - exact.value) <= 5 * mc.standardError, "MC \(mc.value) ± \(mc.standardError), exact \(exact.value)")
    }
}
