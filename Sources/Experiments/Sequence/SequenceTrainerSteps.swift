import LossMath

// The steps of a SequenceTrainer: the generic step, the fused markov step, and the run loop.

extension SequenceTrainer {
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
        let update = FoldedRowUpdate(optimizer.nextUpdate())
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
    ///
    /// Between two logged steps it uses temporal blocking (``blockedSteps(to:threads:)``) when
    /// that applies (``blockingApplies``), on up to `threads` threads; the results are the
    /// step path's bits whatever `threads` is.
    public func run(threads: Int = 1, observer: ((SequenceStepMetrics, SequenceTrainer) -> Void)? = nil) -> SequenceTrainingResult {
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
            // The next logged step: the next multiple of logEvery, or the last step.
            let next = Swift.min(config.steps, (stepCount / config.logEvery + 1) * config.logEvery)
            if blockingApplies && next - stepCount >= minimumBlockSteps {
                blockedSteps(to: next, threads: threads)
            } else {
                while stepCount < next && divergedAtStep == nil { step() }
            }
            if divergedAtStep == nil { record() }
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

    /// The `markov` step without clipping, fused row by row: each active row's logit
    /// gradient, its optimiser update and its new log-softmax in one pass while the row is
    /// in cache (the gradient row lives in a scratch row, not in `gradient`). The same operations on the same values as ``lossAndGradient()`` followed
    /// by the update and ``refresh(_:)`` (the rows are independent and the norm is summed in
    /// the same order, prompt by prompt as in ``gradientNorm()``), so the same bits.
    func fusedLogitStep() {
        let value = pairPass()
        lastStepLoss = value
        let v = space.vocabulary
        let update = FoldedRowUpdate(optimizer.nextUpdate())
        var squares = 0.0, part = 0.0, current = 0
        let perPrompt = space.statesPerPrompt
        guard let lp = logPi.baseAddress, let g = rowGradient.baseAddress, let c = rowCounts.baseAddress,
              let th = theta.baseAddress, let p = probabilities.baseAddress else { return }
        // Two rows at a time (``markovRowStepPair``, the same bits as one at a time); each
        // row's squares are added to its prompt's partial in state order.
        var i = 0
        while i + 1 < states.count {
            let sA = states[i], sB = states[i + 1]
            let rowA = sA * v, rowB = sB * v
            rowLogitGradient(state: sA, counts: c, into: g)
            rowLogitGradient(state: sB, counts: c, into: g + v)
            let (qa, qb) = markovRowStepPair(
                gradient: g, parameters: th + rowA, logPolicy: lp + rowA, probabilities: p + rowA, offset: rowA,
                gradient: g + v, parameters: th + rowB, logPolicy: lp + rowB, probabilities: p + rowB, offset: rowB,
                count: v, update: update)
            if sA / perPrompt != current { squares += part; part = 0; current = sA / perPrompt }
            part += qa
            if sB / perPrompt != current { squares += part; part = 0; current = sB / perPrompt }
            part += qb
            i += 2
        }
        if i < states.count {
            let s = states[i]
            let row = s * v
            let x = s / perPrompt
            if x != current { squares += part; part = 0; current = x }
            rowLogitGradient(state: s, counts: c, into: g)
            part += markovRowStep(gradient: g, parameters: th + row, logPolicy: lp + row, probabilities: p + row,
                                  count: v, update: update, offset: row)
        }
        optimizer.advance()
        let norm = (squares + part).squareRoot()
        guard value.isFinite && norm.isFinite else { divergedAtStep = stepCount; return }
        maxGradientNorm = Swift.max(maxGradientNorm, norm)
        stepCount += 1
    }
}
