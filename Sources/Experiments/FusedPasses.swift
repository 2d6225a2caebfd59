import Dispatch
import LossMath

// The fused passes: the fast path of the tabular family (TabularPolicy, whose parameters
// are the P*K logits), with pairs grouped by prompt.
//
// The generic path (PolicyEngine.swift) makes four sweeps over P*K-sized buffers per step (refresh,
// accumulate, finish, copy), evaluates each pair through `Loss.evaluate` (a switch per pair,
// and the loss value, which a step discards: most of its log1p calls) and then a fifth sweep
// for the optimiser (OptimizerState). For the tabular family every prompt is independent, so the fused step
// works on blocks of a few prompts (about 256 cells, in L1): log pi, the pairs' derivatives
// (derivative-only kernels, the loss switch hoisted out by `Loss.withKernel`), the gradient
// rows and the optimiser update of the block's parameters (RowUpdate), phase by phase so that the
// prompts' independent work overlaps (see StepVisitor). The phases are flat loops over the
// block's cells or pairs, which LLVM vectorises to the machine's width (LossMath's
// Elementary functions are inlined into them; the pairs' log-ratios are gathered first).
// The hottest ones (the softmax's exponentials, DPO's and spo's derivatives, Adam) are
// written in explicit eight-lane vectors, which are 512-bit registers in the native build
// (LLVM's own vectorisation stops at 256 bits there); each lane is the scalar code's bits.
//
// **Determinism.** Each prompt's arithmetic is exactly the generic path's, in the same
// order (every sum that crosses prompts, such as the mean loss, is formed afterwards,
// serially, in pair order), so the results are bit-identical to the generic path and to
// each other for ANY thread count. Threads get contiguous ranges of prompts.

extension PolicyEngine {
    /// Threads to use for a pass over all prompts: at most ``threads``, at most one per
    /// ``parallelGrain`` work units, at most one per prompt.
    var chunkCount: Int {
        if threads <= 1 { return 1 }
        let work = P * K + pairCount
        return Swift.max(1, Swift.min(threads, work / Swift.max(1, parallelGrain), P))
    }

    var buffers: EngineBuffers {
        if let b = cachedBuffers { return b }
        let b = makeBuffers()
        cachedBuffers = b
        return b
    }

    private func makeBuffers() -> EngineBuffers {
        EngineBuffers(K: K, theta: theta.baseAddress!, logPi: logPi.baseAddress!, logRef: logRef.baseAddress!,
                      logitGrad: logitGrad.baseAddress!, paramGrad: paramGrad.baseAddress!,
                      chosen: pairChosen.baseAddress ?? pairStart.baseAddress!, rejected: pairRejected.baseAddress ?? pairStart.baseAddress!,
                      cellW: pairCellW.baseAddress ?? pairStart.baseAddress!, cellL: pairCellL.baseAddress ?? pairStart.baseAddress!,
                      gap: pairGap.baseAddress ?? logRef.baseAddress!, weight: pairWeight.baseAddress ?? logRef.baseAddress!,
                      start: pairStart.baseAddress!, pairValue: pairValue.baseAddress ?? logRef.baseAddress!,
                      pairDRejected: pairDRejected.baseAddress ?? logRef.baseAddress!, scratch: rowScratch.baseAddress!,
                      scratchStride: scratchStride, blockPrompts: blockPrompts, maxPairs: maxPairsCached)
    }

    /// Prompts per block of the fused step: about 256 cells, so that a block's rows of theta,
    /// log pi, the gradient and Adam's moments stay in L1.
    var blockPrompts: Int { Swift.max(1, Swift.min(P, 256 / K)) }
    var scratchStride: Int { blockPrompts * (2 * K + 2 * maxPairsCached + 4) + 1 }

    func ensureScratch(chunks: Int) {
        if rowScratch.count < chunks * scratchStride {
            rowScratch.deallocate()
            rowScratch = .allocate(capacity: chunks * scratchStride)
            rowScratch.initialize(repeating: 0)
            cachedBuffers = nil
        }
    }

    /// One full-batch step of `update` on the mean loss (`scale = 1/pairCount`): the same
    /// parameters, bit for bit, as `clearGradient`, `touchAll`, `refreshLogPolicy`,
    /// `accumulate` over all pairs, `finishGradient` and the update applied to `paramGrad`.
    /// Leaves `logPi` refreshed at the old parameters (as the generic step does) and does not
    /// touch `logitGrad`/`paramGrad`. Requires ``canFuse``.
    ///
    /// Returns false if a row of log pi at the old parameters was not finite (its maximum
    /// plus its sum of exponentials, one check per prompt: a non-finite parameter) or a
    /// pair's derivative was not (one sum per block). The update has been applied all the
    /// same; the caller stops the run.
    func fusedStep(scale: Double, update: RowUpdate) -> Bool {
        precondition(canFuse)
        let chunks = chunkCount
        ensureScratch(chunks: chunks)
        let b = buffers
        loss.withKernel(baseParameters, StepVisitor(b: b, count: P, chunks: chunks, scale: scale, update: update))
        for c in 0..<chunks where b.blockScratch(chunk: c).nonFinite.pointee != 0 { return false }
        return true
    }

    /// ``fullLossAndGradient(scale:)`` for the fused path: sets `logPi` on every prompt,
    /// `logitGrad = paramGrad = G`, ``pairValue`` and ``pairDRejected``; returns the sum of
    /// ``pairValue`` in pair order (the generic path's order).
    func fusedFullLossAndGradient(scale: Double) -> Double {
        precondition(canFuse)
        touchAll()
        ensureScratch(chunks: chunkCount)
        loss.withKernel(baseParameters, FullVisitor(b: buffers, count: P, chunks: chunkCount, scale: scale))
        var v = 0.0
        for i in 0..<pairCount { v += pairValue[i] }
        return v
    }

    /// The gradient of ``fullLossAndGradient(scale:)`` without the values, into `logitGrad`
    /// and `paramGrad` (for a clipped step).
    func fusedGradient(scale: Double) {
        precondition(canFuse)
        touchAll()
        ensureScratch(chunks: chunkCount)
        loss.withKernel(baseParameters, FullVisitor(b: buffers, count: P, chunks: chunkCount, scale: scale, values: false))
    }
}

private struct StepVisitor: PairLossKernelVisitor {
    let b: EngineBuffers, count: Int, chunks: Int, scale: Double, update: RowUpdate

    /// Blocks of ``EngineBuffers/blockPrompts`` prompts (about 256 cells, so a block's rows
    /// stay in L1), each in phases: row maxima, sums of exponentials, log pi, the pairs'
    /// derivatives, the scatter into the gradient rows, the update. Within a prompt the
    /// operations and their order are those of the generic path; across the prompts of a
    /// block they are independent, and the phases let the processor overlap them (one
    /// prompt's work is a long dependency chain: max, exp, sum, log and reciprocal, the
    /// pairs, division and square root).
    func visit<L: PairLossKernel>(_ kernel: L) {
        let b = self.b, scale = self.scale
        // RowUpdate holds pointers; copy it into a Sendable box for the workers.
        let u = UncheckedSendable(update)
        forEachChunk(count, chunks: chunks) { range, c in
            let B = b.blockPrompts
            let w = b.blockScratch(chunk: c)
            var finite = true
            var x0 = range.lowerBound
            while x0 < range.upperBound {
                let x1 = Swift.min(x0 + B, range.upperBound)
                if !b.stepBlock(kernel, x0: x0, x1: x1, scratch: w, scale: scale, update: u.value) { finite = false }
                x0 = x1
            }
            w.nonFinite.pointee = finite ? 0 : 1
        }
    }
}

extension EngineBuffers {
    /// One full-batch step of `update` on the prompts `x0 ..< x1` (one block, about 256
    /// cells): log pi, the pairs' derivatives, the gradient rows and the update of the
    /// block's parameters, in the generic path's order per prompt (see StepVisitor). Returns
    /// false if a row of log pi or a pair's derivative was not finite; the update has been
    /// applied all the same. The fused step and the temporally blocked steps
    /// (TemporalBlocking.swift) both step through it, so they give the same bits.
    @inline(__always)
    func stepBlock<L: PairLossKernel>(_ kernel: L, x0: Int, x1: Int, scratch w: BlockScratch, scale: Double,
                                      update: RowUpdate) -> Bool {
        let b = self
        let K = b.K, nb = x1 - x0, g = w.g
        var finite = true
        let cell0 = x0 * K, cells = nb * K
        let th = b.theta + cell0
        b.blockLogPolicy(x0: x0, nb: nb, g: g, pi: w.pi, rows: w)
        // Divergence: one check per prompt (a NaN or infinite logit makes its row's
        // maximum or sum of exponentials non-finite).
        for r in 0..<nb where !(w.rowMax[r] + w.rowSum[r]).isFinite { finite = false }
        // The pairs' derivatives: their log-ratios gathered into dw and dl, then one
        // flat loop over contiguous arrays, which vectorises.
        let p0 = b.start[x0], np = b.start[x1] - p0
        b.gatherLogRatios(p0: p0, np: np, uW: w.dw, uL: w.dl)
        b.pairDerivatives(kernel, p0: p0, np: np, dw: w.dw, dl: w.dl)
        // And one check per block of the pairs' derivatives: the sum of their squares.
        if !b.squaresAreFinite(dw: w.dw, dl: w.dl, np: np) { finite = false }
        // The gradient rows into g (pi is the softmax's, from blockLogPolicy).
        var j = 0
        for r in 0..<nb {
            j = b.gradientRow(prompt: x0 + r, firstPair: j, dw: w.dw, dl: w.dl, pi: w.pi + r * K,
                              scale: scale, into: g + r * K)
        }
        update.apply(gradient: g, parameters: th, offset: cell0, count: cells)
        return finite
    }
}

private struct FullVisitor: PairLossKernelVisitor {
    let b: EngineBuffers, count: Int, chunks: Int, scale: Double
    var values = true

    /// Blocks of prompts as in StepVisitor (log pi, gathered log-ratios, one flat loss loop,
    /// then the per-row scatter), with the losses' values when `values` and the gradient
    /// rows written to `logitGrad` and `paramGrad`. Per prompt the operations and their
    /// order are those of the generic path.
    func visit<L: PairLossKernel>(_ kernel: L) {
        if chunks <= 1 {
            run(kernel, prompts: 0..<count, chunk: 0)
        } else {
            forEachChunk(count, chunks: chunks) { range, c in self.run(kernel, prompts: range, chunk: c) }
        }
    }

    /// The blocks of the prompts `range`, in chunk `c`'s scratch.
    @inline(__always)
    func run<L: PairLossKernel>(_ kernel: L, prompts range: Range<Int>, chunk c: Int) {
        let b = self.b, scale = self.scale, values = self.values
        let K = b.K, B = b.blockPrompts
        let w = b.blockScratch(chunk: c)
        let dw = w.dw, dl = w.dl
        var x0 = range.lowerBound
        while x0 < range.upperBound {
            let x1 = Swift.min(x0 + B, range.upperBound), nb = x1 - x0
            let cell0 = x0 * K
            b.blockLogPolicy(x0: x0, nb: nb, g: w.g, pi: w.pi, rows: w)
            let p0 = b.start[x0], np = b.start[x1] - p0
            b.gatherLogRatios(p0: p0, np: np, uW: dw, uL: dl)
            if values {
                let gap = b.gap + p0
                let weight = b.weight + p0, value = b.pairValue + p0, dRejected = b.pairDRejected + p0
                for j in 0..<np {
                    let e = kernel.evaluate(uW: dw[j], uL: dl[j], rewardGap: gap[j])
                    value[j] = scale * weight[j] * e.value
                    dRejected[j] = e.dRejected
                    dw[j] = e.dChosen
                    dl[j] = e.dRejected
                }
            } else {
                b.pairDerivatives(kernel, p0: p0, np: np, dw: dw, dl: dl)
            }
            var j = 0
            for r in 0..<nb {
                let row = cell0 + r * K
                j = b.gradientRow(prompt: x0 + r, firstPair: j, dw: dw, dl: dl, pi: w.pi + r * K,
                                  scale: scale, into: b.logitGrad + row)
                let pg = b.paramGrad + row, g = b.logitGrad + row
                for y in 0..<K { pg[y] = g[y] }
            }
            x0 = x1
        }
    }
}

