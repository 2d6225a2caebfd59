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
/// 3. the counts `c(s, a) = sum_i (1/(P n)) (dl_i/d log pi_w #{t : (s_t, y_w,t) = (s, a)} +
///    dl_i/d log pi_l #{t : (s_t, y_l,t) = (s, a)})`, summed per state from a list of the
///    pairs' visits built once (no table of counts), and each row's logit gradient
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
/// **Temporal blocking.** For `markov` without clipping the prompts are independent within a
/// step, so ``run(threads:observer:)`` takes the steps between two logged steps prompt by
/// prompt, each prompt's rows staying in cache, over up to `threads` threads
/// (``blockedSteps(to:threads:)``; the step path's bits). `shared` and clipping couple the
/// prompts and keep the step path; so does ``step()``.
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
    public internal(set) var stepCount = 0
    /// `N` once the run has diverged (see the type's documentation). Further steps do nothing.
    public internal(set) var divergedAtStep: Int?
    /// The largest full-batch gradient norm seen so far (every step and every metrics call).
    public internal(set) var maxGradientNorm = 0.0
    /// The mean loss at the start of the last step taken (NaN before the first).
    public internal(set) var lastStepLoss = Double.nan
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
    /// The pairs' visits to each state, grouped by state (counting sort, stable): the visits of
    /// state `s` are `occurrenceStart[s] ..< occurrenceStart[s + 1]`, in the order (pair,
    /// chosen before rejected, position); each has its token and the index `2 i + side` of
    /// its weight in `weights`.
    let occurrenceStart: UnsafeMutableBufferPointer<Int>
    let occurrenceToken: UnsafeMutableBufferPointer<Int>
    let occurrenceWeight: UnsafeMutableBufferPointer<Int>
    /// Per step, `(1/(P n)) dl_i/d log pi_w` at `2 i` and `(1/(P n)) dl_i/d log pi_l` at `2 i + 1`.
    let weights: UnsafeMutableBufferPointer<Double>
    let rowCounts: UnsafeMutableBufferPointer<Double>   // V, one row of c(s, .)
    let paths: UnsafeMutableBufferPointer<Int>          // per pair: y_w's T entries, then y_l's
    let refChosen: UnsafeMutableBufferPointer<Double>, refRejected: UnsafeMutableBufferPointer<Double>
    let gaps: UnsafeMutableBufferPointer<Double>, trueGaps: UnsafeMutableBufferPointer<Double>
    let logpChosen: UnsafeMutableBufferPointer<Double>, logpRejected: UnsafeMutableBufferPointer<Double>
    let values: UnsafeMutableBufferPointer<Double>
    let dChosen: UnsafeMutableBufferPointer<Double>, dRejected: UnsafeMutableBufferPointer<Double>
    let scratch: UnsafeMutableBufferPointer<Double>     // V
    let rowGradient: UnsafeMutableBufferPointer<Double> // 2V, the fused step's two gradient rows
    let activeStates: [Int], allStates: [Int]
    /// Prompt `x`'s pairs are `pairStart[x] ..< pairStart[x + 1]` (the environment's pairs
    /// come prompt by prompt), its active states `activeStates[activeStart[x] ..< activeStart[x + 1]]`.
    let pairStart: [Int], activeStart: [Int]
    /// Whether ``run(threads:observer:)`` may use temporal blocking (tests turn it off), and
    /// the fewest steps between logged steps for which it does (tests lower it to 1).
    var allowsBlocking = true
    var minimumBlockSteps = 2
    /// The blocked path's copy of the active rows' `theta`, `m`, `v` at a block's start.
    var blockSnapshot: [Double] = []
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
        let length = space.length
        let visits = 2 * pairCount * length
        paths = buffer(visits, 0)
        occurrenceStart = buffer(space.stateCount + 1, 0)
        occurrenceToken = buffer(visits, 0)
        occurrenceWeight = buffer(visits, 0)
        weights = buffer(2 * pairCount, 0.0)
        rowCounts = buffer(space.vocabulary, 0.0)
        let v = space.vocabulary
        for i in 0..<pairCount {
            for (side, batch) in [env.pairs.chosen, env.pairs.rejected].enumerated() {
                let x = batch.prompts[i]
                let y = batch.response(i)
                for t in 0..<length {
                    let s = space.state(prompt: x, position: t, of: y)
                    paths[(2 * i + side) * length + t] = space.entry(state: s, token: y[y.startIndex + t])
                    occurrenceStart[s + 1] += 1
                }
            }
        }
        for s in 0..<space.stateCount { occurrenceStart[s + 1] += occurrenceStart[s] }
        var next = Array(occurrenceStart.prefix(space.stateCount))
        for k in 0..<visits {                  // k = (2 i + side) T + t: the order of the visits
            let e = paths[k]
            let s = e / v
            occurrenceToken[next[s]] = e - s * v
            occurrenceWeight[next[s]] = k / length
            next[s] += 1
        }
        let starts = occurrenceStart
        activeStates = (0..<space.stateCount).filter { starts[$0 + 1] > starts[$0] }
        allStates = Array(0..<space.stateCount)
        var pairStart = [Int](repeating: 0, count: space.prompts + 1)
        for i in 0..<pairCount {
            let x = env.pairs.chosen.prompts[i]
            precondition(x == env.pairs.rejected.prompts[i] && (i == 0 || x >= env.pairs.chosen.prompts[i - 1]),
                         "the environment's pairs come prompt by prompt")
            pairStart[x + 1] += 1
        }
        for x in 0..<space.prompts { pairStart[x + 1] += pairStart[x] }
        self.pairStart = pairStart
        let perPrompt = space.statesPerPrompt
        let active = activeStates
        activeStart = (0...space.prompts).map { x in active.firstIndex { $0 >= x * perPrompt } ?? active.count }
        refChosen = buffer(pairCount, 0.0); _ = refChosen.update(fromContentsOf: env.referenceLogpChosen)
        refRejected = buffer(pairCount, 0.0); _ = refRejected.update(fromContentsOf: env.referenceLogpRejected)
        gaps = buffer(pairCount, 0.0); _ = gaps.update(fromContentsOf: targetGaps)
        trueGaps = buffer(pairCount, 0.0); _ = trueGaps.update(fromContentsOf: env.trueGaps)
        logpChosen = buffer(pairCount, 0.0); logpRejected = buffer(pairCount, 0.0)
        values = buffer(pairCount, 0.0)
        dChosen = buffer(pairCount, 0.0); dRejected = buffer(pairCount, 0.0)
        scratch = buffer(space.vocabulary, 0.0)
        rowGradient = buffer(2 * space.vocabulary, 0.0)
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
        theta.deallocate(); gradient.deallocate(); logPi.deallocate(); probabilities.deallocate(); paths.deallocate()
        occurrenceStart.deallocate(); occurrenceToken.deallocate(); occurrenceWeight.deallocate()
        weights.deallocate(); rowCounts.deallocate()
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
        guard let g = gradient.baseAddress, let sc = scratch.baseAddress, let c = rowCounts.baseAddress else { return .nan }
        for r in ranges { for j in r { g[j] = 0 } }
        for s in states {
            rowLogitGradient(state: s, counts: c, into: sc)
            family.addGradient(state: s, logitGradient: sc, into: g)
        }
        return total
    }

    /// State `s`'s logit gradient `G(s, .) = c(s, .) - (sum_a c(s, a)) pi(.|s)` into `g`
    /// (`V` entries; `c` is a zeroed row of `V` scratch entries, left zeroed), with `c(s, a)` summed from the state's visits in their order (from 0,
    /// pair by pair: the bits of a dense table of counts filled pair by pair).
    @inline(__always)
    func rowLogitGradient(state s: Int, counts c: UnsafeMutablePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        let v = space.vocabulary
        guard let p = probabilities.baseAddress else { return }
        for j in occurrenceStart[s] ..< occurrenceStart[s + 1] { c[occurrenceToken[j]] += weights[occurrenceWeight[j]] }
        logitGradientRow(c, probabilities: p + s * v, into: g, count: v)
    }

    /// `log pi(y_w)` and `log pi(y_l)` of the pairs `range`, summed along their paths over the
    /// current `log pi` table into ``logpChosen`` and ``logpRejected`` (each sum from 0, in
    /// token order: the step path and the blocked path share these bits).
    @inline(__always)
    func sumPaths(_ range: Range<Int>) {
        let length = space.length
        guard let lp = logPi.baseAddress, let path = paths.baseAddress else { return }
        for i in range {
            let w = path + 2 * i * length, l = w + length
            var sw = 0.0, sl = 0.0
            for t in 0..<length { sw += lp[w[t]] }
            for t in 0..<length { sl += lp[l[t]] }
            logpChosen[i] = sw
            logpRejected[i] = sl
        }
    }

    /// Steps 1 and 2 of a step (see the type's documentation): each pair's path sums, the
    /// loss kernel, and the scaled derivatives in `weights`. Returns the mean loss, summed
    /// prompt by prompt (each prompt's partial sum from 0 over its pairs, the partials added
    /// in prompt order), so that the blocked path, which sums each prompt on its own, gives
    /// the same bits.
    func pairPass() -> Double {
        guard logPi.baseAddress != nil, paths.baseAddress != nil else { return .nan }
        sumPaths(0..<pairCount)
        config.loss.evaluateBatch(chosen: UnsafeBufferPointer(logpChosen), rejected: UnsafeBufferPointer(logpRejected),
                                  refChosen: UnsafeBufferPointer(refChosen), refRejected: UnsafeBufferPointer(refRejected),
                                  rewardGaps: UnsafeBufferPointer(gaps), parameters: lossParameters,
                                  values: values, dChosen: dChosen, dRejected: dRejected)
        let scale = 1 / Double(pairCount)
        var total = 0.0
        for x in 0..<space.prompts {
            var part = 0.0
            for i in pairStart[x] ..< pairStart[x + 1] {
                part += scale * values[i]
                weights[2 * i] = scale * dChosen[i]
                weights[2 * i + 1] = scale * dRejected[i]
            }
            total += part
        }
        return total
    }


    /// The Euclidean norm of `gradient` over ``ranges`` (zero elsewhere). For `markov`, the
    /// squares are summed row by row (each row's sum from 0, in index order), the rows' sums
    /// prompt by prompt (each prompt's partial from 0, the partials added in prompt order),
    /// as the fused and blocked steps do (``markovRowStep(gradient:parameters:logPolicy:probabilities:count:update:offset:)``);
    /// for `shared`, in index order.
    func gradientNorm() -> Double {
        if family.parametersAreLogits {
            let perPrompt = space.statesPerPrompt, v = space.vocabulary
            var total = 0.0, part = 0.0, current = 0
            for s in states {
                let x = s / perPrompt
                if x != current { total += part; part = 0; current = x }
                var row = 0.0
                for j in s * v ..< (s + 1) * v { row += gradient[j] * gradient[j] }
                part += row
            }
            return (total + part).squareRoot()
        }
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
}

