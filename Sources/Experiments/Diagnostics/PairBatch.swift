import LossMath

/// Preference pairs as struct-of-arrays, the layout of ``LossMath/Loss/evaluateBatch(chosen:rejected:refChosen:refRejected:rewardGaps:parameters:values:dChosen:dRejected:)``:
/// a chunk of an input read in pieces (``LossDiagnostics`` adds one batch at a time).
public struct PairBatch: Sendable {
    /// log pi(y_w), log pi(y_l), and the same under the reference.
    public private(set) var chosen: [Double] = [], rejected: [Double] = []
    public private(set) var refChosen: [Double] = [], refRejected: [Double] = []
    /// Token counts (1 when not given), read by ipo's averaging.
    public private(set) var chosenLength: [Double] = [], rejectedLength: [Double] = []
    /// The reward gap of each pair, or nil when the batch has none.
    public private(set) var rewardGaps: [Double]? = nil
    /// The input's data row of the first pair (for messages).
    public var firstRow = 0
    /// Whether some pair has a token count other than 1.
    public private(set) var hasLengths = false

    public init() {}

    public var count: Int { chosen.count }

    /// Appends one pair. Every pair of a batch has a reward gap, or none has.
    public mutating func append(_ pair: PairLogProbs, rewardGap: Double?) {
        precondition((rewardGap != nil) == (rewardGaps != nil) || count == 0, "PairBatch: every pair or none has a reward gap")
        if count == 0 { rewardGaps = rewardGap.map { _ in [] } }
        chosen.append(pair.chosen); rejected.append(pair.rejected)
        refChosen.append(pair.refChosen); refRejected.append(pair.refRejected)
        chosenLength.append(pair.chosenLength); rejectedLength.append(pair.rejectedLength)
        if pair.chosenLength != 1 || pair.rejectedLength != 1 { hasLengths = true }
        if let g = rewardGap { rewardGaps?.append(g) }
    }

    /// Pair `i`.
    public func pair(_ i: Int) -> PairLogProbs {
        PairLogProbs(chosen: chosen[i], rejected: rejected[i], refChosen: refChosen[i], refRejected: refRejected[i],
                     chosenLength: chosenLength[i], rejectedLength: rejectedLength[i])
    }

    /// Empties the batch, keeping its storage.
    public mutating func removeAll(firstRow: Int) {
        chosen.removeAll(keepingCapacity: true); rejected.removeAll(keepingCapacity: true)
        refChosen.removeAll(keepingCapacity: true); refRejected.removeAll(keepingCapacity: true)
        chosenLength.removeAll(keepingCapacity: true); rejectedLength.removeAll(keepingCapacity: true)
        rewardGaps = nil
        hasLengths = false
        self.firstRow = firstRow
    }
}
