import LossMath

// The metrics pass of the fused tabular path (``Trainer/metrics()`` when the engine fuses):
// the same bits as the generic pass through the policy family, at a fixed cost small
// enough to log every few steps of a small problem (the default one: 48 cells, 48 pairs).
//
// **Per call.** The full-batch pass (``PolicyEngine/fullLossAndGradient(scale:)``) refreshes
// log pi and gives each pair's `dl/d log pi_l`; then, per contiguous range of prompts (one
// range per thread, ``MetricPass/run(prompts:)``):
// - `pi = exp(log pi)` of every cell of the range, eight lanes at a time (Elementary's
//   eight-lane `exp`: lane i is the scalar `Elementary.exp` bit for bit, the tail scalar);
// - per prompt, `KL(pi || pi*)`, `KL(pi || pi_ref)` and `E_pi[r]`, summed over its responses
//   in order, as ``PolicyFamily/addExactMetrics(prompt:logPolicy:environment:into:)`` does;
// - per pair, `log pi_l` and an estimate of `log10 |dl/dpi_l|` with its error bound, so that
//   libm's `log10` is needed only for the pairs that can be the maximum (RejectedGradientMaximum).
// Every sum over prompts or pairs is then formed serially in the generic path's order, so
// the result does not depend on the thread count.
//
// **No per-call allocation.** The data the pass reads from the environment (`log pi*`, the
// rewards, the pairs' targets `dr*/beta`, the unseen cells) is copied once into ``MetricScratch``,
// with the buffers the pass writes: a call copies no `Environment` (a struct of arrays,
// whose copy retains and releases each of them) and builds no array.
//
// See also: ``Trainer/metrics()``, ``PairMetricSums``, ``StepMetrics``.

extension Trainer {
    /// ``metrics()`` for the fused tabular path: the same values bit for bit (see
    /// FusedMetrics.swift). The pairs' derivatives come from the full-batch pass instead of
    /// a second evaluation.
    func fusedMetrics() -> StepMetrics {
        let e = engine
        e.threads = threads
        let P = e.P, nPairs = e.pairCount
        let meanLoss = e.fullLossAndGradient(scale: 1 / Double(nPairs))
        let gradNorm = e.gradientNorm()
        let ms: MetricScratch
        if let s = metricScratch { ms = s } else { ms = MetricScratch(engine: e, environment: environment); metricScratch = ms }
        let pass = MetricPass(b: e.buffers, s: ms)
        let chunks = e.chunkCount
        if chunks <= 1 {
            pass.run(prompts: 0..<P)
        } else {
            forEachChunk(P, chunks: chunks) { range, _ in pass.run(prompts: range) }
        }
        return pass.reduce(step: stepCount, meanLoss: meanLoss, gradientNorm: gradNorm, tolerance: config.relativeTolerance)
    }
}

/// The fused metrics pass over the engine's buffers and a ``MetricScratch``, shared by the
/// workers of one call: each writes only the rows of its own prompts and pairs.
struct MetricPass: @unchecked Sendable {
    let b: EngineBuffers, s: MetricScratch

    /// The per-cell, per-prompt and per-pair parts for `prompts` (a contiguous range):
    /// `pi` of its cells, its prompts' KLs and expected rewards, its pairs' `log pi_l` and
    /// the bounds of their `log10 |dl/dpi_l|`.
    func run(prompts: Range<Int>) {
        let K = b.K
        let lp = b.logPi, ref = b.logRef, star = s.logOptimal, rew = s.rewards, prob = s.cellProbability
        // pi = exp(log pi), eight cells at a time, then the tail.
        let c1 = prompts.upperBound * K
        var k = prompts.lowerBound * K
        while k + 8 <= c1 {
            store8(Elementary.exp(load8(lp + k)), prob + k)
            k += 8
        }
        while k < c1 { prob[k] = Elementary.exp(lp[k]); k += 1 }
        for x in prompts {
            let row = x * K
            var klStar = 0.0, klRef = 0.0, reward = 0.0
            for c in row ..< row + K {
                let l = lp[c], p = prob[c]
                // Theory.klDivergence skips log p = -inf; expectedReward does not.
                if l > -.infinity {
                    klStar += p * (l - star[c])
                    klRef += p * (l - ref[c])
                }
                reward += p * rew[c]
            }
            s.promptKLStar[x] = klStar
            s.promptKLRef[x] = klRef
            s.promptReward[x] = reward
        }
        // The pairs' log pi_l, and the estimates of their log10 |dl/dpi_l| (RejectedGradientMaximum).
        let p0 = b.start[prompts.lowerBound], p1 = b.start[prompts.upperBound]
        let cellL = b.cellL, ll = s.pairLogpRejected
        for i in p0 ..< p1 { ll[i] = lp[cellL[i]] }
        RejectedGradientMaximum.estimate(derivatives: b.pairDRejected, logProbabilities: ll, range: p0 ..< p1,
                                         lower: s.pairLower, upper: s.pairUpper)
    }

    /// The step's metrics from the parts of ``run(prompts:)`` over every prompt: each sum over
    /// prompts and pairs formed serially, in the generic path's order.
    func reduce(step: Int, meanLoss: Double, gradientNorm: Double, tolerance: Double) -> StepMetrics {
        let P = s.prompts, nPairs = s.pairs, beta = s.beta
        var regret = 0.0, klRef = 0.0, reward = 0.0, unseen = 0.0
        for x in 0..<P {
            regret += beta * s.promptKLStar[x]
            klRef += s.promptKLRef[x]
            reward += s.promptReward[x]
        }
        for c in s.unseenCells { unseen += s.cellProbability[c] }
        var sums = PairMetricSums(tolerance: tolerance)
        let lp = b.logPi, ref = b.logRef, cellW = b.cellW, cellL = b.cellL, logpL = s.pairLogpRejected, target = s.pairTarget
        for i in 0..<nPairs {
            let w = cellW[i], lw = lp[w], ll = logpL[i]
            let h = (lw - ref[w]) - (ll - ref[cellL[i]])
            sums.add(logpChosen: lw, logpRejected: ll, h: h, target: target[i])
        }
        sums.maxLogDP = RejectedGradientMaximum.maximum(derivatives: b.pairDRejected, logProbabilities: logpL, count: nPairs,
                                                        lower: s.pairLower, upper: s.pairUpper)
        return sums.metrics(step: step, meanLoss: meanLoss, pairs: nPairs, prompts: P, regret: regret, klRef: klRef,
                            reward: reward, unseen: unseen, gradientNorm: gradientNorm)
    }
}

/// The buffers of the fused metrics pass and the data it reads, copied from the
/// ``Environment`` once, on the first ``Trainer/metrics()`` call.
final class MetricScratch {
    let prompts: Int, pairs: Int
    /// `beta` of the environment.
    let beta: Double
    /// Per prompt: `KL(pi || pi*)`, `KL(pi || pi_ref)`, `E_pi[r]` (P each).
    let promptKLStar: UnsafeMutablePointer<Double>
    let promptKLRef: UnsafeMutablePointer<Double>
    let promptReward: UnsafeMutablePointer<Double>
    /// `pi(y|x)` per cell, P*K.
    let cellProbability: UnsafeMutablePointer<Double>
    /// Per pair: `log pi_l`, and the bounds of the estimate of `log10 |dl/dpi_l|`
    /// (RejectedGradientMaximum).
    let pairLogpRejected: UnsafeMutablePointer<Double>
    let pairLower: UnsafeMutablePointer<Double>
    let pairUpper: UnsafeMutablePointer<Double>
    /// `log pi*(y|x)` and `r(x, y)` per cell (copies of the environment's), P*K.
    let logOptimal: UnsafeMutablePointer<Double>
    let rewards: UnsafeMutablePointer<Double>
    /// Per pair, the target `h* = dr*/beta` (the true reward gap over beta).
    let pairTarget: UnsafeMutablePointer<Double>
    /// Cells `x*K + y` of responses in no pair, in increasing order.
    let unseenCells: UnsafeMutableBufferPointer<Int>

    init(engine e: PolicyEngine, environment env: Environment) {
        precondition(env.logOptimal.count == e.P * e.K && env.rewards.count == e.P * e.K && env.pairs.count == e.pairCount)
        func buffer(_ n: Int) -> UnsafeMutablePointer<Double> {
            let b = UnsafeMutablePointer<Double>.allocate(capacity: n)
            b.initialize(repeating: 0, count: n)
            return b
        }
        prompts = e.P; pairs = e.pairCount
        let beta = env.config.beta
        self.beta = beta
        promptKLStar = buffer(e.P); promptKLRef = buffer(e.P); promptReward = buffer(e.P)
        cellProbability = buffer(e.P * e.K)
        pairLogpRejected = buffer(e.pairCount); pairLower = buffer(e.pairCount); pairUpper = buffer(e.pairCount)
        func copy(_ a: [Double]) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: a.count)
            for (i, v) in a.enumerated() { (p + i).initialize(to: v) }
            return p
        }
        logOptimal = copy(env.logOptimal)
        rewards = copy(env.rewards)
        pairTarget = buffer(e.pairCount)
        for (i, pair) in env.pairs.enumerated() { pairTarget[i] = pair.trueRewardGap / beta }
        let unseen = env.seen.indices.filter { !env.seen[$0] }
        unseenCells = .allocate(capacity: unseen.count)
        _ = unseenCells.initialize(from: unseen)
    }

    deinit {
        promptKLStar.deallocate(); promptKLRef.deallocate(); promptReward.deallocate()
        cellProbability.deallocate(); pairLogpRejected.deallocate(); pairLower.deallocate(); pairUpper.deallocate()
        pairTarget.deallocate(); unseenCells.deallocate()
        logOptimal.deallocate(); rewards.deallocate()
    }
}
