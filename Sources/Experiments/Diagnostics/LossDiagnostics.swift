import LossMath

/// What one loss does on a set of preference pairs, accumulated batch by batch in constant
/// memory (`report losses --summary`).
///
/// Over the pairs in the loss's domain whose value and derivatives are finite (``pairs``):
/// - the mean loss;
/// - quantiles (5/50/95, and the exact maximum) of `|dl/d log pi_l|` and `|dl/d log pi_w|`,
///   from a ``LogHistogram`` (relative error at most 0.78%);
/// - TRL's logged metrics, with TRL's definitions (`DPOTrainer`): the implicit rewards
///   `beta (logp - ref_logp)` of each side (for ipo with token counts, of the averaged
///   log-probabilities, as TRL averages them for ipo), their means `rewards/chosen` and
///   `rewards/rejected`, `rewards/margins` = mean of chosen - rejected, and
///   `rewards/accuracies` = the share of pairs whose chosen reward is strictly larger;
/// - for a loss with a reward target (one that reads the reward gap: rpo_*, spo*, minimised
///   at `beta h = dr`, docs/theory.md, T4 and T8), the share of pairs past the target
///   (`beta h > dr`) and the mean `|beta h - dr|`; nil for the other losses;
/// - the share of pairs in the collapse regime, by this rule: a descent step lowers
///   `pi_l` (`dl/d log pi_l > 0`, so the collapse force of docs/theory.md, T8, is positive)
///   and `log pi_l` is already below its reference (`u_l < 0`).
///
/// A pair outside the loss's domain (a tie `dr = 0` for a loss that divides by the gap,
/// spo_asym) is counted in ``outsideDomain`` (with the first such row); a pair whose value
/// or a derivative is not finite in ``nonFinite``. Neither enters the statistics.
///
/// The batch kernels do the work (``LossMath/Loss/evaluateBatch(chosen:rejected:refChosen:refRejected:rewardGaps:parameters:values:dChosen:dRejected:)``);
/// ipo on pairs with token counts uses the per-pair evaluation, which averages.
///
/// See also: ``PairBatch``, ``LogHistogram``, ``TargetHistogram``.
public struct LossDiagnostics: Sendable {
    public let loss: Loss
    public let parameters: LossParameters
    /// Pairs in the statistics.
    public private(set) var pairs = 0
    /// Pairs outside the loss's domain, and the first one's input row.
    public private(set) var outsideDomain = 0
    public private(set) var firstOutsideRow: Int? = nil
    /// Pairs with a non-finite value or derivative, and the first one's input row.
    public private(set) var nonFinite = 0
    public private(set) var firstNonFiniteRow: Int? = nil
    /// `|dl/d log pi_l|` and `|dl/d log pi_w|`.
    public private(set) var rejectedGradient = LogHistogram()
    public private(set) var chosenGradient = LogHistogram()

    private var lossSum = CompensatedSum()
    private var chosenRewardSum = CompensatedSum(), rejectedRewardSum = CompensatedSum(), marginSum = CompensatedSum()
    private var accurate = 0
    private var pastTarget = 0
    private var targetDistanceSum = CompensatedSum()
    private var collapsing = 0
    private var values: [Double] = [], dChosen: [Double] = [], dRejected: [Double] = []

    /// A summary of `loss` with `parameters` (validated by the caller, except the per-pair
    /// reward gap, which comes with each batch).
    public init(loss: Loss, parameters: LossParameters) {
        self.loss = loss
        self.parameters = parameters
    }

    /// Whether the loss has a reward target `beta h = dr` (it reads the reward gap).
    public var hasTarget: Bool { loss.needsRewardGap }

    /// The mean loss; nil without pairs.
    public var meanLoss: Double? { mean(lossSum) }
    /// TRL's `rewards/chosen`, `rewards/rejected`, `rewards/margins`, `rewards/accuracies`.
    public var rewardsChosen: Double? { mean(chosenRewardSum) }
    public var rewardsRejected: Double? { mean(rejectedRewardSum) }
    public var rewardsMargins: Double? { mean(marginSum) }
    public var rewardsAccuracies: Double? { share(accurate) }
    /// The share of pairs with `beta h > dr` (losses with a target).
    public var sharePastTarget: Double? { hasTarget ? share(pastTarget) : nil }
    /// The mean `|beta h - dr|` (losses with a target).
    public var meanTargetDistance: Double? { hasTarget ? mean(targetDistanceSum) : nil }
    /// The share of pairs in the collapse regime (see the type's overview).
    public var shareCollapsing: Double? { share(collapsing) }

    private func mean(_ s: CompensatedSum) -> Double? { pairs > 0 ? s.value / Double(pairs) : nil }
    private func share(_ n: Int) -> Double? { pairs > 0 ? Double(n) / Double(pairs) : nil }

    /// Adds every pair of `batch`.
    ///
    /// - Precondition: the loss reads no reward gap, or `batch.rewardGaps` is set.
    public mutating func add(_ batch: PairBatch) {
        let n = batch.count
        guard n > 0 else { return }
        precondition(!loss.needsRewardGap || batch.rewardGaps != nil, "LossDiagnostics: \(loss) needs reward gaps")
        if values.count != n {
            values = [Double](repeating: 0, count: n)
            dChosen = values
            dRejected = values
        }
        let averaged = loss == .ipo && batch.hasLengths
        if averaged {
            for i in 0..<n {
                var p = parameters
                p.rewardGap = batch.rewardGaps?[i]
                let e = loss.evaluate(batch.pair(i), p)
                (values[i], dChosen[i], dRejected[i]) = (e.value, e.dChosen, e.dRejected)
            }
        } else {
            evaluate(batch)
        }
        let beta = parameters.beta
        let nonzeroGap = loss.descriptor.rewardGap == .requiredNonzero
        for i in 0..<n {
            let gap = batch.rewardGaps?[i] ?? parameters.rewardGap ?? 0
            if nonzeroGap && gap == 0 {
                outsideDomain += 1
                if firstOutsideRow == nil { firstOutsideRow = batch.firstRow + i }
                continue
            }
            let v = values[i], dw = dChosen[i], dl = dRejected[i]
            guard v.isFinite, dw.isFinite, dl.isFinite else {
                nonFinite += 1
                if firstNonFiniteRow == nil { firstNonFiniteRow = batch.firstRow + i }
                continue
            }
            pairs += 1
            lossSum.add(v)
            chosenGradient.add(Swift.abs(dw))
            rejectedGradient.add(Swift.abs(dl))
            let uW = batch.chosen[i] - batch.refChosen[i], uL = batch.rejected[i] - batch.refRejected[i]
            let rw = beta * (averaged ? uW / batch.chosenLength[i] : uW)
            let rl = beta * (averaged ? uL / batch.rejectedLength[i] : uL)
            chosenRewardSum.add(rw)
            rejectedRewardSum.add(rl)
            marginSum.add(rw - rl)
            if rw > rl { accurate += 1 }
            if hasTarget {
                let x = beta * (uW - uL)
                if x > gap { pastTarget += 1 }
                targetDistanceSum.add(Swift.abs(x - gap))
            }
            if dl > 0 && uL < 0 { collapsing += 1 }
        }
    }

    /// The batch kernels on `batch` into `values`, `dChosen`, `dRejected`.
    private mutating func evaluate(_ batch: PairBatch) {
        let p = parameters
        let loss = self.loss
        batch.chosen.withUnsafeBufferPointer { c in batch.rejected.withUnsafeBufferPointer { r in
            batch.refChosen.withUnsafeBufferPointer { rc in batch.refRejected.withUnsafeBufferPointer { rr in
                values.withUnsafeMutableBufferPointer { v in dChosen.withUnsafeMutableBufferPointer { dw in
                    dRejected.withUnsafeMutableBufferPointer { dl in
                        if let gaps = batch.rewardGaps {
                            gaps.withUnsafeBufferPointer { g in
                                loss.evaluateBatch(chosen: c, rejected: r, refChosen: rc, refRejected: rr, rewardGaps: g,
                                                   parameters: p, values: v, dChosen: dw, dRejected: dl)
                            }
                        } else {
                            loss.evaluateBatch(chosen: c, rejected: r, refChosen: rc, refRejected: rr, rewardGaps: nil,
                                               parameters: p, values: v, dChosen: dw, dRejected: dl)
                        }
                    }
                } }
            } }
        } }
    }
}
