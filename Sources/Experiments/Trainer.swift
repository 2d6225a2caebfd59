import GSLKit
import LossMath

/// The simulated-policy mini-trainer: optimises one loss on an ``Environment`` and records
/// the exact metrics of ``StepMetrics``. One trainer serves every ``PolicyFamily``.
///
/// The objective is the mean loss over the pairs of a batch (full batch by default). Each
/// step computes the exact gradient (the loss's `dl/d log pi` per pair, turned into
/// `dl/dtheta` by the family: ``PolicyEngine``), then clips and applies SGD or Adam
/// (``OptimizerState``). The inner loop works on preallocated contiguous buffers and
/// allocates nothing. Full-batch steps of a family with fused passes (tabular) take the
/// engine's fused per-prompt step, bit-identical to the generic one; without clipping,
/// ``run(observer:)`` runs the steps between two logged ones as one window, prompt block by
/// prompt block (TemporalBlocking.swift), again with the same bits.
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
    public internal(set) var stepCount = 0
    /// `N` once the run has diverged: the parameters after `N` steps, or the loss or the
    /// gradient at them, were not finite (NaN or infinite). Further steps do nothing.
    public private(set) var divergedAtStep: Int?
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
    /// False makes ``run(observer:)`` take its steps one at a time even where a window of
    /// steps could run block by block (TemporalBlocking.swift). **The results are the same
    /// bits either way** (the tests compare the two); `report bench` times both.
    public var useTemporalBlocking = true
    // The state a temporally blocked window starts from, allocated on first use.
    var windowCheckpoint: WindowCheckpoint?
    /// Work units per thread below which a pass stays serial (tests lower it).
    var parallelGrain: Int {
        get { engine.parallelGrain }
        set { engine.parallelGrain = Swift.max(1, newValue) }
    }

    let engine: PolicyEngine
    let optimizer: OptimizerState
    // The minibatch permutation.
    let order: UnsafeMutableBufferPointer<Int>
    var cursor: Int
    let shuffleRNG: RandomGenerator
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
        engine = PolicyEngine(environment: environment, pairs: specs, loss: config.loss,
                              parameters: config.lossParameters(beta: sim.beta))
        // The tabular family (canFuse) folds Adam's constants (one division per parameter
        // instead of three; OptimizerState): every path of its runs uses the same update.
        optimizer = OptimizerState(config.optimizer, learningRate: config.learningRate, parameterCount: engine.parameterCount,
                                   foldsAdamConstants: engine.canFuse)
        order = .allocate(capacity: engine.pairCount)
        for i in 0..<engine.pairCount { order[i] = i }
        cursor = engine.pairCount   // forces a shuffle before the first minibatch
        shuffleRNG = RandomGenerator(seed: RandomGenerator.derivedSeed(sim.seed, RandomStream.shuffle.rawValue))
    }

    deinit { order.deallocate() }

    /// Validates, generates the environment and runs `training` on it.
    public static func train(_ simulation: SimulationConfig, _ training: TrainingConfig) throws(ExperimentError) -> TrainingResult {
        let env = try Environment(simulation)
        return try Trainer(environment: env, config: training).run()
    }

    // MARK: - Parameters

    /// The current parameters of the environment's ``PolicyFamily`` (for example `P*K`
    /// logits, tabular, where only differences within a prompt matter; or `theta` in `R^d`,
    /// log-linear).
    public var parameters: [Double] { engine.parameters }

    /// Replaces the parameters. Does not reset the optimiser's state or step count.
    public func setParameters(_ p: [Double]) { engine.setParameters(p) }

    /// `log pi(.|x)` at the current parameters.
    public func logPolicy(prompt x: Int) -> [Double] {
        precondition(x >= 0 && x < engine.P)
        var out = [Double](repeating: 0, count: engine.K)
        out.withUnsafeMutableBufferPointer { o in
            guard let op = o.baseAddress, let th = engine.theta.baseAddress else { return }
            engine.family.logPolicy(prompt: x, parameters: th, into: op)
        }
        return out
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

    /// One optimiser step on the next batch. Does nothing once the run has diverged
    /// (``divergedAtStep``).
    ///
    /// Divergence is detected once per step on a reduction the step computes anyway: the
    /// mean loss of the batch (generic path), the gradient's norm (clipped steps), or each
    /// prompt's log-sum-exp (the fused step). A non-finite parameter, log-probability, loss
    /// or gradient shows there within a step.
    public func step() {
        if divergedAtStep != nil { return }
        let e = engine
        if e.canFuse && useFusedPath && (config.batchSize ?? e.pairCount) >= e.pairCount {
            fusedStep()
            return
        }
        e.clearGradient()
        var value = 0.0
        if let b = config.batchSize, b < e.pairCount {
            // Next b pairs of the permutation; reshuffle (Fisher–Yates, GSL stream) at each epoch.
            if cursor >= e.pairCount { shuffle(); cursor = 0 }
            let batchSize = Swift.min(b, e.pairCount - cursor)
            let start = cursor
            cursor += batchSize
            e.touch(pairs: UnsafeBufferPointer(rebasing: order[start ..< start + batchSize]))
            e.refreshLogPolicy()
            let scale = 1 / Double(batchSize)
            for k in start ..< start + batchSize { value += e.accumulate(pair: order[k], scale: scale) }
        } else {
            e.touchAll()
            e.refreshLogPolicy()
            let scale = 1 / Double(e.pairCount)
            for i in 0..<e.pairCount { value += e.accumulate(pair: i, scale: scale) }
        }
        guard value.isFinite else { divergedAtStep = stepCount; return }
        e.finishGradient()
        guard optimizer.step(parameters: e.theta, gradient: e.paramGrad, clipNorm: config.clipNorm) else {
            divergedAtStep = stepCount
            return
        }
        stepCount += 1
    }

    /// The full-batch step through the engine's fused per-prompt pass: bit-identical to the
    /// generic path above (same operations in the same order).
    private func fusedStep() {
        let e = engine
        e.threads = threads
        let scale = 1 / Double(e.pairCount)
        if let c = config.clipNorm {
            // The norm needs the whole gradient first: gradient pass, serial norm, then the update.
            e.fusedGradient(scale: scale)
            guard optimizer.step(parameters: e.theta, gradient: e.paramGrad, clipNorm: c) else {
                divergedAtStep = stepCount
                return
            }
        } else {
            let finite = e.fusedStep(scale: scale, update: optimizer.nextUpdate())
            optimizer.advance()
            guard finite else { divergedAtStep = stepCount; return }
        }
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
    ///
    /// A run that produces a non-finite value stops there (``divergedAtStep``): its result
    /// has the status ``RunStatus/diverged(atStep:)`` and holds only its finite records, so
    /// its summary is that of its last finite metrics (all NaN if even step 0 was not).
    public func run(observer: ((StepMetrics, Trainer) -> Void)? = nil) -> TrainingResult {
        var records: [StepMetrics] = []
        records.reserveCapacity((config.steps - stepCount) / config.logEvery + 2)
        func record() {
            let r = metrics()
            // The logged metrics are reductions over every parameter, pair and cell: a
            // non-finite one is a divergence the step's own check has not yet seen.
            guard r.isFinite else { divergedAtStep = divergedAtStep ?? stepCount; return }
            records.append(r)
            observer?(r, self)
        }
        if divergedAtStep == nil { record() }
        while stepCount < config.steps && divergedAtStep == nil {
            // The steps up to the next logged one (a multiple of logEvery, or the last step),
            // as one window: block by block where prompts are independent (TemporalBlocking.swift).
            let next = Swift.min(config.steps, (stepCount / config.logEvery + 1) * config.logEvery)
            advance(steps: next - stepCount)
            if divergedAtStep == nil { record() }
        }
        let status: RunStatus = divergedAtStep.map { .diverged(atStep: $0) } ?? .ok
        return TrainingResult(metrics: records, summary: RunSummary(loss: config.loss, metrics: records, status: status))
    }
}
