import GSLKit
import LossMath

/// The sequence-level trainer: optimises one loss on a ``SequenceEnvironment`` with a
/// ``SequencePolicyFamily`` and records the exact metrics of ``SequenceStepMetrics``
/// (`docs/theory.md §5.2`).
///
/// **A step** (full batch; the objective is the mean loss over the `P n` pairs):
/// 1. `log pi(y_w)` and `log pi(y_l)` of every pair as path sums over the table of
///    `log pi(a|s)`, added left to right in `t` like ``SequenceSpace/pathSum(_:prompt:tokens:)``
///    (the same bits; exact to about `T` ulps even near -900, as no exponential is taken);
/// 2. the loss's `dl/d log pi_w`, `dl/d log pi_l` by LossMath's batch kernel;
/// 3. the counts `c(s, a) = sum_i (1/(P n)) (dl_i/d log pi_w [(s, a) on y_w's path] +
///    dl_i/d log pi_l [(s, a) on y_l's path])` and each row's logit gradient
///    `G(s, .) = c(s, .) - (sum_a c(s, a)) pi(.|s)`, since
///    `d log pi(y) / d logit(s, a) = sum_{t : s_t = s} ([a = y_t] - pi(a|s))`;
/// 4. the family's transpose (identity for `markov`, the sums into `A`, `B`, `C` for
///    `shared`), optional clipping of the gradient's norm, and SGD or Adam
///    (``OptimizerState``'s update, the tabular trainer's).
///
/// **Active states.** Only states on some training pair's path ever have a nonzero `c`, so
/// every per-step pass runs over that fixed set. For `markov` the other states' logits get
/// a zero gradient at every step, and SGD or Adam with zero gradient and zero moments leaves
/// a parameter exactly as it is: their rows of `log pi` stay `pi_ref`'s, and the result is
/// bit-identical to a pass over the whole table (the tests compare the two). For `shared`
/// every logit moves, so the step refreshes the active rows only (all a step reads) and
/// ``metrics()`` the whole table.
///
/// **Divergence**, as in ``Trainer``: a step whose mean loss or gradient norm is not finite
/// stops the run (``divergedAtStep``); its result has status `diverged at step N` and only
/// its finite records.
///
/// **Information.** Reward-aware losses are told the environment's ``SequenceEnvironment/targetGaps``
/// (``SequenceConfig/target``), or the constant of ``RewardGapSource/constant(_:)`` when
/// ``TrainingConfig/target`` is one; ``RewardGapSource/trueReward`` and
/// ``RewardGapSource/rewardModel`` both mean the environment's target. The metrics measure
/// `beta h` against the true gap.
///
/// Not `Sendable`: one trainer per run, on the thread that runs it.
///
/// See also: ``SequenceRuns``, ``Trainer``, ``SequencePolicyFamily``.
public final class SequenceTrainer {
    public let environment: SequenceEnvironment
    public let config: TrainingConfig
    public let family: any SequencePolicyFamily
    /// Optimiser steps taken so far.
    public private(set) var stepCount = 0
    /// `N` once the run has diverged (see the type's documentation). Further steps do nothing.
    public private(set) var divergedAtStep: Int?
    /// The largest full-batch gradient norm seen so far (every step and every metrics call).
    public internal(set) var maxGradientNorm = 0.0
    /// The mean loss at the start of the last step taken (NaN before the first).
    public private(set) var lastStepLoss = Double.nan
    /// False runs every pass over the whole table instead of the active states (tests).
    var restrictToActiveStates = true {
        didSet { selectStates() }
    }

    let space: SequenceSpace
    let pairCount: Int
    let lossParameters: LossParameters
    let optimizer: OptimizerState
    // Contiguous buffers, allocated once.
    let theta: UnsafeMutableBufferPointer<Double>
    let gradient: UnsafeMutableBufferPointer<Double>
    let logPi: UnsafeMutableBufferPointer<Double>       // P S V; fresh on `states` (all of it for markov)
    let probabilities: UnsafeMutableBufferPointer<Double> // P S V, pi(a|s), fresh where logPi is
    let counts: UnsafeMutableBufferPointer<Double>      // P S V, zero between steps
    let paths: UnsafeMutableBufferPointer<Int>          // per pair: y_w's T entries, then y_l's
    let refChosen: UnsafeMutableBufferPointer<Double>, refRejected: UnsafeMutableBufferPointer<Double>
    let gaps: UnsafeMutableBufferPointer<Double>, trueGaps: UnsafeMutableBufferPointer<Double>
    let logpChosen: UnsafeMutableBufferPointer<Double>, logpRejected: UnsafeMutableBufferPointer<Double>
    let values: UnsafeMutableBufferPointer<Double>
    let dChosen: UnsafeMutableBufferPointer<Double>, dRejected: UnsafeMutableBufferPointer<Double>
    let scratch: UnsafeMutableBufferPointer<Double>     // V
    let rowGradient: UnsafeMutableBufferPointer<Double> // V, the fused step's gradient row
    let activeStates: [Int], allStates: [Int]
    /// The states of the per-step passes and the parameter ranges the optimiser updates.
    var states: [Int] = []
    var ranges: [Range<Int>] = []
    /// Whether `logPi` is fresh on every state.
    var tableIsFresh = true
    var lastRecordedTable: [Double]?

    /// Prepares a run: validates `config` (naming the parameter), builds the family of the
    /// environment's parameterisation at `pi_ref` and the pairs' paths.
    ///
    /// - Throws: ``ExperimentError`` for an invalid training configuration, a batch size
    ///   other than the full batch, or a zero gap for `spo_asym`.
    public init(environment env: SequenceEnvironment, config: TrainingConfig) throws(ExperimentError) {
        let sim = env.config
        let targetGaps = try Self.targetGaps(config: config, environment: env)
        environment = env
        self.config = config
        space = env.space
        family = sim.parameterisation.family(space: space, referenceLogits: env.referenceLogits)
        pairCount = env.pairCount
        lossParameters = config.lossParameters(beta: sim.beta)
        optimizer = OptimizerState(config.optimizer, learningRate: config.learningRate, parameterCount: family.parameterCount)

        func buffer<T>(_ n: Int, _ value: T) -> UnsafeMutableBufferPointer<T> {
            let b = UnsafeMutableBufferPointer<T>.allocate(capacity: n)
            b.initialize(repeating: value)
            return b
        }
        theta = buffer(family.parameterCount, 0.0)
        _ = theta.update(fromContentsOf: family.referenceParameters)
        gradient = buffer(family.parameterCount, 0.0)
        logPi = buffer(space.tableCount, 0.0)
        probabilities = buffer(space.tableCount, 0.0)
        counts = buffer(space.tableCount, 0.0)
        let length = space.length
        paths = buffer(2 * pairCount * length, 0)
        var visited = [Bool](repeating: false, count: space.stateCount)
        for i in 0..<pairCount {
            for (side, batch) in [env.pairs.chosen, env.pairs.rejected].enumerated() {
                let x = batch.prompts[i]
                let y = batch.response(i)
                for t in 0..<length {
                    let s = space.state(prompt: x, position: t, of: y)
                    visited[s] = true
                    paths[(2 * i + side) * length + t] = space.entry(state: s, token: y[y.startIndex + t])
                }
            }
        }
        activeStates = visited.indices.filter { visited[$0] }
        allStates = Array(0..<space.stateCount)
        refChosen = buffer(pairCount, 0.0); _ = refChosen.update(fromContentsOf: env.referenceLogpChosen)
        refRejected = buffer(pairCount, 0.0); _ = refRejected.update(fromContentsOf: env.referenceLogpRejected)
        gaps = buffer(pairCount, 0.0); _ = gaps.update(fromContentsOf: targetGaps)
        trueGaps = buffer(pairCount, 0.0); _ = trueGaps.update(fromContentsOf: env.trueGaps)
        logpChosen = buffer(pairCount, 0.0); logpRejected = buffer(pairCount, 0.0)
        values = buffer(pairCount, 0.0)
        dChosen = buffer(pairCount, 0.0); dRejected = buffer(pairCount, 0.0)
        scratch = buffer(space.vocabulary, 0.0)
        rowGradient = buffer(space.vocabulary, 0.0)
        selectStates()
        // pi_ref: the same bits as env.reference.logProbabilities (the same operations).
        refresh(allStates)
    }

    /// Validates `config` for `env` and returns the gap each pair's loss is told.
    static func targetGaps(config: TrainingConfig, environment env: SequenceEnvironment) throws(ExperimentError) -> [Double] {
        let sim = env.config
        let standIn = SimulationConfig(prompts: sim.prompts, responses: 2, pairsPerPrompt: sim.pairsPerPrompt,
                                       rewardSpread: 1, rewardNoise: 0, beta: sim.beta)
        try config.validate(for: standIn)
        if let b = config.batchSize {
            try require(b == env.pairCount, "batch size", "\(b)",
                        "the full batch P*n = \(env.pairCount): the sequence trainer is full batch (leave it unset)")
        }
        let targetGaps: [Double]
        if case .constant(let c) = config.target {
            targetGaps = [Double](repeating: c, count: env.pairCount)
        } else {
            targetGaps = env.targetGaps
        }
        if config.loss.needsRewardGap, let bad = targetGaps.firstIndex(where: { !$0.isFinite }) {
            throw ExperimentError.invalidParameter(name: "reward gap", value: "\(targetGaps[bad]) (pair \(bad))",
                                                   requirement: "a finite gap for every pair")
        }
        if config.loss == .spoAsym, let bad = targetGaps.firstIndex(where: { $0 == 0 }) {
            throw ExperimentError.invalidParameter(
                name: "reward gap for spo_asym", value: "0 (pair \(bad))",
                requirement: "a nonzero gap for every pair: spo_asym's target z = beta*h/dr divides by dr")
        }
        return targetGaps
    }

    deinit {
        theta.deallocate(); gradient.deallocate(); logPi.deallocate(); probabilities.deallocate(); counts.deallocate(); paths.deallocate()
        refChosen.deallocate(); refRejected.deallocate(); gaps.deallocate(); trueGaps.deallocate()
        logpChosen.deallocate(); logpRejected.deallocate(); values.deallocate()
        dChosen.deallocate(); dRejected.deallocate(); scratch.deallocate(); rowGradient.deallocate()
    }

    /// The passes' states and the optimiser's ranges: the active states and (markov) their
    /// parameter rows merged into runs, or everything.
    private func selectStates() {
        let v = space.vocabulary
        if restrictToActiveStates {
            states = activeStates
            if family.parametersAreLogits {
                ranges = []
                for s in activeStates {
                    if let last = ranges.last, last.upperBound == s * v {
                        ranges[ranges.count - 1] = last.lowerBound ..< (s + 1) * v
                    } else {
                        ranges.append(s * v ..< (s + 1) * v)
                    }
                }
            } else {
                ranges = [0 ..< family.parameterCount]
            }
        } else {
            states = allStates
            ranges = [0 ..< family.parameterCount]
        }
    }

    // MARK: - State

    /// The number of states on some training pair's path (those the per-step passes visit).
    public var activeStateCount: Int { activeStates.count }

    /// The current parameters.
    public var parameters: [Double] { Array(theta) }

    /// Replaces the parameters (refreshing `log pi`). Does not reset the optimiser.
    public func setParameters(_ p: [Double]) {
        precondition(p.count == family.parameterCount, "expected \(family.parameterCount) parameters")
        _ = theta.update(fromContentsOf: p)
        refresh(allStates)
    }

    /// The current policy's table of `log pi(a|s)` (layout of ``SequenceSpace``).
    public var logPolicy: [Double] {
        freshTable()
        return Array(logPi)
    }

    /// The current policy.
    public var policy: MarkovPolicy { MarkovPolicy(space: space, normalizedLogProbabilities: logPolicy) }

    /// Recomputes `log pi` on `rows` from `theta`.
    func refresh(_ rows: [Int]) {
        rows.withUnsafeBufferPointer { r in
            guard let th = theta.baseAddress, let lp = logPi.baseAddress, let p = probabilities.baseAddress else { return }
            family.writeLogPolicy(states: r, parameters: th, into: lp, probabilities: p)
        }
        tableIsFresh = rows.count == space.stateCount || family.parametersAreLogits
    }

    /// Makes `logPi` fresh on every state.
    func freshTable() {
        if !tableIsFresh { refresh(allStates) }
    }

    // MARK: - Loss and gradient

    /// The mean loss over the pairs at the current `logPi` (fresh on `states`), with the
    /// parameter gradient in `gradient` (zero outside ``ranges``). Allocates nothing.
    func lossAndGradient() -> Double {
        let total = pairPass()
        guard let p = probabilities.baseAddress, let c = counts.baseAddress, let g = gradient.baseAddress,
              let sc = scratch.baseAddress else { return .nan }
        for r in ranges { for j in r { g[j] = 0 } }
        states.withUnsafeBufferPointer { s in
            family.addLogitGradients(states: s, counts: c, probabilities: p, into: g, scratch: sc)
        }
        return total
    }

    /// Steps 1 to 3 of a step (see the type's documentation) up to the counts: each pair's
    /// path sums, the loss kernel, and `c(s, a)` in `counts`. Returns the mean loss.
    func pairPass() -> Double {
        let length = space.length
        guard let lp = logPi.baseAddress, let c = counts.baseAddress, let path = paths.baseAddress else { return .nan }
        for i in 0..<pairCount {
            let w = path + 2 * i * length, l = w + length
            var sw = 0.0, sl = 0.0
            for t in 0..<length { sw += lp[w[t]] }
            for t in 0..<length { sl += lp[l[t]] }
            logpChosen[i] = sw
            logpRejected[i] = sl
        }
        config.loss.evaluateBatch(chosen: UnsafeBufferPointer(logpChosen), rejected: UnsafeBufferPointer(logpRejected),
                                  refChosen: UnsafeBufferPointer(refChosen), refRejected: UnsafeBufferPointer(refRejected),
                                  rewardGaps: UnsafeBufferPointer(gaps), parameters: lossParameters,
                                  values: values, dChosen: dChosen, dRejected: dRejected)
        let scale = 1 / Double(pairCount)
        var total = 0.0
        for i in 0..<pairCount {
            total += scale * values[i]
            let a = scale * dChosen[i], b = scale * dRejected[i]
            let w = path + 2 * i * length, l = w + length
            for t in 0..<length { c[w[t]] += a }
            for t in 0..<length { c[l[t]] += b }
        }
        return total
    }

    /// The `markov` step without clipping, fused row by row: each active row's logit
    /// gradient, its optimiser update and its new log-softmax in one pass while the row is
    /// in cache (the gradient row lives in a scratch row, not in `gradient`). The same operations on the same values as ``lossAndGradient()`` followed
    /// by the update and ``refresh(_:)`` (the rows are independent and the norm is summed in
    /// the same order), so the same bits.
    private func fusedLogitStep() {
        let value = pairPass()
        lastStepLoss = value
        let v = space.vocabulary
        let update = optimizer.nextUpdate()
        var squares = 0.0
        guard let lp = logPi.baseAddress, let c = counts.baseAddress, let g = rowGradient.baseAddress,
              let th = theta.baseAddress, let p = probabilities.baseAddress else { return }
        for s in states {
            let row = s * v
            logitGradientRow(c + row, probabilities: p + row, into: g, count: v)
            for a in 0..<v { squares += g[a] * g[a] }
            update.apply(gradient: g, parameters: th + row, offset: row, count: v)
            logSoftmaxRow(th + row, into: lp + row, probabilities: p + row, count: v)
        }
        optimizer.advance()
        let norm = squares.squareRoot()
        guard value.isFinite && norm.isFinite else { divergedAtStep = stepCount; return }
        maxGradientNorm = Swift.max(maxGradientNorm, norm)
        stepCount += 1
    }

    /// The Euclidean norm of `gradient` over ``ranges`` (in index order; zero elsewhere).
    func gradientNorm() -> Double {
        var s = 0.0
        for r in ranges { for j in r { s += gradient[j] * gradient[j] } }
        return s.squareRoot()
    }

    /// The full-batch mean loss and its exact gradient at `parameters` (default: the
    /// current ones), over every state; the trainer's state is unchanged afterwards. The
    /// tests compare it with GSL's numerical derivative.
    public func meanLossAndGradient(at parameters: [Double]? = nil) -> (value: Double, gradient: [Double]) {
        let saved = Array(theta)
        let restricted = restrictToActiveStates
        restrictToActiveStates = false
        if let p = parameters { _ = theta.update(fromContentsOf: p) }
        refresh(allStates)
        let value = lossAndGradient()
        let g = Array(gradient)
        _ = theta.update(fromContentsOf: saved)
        refresh(allStates)
        restrictToActiveStates = restricted
        return (value, g)
    }

    // MARK: - Training

    /// One full-batch optimiser step. Does nothing once the run has diverged.
    public func step() {
        if divergedAtStep != nil { return }
        if family.parametersAreLogits && restrictToActiveStates && config.clipNorm == nil {
            fusedLogitStep()
            return
        }
        let value = lossAndGradient()
        lastStepLoss = value
        let norm = gradientNorm()
        guard value.isFinite && norm.isFinite else { divergedAtStep = stepCount; return }
        maxGradientNorm = Swift.max(maxGradientNorm, norm)
        if let c = config.clipNorm, norm > c {
            let f = c / norm
            for r in ranges { for j in r { gradient[j] *= f } }
        }
        let update = optimizer.nextUpdate()
        guard let g = gradient.baseAddress, let th = theta.baseAddress else { return }
        for r in ranges {
            update.apply(gradient: g + r.lowerBound, parameters: th + r.lowerBound, offset: r.lowerBound, count: r.count)
        }
        optimizer.advance()
        stepCount += 1
        refresh(states)
    }

    /// Runs the remaining steps up to ``TrainingConfig/steps``, recording metrics at the
    /// current step, every `logEvery` steps and at the final step (as ``Trainer/run(observer:)``).
    public func run(observer: ((SequenceStepMetrics, SequenceTrainer) -> Void)? = nil) -> SequenceTrainingResult {
        var records: [SequenceStepMetrics] = []
        func record() {
            let r = metrics()
            guard r.isFinite else { divergedAtStep = divergedAtStep ?? stepCount; return }
            records.append(r)
            lastRecordedTable = Array(logPi)
            observer?(r, self)
        }
        if divergedAtStep == nil { record() }
        while stepCount < config.steps && divergedAtStep == nil {
            step()
            if divergedAtStep == nil && (stepCount % config.logEvery == 0 || stepCount == config.steps) { record() }
        }
        let status: RunStatus = divergedAtStep.map { .diverged(atStep: $0) } ?? .ok
        return SequenceTrainingResult(metrics: records,
                                      summary: SequenceRunSummary(loss: config.loss, metrics: records, status: status),
                                      finalLogPolicy: lastRecordedTable ?? environment.reference.logProbabilities)
    }

    /// Validates, generates the environment and runs `training` on it.
    public static func train(_ simulation: SequenceConfig, _ training: TrainingConfig) throws(ExperimentError) -> SequenceTrainingResult {
        try SequenceTrainer(environment: SequenceEnvironment(simulation), config: training).run()
    }
}
