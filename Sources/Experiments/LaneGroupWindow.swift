import LossMath

// Temporal blocking for rows shorter than a vector: eight prompts in the eight lanes.
//
// With K < 8 responses per prompt (the default problem has K = 6) a row of the fused step
// (EngineBuffers.stepBlock) is shorter than one eight-lane register: its maximum, its sum,
// log pi, the gathered log-ratios and the scatter into the gradient run one cell or one pair
// at a time. Here a window's steps of eight prompts run with **prompt r in lane r**: theta,
// Adam's moments, log pi, the exponentials and the gradient are held transposed (cell y of
// the eight prompts is one `SIMD8<Double>`), and the t-th pair of the eight prompts is one
// vector of pairs. Every operation of the row path becomes one vector operation:
// - the row maximum and sum: K vector maxima and additions in cell order;
// - the log-ratios `log pi(y_w) - log pi_ref(y_w)`: a select over the K cells (the reference
//   part, which does not change, gathered once per window);
// - the scatter `g[y_w] += a`, `g[y_l] += b`: a masked addition into each of the K cells;
// - the pairs' sum `s` and `g - s pi`: lane-wise, masked where `s = 0`.
//
// **The same bits.** Each lane performs exactly the row path's operations on its prompt, in
// its order: the maximum and the sum over cells `0 ..< K` (rowMaximum and rowTotal reduce to
// that order for K < 8), each cell's gradient additions in pair order (a lane whose prompt
// has fewer pairs, or a cell the pair does not touch, keeps its value: a select, not an
// addition of zero), `1 / sum`, `max + log sum`, Adam element by element. The eight-lane
// exp, log and loss derivatives are the scalar functions' bits lane by lane (ElementaryVector
// .swift, VectorDerivatives.swift; the tests check both). The window tests compare this path
// with step-by-step training bit for bit.

/// The transposed state of one group of eight prompts for a window (see the file comment).
struct LaneGroupScratch {
    /// Doubles needed for `K` cells and at most `maxPairs` pairs per prompt.
    static func doubles(K: Int, maxPairs: Int) -> Int { 8 * (6 * K + 6 * maxPairs) }
    /// Bytes of one group's scratch: the doubles, then the chosen and rejected cell of each
    /// (t, lane) pair (`16 maxPairs` integers). Both parts are whole 64-byte lines.
    static func bytes(K: Int, maxPairs: Int) -> Int { 8 * doubles(K: K, maxPairs: maxPairs) + 8 * 16 * Swift.max(1, maxPairs) }

    /// The scratch and the cells carved out of `raw` (``bytes(K:maxPairs:)`` bytes, 64-byte aligned).
    static func carve(_ raw: UnsafeMutableRawPointer, K: Int, maxPairs: Int) -> (scratch: LaneGroupScratch, cells: UnsafeMutablePointer<Int64>) {
        let n = doubles(K: K, maxPairs: maxPairs)
        let d = raw.bindMemory(to: Double.self, capacity: n)
        let cells = (raw + 8 * n).bindMemory(to: Int64.self, capacity: 16 * Swift.max(1, maxPairs))
        return (LaneGroupScratch(base: d, K: K, maxPairs: maxPairs), cells)
    }

    let K: Int, maxPairs: Int
    let theta: UnsafeMutablePointer<Double>, m: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>
    let logPi: UnsafeMutablePointer<Double>, exps: UnsafeMutablePointer<Double>, g: UnsafeMutablePointer<Double>
    /// Per pair index t (8 lanes each): `log pi_ref` of the chosen and rejected cells, the
    /// reward gap and the weight (0 where the lane's prompt has no t-th pair).
    let refW: UnsafeMutablePointer<Double>, refL: UnsafeMutablePointer<Double>
    let gap: UnsafeMutablePointer<Double>, weight: UnsafeMutablePointer<Double>
    /// Per pair index t: the log-ratios, then the loss's derivatives.
    let dw: UnsafeMutablePointer<Double>, dl: UnsafeMutablePointer<Double>

    init(base p: UnsafeMutablePointer<Double>, K: Int, maxPairs: Int) {
        self.K = K; self.maxPairs = maxPairs
        let c = 8 * K, q = 8 * maxPairs
        theta = p; m = p + c; v = p + 2 * c; logPi = p + 3 * c; exps = p + 4 * c; g = p + 5 * c
        refW = p + 6 * c; refL = refW + q; gap = refL + q; weight = gap + q; dw = weight + q; dl = dw + q
    }
}

extension EngineBuffers {
    /// `T` full-batch steps of the prompts `x0 ..< x0 + 8` (K < 8), the t-th with
    /// `updates[t]`, in lanes (see LaneGroupWindow.swift): the same parameters, moments and
    /// log pi, bit for bit, as that many ``stepBlock(_:x0:x1:scratch:scale:update:)`` calls on
    /// these prompts. `cells` holds the chosen and rejected cell of each (t, lane) pair
    /// (`2 * 8 * maxPairs` integers, scratch). Returns the first step at which a prompt's log
    /// pi or a pair's derivative was not finite, or `T`.
    @inline(__always)
    func laneGroupSteps<L: PairLossKernel>(_ kernel: L, x0: Int, s w: LaneGroupScratch,
                                           cells: UnsafeMutablePointer<Int64>, scale: Double,
                                           updates: UnsafePointer<RowUpdate>, steps T: Int) -> Int {
        let K = self.K, moments = T > 0 ? updates[0].moments : nil
        // Transpose the group in: cell y of prompt x0 + r at [8 y + r].
        for r in 0..<8 {
            let row = (x0 + r) * K
            for y in 0..<K {
                w.theta[8 * y + r] = theta[row + y]
                if let (m, v) = moments { w.m[8 * y + r] = m[row + y]; w.v[8 * y + r] = v[row + y] }
            }
        }
        // The pairs by index t within each prompt; lanes without a t-th pair get cells -1
        // (no cell matches), weight 0 and count as absent (`count[r] <= t`).
        var count = SIMD8<Int64>(repeating: 0), most = 0
        for r in 0..<8 {
            let n = start[x0 + r + 1] - start[x0 + r]
            count[r] = Int64(n)
            most = Swift.max(most, n)
        }
        let cw = cells, cl = cells + 8 * w.maxPairs
        for t in 0..<most {
            for r in 0..<8 {
                let i = start[x0 + r] + t, k = 8 * t + r
                if i < start[x0 + r + 1] {
                    cw[k] = Int64(chosen[i]); cl[k] = Int64(rejected[i])
                    w.refW[k] = logRef[cellW[i]]; w.refL[k] = logRef[cellL[i]]
                    w.gap[k] = gap[i]; w.weight[k] = weight[i]
                } else {
                    cw[k] = -1; cl[k] = -1
                    w.refW[k] = 0; w.refL[k] = 0; w.gap[k] = 0; w.weight[k] = 0
                }
            }
        }
        var bad = T
        for t in 0..<T {
            if !laneGroupStep(kernel, s: w, cw: cw, cl: cl, count: count, pairs: most, scale: scale, update: updates[t]) {
                bad = Swift.min(bad, t)
            }
        }
        // Transpose out: theta, the moments and the last step's log pi.
        for r in 0..<8 {
            let row = (x0 + r) * K
            for y in 0..<K {
                theta[row + y] = w.theta[8 * y + r]
                logPi[row + y] = w.logPi[8 * y + r]
                if let (m, v) = moments { m[row + y] = w.m[8 * y + r]; v[row + y] = w.v[8 * y + r] }
            }
        }
        return bad
    }

    /// One step of the lane group (see ``laneGroupSteps(_:x0:s:cells:scale:updates:steps:)``).
    @inline(__always)
    private func laneGroupStep<L: PairLossKernel>(_ kernel: L, s w: LaneGroupScratch,
                                                  cw: UnsafeMutablePointer<Int64>, cl: UnsafeMutablePointer<Int64>,
                                                  count: SIMD8<Int64>, pairs: Int, scale: Double,
                                                  update: RowUpdate) -> Bool {
        let K = self.K
        // The softmax: maximum and sum over the cells in order, one log and one reciprocal.
        var mx = SIMD8<Double>(repeating: -.infinity)
        for y in 0..<K {
            let th = load8(w.theta + 8 * y)
            mx.replace(with: th, where: th .> mx)
        }
        var sum = SIMD8<Double>(repeating: 0)
        for y in 0..<K {
            let e = Elementary.exp(load8(w.theta + 8 * y) - mx)
            store8(e, w.exps + 8 * y)
            sum += e
        }
        var finite = (mx + sum).isFiniteLanes
        let lse = mx + Elementary.log(sum), q = 1 / sum
        for y in 0..<K {
            store8(load8(w.theta + 8 * y) - lse, w.logPi + 8 * y)
            store8(.zero, w.g + 8 * y)
        }
        // The pairs, t-th of every prompt at once, in phases (the derivatives of different t
        // are independent, so their exponentials and divisions overlap): log-ratios into dw
        // and dl, the derivatives in place, then the scatter.
        for t in 0..<pairs {
            let iw = load8i(cw + 8 * t), il = load8i(cl + 8 * t)
            var lw = SIMD8<Double>(repeating: 0), ll = SIMD8<Double>(repeating: 0)
            for y in 0..<K {
                let lp = load8(w.logPi + 8 * y), yy = SIMD8<Int64>(repeating: Int64(y))
                lw.replace(with: lp, where: iw .== yy)
                ll.replace(with: lp, where: il .== yy)
            }
            store8(lw - load8(w.refW + 8 * t), w.dw + 8 * t)
            store8(ll - load8(w.refL + 8 * t), w.dl + 8 * t)
        }
        laneDerivatives(kernel, s: w, count: count, pairs: pairs)
        var squaresFinite = true
        for t in 0..<pairs {
            // The pairs' finiteness (EngineBuffers.squaresAreFinite's rule: each dw^2 + dl^2).
            let present = count .> SIMD8<Int64>(repeating: Int64(t))
            let dw = load8(w.dw + 8 * t), dl = load8(w.dl + 8 * t)
            let sq = dw * dw + dl * dl
            var zero = sq - sq
            zero.replace(with: 0, where: .!present)
            if !(zero == .zero) { squaresFinite = false }
        }
        var pairSum = SIMD8<Double>(repeating: 0)
        for t in 0..<pairs {
            let iw = load8i(cw + 8 * t), il = load8i(cl + 8 * t)
            let present = count .> SIMD8<Int64>(repeating: Int64(t))
            let wt = scale * load8(w.weight + 8 * t)
            let a = wt * load8(w.dw + 8 * t), b = wt * load8(w.dl + 8 * t)
            for y in 0..<K {
                let yy = SIMD8<Int64>(repeating: Int64(y))
                var gy = load8(w.g + 8 * y)
                gy.replace(with: gy + a, where: iw .== yy)
                gy.replace(with: gy + b, where: il .== yy)
                store8(gy, w.g + 8 * y)
            }
            pairSum.replace(with: pairSum + (a + b), where: present)
        }
        if !squaresFinite { finite = false }
        let moved = pairSum .!= .zero
        for y in 0..<K {
            var gy = load8(w.g + 8 * y)
            gy.replace(with: gy - pairSum * (load8(w.exps + 8 * y) * q), where: moved)
            store8(gy, w.g + 8 * y)
        }
        update.withMoments(m: w.m, v: w.v).apply(gradient: w.g, parameters: w.theta, offset: 0, count: 8 * K)
        return finite
    }

    /// The loss's derivatives of the group's pairs, in place over their log-ratios in `w.dw`,
    /// `w.dl`: DPO's and spo's eight-lane kernels, every other loss through its scalar kernel
    /// lane by lane (absent lanes are set to zero). One loop per kernel, so that the pairs'
    /// exponentials and divisions overlap.
    @inline(__always)
    private func laneDerivatives<L: PairLossKernel>(_ kernel: L, s w: LaneGroupScratch, count: SIMD8<Int64>, pairs: Int) {
        if let s = kernel as? Losses.Sigmoid {
            for t in 0..<pairs {
                let d = s.derivatives(uW: load8(w.dw + 8 * t), uL: load8(w.dl + 8 * t))
                store8(d.dChosen, w.dw + 8 * t)
                store8(d.dRejected, w.dl + 8 * t)
            }
        } else if let s = kernel as? Losses.SPO {
            for t in 0..<pairs {
                let d = s.derivatives(uW: load8(w.dw + 8 * t), uL: load8(w.dl + 8 * t), rewardGap: load8(w.gap + 8 * t))
                store8(d.dChosen, w.dw + 8 * t)
                store8(d.dRejected, w.dl + 8 * t)
            }
        } else {
            for t in 0..<pairs {
                for r in 0..<8 {
                    let k = 8 * t + r
                    if count[r] > Int64(t) {
                        let d = kernel.derivatives(uW: w.dw[k], uL: w.dl[k], rewardGap: w.gap[k])
                        w.dw[k] = d.dChosen
                        w.dl[k] = d.dRejected
                    } else {
                        w.dw[k] = 0
                        w.dl[k] = 0
                    }
                }
            }
        }
    }
}

extension SIMD8 where Scalar == Double {
    /// Whether every lane is finite.
    @inline(__always)
    var isFiniteLanes: Bool { (self - self) == .zero }
}

/// Eight integers from `p` (any alignment).
@inline(__always)
func load8i(_ p: UnsafeMutablePointer<Int64>) -> SIMD8<Int64> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Int64>.self)
}
