import LossMath

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
    /// each), two derivative arrays (blockPrompts*maxPairs each), four per-row arrays
    /// (blockPrompts each) and the divergence flag.
    let scratchStride: Int
    /// Prompts per block of the fused step.
    let blockPrompts: Int
    /// The most pairs of any prompt.
    let maxPairs: Int

    /// `log pi` for the rows of prompts `x0 ..< x0 + nb`, bit-identical to
    /// ``PolicyEngine/refreshLogPolicy()`` on each, and `pi` itself as the softmax's own
    /// exponentials times one reciprocal per row, `pi_y = e^(z_y - m) (1 / sum e)`, bit-identical
    /// to ``softmaxProbabilities(_:_:into:)`` (one exponential per cell: the gradient needs no
    /// `exp(log pi)`). The exponentials of the whole block go through one flat loop over its
    /// cells, which vectorises (a row of K = 6 would not); their arguments `z - max` are
    /// staged in `g` (`nb*K` doubles, left holding the exponentials). Maxima and sums by
    /// rowMaximum and rowTotal, as refreshLogPolicy; the rows' logarithms in one loop over
    /// the block's rows (vectorised), `lse` and the reciprocals staged in `rowLSE`, `rowInverse`.
    @inline(__always)
    func blockLogPolicy(x0: Int, nb: Int, g: UnsafeMutablePointer<Double>, pi: UnsafeMutablePointer<Double>,
                        rows w: BlockScratch) {
        let cell0 = x0 * K
        let lp = logPi + cell0, th = theta + cell0
        let rowMax = w.rowMax, rowSum = w.rowSum, rowLSE = w.rowLSE, rowInverse = w.rowInverse
        for r in 0..<nb {
            let tr = th + r * K, gr = g + r * K
            let m = rowMaximum(tr, K)
            rowMax[r] = m
            for y in 0..<K { gr[y] = tr[y] - m }
        }
        // Eight lanes at a time (one zmm register in the native build; LLVM's own
        // vectorisation of the scalar loop stays at 256 bits), the tail one by one: the
        // same bits per cell (ElementaryVector.swift).
        let cells = nb * K
        var k = 0
        while k + 8 <= cells {
            store8(Elementary.exp(load8(g + k)), g + k)
            k += 8
        }
        while k < cells { g[k] = Elementary.exp(g[k]); k += 1 }
        for r in 0..<nb { rowSum[r] = rowTotal(g + r * K, K) }
        // The rows' logarithms and reciprocals eight rows at a time (each lane the scalar
        // bits: ``Elementary/log(_:)-(SIMD8<Double>)``), the tail one by one.
        var r0 = 0
        while r0 + 8 <= nb {
            let sum = load8(rowSum + r0)
            store8(load8(rowMax + r0) + Elementary.log(sum), rowLSE + r0)
            store8(1 / sum, rowInverse + r0)
            r0 += 8
        }
        for r in r0..<nb { rowLSE[r] = rowMax[r] + Elementary.log(rowSum[r]) }
        for r in r0..<nb { rowInverse[r] = 1 / rowSum[r] }
        for r in 0..<nb {
            let lse = rowLSE[r], q = rowInverse[r]
            let tr = th + r * K, lr = lp + r * K, gr = g + r * K, pr = pi + r * K
            for y in 0..<K {
                lr[y] = tr[y] - lse
                pr[y] = gr[y] * q
            }
        }
    }

    /// Chunk `c`'s scratch (see ``scratchStride``): staging for a block's exponentials or
    /// gradient rows (`g`), its probabilities (`pi`), its pairs' log-ratios and then
    /// derivatives (`dw`, `dl`), and per-row maxima and sums.
    struct BlockScratch {
        let g: UnsafeMutablePointer<Double>, pi: UnsafeMutablePointer<Double>
        let dw: UnsafeMutablePointer<Double>, dl: UnsafeMutablePointer<Double>
        let rowMax: UnsafeMutablePointer<Double>, rowSum: UnsafeMutablePointer<Double>
        /// Per row: `max + log(sum)` and `1 / sum`.
        let rowLSE: UnsafeMutablePointer<Double>, rowInverse: UnsafeMutablePointer<Double>
        /// The chunk's divergence flag of the fused step: 1 if a row of log pi it computed was
        /// not finite (a non-finite parameter), else 0.
        let nonFinite: UnsafeMutablePointer<Double>
    }

    @inline(__always)
    func blockScratch(chunk c: Int) -> BlockScratch {
        let B = blockPrompts
        let g = scratch + c * scratchStride
        let pi = g + B * K, dw = pi + B * K, dl = dw + B * maxPairs
        let rowMax = dl + B * maxPairs
        return BlockScratch(g: g, pi: pi, dw: dw, dl: dl, rowMax: rowMax, rowSum: rowMax + B, rowLSE: rowMax + 2 * B,
                            rowInverse: rowMax + 3 * B, nonFinite: rowMax + 4 * B)
    }

    /// `dl/du_w`, `dl/du_l` of `np` pairs in place over their log-ratios `dw`, `dl` (one flat
    /// loop over contiguous arrays, which vectorises).
    @inline(__always)
    func pairDerivatives<L: PairLossKernel>(_ kernel: L, p0: Int, np: Int,
                                             dw: UnsafeMutablePointer<Double>, dl: UnsafeMutablePointer<Double>) {
        let gap = self.gap + p0
        // DPO and spo in eight lanes (VectorDerivatives.swift: the same bits per pair), the
        // tail and every other loss through the scalar kernel, which LLVM vectorises. The
        // casts are resolved when the step is specialised for the kernel's type.
        var j0 = 0
        if let s = kernel as? Losses.Sigmoid {
            while j0 + 8 <= np {
                let d = s.derivatives(uW: load8(dw + j0), uL: load8(dl + j0))
                store8(d.dChosen, dw + j0)
                store8(d.dRejected, dl + j0)
                j0 += 8
            }
        } else if let s = kernel as? Losses.SPO {
            while j0 + 8 <= np {
                let d = s.derivatives(uW: load8(dw + j0), uL: load8(dl + j0), rewardGap: load8(gap + j0))
                store8(d.dChosen, dw + j0)
                store8(d.dRejected, dl + j0)
                j0 += 8
            }
        }
        for j in j0..<np {
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
            j &+= 1
        }
        if s != 0 {
            for y in 0..<K { g[y] -= s * pi[y] }
        }
        return j
    }

    /// Whether every pair's `dw_j^2 + dl_j^2` (of `np` pairs) is finite: a NaN, an infinity,
    /// or a size whose square overflows shows. Each term contributes `q - q`, which is 0 for
    /// a finite `q` and NaN otherwise, so the sum of those is 0 exactly when every term is
    /// finite, whatever the order of the additions: the lane-group window
    /// (LaneGroupWindow.swift), which sees the pairs in another order, decides the same.
    @inline(__always)
    func squaresAreFinite(dw: UnsafePointer<Double>, dl: UnsafePointer<Double>, np: Int) -> Bool {
        var acc = SIMD8<Double>(repeating: 0)
        var j = 0
        while j + 8 <= np {
            let a = UnsafeRawPointer(dw + j).loadUnaligned(as: SIMD8<Double>.self)
            let b = UnsafeRawPointer(dl + j).loadUnaligned(as: SIMD8<Double>.self)
            let q = a * a + b * b
            acc += q - q
            j += 8
        }
        var s = acc.sum()
        while j < np {
            let q = dw[j] * dw[j] + dl[j] * dl[j]
            s += q - q
            j += 1
        }
        return s == 0
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

/// Eight doubles from `p` (any alignment).
@inline(__always)
func load8(_ p: UnsafePointer<Double>) -> SIMD8<Double> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
}

/// Eight doubles from `p` (any alignment).
@inline(__always)
func load8(_ p: UnsafeMutablePointer<Double>) -> SIMD8<Double> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
}

/// Stores eight doubles at `p` (any alignment).
@inline(__always)
func store8(_ v: SIMD8<Double>, _ p: UnsafeMutablePointer<Double>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Double>.self)
}
