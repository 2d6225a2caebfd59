import Dispatch
import LossMath
import RealModule

/// The numerical core shared by the trainer and the population-optimum solver: the policy's
/// log-probabilities, the weighted loss over a set of pairs and its exact gradient in
/// parameter space.
///
/// All buffers are allocated once in `init` and freed in `deinit`; the per-step methods
/// allocate nothing. Not thread-safe: one engine per run, created inside the worker.
///
/// Gradient (T9 and its generalisation to losses of `u_w`, `u_l` separately). With
/// `log pi(y|x) = z_xy - log sum_y' exp(z_xy')`, `d log pi(y|x) / d z_xy' = [y = y'] - pi(y'|x)`.
/// A pair with derivatives `a = dl/d log pi_w`, `b = dl/d log pi_l` therefore contributes
/// `a e_w + b e_l - (a + b) pi(.|x)` to `dl/dz_x`. For a loss of `h` alone `b = -a` and the
/// normaliser term cancels (T9: `dl/dz = l'(h) (e_w - e_l)`). The logit gradient `G` is
/// accumulated per prompt as the coefficients `a`, `b` on `e_w`, `e_l` plus one scalar
/// `s_x = sum (a + b)`, and `G_xy = c_xy - s_x pi(y|x)` is formed once per touched prompt.
/// Tabular: `dl/dtheta = G`. Log-linear (`z_xy = phi_xy . theta`): `dl/dtheta = sum_xy G_xy phi_xy`.
final class PolicyEngine {
    let policy: SimulationConfig.Policy
    let P: Int, K: Int, d: Int
    let parameterCount: Int
    let pairCount: Int
    let loss: Loss
    let baseParameters: LossParameters

    // Problem data (copied once into contiguous storage).
    let logRef: UnsafeMutableBufferPointer<Double>      // P*K
    let features: UnsafeMutableBufferPointer<Double>    // P*K*d (log-linear) or empty
    let pairPrompt: UnsafeMutableBufferPointer<Int>
    let pairChosen: UnsafeMutableBufferPointer<Int>
    let pairRejected: UnsafeMutableBufferPointer<Int>
    let pairGap: UnsafeMutableBufferPointer<Double>     // dr the loss trains on
    let pairWeight: UnsafeMutableBufferPointer<Double>  // per-pair weight (1 for the trainer)
    let pairCellW: UnsafeMutableBufferPointer<Int>      // prompt*K + chosen (flat cell index)
    let pairCellL: UnsafeMutableBufferPointer<Int>      // prompt*K + rejected

    // State and scratch.
    let theta: UnsafeMutableBufferPointer<Double>       // parameters
    let logPi: UnsafeMutableBufferPointer<Double>       // P*K, valid on refreshed prompts
    let logitGrad: UnsafeMutableBufferPointer<Double>   // P*K, G (zero outside touched prompts)
    let promptSum: UnsafeMutableBufferPointer<Double>   // P, s_x
    let paramGrad: UnsafeMutableBufferPointer<Double>   // parameterCount
    let stamp: UnsafeMutableBufferPointer<Int>          // P, last mark id
    let touched: UnsafeMutableBufferPointer<Int>        // P, list of touched prompts
    var touchedCount = 0
    var markId = 0

    // Fused tabular path (see `Fused passes` below).
    /// `pairStart[x] ..< pairStart[x+1]` are the pairs of prompt `x` when the pairs are
    /// grouped by prompt in nondecreasing order (always so for `Environment`); else empty.
    let pairStart: UnsafeMutableBufferPointer<Int>
    /// True for the tabular policy with pairs grouped by prompt: the per-prompt fused passes
    /// apply, and they give results bit-identical to the generic path.
    let canFuse: Bool
    /// Per pair, from the last ``fullLossAndGradient(scale:)``: `scale * w_i * l_i` and the
    /// unweighted `dl/d log pi_l` (fused path only; empty otherwise).
    let pairValue: UnsafeMutableBufferPointer<Double>
    let pairDRejected: UnsafeMutableBufferPointer<Double>
    /// Per-chunk scratch of the fused step (grown on demand): see ``EngineBuffers/scratchStride``.
    var rowScratch: UnsafeMutableBufferPointer<Double>
    /// The most pairs of any prompt, computed once.
    var maxPairsCached = 0
    /// ``buffers``, built on first use and again when the scratch grows.
    var cachedBuffers: EngineBuffers?
    /// False forces the generic path (tests compare the two).
    var allowFusion = true
    /// Maximum worker threads for the fused passes; 1 = serial. Results do not depend on it.
    var threads = 1
    /// Work units (`P*(K + n)` cells) per thread below which a pass stays serial.
    var parallelGrain = 1 << 15

    struct PairSpec {
        var prompt: Int, chosen: Int, rejected: Int, gap: Double, weight: Double
    }

    init(policy: SimulationConfig.Policy, prompts: Int, responses: Int, featureCount: Int,
         logReference: [Double], features: [Double], initialParameters: [Double],
         pairs: [PairSpec], loss: Loss, parameters: LossParameters) {
        self.policy = policy
        P = prompts; K = responses; d = policy == .loglinear ? featureCount : 0
        parameterCount = policy == .tabular ? P * K : d
        pairCount = pairs.count
        self.loss = loss
        baseParameters = parameters
        precondition(logReference.count == P * K && initialParameters.count == parameterCount)
        precondition(policy == .tabular || features.count == P * K * d)

        func buffer<T>(_ n: Int, _ v: T) -> UnsafeMutableBufferPointer<T> {
            let b = UnsafeMutableBufferPointer<T>.allocate(capacity: n)
            b.initialize(repeating: v)
            return b
        }
        logRef = buffer(P * K, 0.0)
        _ = logRef.update(fromContentsOf: logReference)
        self.features = buffer(features.count, 0.0)
        _ = self.features.update(fromContentsOf: features)
        pairPrompt = buffer(pairCount, 0)
        pairChosen = buffer(pairCount, 0)
        pairRejected = buffer(pairCount, 0)
        pairGap = buffer(pairCount, 0.0)
        pairWeight = buffer(pairCount, 0.0)
        pairCellW = buffer(pairCount, 0)
        pairCellL = buffer(pairCount, 0)
        for (i, p) in pairs.enumerated() {
            pairPrompt[i] = p.prompt; pairChosen[i] = p.chosen; pairRejected[i] = p.rejected
            pairGap[i] = p.gap; pairWeight[i] = p.weight
            pairCellW[i] = p.prompt * K + p.chosen; pairCellL[i] = p.prompt * K + p.rejected
        }
        theta = buffer(parameterCount, 0.0)
        _ = theta.update(fromContentsOf: initialParameters)
        logPi = buffer(P * K, 0.0)
        logitGrad = buffer(P * K, 0.0)
        promptSum = buffer(P, 0.0)
        paramGrad = buffer(parameterCount, 0.0)
        stamp = buffer(P, -1)
        touched = buffer(P, 0)

        var grouped = true
        for i in 1..<Swift.max(1, pairCount) where pairs[i].prompt < pairs[i - 1].prompt { grouped = false; break }
        canFuse = policy == .tabular && grouped
        if canFuse {
            pairStart = buffer(P + 1, 0)
            var i = 0
            for x in 0..<P {
                pairStart[x] = i
                while i < pairCount && pairs[i].prompt == x { i += 1 }
            }
            pairStart[P] = pairCount
            var mp = 0
            for x in 0..<P { mp = Swift.max(mp, pairStart[x + 1] - pairStart[x]) }
            maxPairsCached = mp
            pairValue = buffer(pairCount, 0.0)
            pairDRejected = buffer(pairCount, 0.0)
        } else {
            pairStart = buffer(0, 0)
            pairValue = buffer(0, 0.0)
            pairDRejected = buffer(0, 0.0)
        }
        rowScratch = buffer(0, 0.0)
        ensureScratch(chunks: 1)
    }

    deinit {
        logRef.deallocate(); features.deallocate()
        pairPrompt.deallocate(); pairChosen.deallocate(); pairRejected.deallocate()
        pairGap.deallocate(); pairWeight.deallocate(); pairCellW.deallocate(); pairCellL.deallocate()
        theta.deallocate(); logPi.deallocate(); logitGrad.deallocate(); promptSum.deallocate()
        paramGrad.deallocate(); stamp.deallocate(); touched.deallocate()
        pairStart.deallocate(); pairValue.deallocate(); pairDRejected.deallocate(); rowScratch.deallocate()
    }

    // MARK: - Touched prompts

    /// Marks every prompt as touched.
    func touchAll() {
        markId += 1
        for x in 0..<P { touched[x] = x; stamp[x] = markId }
        touchedCount = P
    }

    /// Marks the prompts of `indices` (pair indices) as touched.
    func touch(pairs indices: UnsafeBufferPointer<Int>) {
        markId += 1
        touchedCount = 0
        for i in indices {
            let x = pairPrompt[i]
            if stamp[x] != markId { stamp[x] = markId; touched[touchedCount] = x; touchedCount += 1 }
        }
    }

    // MARK: - Policy

    /// Recomputes `log pi(.|x)` for the touched prompts from `theta`.
    func refreshLogPolicy() {
        for t in 0..<touchedCount {
            let x = touched[t]
            let row = x * K
            // Logits into logPi, then subtract their log-sum-exp (max-shifted, so logits
            // of any size neither overflow nor underflow to an all-zero row).
            if policy == .tabular {
                for y in 0..<K { logPi[row + y] = theta[row + y] }
            } else {
                for y in 0..<K {
                    let f = (row + y) * d
                    var z = 0.0
                    for j in 0..<d { z += features[f + j] * theta[j] }
                    logPi[row + y] = z
                }
            }
            // The maximum and the sum of exponentials as the fused path forms them
            // (rowMaximum, rowTotal), so that both paths give the same bits.
            let m = rowMaximum(logPi.baseAddress! + row, K)
            let s = withUnsafeTemporaryAllocation(of: Double.self, capacity: K) { buf in
                for y in 0..<K { buf[y] = Elementary.exp(logPi[row + y] - m) }
                return rowTotal(buf.baseAddress!, K)
            }
            let lse = m + Elementary.log(s)
            for y in 0..<K { logPi[row + y] -= lse }
        }
    }

    @inline(__always)
    func evaluate(pair i: Int) -> (e: LossEvaluation, logpW: Double, logpL: Double) {
        let x = pairPrompt[i], row = x * K
        let w = row + pairChosen[i], l = row + pairRejected[i]
        var p = baseParameters
        p.rewardGap = pairGap[i]
        let pair = PairLogProbs(chosen: logPi[w], rejected: logPi[l], refChosen: logRef[w], refRejected: logRef[l])
        return (loss.evaluate(pair, p), logPi[w], logPi[l])
    }

    // MARK: - Loss and gradient

    /// Adds `scale * weight_i * (loss_i, dloss_i/dz)` over `indices` into the logit gradient
    /// and returns the weighted loss sum. Touched prompts must be refreshed.
    @inline(__always)
    func accumulate(pair i: Int, scale: Double) -> Double {
        let x = pairPrompt[i], row = x * K
        let (e, _, _) = evaluate(pair: i)
        let wt = scale * pairWeight[i]
        let a = wt * e.dChosen, b = wt * e.dRejected
        logitGrad[row + pairChosen[i]] += a
        logitGrad[row + pairRejected[i]] += b
        promptSum[x] += a + b
        return wt * e.value
    }

    /// Turns the accumulated coefficients into `G = c - s pi` on the touched prompts and the
    /// parameter gradient `paramGrad`. Returns nothing; `paramGrad` holds dl/dtheta.
    func finishGradient() {
        for t in 0..<touchedCount {
            let x = touched[t], row = x * K
            let s = promptSum[x]
            if s != 0 {
                for y in 0..<K { logitGrad[row + y] -= s * Elementary.exp(logPi[row + y]) }
            }
            promptSum[x] = 0
        }
        if policy == .tabular {
            // dl/dtheta = G; untouched rows of G are zero already.
            for t in 0..<touchedCount {
                let row = touched[t] * K
                for y in 0..<K { paramGrad[row + y] = logitGrad[row + y] }
            }
        } else {
            for j in 0..<d { paramGrad[j] = 0 }
            for t in 0..<touchedCount {
                let row = touched[t] * K
                for y in 0..<K {
                    let g = logitGrad[row + y]
                    if g == 0 { continue }
                    let f = (row + y) * d
                    for j in 0..<d { paramGrad[j] += g * features[f + j] }
                }
            }
        }
    }

    /// Zeroes the logit and parameter gradients on the touched prompts (so the next step
    /// starts from zero without an O(P*K) clear).
    func clearGradient() {
        for t in 0..<touchedCount {
            let row = touched[t] * K
            for y in 0..<K { logitGrad[row + y] = 0 }
            if policy == .tabular { for y in 0..<K { paramGrad[row + y] = 0 } }
        }
        if policy == .loglinear { for j in 0..<d { paramGrad[j] = 0 } }
    }

    /// The weighted mean loss `sum_i scale*w_i*l_i` over all pairs, with `paramGrad` set to its
    /// gradient. Refreshes every prompt.
    func fullLossAndGradient(scale: Double) -> Double {
        if canFuse && allowFusion { return fusedFullLossAndGradient(scale: scale) }
        clearGradient()
        touchAll()
        refreshLogPolicy()
        var v = 0.0
        for i in 0..<pairCount { v += accumulate(pair: i, scale: scale) }
        finishGradient()
        return v
    }

    /// The Euclidean norm of `paramGrad`.
    func gradientNorm() -> Double {
        // Scaled sum of squares would guard against overflow; gradients here are bounded by
        // the loss derivatives (|l'| <= a few beta for most losses) times P*K, far from it.
        var s = 0.0
        for j in 0..<parameterCount { s += paramGrad[j] * paramGrad[j] }
        return s.squareRoot()
    }

    func setParameters(_ p: [Double]) {
        precondition(p.count == parameterCount, "expected \(parameterCount) parameters, got \(p.count)")
        _ = theta.update(fromContentsOf: p)
    }

    var parameters: [Double] { Array(theta) }
    var gradient: [Double] { Array(paramGrad) }
}

// MARK: - Fused passes (tabular policy, pairs grouped by prompt)
//
// The generic path above makes four sweeps over P*K-sized buffers per step (refresh,
// accumulate, finish, copy), evaluates each pair through `Loss.evaluate` (a switch per pair,
// and the loss value, which a step discards: most of its log1p calls) and then a fifth sweep
// for the optimiser. For the tabular policy every prompt is independent, so the fused step
// works on blocks of a few prompts (about 256 cells, in L1): log pi, the pairs' derivatives
// (derivative-only kernels, the loss switch hoisted out by `Loss.withKernel`), the gradient
// rows and the optimiser update of the block's parameters, phase by phase so that the
// prompts' independent work overlaps (see StepVisitor). The phases are flat loops over the
// block's cells or pairs, which LLVM vectorises to the machine's width (LossMath's
// Elementary functions are inlined into them; the pairs' log-ratios are gathered first).
//
// **Determinism.** Each prompt's arithmetic is exactly the generic path's, in the same
// order (every sum that crosses prompts, such as the mean loss, is formed afterwards,
// serially, in pair order), so the results are bit-identical to the generic path and to
// each other for ANY thread count. Threads get contiguous ranges of prompts.

/// How the fused step updates a prompt's parameters from its gradient row.
enum RowUpdate {
    /// Adam with bias corrections `c1 = 1 - b1^t`, `c2 = 1 - b2^t`.
    case adam(learningRate: Double, c1: Double, c2: Double, m: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>)
    case sgd(learningRate: Double)
}

/// Base addresses handed to worker threads. Each worker writes only the rows of its own
/// prompts (disjoint ranges), so sharing them is safe.
struct EngineBuffers: @unchecked Sendable {
    let K: Int
    let theta: UnsafeMutablePointer<Double>
    let logPi: UnsafeMutablePointer<Double>
    let logRef: UnsafeMutablePointer<Double>
    let logitGrad: UnsafeMutablePointer<Double>
    let paramGrad: UnsafeMutablePointer<Double>
    let chosen: UnsafeMutablePointer<Int>
    let rejected: UnsafeMutablePointer<Int>
    /// Flat cell indices `prompt*K + chosen` and `prompt*K + rejected` of each pair.
    let cellW: UnsafeMutablePointer<Int>
    let cellL: UnsafeMutablePointer<Int>
    let gap: UnsafeMutablePointer<Double>
    let weight: UnsafeMutablePointer<Double>
    let start: UnsafeMutablePointer<Int>
    let pairValue: UnsafeMutablePointer<Double>
    let pairDRejected: UnsafeMutablePointer<Double>
    let scratch: UnsafeMutablePointer<Double>
    /// Doubles of scratch per chunk: gradient rows and policy probabilities (blockPrompts*K
    /// each), two derivative arrays (blockPrompts*maxPairs each) and two per-row arrays
    /// (blockPrompts each).
    let scratchStride: Int
    /// Prompts per block of the fused step.
    let blockPrompts: Int
    /// The most pairs of any prompt.
    let maxPairs: Int

    /// `log pi` for the rows of prompts `x0 ..< x0 + nb`, bit-identical to
    /// ``PolicyEngine/refreshLogPolicy()`` on each. The exponentials of the whole block go
    /// through one flat loop over its cells, which vectorises (a row of K = 6 would not);
    /// their arguments `z - max` are staged in `g` (`nb*K` doubles, left holding the
    /// exponentials). Maxima and sums by rowMaximum and rowTotal, as refreshLogPolicy.
    @inline(__always)
    func blockLogPolicy(x0: Int, nb: Int, g: UnsafeMutablePointer<Double>,
                        rowMax: UnsafeMutablePointer<Double>, rowSum: UnsafeMutablePointer<Double>) {
        let cell0 = x0 * K, cells = nb * K
        let lp = logPi + cell0, th = theta + cell0
        for k in 0..<cells { lp[k] = th[k] }
        for r in 0..<nb {
            let o = r * K
            let m = rowMaximum(lp + o, K)
            rowMax[r] = m
            for y in 0..<K { g[o + y] = lp[o + y] - m }
        }
        for k in 0..<cells { g[k] = Elementary.exp(g[k]) }
        for r in 0..<nb { rowSum[r] = rowTotal(g + r * K, K) }
        for r in 0..<nb {
            let o = r * K
            let lse = rowMax[r] + Elementary.log(rowSum[r])
            for y in 0..<K { lp[o + y] -= lse }
        }
    }

    /// Chunk `c`'s scratch (see ``scratchStride``): staging for a block's exponentials or
    /// gradient rows (`g`), its probabilities (`pi`), its pairs' log-ratios and then
    /// derivatives (`dw`, `dl`), and per-row maxima and sums.
    struct BlockScratch {
        let g: UnsafeMutablePointer<Double>, pi: UnsafeMutablePointer<Double>
        let dw: UnsafeMutablePointer<Double>, dl: UnsafeMutablePointer<Double>
        let rowMax: UnsafeMutablePointer<Double>, rowSum: UnsafeMutablePointer<Double>
    }

    @inline(__always)
    func blockScratch(chunk c: Int) -> BlockScratch {
        let B = blockPrompts
        let g = scratch + c * scratchStride
        let pi = g + B * K, dw = pi + B * K, dl = dw + B * maxPairs
        let rowMax = dl + B * maxPairs
        return BlockScratch(g: g, pi: pi, dw: dw, dl: dl, rowMax: rowMax, rowSum: rowMax + B)
    }

    /// `dl/du_w`, `dl/du_l` of `np` pairs in place over their log-ratios `dw`, `dl` (one flat
    /// loop over contiguous arrays, which vectorises).
    @inline(__always)
    func pairDerivatives<L: PairLossKernel>(_ kernel: L, p0: Int, np: Int,
                                             dw: UnsafeMutablePointer<Double>, dl: UnsafeMutablePointer<Double>) {
        let gap = self.gap + p0
        for j in 0..<np {
            let d = kernel.derivatives(uW: dw[j], uL: dl[j], rewardGap: gap[j])
            dw[j] = d.dChosen
            dl[j] = d.dRejected
        }
    }

    /// Prompt `x`'s gradient row `G = sum of its pairs' weighted coefficients - s pi`, into
    /// `g` (K doubles), in the generic path's order; the pairs' derivatives start at
    /// `dw[j]`, `dl[j]`. Returns the index after its last pair.
    @inline(__always)
    func gradientRow(prompt x: Int, firstPair j0: Int, dw: UnsafePointer<Double>, dl: UnsafePointer<Double>,
                     pi: UnsafePointer<Double>, scale: Double, into g: UnsafeMutablePointer<Double>) -> Int {
        for y in 0..<K { g[y] = 0 }
        var s = 0.0, j = j0
        for i in start[x] ..< start[x + 1] {
            let wt = scale * weight[i]
            let a = wt * dw[j], bb = wt * dl[j]
            g[chosen[i]] += a
            g[rejected[i]] += bb
            s += a + bb
            j += 1
        }
        if s != 0 {
            for y in 0..<K { g[y] -= s * pi[y] }
        }
        return j
    }

    /// The log-ratios `u_w`, `u_l` of pairs `p0 ..< p0 + np` into `uW`, `uL` (a gather through
    /// the flat cell indices, kept out of the loss loop so that that loop vectorises).
    @inline(__always)
    func gatherLogRatios(p0: Int, np: Int, uW: UnsafeMutablePointer<Double>, uL: UnsafeMutablePointer<Double>) {
        let cw = cellW + p0, cl = cellL + p0
        for j in 0..<np {
            let w = cw[j], l = cl[j]
            uW[j] = logPi[w] - logRef[w]
            uL[j] = logPi[l] - logRef[l]
        }
    }

}

/// A static partition of `0..<count` into `chunks` contiguous ranges, run on up to `chunks`
/// threads. `body` gets the range and the chunk index.
func forEachChunk(_ count: Int, chunks: Int, _ body: @Sendable (Range<Int>, Int) -> Void) {
    if chunks <= 1 { body(0..<count, 0); return }
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        body(count * c / chunks ..< count * (c + 1) / chunks, c)
    }
}

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
    var scratchStride: Int { blockPrompts * (2 * K + 2 * maxPairsCached + 2) }

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
    func fusedStep(scale: Double, update: RowUpdate) {
        precondition(canFuse)
        let chunks = chunkCount
        ensureScratch(chunks: chunks)
        loss.withKernel(baseParameters, StepVisitor(b: buffers, count: P, chunks: chunks, scale: scale, update: update))
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
    /// prompt's work is a long dependency chain: max, exp, sum, log, exp, division, square
    /// root, division).
    func visit<L: PairLossKernel>(_ kernel: L) {
        let b = self.b, scale = self.scale
        // RowUpdate holds pointers; copy it into a Sendable box for the workers.
        let u = UncheckedSendable(update)
        forEachChunk(count, chunks: chunks) { range, c in
            let K = b.K, B = b.blockPrompts
            let w = b.blockScratch(chunk: c)
            let g = w.g
            var x0 = range.lowerBound
            while x0 < range.upperBound {
                let x1 = Swift.min(x0 + B, range.upperBound), nb = x1 - x0
                let cell0 = x0 * K, cells = nb * K
                let lp = b.logPi + cell0, th = b.theta + cell0
                b.blockLogPolicy(x0: x0, nb: nb, g: g, rowMax: w.rowMax, rowSum: w.rowSum)
                // The pairs' derivatives: their log-ratios gathered into dw and dl, then one
                // flat loop over contiguous arrays, which vectorises.
                let p0 = b.start[x0], np = b.start[x1] - p0
                b.gatherLogRatios(p0: p0, np: np, uW: w.dw, uL: w.dl)
                b.pairDerivatives(kernel, p0: p0, np: np, dw: w.dw, dl: w.dl)
                // pi = exp(log pi) for the block, flat; then the gradient rows into g.
                for k in 0..<cells { w.pi[k] = Elementary.exp(lp[k]) }
                var j = 0
                for r in 0..<nb {
                    j = b.gradientRow(prompt: x0 + r, firstPair: j, dw: w.dw, dl: w.dl, pi: w.pi + r * K,
                                      scale: scale, into: g + r * K)
                }
                switch u.value {
                case .sgd(let lr):
                    for k in 0..<cells { th[k] -= lr * g[k] }
                case .adam(let lr, let c1, let c2, let mm, let vv):
                    adamRow(g: g, theta: th, m: mm + cell0, v: vv + cell0, count: cells, lr: lr, c1: c1, c2: c2)
                }
                x0 = x1
            }
        }
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
        let b = self.b, scale = self.scale, values = self.values
        forEachChunk(count, chunks: chunks) { range, c in
            let K = b.K, B = b.blockPrompts
            let w = b.blockScratch(chunk: c)
            let dw = w.dw, dl = w.dl
            var x0 = range.lowerBound
            while x0 < range.upperBound {
                let x1 = Swift.min(x0 + B, range.upperBound), nb = x1 - x0
                let cell0 = x0 * K, cells = nb * K
                let lp = b.logPi + cell0
                b.blockLogPolicy(x0: x0, nb: nb, g: w.g, rowMax: w.rowMax, rowSum: w.rowSum)
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
                for k in 0..<cells { w.pi[k] = Elementary.exp(lp[k]) }
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
}

/// The largest of `p[0 ..< count]` ignoring NaNs (-inf for none), as `m = v > m ? v : m`
/// from -inf would give, but in eight interleaved chains so that it vectorises instead of
/// waiting on each comparison. Both the generic and the fused paths use it, so they agree
/// bit for bit. (A maximum does not round, so the order only matters for the sign of a zero
/// maximum, which nothing downstream can see: it is subtracted from each logit and added
/// back in log-sum-exp.)
@inline(__always)
func rowMaximum(_ p: UnsafePointer<Double>, _ count: Int) -> Double {
    var acc = SIMD8<Double>(repeating: -.infinity)
    var y = 0
    while y + 8 <= count {
        let v = UnsafeRawPointer(p + y).loadUnaligned(as: SIMD8<Double>.self)
        acc.replace(with: v, where: v .> acc)
        y += 8
    }
    var m = -Double.infinity
    for i in 0..<8 { let v = acc[i]; m = v > m ? v : m }
    while y < count { let v = p[y]; m = v > m ? v : m; y += 1 }
    return m
}

/// `p[0] + ... + p[count-1]` in a fixed order that vectorises: eight interleaved partial
/// sums (lane i adds p[i], p[i+8], ...), added together lane by lane, then the tail. A
/// serial sum would wait on each addition's latency. Both the generic and the fused paths
/// use it, so they agree bit for bit; SIMD lanes are IEEE additions, so every build gives
/// the same bits. (Pairwise-like, it is also at least as accurate as the serial order.)
@inline(__always)
func rowTotal(_ p: UnsafePointer<Double>, _ count: Int) -> Double {
    var acc = SIMD8<Double>(repeating: 0)
    var y = 0
    while y + 8 <= count {
        acc += UnsafeRawPointer(p + y).loadUnaligned(as: SIMD8<Double>.self)
        y += 8
    }
    var s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
    while y < count { s += p[y]; y += 1 }
    return s
}

/// Wraps a value that is safe to share for the duration of one pass (pointers to disjoint rows).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// LLVM's `sqrt` intrinsic: the correctly rounded square root, like `Double.squareRoot()`.
/// On Linux `squareRoot()` is emitted as `sqrtsd` with a fallback call to libm's `sqrt` for
/// negative inputs (to set errno), which keeps LLVM from vectorising the update; the
/// intrinsic has no such fallback, so the loop below vectorises to the machine's width.
/// (Adam's argument `v/c2` is never negative.)

/// Adam on `count` parameters: `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g g`,
/// `theta -= lr (m/c1) / (sqrt(v/c2) + eps)`. Vectorised lanes are IEEE operations like the
/// scalar ones, in the same order, so the results are bit-identical to the scalar loop of
/// ``Trainer/step()`` (division and square root dominate the cost of the update).
@inline(__always)
func adamRow(g: UnsafeMutablePointer<Double>, theta: UnsafeMutablePointer<Double>, m: UnsafeMutablePointer<Double>,
             v: UnsafeMutablePointer<Double>, count: Int, lr: Double, c1: Double, c2: Double) {
    let b1 = 0.9, b2 = 0.999, eps = 1e-8
    for y in 0..<count {
        let gy = g[y]
        let mv = b1 * m[y] + (1 - b1) * gy
        let vv = b2 * v[y] + (1 - b2) * gy * gy
        m[y] = mv
        v[y] = vv
        theta[y] -= lr * (mv / c1) / (intrinsicSquareRoot(vv / c2) + eps)
    }
}
