import Testing
#if canImport(Glibc)
import Glibc
#endif
import GSLKit
import LossMath
import Experiments

@Suite struct TrainingTests {

    /// T2 along training: J(pi*) - J(pi), each computed directly by Theory.objective on the
    /// trainer's own log pi (an independent code path), equals the logged regret
    /// beta KL(pi || pi*); and J(pi*) = beta log Z (T1). Also checks KL(pi || pi_ref) and E_pi[r].
    @Test(arguments: [(SimulationConfig.Policy.tabular, Loss.sigmoid), (.tabular, .spo), (.loglinear, .sigmoid), (.loglinear, .ncaPair)])
    func regretIdentityHoldsAlongTraining(policy: SimulationConfig.Policy, loss: Loss) throws {
        let sim = SimulationConfig(policy: policy, prompts: 5, responses: 6, pairsPerPrompt: 5, features: 3, labels: .bt, beta: 0.4, seed: 31)
        let env = try Environment(sim)
        let trainer = try Trainer(environment: env, config: TrainingConfig(loss: loss, steps: 300, logEvery: 50))
        var checked = 0
        let result = trainer.run { m, t in
            var gap = 0.0, kl = 0.0, reward = 0.0
            for x in 0..<sim.prompts {
                let logPi = t.logPolicy(prompt: x)
                let jStar = Theory.objective(logPolicy: env.logOptimal(prompt: x), logReference: env.logReference(prompt: x),
                                             rewards: env.rewards(prompt: x), beta: sim.beta)
                #expect(close(jStar, sim.beta * env.logPartition[x], abs: 1e-12))
                let j = Theory.objective(logPolicy: logPi, logReference: env.logReference(prompt: x), rewards: env.rewards(prompt: x), beta: sim.beta)
                gap += jStar - j
                kl += Theory.klDivergence(logP: logPi, logQ: env.logReference(prompt: x))
                reward += Theory.expectedReward(logPolicy: logPi, rewards: env.rewards(prompt: x))
            }
            let P = Double(sim.prompts)
            #expect(close(gap / P, m.regret, abs: 1e-11), "step \(m.step): J* - J = \(gap / P), regret = \(m.regret)")
            #expect(close(kl / P, m.klReference, abs: 1e-11))
            #expect(close(reward / P, m.expectedReward, abs: 1e-11))
            checked += 1
        }
        #expect(checked == 7)   // steps 0, 50, ..., 300
        #expect(result.metrics.map(\.step) == [0, 50, 100, 150, 200, 250, 300])
        #expect(result.metrics[0].regret > result.metrics.last!.regret || loss == .sigmoid)
    }

    @Test func logScheduleIncludesTheFinalStep() throws {
        let r = try Trainer.train(SimulationConfig(prompts: 2, responses: 3, pairsPerPrompt: 2), TrainingConfig(loss: .spo, steps: 25, logEvery: 10))
        #expect(r.metrics.map(\.step) == [0, 10, 20, 25])
        let none = try Trainer.train(SimulationConfig(prompts: 2, responses: 3, pairsPerPrompt: 2), TrainingConfig(loss: .spo, steps: 0))
        #expect(none.metrics.map(\.step) == [0])
    }

    /// Same seed, bit-identical metrics (full batch and minibatch); a different seed differs.
    @Test(arguments: [nil, 7] as [Int?])
    func sameSeedIsBitIdentical(batch: Int?) throws {
        let sim = SimulationConfig(policy: .loglinear, prompts: 6, responses: 5, pairsPerPrompt: 4, rewardNoise: 0.2, labels: .bt, seed: 77)
        let cfg = TrainingConfig(loss: .sigmoid, steps: 120, batchSize: batch, clipNorm: 0.5, logEvery: 10)
        let a = try Trainer.train(sim, cfg), b = try Trainer.train(sim, cfg)
        #expect(bitPatterns(a.metrics) == bitPatterns(b.metrics))
        var other = sim
        other.seed = 78
        let c = try Trainer.train(other, cfg)
        #expect(bitPatterns(a.metrics) != bitPatterns(c.metrics))
        #expect(a.summary != c.summary)
    }

    /// Recording metrics reads the state but never changes the trajectory.
    @Test func loggingDoesNotChangeTheTrajectory() throws {
        let sim = SimulationConfig(prompts: 4, responses: 5, pairsPerPrompt: 4, seed: 12)
        let every = try Trainer.train(sim, TrainingConfig(loss: .ncaPair, steps: 50, batchSize: 3, logEvery: 1))
        let once = try Trainer.train(sim, TrainingConfig(loss: .ncaPair, steps: 50, batchSize: 3, logEvery: 50))
        #expect(bitPatterns([every.metrics.last!]) == bitPatterns([once.metrics.last!]))
        #expect(every.metrics.count == 51 && once.metrics.count == 2)
    }

    /// Minibatches change the trajectory (so the shuffle is really used) but stay
    /// deterministic; spo still reaches its targets (every pair's minimum is shared, so SGD
    /// noise vanishes at the optimum).
    @Test func minibatchSpoReachesTheTarget() throws {
        let sim = fullyObserved(prompts: 3, responses: 4, beta: 0.5)
        let full = try Trainer.train(sim, TrainingConfig(loss: .spo, target: .trueReward, optimizer: .sgd, learningRate: 0.2, steps: 3000, logEvery: 500))
        let mini = try Trainer.train(sim, TrainingConfig(loss: .spo, target: .trueReward, optimizer: .sgd, learningRate: 0.2, steps: 3000, batchSize: 5, logEvery: 500))
        #expect(bitPatterns(full.metrics) != bitPatterns(mini.metrics))
        #expect(mini.summary.meanAbsHMinusTarget < 1e-8)
        #expect(mini.metrics.last!.fractionWithinTolerance == 1)
    }

    /// spo reaches h* = dr/beta on every pair; with every pair of every prompt observed, the
    /// targets pin down pi* itself, so the regret goes to 0 (tabular and log-linear).
    @Test(arguments: [SimulationConfig.Policy.tabular, .loglinear])
    func spoReachesTheTarget(policy: SimulationConfig.Policy) throws {
        for labels in SimulationConfig.Labels.allCases {
            let sim = fullyObserved(prompts: 3, responses: 4, beta: 0.5, labels: labels, policy: policy)
            let r = try Trainer.train(sim, TrainingConfig(loss: .spo, target: .trueReward, steps: 3000, logEvery: 100))
            let last = r.metrics.last!
            #expect(last.meanAbsHMinusTarget < 1e-6, "\(policy) \(labels): \(last.meanAbsHMinusTarget)")
            #expect(last.fractionWithinTolerance == 1)
            #expect(Swift.abs(last.regret) < 1e-10)
            #expect(last.gradientNorm < 1e-6)
            // Independent check of h on a few pairs, from the trainer's own log pi.
            let env = try Environment(sim)
            let t = try Trainer(environment: env, config: TrainingConfig(loss: .spo, target: .trueReward, steps: 3000))
            _ = t.run()
            for p in env.pairs.prefix(6) {
                let lp = t.logPolicy(prompt: p.prompt), lr = env.logReference(prompt: p.prompt)
                let h = (lp[p.chosen] - lr[p.chosen]) - (lp[p.rejected] - lr[p.rejected])
                #expect(close(h, p.trueRewardGap / sim.beta, abs: 1e-6))
            }
        }
    }

    /// T5 on finite data: with hard labels DPO's h passes any bound given enough steps
    /// (doubling the step count until it does). Under Adam (eps = 1e-8) the bounds up to
    /// beta*h ~ 25 are reached in thousands of steps; beyond that the gradient falls below
    /// eps and the growth turns logarithmic (see `dpoGrowsLogarithmicallyUnderSGD`), so
    /// beta*h = 50 would take ~e^25 more steps: not a unit test.
    @Test(arguments: [5.0, 10.0, 20.0])
    func dpoHPassesAnyBound(bound: Double) throws {
        let beta = 0.5
        let sim = SimulationConfig(prompts: 2, responses: 3, pairsPerPrompt: 2, labels: .hard, beta: beta, seed: 3)
        var steps = 500
        var maxH = -Double.infinity
        while steps <= 256_000 {
            let r = try Trainer.train(sim, TrainingConfig(loss: .sigmoid, learningRate: 0.1, steps: steps, logEvery: steps))
            maxH = r.summary.maxH
            if maxH > bound / beta { break }
            steps *= 2
        }
        #expect(maxH > bound / beta, "max h = \(maxH) after \(steps) steps")
    }

    /// Why every bound is passed: under plain gradient descent DPO's h follows T11's law
    /// e^{beta h} ~ 2 beta^2 lr t, so beta*h gains ln 10 per decade of steps, without
    /// saturating. Checked by a least-squares slope of beta*max h against ln t.
    @Test func dpoGrowsLogarithmicallyUnderSGD() throws {
        let beta = 0.5
        let sim = SimulationConfig(prompts: 2, responses: 3, pairsPerPrompt: 2, labels: .hard, beta: beta, seed: 3)
        let r = try Trainer.train(sim, TrainingConfig(loss: .sigmoid, optimizer: .sgd, learningRate: 1, steps: 100_000, logEvery: 1000))
        let late = r.metrics.filter { $0.step >= 10_000 }
        for (a, b) in zip(late, late.dropFirst()) { #expect(b.maxH > a.maxH) }
        let fit = try LinearFit(x: late.map { log(Double($0.step)) }, y: late.map { beta * $0.maxH })
        #expect(Swift.abs(fit.slope - 1) < 0.03, "slope of beta*h against ln t: \(fit.slope)")
    }

    /// The same problem under spo: h stays near its finite target, whatever the step count.
    @Test func spoHStaysBounded() throws {
        let sim = SimulationConfig(prompts: 2, responses: 3, pairsPerPrompt: 2, labels: .hard, beta: 0.5, seed: 3)
        let env = try Environment(sim)
        let hStarMax = env.pairs.map { $0.trueRewardGap / 0.5 }.max()!
        let r = try Trainer.train(sim, TrainingConfig(loss: .spo, learningRate: 0.1, steps: 20_000, logEvery: 1000))
        // Adam with a constant learning rate jitters around the target by ~lr; it never runs away.
        for m in r.metrics { #expect(m.maxH < hStarMax + 0.1) }
        #expect(Swift.abs(r.metrics.last!.maxH - hStarMax) < 0.05)
    }

    /// The default problem, with no options, shows the paper's point:
    /// DPO's final regret is several times spo's, DPO's min log pi_l keeps falling, and
    /// spo's h settles at dr/beta.
    @Test func defaultsShowThePapersPoint() throws {
        let sim = SimulationConfig()
        let dpo = try Trainer.train(sim, TrainingConfig(loss: .sigmoid))
        let spo = try Trainer.train(sim, TrainingConfig(loss: .spo))
        #expect(dpo.summary.finalRegret > 5 * spo.summary.finalRegret,
                "DPO \(dpo.summary.finalRegret) vs spo \(spo.summary.finalRegret)")
        // DPO's min log pi_l falls at every logged step after the first few, down to the end.
        let mins = dpo.metrics.map(\.minLogpRejected)
        for k in 2..<mins.count { #expect(mins[k] < mins[k - 1], "step \(dpo.metrics[k].step)") }
        #expect(dpo.summary.minLogpRejected < spo.summary.minLogpRejected - 20)
        // spo: every pair at h* (noise 0, so the reward model is the true reward).
        #expect(spo.summary.meanAbsHMinusTarget < 1e-6)
        #expect(spo.metrics.last!.fractionWithinTolerance == 1)
        // T7/T8 in numbers: DPO's probability-space gradient is astronomically larger.
        #expect(dpo.summary.maxLog10AbsDPRejected > spo.summary.maxLog10AbsDPRejected + 8)
    }

    /// T9 in the trainer: DPO's parameter-space gradient stays small while its
    /// probability-space gradient explodes.
    @Test func dpoGradientsInBothViews() throws {
        let r = try Trainer.train(SimulationConfig(), TrainingConfig(loss: .sigmoid))
        let beta = SimulationConfig().beta
        for m in r.metrics { #expect(m.gradientNorm <= beta * 2.0.squareRoot()) }
        #expect(r.metrics.last!.maxLog10AbsDPRejected > 10)
    }
}
