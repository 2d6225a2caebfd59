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
/// theta and, for Adam, both moments (`P*K` doubles each), copied block by block; and the
/// window's per-step updates, per-chunk first bad steps and, for rows shorter than a vector,
/// each chunk's lane-group scratch (LaneGroupWindow.swift), kept from window to window so
/// that a window allocates nothing.
final class WindowCheckpoint {
    let theta: UnsafeMutableBufferPointer<Double>
    let m: UnsafeMutableBufferPointer<Double>
    let v: UnsafeMutableBufferPointer<Double>
    /// The updates of a window's steps (the first ``updateCapacity`` initialised).
    private(set) var updates: UnsafeMutablePointer<RowUpdate>
    private(set) var updateCapacity = 1
    /// Per chunk, the first step of the window at which one of its prompts was not finite.
    private(set) var firstBad: UnsafeMutablePointer<Int>
    private(set) var chunkCapacity = 1
    /// Per chunk, the lane groups' scratch: ``laneBytes`` bytes on 64-byte boundaries (one
    /// eight-lane vector per cache line, so no vector load is split); nil until first needed.
    private(set) var laneScratch: UnsafeMutablePointer<UnsafeMutableRawPointer>?
    private(set) var laneChunks = 0, laneBytes = 0

    init(count n: Int) {
        theta = .allocate(capacity: n); theta.initialize(repeating: 0)
        m = .allocate(capacity: n); m.initialize(repeating: 0)
        v = .allocate(capacity: n); v.initialize(repeating: 0)
        updates = .allocate(capacity: 1); updates.initialize(to: .sgd(learningRate: 0))
        firstBad = .allocate(capacity: 1); firstBad.initialize(to: 0)
    }

    /// Makes room for the updates of `n` steps.
    func reserveUpdates(_ n: Int) {
        if n <= updateCapacity { return }
        updates.deallocate()
        updates = .allocate(capacity: n)
        updates.initialize(repeating: .sgd(learningRate: 0), count: n)
        updateCapacity = n
    }

    /// Makes room for the first bad steps of `n` chunks.
    func reserveChunks(_ n: Int) {
        if n <= chunkCapacity { return }
        firstBad.deallocate()
        firstBad = .allocate(capacity: n)
        firstBad.initialize(repeating: 0, count: n)
        chunkCapacity = n
    }

    /// Makes room for `chunks` lane-group scratch buffers of `bytes` bytes each.
    func reserveLaneScratch(chunks: Int, bytes: Int) {
        if chunks <= laneChunks && bytes <= laneBytes { return }
        releaseLaneScratch()
        let buffers = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: chunks)
        for c in 0..<chunks { (buffers + c).initialize(to: .allocate(byteCount: bytes, alignment: 64)) }
        laneScratch = buffers
        laneChunks = chunks
        laneBytes = bytes
    }

    private func releaseLaneScratch() {
        guard let buffers = laneScratch else { return }
        for c in 0..<laneChunks { buffers[c].deallocate() }
        buffers.deallocate()
        laneScratch = nil
        laneChunks = 0
        laneBytes = 0
    }

    deinit {
        theta.deallocate(); m.deallocate(); v.deallocate(); updates.deallocate(); firstBad.deallocate()
        releaseLaneScratch()
    }
}

extension PolicyEngine {
    /// `updates.count` full-batch steps of the mean loss (`scale = 1/pairCount`), the t-th
    /// with `updates[t]`, prompt block by prompt block: the same bits as that many calls of
    /// ``fusedStep(scale:update:)``. Copies each block's parameters (and Adam's moments) into
    /// `checkpoint` before stepping it. Returns the first step (0-based in the window) at
    /// which some prompt's log pi or pair derivative was not finite, or nil. Requires
    /// ``canFuse``; the caller must not clip.
    func fusedSteps(scale: Double, updates: UnsafeBufferPointer<RowUpdate>, checkpoint: WindowCheckpoint) -> Int? {
        precondition(canFuse)
        let T = updates.count
        guard T > 0, let u = updates.baseAddress, let th = checkpoint.theta.baseAddress,
              let m = checkpoint.m.baseAddress, let v = checkpoint.v.baseAddress else { return nil }
        // A window is T steps of work: split it as finely as T steps would allow.
        let work = (P * K + pairCount) * T
        let chunks = threads <= 1 ? 1 : Swift.max(1, Swift.min(threads, work / Swift.max(1, parallelGrain), P))
        ensureScratch(chunks: chunks)
        checkpoint.reserveChunks(chunks)
        let firstBad = checkpoint.firstBad
        firstBad.update(repeating: T, count: chunks)
        if K < 8 {
            checkpoint.reserveLaneScratch(chunks: chunks, bytes: LaneGroupScratch.bytes(K: K, maxPairs: maxPairsCached))
        }
        loss.withKernel(baseParameters, WindowVisitor(b: buffers, count: P, chunks: chunks, scale: scale, steps: T, updates: u,
                                                       theta: th, m: m, v: v, firstBad: firstBad,
                                                       lanes: K < 8 ? checkpoint.laneScratch : nil))
        var bad = T
        for c in 0..<chunks { bad = Swift.min(bad, firstBad[c]) }
        return bad < T ? bad : nil
    }
}

/// A window's steps over the prompts, chunk by chunk. Only pointers (to the window's
/// updates, the checkpoint's rows and the chunks' first bad steps, each chunk writing its
/// own rows and entry), so that the dispatch to the kernel and the workers copy no
/// reference and no array.
private struct WindowVisitor: PairLossKernelVisitor, @unchecked Sendable {
    let b: EngineBuffers, count: Int, chunks: Int, scale: Double, steps: Int
    let updates: UnsafePointer<RowUpdate>
    let theta: UnsafeMutablePointer<Double>, m: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>
    let firstBad: UnsafeMutablePointer<Int>
    /// Per chunk, the lane groups' scratch (rows shorter than a vector), else nil.
    let lanes: UnsafeMutablePointer<UnsafeMutableRawPointer>?

    func visit<L: PairLossKernel>(_ kernel: L) {
        if chunks <= 1 {
            run(kernel, prompts: 0..<count, chunk: 0)
        } else {
            forEachChunk(count, chunks: chunks) { range, c in self.run(kernel, prompts: range, chunk: c) }
        }
    }

    /// The window's steps of the prompts `range`, block by block; the chunk's first bad
    /// step into `firstBad[c]`.
    @inline(__always)
    func run<L: PairLossKernel>(_ kernel: L, prompts range: Range<Int>, chunk c: Int) {
        let K = b.K, B = b.blockPrompts, T = steps
        let w = b.blockScratch(chunk: c)
        var bad = T
        // The lane groups' transposed state, for rows shorter than a vector (the checkpoint's).
        let lanes = range.count >= 8 ? self.lanes.map { LaneGroupScratch.carve($0[c], K: K, maxPairs: b.maxPairs) } : nil
        var x0 = range.lowerBound
        while x0 < range.upperBound {
            let x1 = Swift.min(x0 + B, range.upperBound)
            let cell0 = x0 * K, cells = (x1 - x0) * K
            for k in cell0 ..< cell0 + cells { theta[k] = b.theta[k] }
            if let (mm, vv) = updates[0].moments {
                for k in cell0 ..< cell0 + cells { m[k] = mm[k]; v[k] = vv[k] }
            }
            // A block that went bad at step s changes nothing before s; the steps after
            // it are undone with the rest of the window. Rows shorter than a vector run
            // eight prompts to the lanes (LaneGroupWindow.swift), the rest by stepBlock.
            var x = x0
            if let lanes {
                while x + 8 <= x1 {
                    bad = Swift.min(bad, b.laneGroupSteps(kernel, x0: x, s: lanes.scratch, cells: lanes.cells,
                                                          scale: scale, updates: updates, steps: T))
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
        let cp: WindowCheckpoint
        if let c = windowCheckpoint { cp = c } else { cp = WindowCheckpoint(count: e.P * e.K); windowCheckpoint = cp }
        cp.reserveUpdates(n)
        let updates = cp.updates
        optimizer.takeUpdates(n, into: updates)
        guard e.fusedSteps(scale: 1 / Double(e.pairCount), updates: UnsafeBufferPointer(start: updates, count: n),
                           checkpoint: cp) != nil else {
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
