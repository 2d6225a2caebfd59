import LossMath

/// The optimiser of a training run, written once for every path: SGD or Adam on a flat
/// parameter vector, with optional clipping of the gradient's Euclidean norm. It owns
/// Adam's moments and the step count.
///
/// - SGD: `theta -= lr g`.
/// - Adam (Kingma & Ba 2015, `b1 = 0.9`, `b2 = 0.999`, `eps = 1e-8`):
///   `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g g`,
///   `theta -= lr (m/c1) / (sqrt(v/c2) + eps)` with the bias corrections
///   `c_i = 1 - b_i^t = -expm1(t log b_i)` (accurate for small `t`).
/// - Clipping: `g *= c/|g|` when `|g| > c`.
/// - Folded Adam (``foldsAdamConstants``, the tabular trainer's): the same update with the
///   step's constants folded, `theta -= (lr/c1) m / (sqrt(v (1/c2)) + eps)`: one division and
///   one square root per parameter instead of three divisions and one square root (the
///   divider is the bottleneck of the update; see BENCHMARKS.md, "Issue 12: the profile").
///   It rounds differently in the last bits, so it is a choice of the run, not of the path:
///   every path of a run (generic, fused, temporally blocked) uses the same update.
///
/// The generic trainer applies ``RowUpdate/apply(gradient:parameters:offset:count:)`` to the
/// whole vector; the fused tabular step applies the same update to each block of prompts
/// (their parameters are disjoint), so both give the same bits.
///
/// See also: ``TrainingConfig/optimizer``, ``TrainingConfig/clipNorm``, ``Trainer``.
final class OptimizerState {
    let kind: Optimizer
    let learningRate: Double
    /// Adam's first and second moments (zero for SGD, unused).
    let m: UnsafeMutableBufferPointer<Double>
    let v: UnsafeMutableBufferPointer<Double>
    /// Updates applied so far (`t` of the last one).
    private(set) var steps = 0
    /// `log(0.9)`, `log(0.999)`, computed once.
    private let logBeta1 = Elementary.log(0.9), logBeta2 = Elementary.log(0.999)
    /// True: Adam's updates fold the step's constants (``RowUpdate/adamFolded(stepSize:inverseC2:m:v:)``).
    let foldsAdamConstants: Bool

    init(_ kind: Optimizer, learningRate: Double, parameterCount n: Int, foldsAdamConstants: Bool = false) {
        self.kind = kind
        self.learningRate = learningRate
        self.foldsAdamConstants = foldsAdamConstants
        m = .allocate(capacity: n); m.initialize(repeating: 0)
        v = .allocate(capacity: n); v.initialize(repeating: 0)
    }

    deinit { m.deallocate(); v.deallocate() }

    /// The update of step `steps + 1` (Adam's bias corrections for that `t`). Call
    /// ``advance()`` once it has been applied to every parameter.
    func nextUpdate() -> RowUpdate { update(step: steps + 1) }

    /// The update of step `t` (1-based: Adam's bias corrections for that `t`), for a caller
    /// that runs several steps of a disjoint block of parameters ahead of the others (the
    /// sequence trainer's temporal blocking) and then calls ``advance(by:)``.
    @inline(__always)
    func update(step: Int) -> RowUpdate {
        switch kind {
        case .sgd:
            return .sgd(learningRate: learningRate)
        case .adam:
            let t = Double(step)
            guard let mm = m.baseAddress, let vv = v.baseAddress else { return .sgd(learningRate: 0) }
            if foldsAdamConstants {
                let c1 = -Elementary.expMinusOne(t * logBeta1), c2 = -Elementary.expMinusOne(t * logBeta2)
                return .adamFolded(stepSize: learningRate / c1, inverseC2: 1 / c2, m: mm, v: vv)
            }
            return .adam(learningRate: learningRate, c1: -Elementary.expMinusOne(t * logBeta1),
                         c2: -Elementary.expMinusOne(t * logBeta2), m: mm, v: vv)
        }
    }

    /// Counts one applied update.
    func advance() { steps += 1 }

    /// The updates of the next `n` steps into `out[0 ..< n]`, counted as applied: the same
    /// as `n` times ``nextUpdate()`` and ``advance()`` (a temporally blocked window's
    /// updates, written in place rather than returned one by one through memory).
    func takeUpdates(_ n: Int, into out: UnsafeMutablePointer<RowUpdate>) {
        let t0 = steps
        for t in 0..<n { out[t] = update(step: t0 + 1 + t) }
        steps = t0 + n
    }

    /// Counts `n` applied updates.
    func advance(by n: Int) { steps += n }

    /// Sets the count of applied updates back to `t` (`0 <= t <= steps`), after the caller
    /// has restored the parameters and moments of that step (TemporalBlocking.swift).
    func rewind(to t: Int) {
        precondition(t >= 0 && t <= steps)
        steps = t
    }

    /// One step on all `gradient.count` parameters: clips the gradient (in place) to norm
    /// `clipNorm` if given, applies ``nextUpdate()`` and advances. With clipping, returns
    /// false and changes nothing if the gradient's norm is not finite (a diverged run).
    @discardableResult
    func step(parameters theta: UnsafeMutableBufferPointer<Double>, gradient g: UnsafeMutableBufferPointer<Double>,
              clipNorm: Double?) -> Bool {
        if let c = clipNorm {
            guard OptimizerState.clip(g, to: c) else { return false }
        }
        if let gp = g.baseAddress, let tp = theta.baseAddress {
            nextUpdate().apply(gradient: gp, parameters: tp, offset: 0, count: g.count)
        }
        advance()
        return true
    }

    /// The Euclidean norm `sqrt(sum g_j^2)` in index order.
    static func norm(_ g: UnsafeMutableBufferPointer<Double>) -> Double {
        var s = 0.0
        for j in 0..<g.count { s += g[j] * g[j] }
        return s.squareRoot()
    }

    /// Scales `g` by `c / |g|` when `|g| > c` (gradient-norm clipping, `c > 0`). Returns
    /// whether `|g|` is finite (when it is not, `g` is left as it is).
    @discardableResult
    static func clip(_ g: UnsafeMutableBufferPointer<Double>, to c: Double) -> Bool {
        let norm = OptimizerState.norm(g)
        guard norm.isFinite else { return false }
        if norm > c {
            let s = c / norm
            for j in 0..<g.count { g[j] *= s }
        }
        return true
    }
}

/// One optimiser update with its step's constants, applied to any contiguous range of the
/// parameters (all of them, or a block of prompts in the fused step).
enum RowUpdate {
    /// Adam with bias corrections `c1 = 1 - b1^t`, `c2 = 1 - b2^t`; `m`, `v` are the moments
    /// of parameter 0.
    case adam(learningRate: Double, c1: Double, c2: Double, m: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>)
    /// Adam with the constants folded: `stepSize = lr/c1`, `inverseC2 = 1/c2` (see
    /// ``adamRowFolded(g:theta:m:v:count:stepSize:inverseC2:)``).
    case adamFolded(stepSize: Double, inverseC2: Double, m: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>)
    case sgd(learningRate: Double)

    /// Adam's moments of parameter 0 (nil for SGD).
    var moments: (m: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>)? {
        switch self {
        case .adam(_, _, _, let m, let v), .adamFolded(_, _, let m, let v): return (m, v)
        case .sgd: return nil
        }
    }

    /// The same update with the moments of parameter 0 at `m`, `v` instead (a caller that
    /// holds some parameters' moments elsewhere, such as LaneGroupWindow.swift's transposed
    /// copies). SGD is unchanged.
    func withMoments(m: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>) -> RowUpdate {
        switch self {
        case .adam(let lr, let c1, let c2, _, _): return .adam(learningRate: lr, c1: c1, c2: c2, m: m, v: v)
        case .adamFolded(let a, let r2, _, _): return .adamFolded(stepSize: a, inverseC2: r2, m: m, v: v)
        case .sgd: return self
        }
    }

    /// Updates `theta[0 ..< count]`, the parameters `offset ..< offset + count`, from their
    /// gradient `g[0 ..< count]`.
    @inline(__always)
    func apply(gradient g: UnsafeMutablePointer<Double>, parameters theta: UnsafeMutablePointer<Double>, offset: Int, count: Int) {
        switch self {
        case .sgd(let lr):
            for k in 0..<count { theta[k] -= lr * g[k] }
        case .adam(let lr, let c1, let c2, let m, let v):
            adamRow(g: g, theta: theta, m: m + offset, v: v + offset, count: count, lr: lr, c1: c1, c2: c2)
        case .adamFolded(let a, let r2, let m, let v):
            adamRowFolded(g: g, theta: theta, m: m + offset, v: v + offset, count: count, stepSize: a, inverseC2: r2)
        }
    }
}

/// Adam on `count` parameters: `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g g`,
/// `theta -= lr (m/c1) / (sqrt(v/c2) + eps)`. Vectorised lanes are IEEE operations like the
/// scalar ones, in the same order, so the results do not depend on the vector width; every
/// path (generic, fused, clipped) updates through it (division and square root dominate
/// the cost of the update).
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

/// Adam on `count` parameters with the step's constants folded: `m = b1 m + (1-b1) g`,
/// `v = b2 v + (1-b2) g g`, `theta -= (stepSize m) / (sqrt(v inverseC2) + eps)` with
/// `stepSize = lr/c1`, `inverseC2 = 1/c2`: one division and one square root per parameter
/// (``adamRow(g:theta:m:v:count:lr:c1:c2:)`` has three divisions). Every operation is an
/// IEEE basic operation, so every build and vector width gives the same bits. Its error
/// against the exact update is a few ulps, like ``adamRow``'s.
@inline(__always)
func adamRowFolded(g: UnsafeMutablePointer<Double>, theta: UnsafeMutablePointer<Double>, m: UnsafeMutablePointer<Double>,
                   v: UnsafeMutablePointer<Double>, count: Int, stepSize: Double, inverseC2: Double) {
    let b1 = 0.9, b2 = 0.999, eps = 1e-8
    // Eight lanes at a time (one zmm register in the native build), the same operations
    // in the same order per lane, then the tail one by one.
    var y = 0
    while y + 8 <= count {
        let gy = load8(g + y)
        let mv = b1 * load8(m + y) + (1 - b1) * gy
        let vv = b2 * load8(v + y) + (1 - b2) * gy * gy
        store8(mv, m + y)
        store8(vv, v + y)
        store8(load8(theta + y) - (stepSize * mv) / (intrinsicSquareRoot(vv * inverseC2) + eps), theta + y)
        y += 8
    }
    while y < count {
        let gy = g[y]
        let mv = b1 * m[y] + (1 - b1) * gy
        let vv = b2 * v[y] + (1 - b2) * gy * gy
        m[y] = mv
        v[y] = vv
        theta[y] -= (stepSize * mv) / (intrinsicSquareRoot(vv * inverseC2) + eps)
        y += 1
    }
}
