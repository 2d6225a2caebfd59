import GSLKit
import LossMath

// The exact metrics of a trainer's current state (StepMetrics): the generic pass through
// the policy family, and the fused pass of the tabular family (the same bits).

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

    /// ``metrics()`` for the fused tabular path: the same values bit for bit. The per-prompt
    /// sums (KLs, expected reward) and each pair's `log10 |dl/dpi_l|` are computed in
    /// parallel into buffers; every sum over prompts or pairs is then formed serially in the
    /// generic path's order. The pairs' derivatives come from the full-batch pass instead of
    /// a second evaluation.
    private func fusedMetrics() -> StepMetrics {
        let e = engine
        e.threads = threads
        let env = environment
        let P = e.P, K = e.K, beta = env.config.beta
        let nPairs = e.pairCount
        let meanLoss = e.fullLossAndGradient(scale: 1 / Double(nPairs))
        let gradNorm = e.gradientNorm()
        let ms = metricScratch ?? MetricScratch(engine: e, seen: env.seen)
        metricScratch = ms

        let b = e.buffers
        let out = UncheckedSendable(ms)
        env.logOptimal.withUnsafeBufferPointer { opt in
            env.rewards.withUnsafeBufferPointer { rew in
                guard let optBase = opt.baseAddress, let rewBase = rew.baseAddress else { return }
                let src = UncheckedSendable((optBase, rewBase))
                forEachChunk(P, chunks: e.chunkCount) { range, _ in
                    let (opt, rew) = src.value
                    let ms = out.value
                    for x in range {
                        let row = x * K
                        let lp = b.logPi + row, ref = b.logRef + row, star = opt + row, r = rew + row
                        var klStar = 0.0, klRef = 0.0, reward = 0.0
                        for y in 0..<K {
                            let l = lp[y]
                            let p = Elementary.exp(l)
                            ms.cellProbability[row + y] = p
                            // Theory.klDivergence skips log p = -inf; expectedReward does not.
                            if l > -.infinity {
                                klStar += p * (l - star[y])
                                klRef += p * (l - ref[y])
                            }
                            reward += p * r[y]
                        }
                        ms.promptKLStar[x] = klStar
                        ms.promptKLRef[x] = klRef
                        ms.promptReward[x] = reward
                        for i in b.start[x] ..< b.start[x + 1] {
                            let g = SignedLogMagnitude.probabilityGradient(logDerivative: b.pairDRejected[i],
                                                                           logProbability: lp[b.rejected[i]])
                            ms.pairLog10DP[i] = g.log10Magnitude
                        }
                    }
                }
            }
        }

        var regret = 0.0, klRef = 0.0, reward = 0.0, unseen = 0.0
        for x in 0..<P {
            regret += beta * ms.promptKLStar[x]
            klRef += ms.promptKLRef[x]
            reward += ms.promptReward[x]
        }
        for c in ms.unseenCells { unseen += ms.cellProbability[c] }

        var sums = PairMetricSums(tolerance: config.relativeTolerance)
        env.pairs.withUnsafeBufferPointer { pairs in
            for i in 0..<nPairs {
                let pair = pairs[i]
                let row = pair.prompt * K
                let lw = b.logPi[row + pair.chosen], ll = b.logPi[row + pair.rejected]
                let h = (lw - b.logRef[row + pair.chosen]) - (ll - b.logRef[row + pair.rejected])
                sums.add(logpChosen: lw, logpRejected: ll, h: h, target: pair.trueRewardGap / beta, log10DPRejected: ms.pairLog10DP[i])
            }
        }
        return sums.metrics(step: stepCount, meanLoss: meanLoss, pairs: nPairs, prompts: P, regret: regret, klRef: klRef,
                            reward: reward, unseen: unseen, gradientNorm: gradNorm)
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
        let dev = Swift.abs(h - hStar)
        sumW += lw; sumL += ll
        if ll < minL || ll.isNaN { minL = ll }
        sumAbs += dev
        if h > maxH || h.isNaN { maxH = h }
        if dev <= tolerance * Swift.max(1, Swift.abs(hStar)) { within += 1 }
        if g > maxLogDP || g.isNaN { maxLogDP = g }
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

/// Buffers of the fused metrics pass, allocated on the first ``Trainer/metrics()`` call.
final class MetricScratch {
    let promptKLStar: UnsafeMutableBufferPointer<Double>
    let promptKLRef: UnsafeMutableBufferPointer<Double>
    let promptReward: UnsafeMutableBufferPointer<Double>
    /// `pi(y|x)` per cell, P*K.
    let cellProbability: UnsafeMutableBufferPointer<Double>
    let pairLog10DP: UnsafeMutableBufferPointer<Double>
    /// Cells `x*K + y` of responses in no pair, in increasing order.
    let unseenCells: [Int]

    init(engine e: PolicyEngine, seen: [Bool]) {
        func buffer(_ n: Int) -> UnsafeMutableBufferPointer<Double> {
            let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
            b.initialize(repeating: 0)
            return b
        }
        promptKLStar = buffer(e.P); promptKLRef = buffer(e.P); promptReward = buffer(e.P)
        cellProbability = buffer(e.P * e.K)
        pairLog10DP = buffer(e.pairCount)
        unseenCells = seen.indices.filter { !seen[$0] }
    }

    deinit {
        promptKLStar.deallocate(); promptKLRef.deallocate(); promptReward.deallocate()
        cellProbability.deallocate(); pairLog10DP.deallocate()
    }
}
