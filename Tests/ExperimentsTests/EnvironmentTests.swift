import Testing
#if canImport(Glibc)
import Glibc
#endif
import GSLKit
import LossMath
import PropertyBased
import Experiments

@Suite struct EnvironmentTests {

    @Test func pairsAreDistinctValidAndLabelledByTheRewardModel() async {
        await propertyCheck(count: 30, input: Gen.int(in: 2...9), Gen.uint64(in: 0...1_000_000), Gen.bool()) { k, seed, uniform in
            let maxPairs = SimulationConfig.distinctPairs(responses: k)
            let n = 1 + Int(seed % UInt64(maxPairs))
            let sim = SimulationConfig(prompts: 5, responses: k, pairsPerPrompt: n, referenceSpread: 2,
                                       rewardNoise: 0.3, labels: .hard, pairSampling: uniform ? .uniform : .fromReference, seed: seed)
            let env = try #require(try? Environment(sim))
            #expect(env.pairs.count == 5 * n)
            for x in 0..<5 {
                let ps = env.pairs.filter { $0.prompt == x }
                #expect(ps.count == n)
                let keys = Set(ps.map { Swift.min($0.chosen, $0.rejected) * k + Swift.max($0.chosen, $0.rejected) })
                #expect(keys.count == n, "pairs of prompt \(x) repeat")
                for p in ps {
                    #expect(p.chosen != p.rejected && (0..<k).contains(p.chosen) && (0..<k).contains(p.rejected))
                    // Hard labels: the chosen response has the larger reward-model score.
                    #expect(p.modelRewardGap > 0)
                    #expect(p.modelRewardGap == env.modelRewards[x * k + p.chosen] - env.modelRewards[x * k + p.rejected])
                    #expect(p.trueRewardGap == env.rewards[x * k + p.chosen] - env.rewards[x * k + p.rejected])
                }
                for y in 0..<k {
                    let inData = ps.contains { $0.chosen == y || $0.rejected == y }
                    #expect(env.seen[x * k + y] == inData)
                }
            }
        }
    }

    @Test func referenceIsNormalisedAndOptimumIsT1() throws {
        for policy in SimulationConfig.Policy.allCases {
            let env = try Environment(SimulationConfig(policy: policy, seed: 3))
            for x in 0..<env.prompts {
                #expect(close(logSumExp(env.logReference(prompt: x)), 0, abs: 1e-14))
                // T1 directly: pi*(y) proportional to pi_ref(y) exp(r(y)/beta).
                let raw = zip(env.logReference(prompt: x), env.rewards(prompt: x)).map { $0 + $1 / env.config.beta }
                let lz = logSumExp(raw)
                for (a, b) in zip(raw.map { $0 - lz }, env.logOptimal(prompt: x)) { #expect(close(a, b, abs: 1e-13)) }
                #expect(close(env.logPartition[x], lz, abs: 1e-13))
            }
        }
    }

    /// The log-linear optimum lies in the family: softmax(phi . (theta_ref + w*/beta)) = pi*.
    @Test func logLinearOptimumIsInTheFamily() throws {
        let env = try Environment(SimulationConfig(policy: .loglinear, prompts: 4, responses: 7, pairsPerPrompt: 5, features: 3, beta: 0.3, seed: 11))
        let trainer = try Trainer(environment: env, config: TrainingConfig(loss: .spo))
        trainer.setParameters(env.optimalParameters)
        for x in 0..<4 {
            for (a, b) in zip(trainer.logPolicy(prompt: x), env.logOptimal(prompt: x)) { #expect(close(a, b, abs: 1e-12)) }
        }
        #expect(Swift.abs(trainer.metrics().regret) < 1e-14)
    }

    /// Each stream is independent: the noise does not move the rewards or the pairs, and beta
    /// moves nothing but pi*.
    @Test func streamsAreIndependent() throws {
        let a = try Environment(SimulationConfig(rewardNoise: 0, labels: .bt, seed: 5))
        let b = try Environment(SimulationConfig(rewardNoise: 0.7, labels: .bt, seed: 5))
        let c = try Environment(SimulationConfig(rewardNoise: 0, labels: .bt, beta: 2, seed: 5))
        #expect(a.logReference == b.logReference && a.rewards == b.rewards)
        #expect(a.modelRewards != b.modelRewards)
        func unordered(_ e: Environment) -> [[Int]] { e.pairs.map { [$0.prompt, Swift.min($0.chosen, $0.rejected), Swift.max($0.chosen, $0.rejected)] } }
        #expect(unordered(a) == unordered(b))
        #expect(a.pairs == c.pairs && a.logReference == c.logReference)
        #expect(a.logOptimal != c.logOptimal)
        let d = try Environment(SimulationConfig(rewardNoise: 0, labels: .bt, seed: 6))
        #expect(a.rewards != d.rewards)
    }

    /// The pair law: with one pair per prompt, pair {a, b} has probability
    /// pi_ref(a) pi_ref(b) / sum_{s<t} pi_ref(s) pi_ref(t). Compared by a z-score over many prompts.
    @Test func pairsFollowTheReference() throws {
        let P = 20_000, K = 3
        let env = try Environment(SimulationConfig(prompts: P, responses: K, pairsPerPrompt: 1, referenceSpread: 1.5, seed: 21))
        var observed = [Double](repeating: 0, count: 3), expected = observed, variance = observed
        let index: [[Int]] = [[-1, 0, 1], [0, -1, 2], [1, 2, -1]]
        for x in 0..<P {
            let p = env.logReference(prompt: x).map { exp($0) }
            let w = [p[0] * p[1], p[0] * p[2], p[1] * p[2]]
            let total = w.reduce(0, +)
            for j in 0..<3 { expected[j] += w[j] / total; variance[j] += w[j] / total * (1 - w[j] / total) }
            let pair = env.pairs[x]
            observed[index[pair.chosen][pair.rejected]] += 1
        }
        for j in 0..<3 {
            let z = (observed[j] - expected[j]) / variance[j].squareRoot()
            #expect(Swift.abs(z) < 4.5, "pair type \(j): observed \(observed[j]), expected \(expected[j])")
        }
    }

    /// A uniform law gives every pair the same chance, whatever the reference.
    @Test func uniformPairsIgnoreTheReference() throws {
        let P = 12_000
        let env = try Environment(SimulationConfig(prompts: P, responses: 3, pairsPerPrompt: 1, referenceSpread: 3, pairSampling: .uniform, seed: 2))
        var counts = [0, 0, 0]
        for p in env.pairs { counts[p.chosen + p.rejected - 1] += 1 }   // {0,1}->0, {0,2}->1, {1,2}->2
        let sd = (Double(P) / 3 * 2 / 3).squareRoot()
        for c in counts { #expect(Swift.abs(Double(c) - Double(P) / 3) < 4.5 * sd) }
    }

    /// A very peaked reference exhausts the rejection budget; the Gumbel-top-k fallback still
    /// delivers n distinct pairs (here all of them, and all but one).
    @Test func peakedReferenceFallsBackToExactSampling() throws {
        for n in [9, 10] {
            let env = try Environment(SimulationConfig(prompts: 20, responses: 5, pairsPerPrompt: n, referenceSpread: 40, seed: 4))
            for x in 0..<20 {
                let keys = Set(env.pairs.filter { $0.prompt == x }.map { Swift.min($0.chosen, $0.rejected) * 5 + Swift.max($0.chosen, $0.rejected) })
                #expect(keys.count == n)
            }
        }
    }

    /// Bradley–Terry labels: the response with the larger score is chosen with probability
    /// sigma(|dr_hat|), checked by a z-score.
    @Test func bradleyTerryLabelFrequencies() throws {
        let P = 20_000
        let env = try Environment(SimulationConfig(prompts: P, responses: 2, pairsPerPrompt: 1, rewardSpread: 1, labels: .bt, seed: 8))
        var wins = 0.0, expected = 0.0, variance = 0.0
        for p in env.pairs {
            let q = LossMath.sigmoid(Swift.abs(p.modelRewardGap))
            expected += q; variance += q * (1 - q)
            if p.modelRewardGap > 0 { wins += 1 }
        }
        let z = (wins - expected) / variance.squareRoot()
        #expect(Swift.abs(z) < 4.5)
        // And some labels do go against the reward (it is not hard labelling in disguise).
        #expect(wins < Double(P) - 1000)
    }

    @Test func sameSeedSameEnvironment() throws {
        let cfg = SimulationConfig(policy: .loglinear, rewardNoise: 0.2, labels: .bt, seed: 99)
        let a = try Environment(cfg), b = try Environment(cfg)
        let fa = try #require(a.family as? LogLinearPolicy), fb = try #require(b.family as? LogLinearPolicy)
        #expect(a.pairs == b.pairs && fa.features == fb.features && a.modelRewards == b.modelRewards)
    }
}
