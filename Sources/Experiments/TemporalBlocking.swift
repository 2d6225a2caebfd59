import LossMath

// Temporal blocking of the fused tabular step: many steps of a block of prompts while the
// block sits in L1/L2.
//
// **When prompts are independent.** With the tabular family, full-batch steps and no
// gradient-norm clipping, a prompt's gradient reads only its own logits and pairs (the
// softmax is per prompt), and SGD and Adam update element by element with constants that
// depend only on the step number (Adam's bias corrections `1 - b^t`). So prompt x after t
// steps is a function of prompt x's data alone, and the steps of one block of prompts can
// run back to back before the next block is touched: the rows of theta, Adam's moments,
// log pi and the block's pairs are read from memory once per window instead of once per
// step. Each prompt's arithmetic is that of ``PolicyEngine/fusedStep(scale:update:)``
// (the same `EngineBuffers.stepBlock` on the same blocks), so the parameters, the moments
// and log pi after a window are the same bits as after the same number of fused steps.
//
// Rows shorter than a vector (K < 8, the default problem's K = 6) run their window eight
// prompts at a time with one prompt per lane (LaneGroupWindow.swift), again the same bits;
// the prompts of a block left over (fewer than eight) step through stepBlock.
//
// **Where prompts are coupled, the per-step path stays.**
// - Clipping of the gradient's global norm: the scale of every prompt's update depends on
//   every other prompt's gradient at that step.
// - The log-linear family: the parameters are shared by all prompts.
// - Minibatches: the batch is drawn across prompts.
// These take ``Trainer/step()`` one step at a time (``Trainer/canBlockSteps``).
//
// **Metrics and divergence.** A window ends at each logged step (``Trainer/run(observer:)``),
// where the metrics are computed by the usual full pass on the state reached, so they are
// the same bits. Divergence is the first step at which any prompt was non-finite: each
// chunk records the first bad step of its blocks, the window takes the minimum, and if
// there is one the window is undone (theta and the moments are copied aside per block
// before its steps) and redone step by step through ``Trainer/step()``, which stops at
// that step with the state the per-step path leaves.

/// The state a window starts from, kept so that a diverged window can be redone step by step:
/// theta and, for Adam, both moments (`P*K` doubles each), copied block by block.
final class WindowCheckpoint {
    let theta: UnsafeMutableBufferPointer<Double>
    let m: UnsafeMutableBufferPointer<Double>
    let v: UnsafeMutableBufferPointer<Double>

    init(count n: Int) {
        theta = .allocate(capacity: n); theta.initialize(repeating: 0)
        m = .allocate(capacity: n); m.initialize(repeating: 0)
        v = .allocate(capacity: n); v.initialize(repeating: 0)
    }

    deinit { theta.deallocate(); m.deallocate(); v.deallocate() }
}

extension PolicyEngine {
    /// `updates.count` full-batch steps of the mean loss (`scale = 1/pairCount`), the t-th
    /// with `updates[t]`, prompt block by prompt block: the same bits as that many calls of
    /// ``fusedStep(scale:update:)``. Copies each block's parameters (and Adam's moments) into
    /// `checkpoint` before stepping it. Returns the first step (0-based in the window) at
    /// which some prompt's log pi or pair derivative was not finite, or nil. Requires
    /// ``canFuse``; the caller must not clip.
    func fusedSteps(scale: Double, updates: [RowUpdate], checkpoint: WindowCheckpoint) -> Int? {
        precondition(canFuse)
        let T = updates.count
        if T == 0 { return nil }
        // A window is T steps of work: split it as finely as T steps would allow.
        let work = (P * K + pairCount) * T
        let chunks = threads <= 1 ? 1 : Swift.max(1, Swift.min(threads, work / Swift.max(1, parallelGrain), P))
        ensureScratch(chunks: chunks)
        let firstBad = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks)
        firstBad.initialize(repeating: T)
        defer { firstBad.deallocate() }
        loss.withKernel(baseParameters, WindowVisitor(b: buffers, count: P, chunks: chunks, scale: scale,
                                                       updates: updates, checkpoint: checkpoint, firstBad: firstBad))
        let bad = firstBad.min() ?? T
        return bad < T ? bad : nil
    }
}

private struct WindowVisitor: PairLossKernelVisitor {
    let b: EngineBuffers, count: Int, chunks: Int, scale: Double
    let updates: [RowUpdate], checkpoint: WindowCheckpoint, firstBad: UnsafeMutableBufferPointer<Int>

    func visit<L: PairLossKernel>(_ kernel: L) {
        let b = self.b, scale = self.scale
        // RowUpdate and the checkpoint hold pointers to disjoint rows; box them for the workers.
        let shared = UncheckedSendable((updates, checkpoint, firstBad))
        forEachChunk(count, chunks: chunks) { range, c in
            let (updates, cp, firstBad) = shared.value
            let K = b.K, B = b.blockPrompts, T = updates.count
            let w = b.blockScratch(chunk: c)
            var bad = T
            // The lane groups' transposed state, for rows shorter than a vector.
            let lanes: (scratch: LaneGroupScratch, cells: UnsafeMutablePointer<Int64>)?
            if K < 8 && range.count >= 8 {
                let d = UnsafeMutablePointer<Double>.allocate(capacity: LaneGroupScratch.doubles(K: K, maxPairs: b.maxPairs))
                lanes = (LaneGroupScratch(base: d, K: K, maxPairs: b.maxPairs),
                         UnsafeMutablePointer<Int64>.allocate(capacity: 16 * Swift.max(1, b.maxPairs)))
            } else {
                lanes = nil
            }
            defer { if let lanes { lanes.scratch.theta.deallocate(); lanes.cells.deallocate() } }
            var x0 = range.lowerBound
            while x0 < range.upperBound {
                let x1 = Swift.min(x0 + B, range.upperBound)
                let cell0 = x0 * K, cells = (x1 - x0) * K
                for k in cell0 ..< cell0 + cells { cp.theta[k] = b.theta[k] }
                if let (m, v) = updates[0].moments {
                    for k in cell0 ..< cell0 + cells { cp.m[k] = m[k]; cp.v[k] = v[k] }
                }
                // A block that went bad at step s changes nothing before s; the steps after
                // it are undone with the rest of the window. Rows shorter than a vector run
                // eight prompts to the lanes (LaneGroupWindow.swift), the rest by stepBlock.
                var x = x0
                if let lanes {
                    while x + 8 <= x1 {
                        bad = Swift.min(bad, b.laneGroupSteps(kernel, x0: x, s: lanes.scratch, cells: lanes.cells,
                                                              scale: scale, updates: updates))
                        x += 8
                    }
                }
                if x < x1 {
                    for t in 0..<T {
                        if !b.stepBlock(kernel, x0: x, x1: x1, scratch: w, scale: scale, update: updates[t]) {
                            bad = Swift.min(bad, t)
                        }
                    }
                }
                x0 = x1
            }
            firstBad[c] = bad
        }
    }
}

extension Trainer {
    /// Whether ``advance(steps:)`` may run a window of steps block by block: the tabular
    /// family's fused path, full batch, no clipping (see TemporalBlocking.swift for why the
    /// other cases are coupled across prompts). A problem of one block (such as the default
    /// one) stays in cache anyway, but its window pays the step's fixed cost (the kernel
    /// dispatch, the chunk closure, the engine's bookkeeping) once instead of at every
    /// step: 1.13x (DPO) and 1.15x (spo) less CPU time on the default problem, measured
    /// (BENCHMARKS.md, issue 12).
    var canBlockSteps: Bool {
        engine.canFuse && useFusedPath && useTemporalBlocking && config.clipNorm == nil
            && (config.batchSize ?? engine.pairCount) >= engine.pairCount
    }

    /// `n` optimiser steps: the same state, bit for bit, as `n` calls of ``step()`` (which
    /// stop at a divergence). Runs them as one temporally blocked window when
    /// ``canBlockSteps``, else one by one.
    func advance(steps n: Int) {
        guard n > 0, divergedAtStep == nil else { return }
        guard canBlockSteps && n > 1 else {
            for _ in 0..<n where divergedAtStep == nil { step() }
            return
        }
        let e = engine
        e.threads = threads
        let startUpdates = optimizer.steps
        var updates: [RowUpdate] = []
        updates.reserveCapacity(n)
        for _ in 0..<n { updates.append(optimizer.nextUpdate()); optimizer.advance() }
        let cp = windowCheckpoint ?? WindowCheckpoint(count: e.P * e.K)
        windowCheckpoint = cp
        guard e.fusedSteps(scale: 1 / Double(e.pairCount), updates: updates, checkpoint: cp) != nil else {
            stepCount += n
            return
        }
        // A prompt diverged within the window: restore the window's start and redo the
        // window one step at a time, which stops at that step and records the divergence as
        // the per-step path does (and, should it not, finishes the window the same way).
        _ = e.theta.update(fromContentsOf: cp.theta)
        if case .adam = optimizer.kind {
            _ = optimizer.m.update(fromContentsOf: cp.m)
            _ = optimizer.v.update(fromContentsOf: cp.v)
        }
        optimizer.rewind(to: startUpdates)
        for _ in 0..<n where divergedAtStep == nil { step() }
    }
}
