import GSLKit
import LossMath
import RealModule

/// The simulated-policy mini-trainer: optimises one loss on an ``Environment`` and records
/// the exact metrics of ``StepMetrics``.
///
/// The objective is the mean loss over the pairs of a batch (full batch by default). Each
/// step computes the exact gradient (see the engine notes: `dl/dz = a e_w + b e_l - (a+b) pi`,
/// T9), optionally clips its norm, and applies SGD or Adam. The inner loop works on
/// preallocated contiguous buffers and allocates nothing.
///
/// A `Trainer` is a non-`Sendable` class holding mutable buffers and a GSL generator:
/// create one per run, on the thread that runs it.
///
/// ```swift
/// let env = try Environment(SimulationConfig())
/// let result = try Trainer(environment: env, config: TrainingConfig(loss: .spo)).run()
/// ```
///
/// See also: ``Trainer/train(_:_:)``, ``RunSummary``, ``GradientFlow``, ``PopulationOptimum``.
public final class Trainer {
    /// The data.
    public let environment: Environment
    /// The optimiser settings.
    public let config: TrainingConfig
    /// Optimiser steps taken so far.
    public private(set) var stepCount = 0
    /// The most threads one training may use (default: every online processor). Only the
    /// full-batch tabular trainer splits its work, over prompts, and only on problems large
    /// enough to pay for it (about 2^15 cells per thread; the default problem stays serial).
    /// **Results are bit-identical for every value**: each prompt's arithmetic is done in
    /// the same order whatever thread runs it, and every sum across prompts is formed
    /// serially afterwards. ``Sweep`` sets 1 when it runs trainings side by side.
    public var threads: Int = Sweep.processorCount {
        didSet { threads = Swift.max(1, threads) }
    }
    /// False forces the generic (pre-fusion) path everywhere; the tests compare the two bit
    /// for bit.
    var useFusedPath = true {
        didSet { engine.allowFusion = useFusedPath }
    }
    /// Work units per thread below which a pass stays serial (tests lower it).
    var parallelGrain: Int {
        get { engine.parallelGrain }
        set { engine.parallelGrain = Swift.max(1, newValue) }
    }

    let engine: PolicyEngine
    // Optimiser state (Adam moments) and the minibatch permutation.
    let m: UnsafeMutableBufferPointer<Double>
    let v: UnsafeMutableBufferPointer<Double>
    let order: UnsafeMutableBufferPointer<Int>
    var cursor: Int
    let shuffleRNG: RandomGenerator
    // Scratch arrays of length K for LossMath.Theory (metrics only, not the inner loop).
    var scratchPi: [Double]
    var scratchRef: [Double]
    var scratchStar: [Double]
    var scratchReward: [Double]
    /// `log(0.9)`, `log(0.999)`: Adam's bias corrections are `1 - b^t = -expm1(t log b)`.
    let logBeta1 = Elementary.log(0.9), logBeta2 = Elementary.log(0.999)
    // Buffers of the fused metrics pass (tabular), allocated on first use.
    var metricScratch: MetricScratch?

    /// Prepares a run: validates `config` against the environment (throwing a message that
    /// names the parameter), copies the data into contiguous buffers, and sets the policy
    /// to `pi_ref`.
    public init(environment: Environment, config: TrainingConfig) throws(ExperimentError) {
        let sim = environment.config
        try config.validate(for: sim)
        let pairs = environment.pairs
        var specs: [PolicyEngine.PairSpec] = []
        specs.reserveCapacity(pairs.count)
        for p in pairs {
            let gap: Double
            switch config.target {
            case .trueReward: gap = p.trueRewardGap
            case .rewardModel: gap = p.modelRewardGap
            case .constant(let c): gap = c
            }
            specs.append(.init(prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, gap: gap, weight: 1))
        }
        if config.loss == .spoAsym, let bad = specs.firstIndex(where: { $0.gap == 0 }) {
            throw ExperimentError.invalidParameter(
                name: "reward gap for spo_asym", value: "0 (pair \(bad))",
                requirement: "a nonzero gap for every pair: spo_asym's target z = beta*h/dr divides by dr")
        }
        self.environment = environment
        self.config = config
        engine = PolicyEngine(policy: sim.policy, prompts: sim.prompts, responses: sim.responses,
                              featureCount: environment.featureCount, logReference: environment.logReference,
                              features: environment.features, initialParameters: environment.referenceParameters,
                              pairs: specs, loss: config.loss, parameters: config.lossParameters(beta: sim.beta))
        let n = engine.parameterCount
        m = .allocate(capacity: n); m.initialize(repeating: 0)
        v = .allocate(capacity: n); v.initialize(repeating: 0)
        order = .allocate(capacity: engine.pairCount)
        for i in 0..<engine.pairCount { order[i] = i }
        cursor = engine.pairCount   // forces a shuffle before the first minibatch
        shuffleRNG = RandomGenerator(seed: RandomGenerator.derivedSeed(sim.seed, RandomStream.shuffle.rawValue))
        let K = sim.responses
        scratchPi = [Double](repeating: 0, count: K)
        scratchRef = scratchPi; scratchStar = scratchPi; scratchReward = scratchPi
    }

    deinit { m.deallocate(); v.deallocate(); order.deallocate() }

    /// Validates, generates the environment and runs `training` on it.
    public static func train(_ simulation: SimulationConfig, _ training: TrainingConfig) throws(ExperimentError) -> TrainingResult {
        let env = try Environment(simulation)
        return try Trainer(environment: env, config: training).run()
    }

    // MARK: - Parameters

    /// The current parameters: `P*K` logits (tabular; only differences within a prompt
    /// matter) or `theta` in `R^d` (log-linear).
    public var parameters: [Double] { engine.parameters }

    /// Replaces the parameters. Does not reset the optimiser's state or step count.
    public func setParameters(_ p: [Double]) { engine.setParameters(p) }

    /// `log pi(.|x)` at the current parameters.
    public func logPolicy(prompt x: Int) -> [Double] {
        precondition(x >= 0 && x < engine.P)
        let K = engine.K
        var out = [Double](repeating: 0, count: K)
        var mx = -Double.infinity
        for y in 0..<K { out[y] = logit(x, y); mx = Swift.max(mx, out[y]) }
        let lse = mx + Elementary.log(out.reduce(0) { $0 + Elementary.exp($1 - mx) })
        for y in 0..<K { out[y] -= lse }
        return out
    }

    private func logit(_ x: Int, _ y: Int) -> Double {
        let K = engine.K
        if engine.policy == .tabular { return engine.theta[x * K + y] }
        let d = engine.d, f = (x * K + y) * d
        var z = 0.0
        for j in 0..<d { z += engine.features[f + j] * engine.theta[j] }
        return z
    }

    /// The full-batch mean loss and its exact gradient at `parameters` (default: the current
    /// ones). The trainer's state is unchanged afterwards. This is what a full-batch step
    /// descends; the tests compare it with GSL's numerical derivative.
    public func meanLossAndGradient(at parameters: [Double]? = nil) -> (value: Double, gradient: [Double]) {
        let saved = engine.parameters
        if let p = parameters { engine.setParameters(p) }
        let value = engine.fullLossAndGradient(scale: 1 / Double(engine.pairCount))
        let g = engine.gradient
        engine.setParameters(saved)
        return (value, g)
    }

    // MARK: - Training

    /// One optimiser step on the next batch.
    public func step() {
        let e = engine
        if e.canFuse && useFusedPath && (config.batchSize ?? e.pairCount) >= e.pairCount {
            fusedStep()
            return
        }
        e.clearGradient()
        let batchSize: Int
        if let b = config.batchSize, b < e.pairCount {
            // Next b pairs of the permutation; reshuffle (Fisher–Yates, GSL stream) at each epoch.
            if cursor >= e.pairCount { shuffle(); cursor = 0 }
            batchSize = Swift.min(b, e.pairCount - cursor)
            let start = cursor
            cursor += batchSize
            e.touch(pairs: UnsafeBufferPointer(rebasing: order[start ..< start + batchSize]))
            e.refreshLogPolicy()
            let scale = 1 / Double(batchSize)
            for k in start ..< start + batchSize { _ = e.accumulate(pair: order[k], scale: scale) }
        } else {
            batchSize = e.pairCount
            e.touchAll()
            e.refreshLogPolicy()
            let scale = 1 / Double(batchSize)
            for i in 0..<e.pairCount { _ = e.accumulate(pair: i, scale: scale) }
        }
        e.finishGradient()
        if let c = config.clipNorm {
            let norm = e.gradientNorm()
            if norm > c {
                let s = c / norm
                for j in 0..<e.parameterCount { e.paramGrad[j] *= s }
            }
        }
        stepCount += 1
        let lr = config.learningRate
        switch config.optimizer {
        case .sgd:
            for j in 0..<e.parameterCount { e.theta[j] -= lr * e.paramGrad[j] }
        case .adam:
            let b1 = 0.9, b2 = 0.999, eps = 1e-8
            // Bias corrections 1 - b^t, via expm1(t log b) so they stay accurate for small t.
            let t = Double(stepCount)
            let c1 = -Elementary.expMinusOne(t * Elementary.log(b1))
            let c2 = -Elementary.expMinusOne(t * Elementary.log(b2))
            for j in 0..<e.parameterCount {
                let g = e.paramGrad[j]
                m[j] = b1 * m[j] + (1 - b1) * g
                v[j] = b2 * v[j] + (1 - b2) * g * g
                e.theta[j] -= lr * (m[j] / c1) / ((v[j] / c2).squareRoot() + eps)
            }
        }
    }

    /// The full-batch step of the tabular policy through the engine's fused per-prompt pass:
    /// bit-identical to the generic path above (same operations in the same order).
    private func fusedStep() {
        let e = engine
        e.threads = threads
        let scale = 1 / Double(e.pairCount)
        let lr = config.learningRate
        let update: RowUpdate
        switch config.optimizer {
        case .sgd: update = .sgd(learningRate: lr)
        case .adam:
            // log(0.9) and log(0.999) are computed once (the same values the generic step
            // computes every step).
            let t = Double(stepCount + 1)
            update = .adam(learningRate: lr, c1: -Elementary.expMinusOne(t * logBeta1),
                           c2: -Elementary.expMinusOne(t * logBeta2), m: m.baseAddress!, v: v.baseAddress!)
        }
        if let c = config.clipNorm {
            // The norm needs the whole gradient first: gradient pass, serial norm, then the update.
            e.fusedGradient(scale: scale)
            let norm = e.gradientNorm()
            if norm > c {
                let s = c / norm
                for j in 0..<e.parameterCount { e.paramGrad[j] *= s }
            }
            stepCount += 1
            switch update {
            case .sgd(let lr):
                for j in 0..<e.parameterCount { e.theta[j] -= lr * e.paramGrad[j] }
            case .adam(let lr, let c1, let c2, _, _):
                let b1 = 0.9, b2 = 0.999, eps = 1e-8
                for j in 0..<e.parameterCount {
                    let g = e.paramGrad[j]
                    m[j] = b1 * m[j] + (1 - b1) * g
                    v[j] = b2 * v[j] + (1 - b2) * g * g
                    e.theta[j] -= lr * (m[j] / c1) / ((v[j] / c2).squareRoot() + eps)
                }
            }
            return
        }
        e.fusedStep(scale: scale, update: update)
        stepCount += 1
    }

    private func shuffle() {
        let n = engine.pairCount
        if n < 2 { return }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = shuffleRNG.uniformInt(below: i + 1)
            order.swapAt(i, j)
        }
    }

    /// Runs the remaining steps up to ``TrainingConfig/steps``, recording metrics at the
    /// current step, every `logEvery` steps and at the final step. `observer` is called with
    /// each record and the trainer in that state (e.g. to inspect ``logPolicy(prompt:)``).
    public func run(observer: ((StepMetrics, Trainer) -> Void)? = nil) -> TrainingResult {
        var records: [StepMetrics] = []
        records.reserveCapacity((config.steps - stepCount) / config.logEvery + 2)
        func record() {
            let r = metrics()
            records.append(r)
            observer?(r, self)
        }
        record()
        while stepCount < config.steps {
            step()
            if stepCount % config.logEvery == 0 || stepCount == config.steps { record() }
        }
        return TrainingResult(metrics: records, summary: RunSummary(loss: config.loss, metrics: records))
    }

    // MARK: - Metrics

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

        var regret = 0.0, klRef = 0.0, reward = 0.0, unseen = 0.0
        for x in 0..<P {
            let row = x * K
            for y in 0..<K {
                scratchPi[y] = e.logPi[row + y]
                scratchRef[y] = env.logReference[row + y]
                scratchStar[y] = env.logOptimal[row + y]
                scratchReward[y] = env.rewards[row + y]
                if !env.seen[row + y] { unseen += Elementary.exp(e.logPi[row + y]) }
            }
            // T2: the regret J(pi*) - J(pi) equals beta KL(pi || pi*), computed in log space.
            regret += beta * Theory.klDivergence(logP: scratchPi, logQ: scratchStar)
            klRef += Theory.klDivergence(logP: scratchPi, logQ: scratchRef)
            reward += Theory.expectedReward(logPolicy: scratchPi, rewards: scratchReward)
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
        return sums.metrics(step: stepCount, meanLoss: meanLoss, pairs: nPairs, prompts: P, regret: regret, klRef: klRef,
                            reward: reward, unseen: unseen, gradientNorm: gradNorm)
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
                let src = UncheckedSendable((opt.baseAddress!, rew.baseAddress!))
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
