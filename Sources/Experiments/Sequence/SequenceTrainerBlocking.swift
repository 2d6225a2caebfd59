import LossMath

// Temporal blocking of the sequence trainer over prompts (markov, full batch, no clipping).

extension SequenceTrainer {
    /// Whether ``blockedSteps(to:threads:)`` applies: the `markov` family (a prompt's pairs
    /// read and move only that prompt's rows), passes over the active states, and no
    /// global-norm clipping (which couples the prompts through the norm of the whole
    /// gradient). Otherwise (`shared`, clipping) the step path runs.
    var blockingApplies: Bool {
        allowsBlocking && family.parametersAreLogits && restrictToActiveStates && config.clipNorm == nil
    }

    /// Takes the steps `stepCount + 1 ... end` by temporal blocking: prompt by prompt (on up
    /// to `threads` threads, each a contiguous range of prompts), every step of the block
    /// on a packed copy of the prompt's active rows of `theta`, `m`, `v` and `pi` (eight rows
    /// per vector, about 1.3 MB at `P = 64, V = 32, T = 64, n = 16`), which stays in cache,
    /// instead of streaming the whole table once per step
    /// (``packedPrompt(_:firstUpdate:steps:losses:squares:scratch:)``).
    ///
    /// **Why it is exact.** With `markov` and no clipping the prompts share nothing within a
    /// step: prompt `x`'s pairs read only its rows of `log pi`, its rows' gradients read only
    /// its pairs' weights, and SGD and Adam are elementwise (the step's bias corrections come
    /// from ``OptimizerState/update(step:)``). Each prompt does exactly the operations of
    /// ``fusedLogitStep()`` on its rows, in the same order. The only cross-prompt quantities
    /// are the mean loss and the gradient norm: each prompt records its partial sums per step
    /// (loss over its pairs, squares over its rows, each from 0), and they are added in prompt
    /// order afterwards, which is how the step path sums them too (``pairPass()``,
    /// ``gradientNorm()``). So the parameters, moments, `log pi`, ``lastStepLoss`` and
    /// ``maxGradientNorm`` are the step path's bits, whatever `threads` is.
    ///
    /// **Divergence.** When the combined loss or norm of some step of the block is not finite,
    /// the block is undone (the active rows' `theta`, `m`, `v` are restored from a copy taken
    /// at its start, `log pi` recomputed) and rerun on the step path, which stops at the first
    /// such step: ``divergedAtStep`` and the trainer's state are then exactly the step path's.
    /// This costs one extra pass over the block, only on a diverging run.
    ///
    /// - Precondition: ``blockingApplies``; the run has not diverged.
    func blockedSteps(to end: Int, threads: Int) {
        let start = stepCount, count = end - start
        guard count > 0, divergedAtStep == nil else { return }
        let prompts = space.prompts, v = space.vocabulary
        let moments = optimizer.kind == .adam
        let rowValues = activeStates.count * v
        let snapshotCount = (moments ? 3 : 1) * rowValues
        if blockSnapshot.count != snapshotCount { blockSnapshot = [Double](repeating: 0, count: snapshotCount) }
        var partials = [Double](repeating: 0, count: 2 * count * prompts)   // [step][prompt]: loss, then squares
        let chunks = Swift.max(1, Swift.min(threads, prompts))
        let firstUpdate = optimizer.steps + 1
        let (largestRows, largestPairs) = largestPrompt
        let statesPerPrompt = space.statesPerPrompt, pathEntries = 2 * largestPairs * space.length
        blockSnapshot.withUnsafeMutableBufferPointer { snap in
            partials.withUnsafeMutableBufferPointer { part in
                guard let sp = snap.baseAddress, let pp = part.baseAddress else { return }
                let shared = UncheckedSendable((self, sp, pp))
                forEachChunk(prompts, chunks: chunks) { range, _ in
                    let (trainer, sp, pp) = shared.value
                    let scratch = PackedPromptScratch(rows: largestRows, vocabulary: v, pathEntries: pathEntries,
                                                      statesPerPrompt: statesPerPrompt)
                    defer { scratch.deallocate() }
                    for x in range {
                        trainer.snapshotRows(prompt: x, into: sp, moments: moments)
                        trainer.packedPrompt(x, firstUpdate: firstUpdate, steps: count, losses: pp,
                                             squares: pp + count * prompts, scratch: scratch)
                    }
                }
            }
        }
        let savedMaxNorm = maxGradientNorm, savedLoss = lastStepLoss
        for j in 0..<count {
            var value = 0.0, squares = 0.0
            for x in 0..<prompts {
                value += partials[j * prompts + x]
                squares += partials[(count + j) * prompts + x]
            }
            let norm = squares.squareRoot()
            guard value.isFinite && norm.isFinite else {
                restoreRows(moments: moments)
                maxGradientNorm = savedMaxNorm
                lastStepLoss = savedLoss
                while stepCount < end && divergedAtStep == nil { step() }
                return
            }
            lastStepLoss = value
            maxGradientNorm = Swift.max(maxGradientNorm, norm)
        }
        optimizer.advance(by: count)
        stepCount = end
    }

    /// Copies prompt `x`'s active rows of `theta` (and of Adam's `m`, `v` when `moments`)
    /// into `snapshot`, packed by active row (`theta`'s rows, then `m`'s, then `v`'s).
    func snapshotRows(prompt x: Int, into snapshot: UnsafeMutablePointer<Double>, moments: Bool) {
        let v = space.vocabulary, rowValues = activeStates.count * v
        let sources = moments ? [theta, optimizer.m, optimizer.v] : [theta]
        for r in activeStart[x] ..< activeStart[x + 1] {
            let row = activeStates[r] * v
            for (k, source) in sources.enumerated() {
                for a in 0..<v { snapshot[k * rowValues + r * v + a] = source[row + a] }
            }
        }
    }

    /// Puts back the rows ``snapshotRows(prompt:into:moments:)`` copied (every prompt) and
    /// recomputes their `log pi` and `pi`.
    func restoreRows(moments: Bool) {
        let v = space.vocabulary, rowValues = activeStates.count * v
        let targets = moments ? [theta, optimizer.m, optimizer.v] : [theta]
        for (r, s) in activeStates.enumerated() {
            for (k, target) in targets.enumerated() {
                for a in 0..<v { target[s * v + a] = blockSnapshot[k * rowValues + r * v + a] }
            }
        }
        refresh(states)
    }
}
