import LossMath

// The packed row kernel of the blocked markov step: eight rows at once, one row per lane.

/// Loads eight doubles from `p` (any alignment).
@inline(__always)
func loadLanes(_ p: UnsafePointer<Double>) -> SIMD8<Double> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
}

/// Stores eight doubles at `p` (any alignment).
@inline(__always)
func storeLanes(_ x: SIMD8<Double>, _ p: UnsafeMutablePointer<Double>) {
    UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD8<Double>.self)
}

/// One step of eight active rows of the `markov` table at once, in the **packed layout**:
/// entry `(a, k)` (token `a` of the group's row `k`) at index `8 a + k` of each of
/// `counts`, `theta`, `m`, `v` and `pi` (`8 count` entries each), so that row `k` lives in
/// lane `k` and every per-row reduction is a lane-wise chain over `a`.
///
/// Per lane (row) it does exactly the operations, in the same order, of
/// ``logitGradientRow(_:probabilities:into:count:)`` (`G(a) = c(a) - (sum_b c(b)) pi(a)`,
/// the sum from 0 in token order), then
/// ``markovRowStep(gradient:parameters:logPolicy:probabilities:count:update:offset:)``
/// (`sum_a G(a)^2` in token order, the ``FoldedRowUpdate`` of each parameter, the maximum
/// `m = max(...max(theta_0, theta_1)..., theta_{V-1})` as `Swift.max`, `e_a = exp(theta_a - m)`
/// by ``laneExp(_:)`` and their sum in token order): the same bits as the row kernels,
/// the gradient kept in place of the counts (no gradient row), and eight independent chains per reduction
/// instead of one or two.
///
/// Writes the new parameters (and Adam's moments) in place, `e_a` into `pi`, zeroes
/// `counts`, and returns per lane `sum_a G(a)^2`, the maximum `m` and `sum_a e_a`; the
/// caller finishes the log-softmax (``finishGroupSoftmax(probabilities:sum:count:)``):
/// `log pi(a) = (theta_a - m) - log(sum)`, `pi(a) = e_a (1 / sum)`.
///
/// - Precondition: `count >= 1`; for Adam, `update` was made from a `.adam` row update
///   (its `m`, `v` pointers are ignored: the packed `m`, `v` are used).
///
/// See also: ``SequenceTrainer/packedPrompt(_:firstUpdate:steps:losses:squares:scratch:)``.
@inline(__always)
func markovGroupStep(counts cg: UnsafeMutablePointer<Double>, parameters th: UnsafeMutablePointer<Double>,
                     m mm: UnsafeMutablePointer<Double>, v vv: UnsafeMutablePointer<Double>,
                     probabilities pp: UnsafeMutablePointer<Double>, count: Int,
                     update: FoldedRowUpdate) -> (squares: SIMD8<Double>, maximum: SIMD8<Double>, sum: SIMD8<Double>) {
    let zero = SIMD8<Double>(repeating: 0)
    var total = zero
    for a in 0..<count { total += loadLanes(cg + 8 * a) }
    var squares = zero
    // The gradient, in place of the counts (the update reads it from there).
    for a in 0..<count {
        let o = 8 * a
        let g = loadLanes(cg + o) - total * loadLanes(pp + o)
        storeLanes(g, cg + o)
        squares += g * g
    }
    // The update as one contiguous elementwise loop over the group's 8 V entries, which
    // vectorises with the vector square root (SIMD8's squareRoot() goes lane by lane
    // through libm); the counts are zeroed behind it.
    let b1 = 0.9, b2 = 0.999, eps = 1e-8, scale = update.scale, rootScale = update.rootScale
    if update.adam {
        for y in 0 ..< 8 * count {
            let gy = cg[y]
            let mv = b1 * mm[y] + (1 - b1) * gy
            let vn = b2 * vv[y] + (1 - b2) * gy * gy
            mm[y] = mv
            vv[y] = vn
            th[y] -= scale * mv / (intrinsicSquareRoot(vn) * rootScale + eps)
            cg[y] = 0
        }
    } else {
        for y in 0 ..< 8 * count {
            th[y] -= scale * cg[y]
            cg[y] = 0
        }
    }
    var maximum = loadLanes(th)
    for a in 1..<count {
        let t = loadLanes(th + 8 * a)
        maximum.replace(with: t, where: t .>= maximum)
    }
    var sum = zero
    for a in 0..<count {
        let o = 8 * a
        let e = laneExp(loadLanes(th + o) - maximum)
        storeLanes(e, pp + o)
        sum += e
    }
    return (squares, maximum, sum)
}

/// Finishes ``markovGroupStep(counts:parameters:m:v:probabilities:count:update:)``: returns
/// per lane `log(sum)` (``laneLog(_:)``: ``Elementary/log(_:)``'s bits) and scales the group's
/// `e_a` in `pi` by `1 / sum` (as ``logSoftmaxRow(_:into:probabilities:count:)``, the same
/// bits).
@inline(__always)
func finishGroupSoftmax(probabilities pp: UnsafeMutablePointer<Double>, sum: SIMD8<Double>,
                        count: Int) -> SIMD8<Double> {
    let logSum = laneLog(sum)
    let inverse = 1 / sum
    for a in 0..<count { storeLanes(loadLanes(pp + 8 * a) * inverse, pp + 8 * a) }
    return logSum
}
