import LossMath

/// A Markov policy on a ``SequenceSpace``: `pi(y|x) = prod_t pi(y_t | s_t)`, stored as the
/// table of `log pi(a|s)` in the space's layout (row `s` = entries `s V ..< (s + 1) V`).
///
/// Built from logits by a row-wise log-softmax,
/// `log pi(a|s) = (l(s, a) - m(s)) - log sum_b exp(l(s, b) - m(s))`, `m(s) = max_b l(s, b)`,
/// which is exact for any finite logits (no overflow; a row's largest entry is
/// `-log sum <= 0`, the others may be as low as about `-1e308` without becoming NaN).
///
/// See also: ``SequenceSpace``, ``SoftBellman``, ``SequenceOccupancy``, `docs/theory.md §5.2`.
public struct MarkovPolicy: Sendable, Hashable {
    /// The state space.
    public let space: SequenceSpace
    /// `log pi(a|s)`, `P S V` (see ``SequenceSpace`` for the layout). Every row
    /// log-sums-exps to 0.
    public let logProbabilities: [Double]

    /// The policy `softmax(logits)` row by row. `logits` has the space's table layout and
    /// must be finite.
    public init(space: SequenceSpace, logits: [Double]) {
        precondition(logits.count == space.tableCount, "logits need P S V entries")
        var table = [Double](repeating: 0, count: logits.count)
        let v = space.vocabulary
        let states = space.stateCount
        // logSoftmax(_:) row by row, without allocating: the exponentials are written into the
        // output first (a loop LLVM vectorises), then summed in order, so the bits are the same.
        logits.withUnsafeBufferPointer { l in
            table.withUnsafeMutableBufferPointer { out in
                for s in 0..<states {
                    let row = s * v
                    var m = l[row]
                    for a in 1..<v { m = Swift.max(m, l[row + a]) }
                    for a in 0..<v { out[row + a] = Elementary.exp(l[row + a] - m) }
                    var sum = 0.0
                    for a in 0..<v { sum += out[row + a] }
                    let logSum = Elementary.log(sum)
                    for a in 0..<v { out[row + a] = (l[row + a] - m) - logSum }
                }
            }
        }
        self.space = space
        logProbabilities = table
    }

    /// A policy from a table that is already normalised row by row (no check beyond size).
    public init(space: SequenceSpace, normalizedLogProbabilities table: [Double]) {
        precondition(table.count == space.tableCount, "a table needs P S V entries")
        self.space = space
        logProbabilities = table
    }

    /// `(l - m) - log sum exp(l - m)` of one row, `m` its maximum: the row's log-softmax, as
    /// ``init(space:logits:)`` computes it (same operations, same bits).
    ///
    /// Valid for finite entries; exact to a few ulps of the shifted logits.
    public static func logSoftmax(_ row: ArraySlice<Double>) -> [Double] {
        let m = row.max() ?? 0
        var s = 0.0
        for l in row { s += Elementary.exp(l - m) }
        let logSum = Elementary.log(s)
        return row.map { ($0 - m) - logSum }
    }

    /// `pi(a|s)`.
    @inlinable
    public func probability(state s: Int, token a: Int) -> Double {
        Elementary.exp(logProbabilities[space.entry(state: s, token: a)])
    }

    /// `log pi(y|x) = sum_t log pi(y_t | s_t)`, summed in order `t = 0, 1, ..., T - 1`.
    ///
    /// About `-T log V` for a typical response (-887 for `V = 32, T = 256`); finite and
    /// accurate to about `T` ulps of the sum of magnitudes, since no exponential is taken.
    public func logProbability<C: RandomAccessCollection>(prompt x: Int, tokens y: C) -> Double
    where C.Element == Int, C.Index == Int {
        space.pathSum(logProbabilities, prompt: x, tokens: y)
    }

    /// `log pi(y_i | x_i)` for every response of a batch.
    public func logProbabilities(of batch: ResponseBatch) -> [Double] {
        (0..<batch.count).map { logProbability(prompt: batch.prompts[$0], tokens: batch.response($0)) }
    }
}

extension SequenceSpace {
    /// `sum_t table(s_t, y_t)` along response `y` of prompt `x`, added left to right in the
    /// order `t = 0, 1, ..., T - 1` (a plain fold from 0).
    ///
    /// With a reward table this is the additive reward `r(x, y) = sum_t rho(s_t, y_t)`; with
    /// a log-policy table, `log pi(y|x)`. Because the order is fixed, two responses that make
    /// the same transitions get bit-identical sums; sums of small integers (counts) are
    /// exact. This is what makes ties in ``WinRate`` exact.
    public func pathSum<C: RandomAccessCollection>(_ table: [Double], prompt x: Int, tokens y: C) -> Double
    where C.Element == Int, C.Index == Int {
        precondition(table.count == tableCount && y.count == length, "a table of P S V entries and T tokens")
        var total = 0.0
        var s = state(prompt: x, position: 0, previous: Self.noPrevious)
        var t = 0
        for a in y {
            precondition(a >= 0 && a < vocabulary, "token out of range")
            total += table[entry(state: s, token: a)]
            t += 1
            if t < length { s = state(prompt: x, position: t, previous: a) }
        }
        return total
    }

    /// ``pathSum(_:prompt:tokens:)`` of every response of a batch.
    public func pathSums(_ table: [Double], of batch: ResponseBatch) -> [Double] {
        (0..<batch.count).map { pathSum(table, prompt: batch.prompts[$0], tokens: batch.response($0)) }
    }
}
