import LossMath

/// The numerical core shared by the trainer and the population-optimum solver: a
/// ``PolicyFamily``'s log-probabilities on a set of pairs, the weighted loss over them and
/// its exact gradient in parameter space.
///
/// All buffers are allocated once in `init` and freed in `deinit`; the per-step methods
/// allocate nothing. Not thread-safe: one engine per run, created inside the worker.
///
/// Gradient (T9 and its generalisation to losses of `u_w`, `u_l` separately). A pair with
/// derivatives `a = dl/d log pi_w`, `b = dl/d log pi_l` adds `a` to `c_{x,w}` and `b` to
/// `c_{x,l}`, and `a + b` to the prompt's total `s_x`; once per touched prompt the family
/// turns `(c_x, s_x)` into `dl/dtheta` (``PolicyFamily/addGradient(prompt:dLogPolicy:total:logPolicy:into:)``;
/// for a softmax family, `G_x = c_x - s_x pi(.|x)`, and for a loss of `h` alone `b = -a`,
/// so the normaliser term cancels: T9's `dl/dz = l'(h) (e_w - e_l)`).
///
/// A family with ``PolicyFamily/usesFusedTabularPasses`` and pairs grouped by prompt takes
/// the fused per-prompt passes of FusedPasses.swift, bit-identical to this generic path.
final class PolicyEngine {
    let family: any PolicyFamily
    let P: Int, K: Int
    let parameterCount: Int
    let pairCount: Int
    let loss: Loss
    let baseParameters: LossParameters
    /// True when every prompt shares every parameter (``PolicyFamily/localParameters(prompt:)`` is nil).
    let sharedParameters: Bool

    // Problem data (copied once into contiguous storage).
    let logRef: UnsafeMutableBufferPointer<Double>      // P*K
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
    let logitGrad: UnsafeMutableBufferPointer<Double>   // P*K, c then the family's scratch (zero outside touched prompts)
    let promptSum: UnsafeMutableBufferPointer<Double>   // P, s_x
    let paramGrad: UnsafeMutableBufferPointer<Double>   // parameterCount
    let stamp: UnsafeMutableBufferPointer<Int>          // P, last mark id
    let touched: UnsafeMutableBufferPointer<Int>        // P, list of touched prompts
    var touchedCount = 0
    var markId = 0

    // Fused tabular passes (FusedPasses.swift).
    /// `pairStart[x] ..< pairStart[x+1]` are the pairs of prompt `x` when the pairs are
    /// grouped by prompt in nondecreasing order (always so for `Environment`); else empty.
    let pairStart: UnsafeMutableBufferPointer<Int>
    /// True for a family with fused passes and pairs grouped by prompt.
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

    /// An engine for `environment`'s policy family, starting at its reference parameters.
    convenience init(environment env: Environment, pairs: [PairSpec], loss: Loss, parameters: LossParameters) {
        self.init(family: env.family, logReference: env.logReference, initialParameters: env.referenceParameters,
                  pairs: pairs, loss: loss, parameters: parameters)
    }

    init(family: any PolicyFamily, logReference: [Double], initialParameters: [Double],
         pairs: [PairSpec], loss: Loss, parameters: LossParameters) {
        self.family = family
        P = family.prompts; K = family.responses
        parameterCount = family.parameterCount
        sharedParameters = family.localParameters(prompt: 0) == nil
        pairCount = pairs.count
        self.loss = loss
        baseParameters = parameters
        precondition(logReference.count == P * K && initialParameters.count == parameterCount)

        func buffer<T>(_ n: Int, _ v: T) -> UnsafeMutableBufferPointer<T> {
            let b = UnsafeMutableBufferPointer<T>.allocate(capacity: n)
            b.initialize(repeating: v)
            return b
        }
        logRef = buffer(P * K, 0.0)
        _ = logRef.update(fromContentsOf: logReference)
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
        canFuse = family.usesFusedTabularPasses && grouped
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
        logRef.deallocate()
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
        guard let th = theta.baseAddress, let lp = logPi.baseAddress else { return }
        for t in 0..<touchedCount {
            let x = touched[t]
            family.logPolicy(prompt: x, parameters: th, into: lp + x * K)
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

    /// Adds `scale * weight_i * dl_i/d log pi` of pair `i` into the coefficients of its
    /// prompt and returns `scale * weight_i * l_i`. Its prompt must be refreshed.
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

    /// Turns the accumulated coefficients of the touched prompts into the parameter gradient
    /// `paramGrad` (dl/dtheta), through the family.
    func finishGradient() {
        guard let c = logitGrad.baseAddress, let lp = logPi.baseAddress, let g = paramGrad.baseAddress else { return }
        if sharedParameters { for j in 0..<parameterCount { paramGrad[j] = 0 } }
        if family.usesFusedTabularPasses, let th = theta.baseAddress {
            // The tabular family's G_x = c - s pi(.|x) with pi from the softmax's own
            // exponentials (softmaxProbabilities), as the fused passes form it: the same bits.
            withUnsafeTemporaryAllocation(of: Double.self, capacity: K) { buf in
                guard let pi = buf.baseAddress else { return }
                for t in 0..<touchedCount {
                    let x = touched[t], row = x * K, s = promptSum[x]
                    if s != 0 {
                        softmaxProbabilities(th + row, K, into: pi)
                        for y in 0..<K { c[row + y] -= s * pi[y] }
                    }
                    for y in 0..<K { g[row + y] = c[row + y] }
                    promptSum[x] = 0
                }
            }
            return
        }
        for t in 0..<touchedCount {
            let x = touched[t], row = x * K
            family.addGradient(prompt: x, dLogPolicy: c + row, total: promptSum[x], logPolicy: lp + row, into: g)
            promptSum[x] = 0
        }
    }

    /// Zeroes the coefficients and the parameter gradient on the touched prompts (so the next
    /// step starts from zero without an O(P*K) clear).
    func clearGradient() {
        for t in 0..<touchedCount {
            let x = touched[t], row = x * K
            for y in 0..<K { logitGrad[row + y] = 0 }
            if let r = family.localParameters(prompt: x) { for j in r { paramGrad[j] = 0 } }
        }
        if sharedParameters { for j in 0..<parameterCount { paramGrad[j] = 0 } }
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
