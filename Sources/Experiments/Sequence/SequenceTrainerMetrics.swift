import GSLKit
import LossMath

// The exact metrics of a sequence trainer's current state (SequenceStepMetrics).

extension SequenceTrainer {
    /// The exact metrics at the current parameters (see ``SequenceStepMetrics``):
    /// - regret `beta KL(pi || pi*)`, `KL(pi || pi_ref)`, `E_pi[r]`, `E_pi[r~]` and the
    ///   spurious token's expected count by one occupancy pass (``SequenceOccupancy``,
    ///   `O(P T V^2)`), prompts weighing `1/P`;
    /// - the win rate against `pi_ref` under the true reward (``WinRate/compute(policy:against:reward:samplesPerPrompt:seed:)``:
    ///   exact when `V^T <= 2^20`, else Monte Carlo with ``SequenceConfig/winRateSamplesPerPrompt``
    ///   pairs per prompt from the ``SequenceRandomStream/winRate`` stream, the same draws at
    ///   every step);
    /// - the full-batch mean loss and gradient norm, and the pairs' log-probabilities and
    ///   `|beta h - dr|` (true `dr`).
    ///
    /// Does not change the parameters or the optimiser; raises ``maxGradientNorm``.
    public func metrics() -> SequenceStepMetrics {
        let env = environment
        let sim = env.config
        freshTable()
        let meanLoss = lossAndGradient()
        let norm = gradientNorm()
        if norm.isFinite { maxGradientNorm = Swift.max(maxGradientNorm, norm) }
        let policy = MarkovPolicy(space: space, normalizedLogProbabilities: Array(logPi))
        let occupancy = SequenceOccupancy(policy: policy)
        let win = WinRate.compute(policy: policy, against: env.reference, reward: env.reward,
                                  samplesPerPrompt: sim.winRateSamplesPerPrompt,
                                  seed: RandomGenerator.derivedSeed(sim.seed, SequenceRandomStream.winRate.rawValue))
        var sumW = 0.0, sumL = 0.0, minW = Double.infinity, minL = Double.infinity, sumAbs = 0.0, maxH = -Double.infinity
        for i in 0..<pairCount {
            let lw = logpChosen[i], ll = logpRejected[i]
            let h = (lw - refChosen[i]) - (ll - refRejected[i])
            sumW += lw
            sumL += ll
            if lw < minW || lw.isNaN { minW = lw }
            if ll < minL || ll.isNaN { minL = ll }
            sumAbs += Swift.abs(sim.beta * h - trueGaps[i])
            if h > maxH || h.isNaN { maxH = h }
        }
        let n = Double(pairCount)
        var row = SequenceStepMetrics(
            step: stepCount, meanLoss: meanLoss, regret: sim.beta * occupancy.klDivergence(to: env.optimal),
            klReference: occupancy.klDivergence(to: env.reference), expectedReward: occupancy.expectedReward(env.reward),
            proxyReward: occupancy.expectedReward(env.proxyReward), winRate: win.value,
            winRateStandardError: win.standardError, spuriousCount: occupancy.expectedCount(token: sim.spuriousToken),
            meanLogpChosen: sumW / n, minLogpChosen: minW, meanLogpRejected: sumL / n, minLogpRejected: minL,
            meanAbsBetaHMinusGap: sumAbs / n, gradientNorm: norm, maxGradientNorm: maxGradientNorm)
        row.maxH = maxH
        return row
    }
}
