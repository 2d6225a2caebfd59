import LossMath

// The per-row kernel of the fused markov step: gradient norm, optimiser update, log-softmax.

/// A step's optimiser update with Adam's bias corrections folded into two per-step
/// constants, for the sequence trainer:
/// `theta -= a m / (sqrt(v) b + eps)` with `a = lr / c1`, `b = 1 / sqrt(c2)`, which equals
/// ``adamRow(g:theta:m:v:count:lr:c1:c2:)``'s `lr (m/c1) / (sqrt(v/c2) + eps)` in exact
/// arithmetic (not bit for bit) with one division per parameter instead of three and no
/// per-parameter division under the square root. SGD is `theta -= lr g`, as ``RowUpdate``.
/// The generic and fused sequence-trainer steps update through it (the blocked step's
/// packed kernel, ``markovGroupStep(_:previous:count:update:)``, does its operations lane by
/// lane), so they agree bit for bit; the tabular trainer keeps ``RowUpdate`` (its bits are unchanged).
///
/// See also: ``OptimizerState/update(step:)``, ``markovRowStep(gradient:parameters:logPolicy:probabilities:count:update:offset:)``.
struct FoldedRowUpdate {
    let adam: Bool
    /// `lr` (SGD) or `lr / c1` (Adam).
    let scale: Double
    /// `1 / sqrt(c2)` (Adam; 1 for SGD).
    let rootScale: Double
    let m: UnsafeMutablePointer<Double>?
    let v: UnsafeMutablePointer<Double>?

    init(_ update: RowUpdate) {
        switch update {
        case .sgd(let lr):
            adam = false; scale = lr; rootScale = 1; m = nil; v = nil
        case .adam(let lr, let c1, let c2, let mm, let vv):
            adam = true; scale = lr / c1; rootScale = 1 / intrinsicSquareRoot(c2); m = mm; v = vv
        case .adamFolded(let stepSize, let inverseC2, let mm, let vv):
            // The tabular trainer's folded form (same constants, folded there); the sequence
            // trainer's OptimizerState does not fold (`foldsAdamConstants` false), so its
            // steps arrive as `.adam` above and this case only keeps the mapping total.
            adam = true; scale = stepSize; rootScale = intrinsicSquareRoot(inverseC2); m = mm; v = vv
        }
    }

    /// Updates `theta[0 ..< count]`, the parameters `offset ..< offset + count`, from their
    /// gradient `g[0 ..< count]` (a contiguous loop that vectorises).
    @inline(__always)
    func apply(gradient g: UnsafeMutablePointer<Double>, parameters theta: UnsafeMutablePointer<Double>,
               offset: Int, count: Int) {
        if adam, let mp = m, let vp = v {
            let m = mp + offset, v = vp + offset
            let b1 = 0.9, b2 = 0.999, eps = 1e-8, a = scale, b = rootScale
            for y in 0..<count {
                let gy = g[y]
                let mv = b1 * m[y] + (1 - b1) * gy
                let vv = b2 * v[y] + (1 - b2) * gy * gy
                m[y] = mv
                v[y] = vv
                theta[y] -= a * mv / (intrinsicSquareRoot(vv) * b + eps)
            }
        } else {
            let lr = scale
            for y in 0..<count { theta[y] -= lr * g[y] }
        }
    }
}

/// One active row of the fused `markov` step, on `count` logits: returns `sum_a g_a^2`
/// (in index order), applies `update` to
/// `theta[0 ..< count]` (parameters `offset ..< offset + count`) and writes the row's
/// log-softmax and probabilities with ``logSoftmaxRow(_:into:probabilities:count:)``.
/// Contiguous loops without per-element calls that block vectorisation; the fused step
/// calls it, and the blocked path's packed kernel does the same operations lane by lane
/// (``markovGroupStep(_:previous:count:update:)``), so they give the same bits.
@inline(__always)
func markovRowStep(gradient g: UnsafeMutablePointer<Double>, parameters theta: UnsafeMutablePointer<Double>,
                   logPolicy out: UnsafeMutablePointer<Double>, probabilities e: UnsafeMutablePointer<Double>,
                   count: Int, update: FoldedRowUpdate, offset: Int) -> Double {
    var squares = 0.0
    for a in 0..<count { squares += g[a] * g[a] }
    update.apply(gradient: g, parameters: theta, offset: offset, count: count)
    logSoftmaxRow(theta, into: out, probabilities: e, count: count)
    return squares
}

/// Two independent active rows of the fused `markov` step at once: exactly
/// ``markovRowStep(gradient:parameters:logPolicy:probabilities:count:update:offset:)`` on
/// row `A` and on row `B` (each row's own operations in the same order, so the same bits),
/// with the two rows' loops interleaved so that their serial chains (the sums of squares, the
/// maximum, the sum of the exponentials, the logarithm) overlap instead of running one after
/// the other. Returns the two rows' `sum_a g_a^2`.
///
/// - Precondition: the rows do not overlap (distinct states).
///
/// See also: ``logSoftmaxRowPair(_:into:probabilities:_:into:probabilities:count:)``.
@inline(__always)
func markovRowStepPair(gradient gA: UnsafeMutablePointer<Double>, parameters thA: UnsafeMutablePointer<Double>,
                       logPolicy outA: UnsafeMutablePointer<Double>, probabilities eA: UnsafeMutablePointer<Double>,
                       offset offA: Int,
                       gradient gB: UnsafeMutablePointer<Double>, parameters thB: UnsafeMutablePointer<Double>,
                       logPolicy outB: UnsafeMutablePointer<Double>, probabilities eB: UnsafeMutablePointer<Double>,
                       offset offB: Int,
                       count: Int, update: FoldedRowUpdate) -> (Double, Double) {
    var squaresA = 0.0, squaresB = 0.0
    for a in 0..<count {
        squaresA += gA[a] * gA[a]
        squaresB += gB[a] * gB[a]
    }
    update.apply(gradient: gA, parameters: thA, offset: offA, count: count)
    update.apply(gradient: gB, parameters: thB, offset: offB, count: count)
    logSoftmaxRowPair(thA, into: outA, probabilities: eA, thB, into: outB, probabilities: eB, count: count)
    return (squaresA, squaresB)
}

/// ``logSoftmaxRow(_:into:probabilities:count:)`` on two independent rows `A` and `B`, each
/// with exactly its operations in the same order (the same bits), the rows' loops
/// interleaved so that their reductions and logarithms overlap.
@inline(__always)
func logSoftmaxRowPair(_ lA: UnsafePointer<Double>, into outA: UnsafeMutablePointer<Double>,
                       probabilities eA: UnsafeMutablePointer<Double>,
                       _ lB: UnsafePointer<Double>, into outB: UnsafeMutablePointer<Double>,
                       probabilities eB: UnsafeMutablePointer<Double>, count v: Int) {
    var mA = lA[0], mB = lB[0]
    for a in 1..<v {
        mA = Swift.max(mA, lA[a])
        mB = Swift.max(mB, lB[a])
    }
    for a in 0..<v { eA[a] = Elementary.exp(lA[a] - mA) }
    for a in 0..<v { eB[a] = Elementary.exp(lB[a] - mB) }
    var sumA = 0.0, sumB = 0.0
    for a in 0..<v {
        sumA += eA[a]
        sumB += eB[a]
    }
    let logSumA = Elementary.log(sumA), logSumB = Elementary.log(sumB)
    for a in 0..<v { outA[a] = (lA[a] - mA) - logSumA }
    for a in 0..<v { outB[a] = (lB[a] - mB) - logSumB }
    let inverseA = 1 / sumA, inverseB = 1 / sumB
    for a in 0..<v { eA[a] *= inverseA }
    for a in 0..<v { eB[a] *= inverseB }
}
