import Foundation
import Testing
import GSLKit
import LossMath
@testable import Experiments

/// The sequence trainer's logged metrics against brute-force enumeration of all `V^T`
/// responses (P = 2, V = 3, T = 4), computed here from the tables alone with Foundation's
/// exp and log: regret, KL, true and proxy reward, spurious count, win rate, and the pair
/// metrics and mean loss; then the scale, the reward model and the configuration checks.
@Suite struct SequenceMetricsTests {
    struct Brute {
        var regret = 0.0, klRef = 0.0, reward = 0.0, proxy = 0.0, count = 0.0, win = 0.0
    }

    /// Every metric of the policy `table` by enumeration, prompts weighing 1/P.
    func brute(_ env: SequenceEnvironment, table: [Double]) -> Brute {
        let space = env.space, sim = env.config
        let (v, t) = (space.vocabulary, space.length)
        let n = Int(pow(Double(v), Double(t)))
        var out = Brute()
        for x in 0..<space.prompts {
            var ys: [[Int]] = [], lp: [Double] = [], lref: [Double] = [], r: [Double] = []
            var b = Brute()
            for i in 0..<n {
                let y = responseTokens(i, vocabulary: v, length: t)
                var reward = 0.0
                for k in 0..<t { reward += env.reward[space.entry(state: space.state(prompt: x, position: k, of: y), token: y[k])] }
                ys.append(y)
                lp.append(bruteLogProbability(logits: table, space: space, prompt: x, tokens: y))
                lref.append(bruteLogProbability(logits: env.referenceLogits, space: space, prompt: x, tokens: y))
                r.append(reward)
            }
            // pi* = pi_ref exp(r / beta) / Z, log Z by a max-shifted sum.
            let a = zip(lref, r).map { $0 + $1 / sim.beta }
            let m = a.max() ?? 0
            let logZ = m + Foundation.log(a.reduce(0.0) { $0 + Foundation.exp($1 - m) })
            for i in 0..<n {
                let p = Foundation.exp(lp[i])
                let count = Double(ys[i].filter { $0 == sim.spuriousToken }.count)
                b.regret += sim.beta * p * (lp[i] - (a[i] - logZ))
                b.klRef += p * (lp[i] - lref[i])
                b.reward += p * r[i]
                b.proxy += p * (r[i] + sim.proxyBias * count)
                b.count += p * count
                for j in 0..<n where r[i] >= r[j] {
                    b.win += p * Foundation.exp(lref[j]) * (r[i] > r[j] ? 1 : 0.5)
                }
            }
            let w = 1 / Double(space.prompts)
            out.regret += w * b.regret; out.klRef += w * b.klRef; out.reward += w * b.reward
            out.proxy += w * b.proxy; out.count += w * b.count; out.win += w * b.win
        }
        return out
    }

    @Test(arguments: [SequenceConfig.Parameterisation.markov, .shared])
    func metricsMatchEnumeration(parameterisation: SequenceConfig.Parameterisation) throws {
        let sim = SequenceConfig(parameterisation: parameterisation, prompts: 2, vocabulary: 3, length: 4, pairsPerPrompt: 5,
                                 rewardSpread: 0.6, proxyBias: 0.8, spuriousToken: 2, target: .proxy, beta: 0.6, seed: 11)
        let env = try SequenceEnvironment(sim)
        let trainer = try SequenceTrainer(environment: env, config: TrainingConfig(loss: .sigmoid, learningRate: 0.2, steps: 25, logEvery: 25))
        let result = trainer.run()
        let m = try #require(result.metrics.last)
        #expect(m.step == 25 && result.summary.status == .ok)
        let b = brute(env, table: result.finalLogPolicy)
        #expect(close(m.regret, b.regret, rel: 1e-9), "regret \(m.regret) vs \(b.regret)")
        #expect(close(m.klReference, b.klRef, rel: 1e-9))
        #expect(close(m.expectedReward, b.reward, rel: 1e-9))
        #expect(close(m.proxyReward, b.proxy, rel: 1e-9))
        #expect(close(m.spuriousCount, b.count, rel: 1e-9))
        #expect(close(m.winRate, b.win, rel: 1e-9) && m.winRateStandardError == 0)
        #expect(m.klReference > 0.05 && abs(m.winRate - 0.5) > 1e-3, "the policy moved")

        // Pair metrics and the mean loss from the pairs' brute-force log-probabilities.
        var (sumW, sumL, minW, minL, dev, loss) = (0.0, 0.0, Double.infinity, Double.infinity, 0.0, 0.0)
        var maxH = -Double.infinity
        let n = env.pairCount
        for i in 0..<n {
            let (x, yw, yl) = (env.pairs.chosen.prompts[i], Array(env.pairs.chosen.response(i)), Array(env.pairs.rejected.response(i)))
            let lw = bruteLogProbability(logits: result.finalLogPolicy, space: env.space, prompt: x, tokens: yw)
            let ll = bruteLogProbability(logits: result.finalLogPolicy, space: env.space, prompt: x, tokens: yl)
            let rw = bruteLogProbability(logits: env.referenceLogits, space: env.space, prompt: x, tokens: yw)
            let rl = bruteLogProbability(logits: env.referenceLogits, space: env.space, prompt: x, tokens: yl)
            sumW += lw; sumL += ll; minW = min(minW, lw); minL = min(minL, ll)
            var dr = 0.0
            for t in 0..<4 {
                dr += env.reward[env.space.entry(state: env.space.state(prompt: x, position: t, of: yw), token: yw[t])]
                dr -= env.reward[env.space.entry(state: env.space.state(prompt: x, position: t, of: yl), token: yl[t])]
            }
            dev += abs(sim.beta * ((lw - rw) - (ll - rl)) - dr)
            let h = (lw - rw) - (ll - rl)
            maxH = max(maxH, h)
            loss += Foundation.log(1 + Foundation.exp(-sim.beta * h))      // DPO: -log sigma(beta h)
        }
        let d = Double(n)
        #expect(close(m.meanLogpChosen, sumW / d, rel: 1e-9) && close(m.meanLogpRejected, sumL / d, rel: 1e-9))
        #expect(close(m.minLogpChosen, minW, rel: 1e-9) && close(m.minLogpRejected, minL, rel: 1e-9))
        #expect(close(m.meanAbsBetaHMinusGap, dev / d, rel: 1e-9))
        #expect(close(m.meanLoss, loss / d, rel: 1e-9))
        #expect(close(m.maxH, maxH, rel: 1e-9) && result.summary.maxH == m.maxH)
        #expect(result.summary.finalProxyReward == m.proxyReward && result.summary.finalWinRate == m.winRate)
    }

    /// V = 32, T = 256: log-probabilities near -850 stay finite and exact; DPO pushes the
    /// rejected responses below -800; the win rate is a Monte Carlo estimate.
    @Test func longResponsesStayFinite() throws {
        let sim = SequenceConfig(prompts: 1, vocabulary: 32, length: 256, pairsPerPrompt: 2, referenceSpread: 0.5,
                                 target: .proxy, heldOutPairsPerPrompt: 1, winRateSamplesPerPrompt: 32, seed: 5)
        let env = try SequenceEnvironment(sim)
        let result = try SequenceTrainer(environment: env, config: TrainingConfig(loss: .sigmoid, learningRate: 0.5, steps: 4, logEvery: 2)).run()
        #expect(result.summary.status == .ok)
        #expect(result.metrics.allSatisfy { $0.isFinite })
        let m = try #require(result.metrics.last)
        #expect(m.minLogpRejected < -800, "min log pi(y_l) = \(m.minLogpRejected)")
        #expect(m.winRateStandardError > 0)
        #expect(result.summary.minLogpRejected < -800 && result.summary.finalMeanLogpRejected.isFinite)
        // The logged log-probability is the path sum of the final table, the same bits.
        let y = env.pairs.rejected
        let expected = env.space.pathSum(result.finalLogPolicy, prompt: y.prompts[0], tokens: y.response(0))
        let direct = bruteLogProbability(logits: result.finalLogPolicy, space: env.space, prompt: y.prompts[0], tokens: Array(y.response(0)))
        #expect(close(expected, direct, rel: 1e-12))
    }

    /// An easy case: a strong reward and many hard-labelled pairs; the fitted model orders
    /// held-out pairs above chance (400 of them: chance is 0.5 with standard error 0.025)
    /// and correlates positively with the true reward. Its family (previous token and prompt
    /// terms) is smaller than the true reward's (a term per state and token), so it cannot
    /// be perfect.
    @Test func fittedRewardModelIsReported() throws {
        let sim = SequenceConfig(prompts: 2, vocabulary: 3, length: 4, pairsPerPrompt: 60, rewardSpread: 1.5,
                                 target: .fitted, heldOutPairsPerPrompt: 200, seed: 9)
        let env = try SequenceEnvironment(sim)
        let accuracy = try #require(env.rewardModelAccuracy)
        let correlation = try #require(env.rewardModelCorrelation)
        #expect(accuracy > 0.6, "held-out accuracy \(accuracy)")
        #expect(correlation > 0.3, "correlation \(correlation)")
        #expect(env.rewardModel?.converged == true)
        // The target gaps are the model's.
        let model = try #require(env.rewardModel)
        let i = 3
        let gap = model.score(prompt: env.pairs.chosen.prompts[i], tokens: env.pairs.chosen.response(i))
            - model.score(prompt: env.pairs.rejected.prompts[i], tokens: env.pairs.rejected.response(i))
        #expect(close(env.targetGaps[i], gap, rel: 1e-12))
        var noFit = sim
        noFit.target = .proxy
        let unfitted = try SequenceEnvironment(noFit)
        #expect(unfitted.rewardModelAccuracy == nil)
    }

    /// The same seed gives the same data for every loss and parameterisation; hard labels
    /// follow the proxy.
    @Test func dataDependOnlyOnTheSeed() throws {
        let a = try SequenceEnvironment(SequenceConfig(parameterisation: .markov, target: .proxy, seed: 4))
        let b = try SequenceEnvironment(SequenceConfig(parameterisation: .shared, proxyBias: 0, target: .proxy, seed: 4))
        #expect(a.pairs == b.pairs && a.reward == b.reward && a.referenceLogits == b.referenceLogits)
        #expect(a.proxyGaps.allSatisfy { $0 >= 0 }, "hard labels: the larger proxy reward is chosen")
        let c = try SequenceEnvironment(SequenceConfig(target: .proxy, seed: 5))
        #expect(a.pairs != c.pairs)
    }

    @Test func invalidConfigurationsNameTheParameter() {
        let cases: [(SequenceConfig, String)] = [
            (SequenceConfig(prompts: 0), "prompts P"),
            (SequenceConfig(vocabulary: 1), "vocabulary V"),
            (SequenceConfig(length: 0), "length T"),
            (SequenceConfig(pairsPerPrompt: 0), "pairs per prompt n"),
            (SequenceConfig(referenceSpread: -1), "reference spread s_ref"),
            (SequenceConfig(rewardNoise: .nan), "reward noise s_noise"),
            (SequenceConfig(proxyBias: .infinity), "proxy bias lambda"),
            (SequenceConfig(vocabulary: 4, spuriousToken: 4), "spurious token k"),
            (SequenceConfig(rewardModelL2: -1), "rm-l2"),
            (SequenceConfig(heldOutPairsPerPrompt: 0), "held-out pairs per prompt"),
            (SequenceConfig(winRateSamplesPerPrompt: 1), "win-rate samples per prompt"),
            (SequenceConfig(beta: 0), "beta"),
        ]
        for (config, name) in cases {
            let error = experimentError { try config.validate() }
            #expect(error?.parameterName == name, "\(name)")
        }
        let none = experimentError { try SequenceConfig().validate() }
        #expect(none == nil)
    }

    @Test func invalidTrainingIsRejected() throws {
        let env = try SequenceEnvironment(SequenceConfig(prompts: 2, length: 3, pairsPerPrompt: 2, target: .proxy))
        let batch = experimentError { _ = try SequenceTrainer(environment: env, config: TrainingConfig(loss: .sigmoid, batchSize: 1)) }
        #expect(batch?.parameterName == "batch size")
        let rate = experimentError { _ = try SequenceTrainer(environment: env, config: TrainingConfig(loss: .sigmoid, learningRate: 0)) }
        #expect(rate?.parameterName == "learning rate")
        let full = experimentError { _ = try SequenceTrainer(environment: env, config: TrainingConfig(loss: .sigmoid, batchSize: 4)) }
        #expect(full == nil)
    }

    /// A run that overflows stops with the tabular trainer's status and only finite rows.
    @Test func divergedRunHasAStatus() throws {
        let env = try SequenceEnvironment(SequenceConfig(prompts: 2, length: 3, pairsPerPrompt: 4, target: .proxy))
        let result = try SequenceTrainer(environment: env, config: TrainingConfig(loss: .sigmoid, optimizer: .adam,
                                                                                  learningRate: 1e308, steps: 10, logEvery: 1)).run()
        #expect(result.summary.status.isDiverged)
        #expect(result.metrics.allSatisfy { $0.isFinite })
        #expect(result.finalLogPolicy.allSatisfy { $0.isFinite })
    }

    /// Rows encode their documented columns in order; the summary's status is last and a
    /// missing win rate against DPO is an empty cell.
    @Test func rowsEncodeTheirColumns() throws {
        let result = try SequenceTrainer.train(SequenceConfig(prompts: 2, length: 3, pairsPerPrompt: 2, target: .proxy),
                                               TrainingConfig(loss: .ipo, steps: 2))
        let step = try encodedColumns(try #require(result.metrics.last))
        #expect(step.map(\.0) == SequenceStepMetrics.columnNames)
        let summary = try encodedColumns(result.summary)
        #expect(summary.map(\.0) == SequenceRunSummary.columnNames)
        #expect(summary.last?.1 == "ok" && summary.first?.1 == "ipo")
        #expect(summary.first { $0.0 == "win_rate_vs_dpo" }?.1 == "")
        #expect(SequenceRunSummary.columnNames.contains("final_proxy_reward")
                && SequenceRunSummary.columnNames.contains("final_expected_reward"))
    }

    /// The runner's win rate against DPO's final policy, against enumeration: pairs
    /// `(y, y')` of each prompt weighted `pi(y) pi_DPO(y')`, under the true reward.
    @Test func winRateAgainstDPOMatchesEnumeration() throws {
        let sim = SequenceConfig(parameterisation: .shared, prompts: 2, vocabulary: 3, length: 4, pairsPerPrompt: 5,
                                 rewardSpread: 0.6, target: .proxy, beta: 0.6, seed: 12)
        let env = try SequenceEnvironment(sim)
        let results = try SequenceRuns.train([TrainingConfig(loss: .ipo, steps: 30), TrainingConfig(loss: .sigmoid, steps: 30)],
                                             environment: env, threads: 2)
        let space = env.space
        var expected = 0.0
        for x in 0..<2 {
            var lp: [Double] = [], lq: [Double] = [], r: [Double] = []
            for i in 0..<81 {
                let y = responseTokens(i, vocabulary: 3, length: 4)
                var reward = 0.0
                for t in 0..<4 { reward += env.reward[space.entry(state: space.state(prompt: x, position: t, of: y), token: y[t])] }
                lp.append(bruteLogProbability(logits: results[0].finalLogPolicy, space: space, prompt: x, tokens: y))
                lq.append(bruteLogProbability(logits: results[1].finalLogPolicy, space: space, prompt: x, tokens: y))
                r.append(reward)
            }
            for i in 0..<81 {
                for j in 0..<81 where r[i] >= r[j] {
                    expected += 0.5 * Foundation.exp(lp[i] + lq[j]) * (r[i] > r[j] ? 1 : 0.5)
                }
            }
        }
        let w = try #require(results[0].summary.winRateVersusDPO)
        #expect(close(w, expected, rel: 1e-9), "\(w) vs \(expected)")
        #expect(abs(w - 0.5) > 1e-3, "the two policies differ")
        #expect(results[1].summary.winRateVersusDPO.map { close($0, 0.5, abs: 1e-12) } == true)
    }
}
