import GSLKit
import LossMath

// The exact metrics of a trainer's current state (StepMetrics): the generic pass through
// the policy family, and the fused pass of the tabular family (FusedMetrics.swift: the same
// bits).

extension Trainer {
    /// The exact metrics at the current parameters, on the full data set (see ``StepMetrics``).
    public func metrics() -> StepMetrics {
        if engine.canFuse && useFusedPath { return fusedMetrics() }
        let e = engine
        let env = environment
        let P = e.P, K = e.K, beta = env.config.beta
        let nPairs = e.pairCount
        // Full-batch gradient; this also refreshes log pi on every prompt.
        let meanLoss = e.fullLossAndGradient(scale: 1 / Double(nPairs))
        let gradNorm = e.gradientNorm()

        var totals = ExactMetricTotals()
        if let lp = e.logPi.baseAddress {
            for x in 0..<P { e.family.addExactMetrics(prompt: x, logPolicy: lp + x * K, environment: env, into: &totals) }
        }

        var sums = PairMetricSums(tolerance: config.relativeTolerance)
        for i in 0..<nPairs {
            let (ev, lw, ll) = e.evaluate(pair: i)
            let pair = env.pairs[i]
            let row = pair.prompt * K
            let h = (lw - e.logRef[row + pair.chosen]) - (ll - e.logRef[row + pair.rejected])
            let g = SignedLogMagnitude.probabilityGradient(logDerivative: ev.dRejected, logProbability: ll)
            sums.add(logpChosen: lw, logpRejected: ll, h: h, target: pair.trueRewardGap / beta, log10DPRejected: g.log10Magnitude)
        }
        return sums.metrics(step: stepCount, meanLoss: meanLoss, pairs: nPairs, prompts: P, regret: totals.regret,
                            klRef: totals.klReference, reward: totals.expectedReward, unseen: totals.unseenMass,
                            gradientNorm: gradNorm)
    }
}

/// The per-pair sums and extremes of ``StepMetrics``, accumulated in pair order by both
/// metric paths (so they agree bit for bit). NaN wins every min/max, so a broken run shows.
struct PairMetricSums {
    let tolerance: Double
    var sumW = 0.0, sumL = 0.0, minL = Double.infinity, sumAbs = 0.0, maxH = -Double.infinity
    var within = 0, maxLogDP = -Double.infinity

    init(tolerance: Double) { self.tolerance = tolerance }

    @inline(__always)
    mutating func add(logpChosen lw: Double, logpRejected ll: Double, h: Double, target hStar: Double, log10DPRejected g: Double) {
        add(logpChosen: lw, logpRejected: ll, h: h, target: hStar)
        if g > maxLogDP || g.isNaN { maxLogDP = g }
    }

    /// ``add(logpChosen:logpRejected:h:target:log10DPRejected:)`` without `log10 |dl/dpi_l|`,
    /// for a caller that sets ``maxLogDP`` itself (the fused path: RejectedGradientMaximum).
    @inline(__always)
    mutating func add(logpChosen lw: Double, logpRejected ll: Double, h: Double, target hStar: Double) {
        // Selects rather than branches: whether a pair sets an extreme is data-dependent.
        let dev = Swift.abs(h - hStar)
        sumW += lw; sumL += ll
        minL = ll < minL || ll.isNaN ? ll : minL
        sumAbs += dev
        maxH = h > maxH || h.isNaN ? h : maxH
        within += dev <= tolerance * Swift.max(1, Swift.abs(hStar)) ? 1 : 0
    }

    /// The step's metrics from these sums and the per-prompt totals.
    func metrics(step: Int, meanLoss: Double, pairs nPairs: Int, prompts P: Int, regret: Double, klRef: Double,
                 reward: Double, unseen: Double, gradientNorm: Double) -> StepMetrics {
        let np = Double(nPairs), pp = Double(P)
        return StepMetrics(step: step, meanLoss: meanLoss, regret: regret / pp, klReference: klRef / pp,
                           expectedReward: reward / pp, meanLogpChosen: sumW / np, meanLogpRejected: sumL / np,
                           minLogpRejected: minL, meanAbsHMinusTarget: sumAbs / np, maxH: maxH,
                           fractionWithinTolerance: Double(within) / np, unseenMass: unseen / pp,
                           gradientNorm: gradientNorm, maxLog10AbsDPRejected: maxLogDP)
    }
}
