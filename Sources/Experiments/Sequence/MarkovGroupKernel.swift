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

/// The square root of each lane, correctly rounded (`intrinsicSquareRoot`, the bits of the
/// row kernels' square root), written lane by lane so that LLVM's SLP vectoriser makes
/// it one vector square root (SIMD8's `squareRoot()` goes lane by lane through libm).
@inline(__always)
func laneSquareRoot(_ x: SIMD8<Double>) -> SIMD8<Double> {
    SIMD8(intrinsicSquareRoot(x[0]), intrinsicSquareRoot(x[1]), intrinsicSquareRoot(x[2]), intrinsicSquareRoot(x[3]),
          intrinsicSquareRoot(x[4]), intrinsicSquareRoot(x[5]), intrinsicSquareRoot(x[6]), intrinsicSquareRoot(x[7]))
}

/// One group of eight active rows of the `markov` table in the **packed layout**: entry
/// `(a, k)` (token `a` of the group's row `k`) at index `8 a + k` of each of `counts`,
/// `theta`, `m`, `v` and `pi` (`8 count` entries each), so that row `k` lives in lane `k`
/// and every per-row reduction is a lane-wise chain over `a`.
struct PackedGroup {
    let counts, theta, m, v, pi: UnsafeMutablePointer<Double>
}

/// The first half of a packed group's step: per lane (row) exactly the operations, in the
/// same order, of ``logitGradientRow(_:probabilities:into:count:)`` (`G(a) = c(a) -
/// (sum_b c(b)) pi(a)`, the sum from 0 in token order) and the first part of
/// ``markovRowStep(gradient:parameters:logPolicy:probabilities:count:update:offset:)``
/// (`sum_a G(a)^2` in token order, the ``FoldedRowUpdate`` of each parameter, the maximum
/// `m = max(...max(theta_0, theta_1)..., theta_{V-1})` as `Swift.max` chooses), so the
/// same bits, without a gradient row in memory and with eight chains per reduction.
///
/// If `previous` is given, its second half (``groupExponentials(_:maximum:count:)``) runs
/// in the same loop, token by token: the exponentials of one group then overlap the
/// square roots and divisions of the next (the divider and the other units work at the
/// same time), each lane's operations unchanged. Writes the new parameters (and Adam's
/// moments) in place, zeroes `counts`; returns per lane `sum_a G(a)^2`, the maximum and
/// the previous group's `sum_a e_a` (zero without one).
///
/// - Precondition: `count >= 1`; for Adam, `update` was made from a `.adam` row update
///   (its `m`, `v` pointers are ignored: the packed `m`, `v` are used).
///
/// See also: ``SequenceTrainer/packedPrompt(_:firstUpdate:steps:losses:squares:scratch:)``.
@inline(__always)
func markovGroupStep(_ w: PackedGroup, previous: (group: PackedGroup, maximum: SIMD8<Double>)?, count: Int,
                     update: FoldedRowUpdate) -> (squares: SIMD8<Double>, maximum: SIMD8<Double>, previousSum: SIMD8<Double>) {
    let zero = SIMD8<Double>(repeating: 0)
    var total = zero
    for a in 0..<count { total += loadLanes(w.counts + 8 * a) }
    var squares = zero, maximum = zero, sum = zero
    let b1 = 0.9, b2 = 0.999, eps = 1e-8, scale = update.scale, rootScale = update.rootScale
    let oneMinusB1 = 1 - b1, oneMinusB2 = 1 - b2
    @inline(__always) func token(_ a: Int) {
        let o = 8 * a
        let g = loadLanes(w.counts + o) - total * loadLanes(w.pi + o)
        storeLanes(zero, w.counts + o)
        squares += g * g
        var t = loadLanes(w.theta + o)
        if update.adam {
            let mv = b1 * loadLanes(w.m + o) + oneMinusB1 * g
            let vn = b2 * loadLanes(w.v + o) + (oneMinusB2 * g) * g
            storeLanes(mv, w.m + o)
            storeLanes(vn, w.v + o)
            t = t - (scale * mv) / (laneSquareRoot(vn) * rootScale + eps)
        } else {
            t = t - scale * g
        }
        storeLanes(t, w.theta + o)
        if a == 0 { maximum = t } else { maximum.replace(with: t, where: t .>= maximum) }
    }
    if let (p, pm) = previous {
        for a in 0..<count {
            token(a)
            let o = 8 * a
            let e = Elementary.exp(loadLanes(p.theta + o) - pm)
            storeLanes(e, p.pi + o)
            sum += e
        }
    } else {
        for a in 0..<count { token(a) }
    }
    return (squares, maximum, sum)
}

/// The second half of a packed group's step on its own (the last group of a prompt):
/// `e_a = exp(theta_a - m)` by ``Elementary/exp(_:)-(SIMD8<Double>)`` into `pi`, and their sum in token order
/// (as ``logSoftmaxRow(_:into:probabilities:count:)``).
@inline(__always)
func groupExponentials(_ w: PackedGroup, maximum: SIMD8<Double>, count: Int) -> SIMD8<Double> {
    var sum = SIMD8<Double>(repeating: 0)
    for a in 0..<count {
        let e = Elementary.exp(loadLanes(w.theta + 8 * a) - maximum)
        storeLanes(e, w.pi + 8 * a)
        sum += e
    }
    return sum
}

/// Finishes a packed group's step after its exponentials (``groupExponentials(_:maximum:count:)``
/// or ``markovGroupStep(_:previous:count:update:)``'s `previousSum`): returns
/// per lane `log(sum)` (``Elementary/log(_:)-(SIMD8<Double>)``: ``Elementary/log(_:)``'s bits) and scales the group's
/// `e_a` in `pi` by `1 / sum` (as ``logSoftmaxRow(_:into:probabilities:count:)``, the same
/// bits).
@inline(__always)
func finishGroupSoftmax(probabilities pp: UnsafeMutablePointer<Double>, sum: SIMD8<Double>,
                        count: Int) -> SIMD8<Double> {
    let logSum = Elementary.log(sum)
    let inverse = 1 / sum
    for a in 0..<count { storeLanes(loadLanes(pp + 8 * a) * inverse, pp + 8 * a) }
    return logSum
}
