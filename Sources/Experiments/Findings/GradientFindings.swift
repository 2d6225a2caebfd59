import LossMath

/// The verdicts of the gradient study (`report gradients`, and claim 4 of `report all`):
/// T7 on DPO's slope, T8 on each target loss's far-end direction and stationary point, and
/// whether a loss avoids the large gradients DPO shows as pi_l -> 0 (docs/theory.md, T7 and
/// T8). Each rule is stated in the finding it returns.
///
/// See also: ``GradientStudy``, ``Finding``.
public enum GradientFindings {
    /// T7's tolerance on the fitted slope: |slope - (beta - 1)| < 1e-3 (the fit runs over a
    /// finite grid, so the slope is not exact).
    public static let slopeTolerance = 1e-3

    /// T8's relative tolerance on the stationary point: |h_0 - dr/beta| <= 1e-9 max(1, |dr/beta|).
    public static let stationaryTolerance = 1e-9

    /// The sign of dl/dpi_l at the far end of the sweep: -1 restoring, +1 collapse, 0 none.
    public static func farEndSign(_ d: GradientStudy.Direction) -> Double {
        switch d {
        case .restoring: return -1
        case .collapse: return 1
        case .none: return 0
        }
    }

    /// T7: DPO's fitted slope against beta - 1; nil when the study has no DPO (sigmoid) slope.
    public static func t7(_ study: GradientStudy) -> Finding? {
        guard let dpo = study.summaries.first(where: { $0.loss == .sigmoid }), let slope = dpo.slope else { return nil }
        let beta = study.configuration.parameters(for: .sigmoid).beta
        return Finding(id: "T7", claim: "DPO's |dl/dpi_l| grows with log-log slope beta - 1 as pi_l -> 0",
                       rule: "reproduced if |fitted slope - (beta - 1)| < 1e-3; otherwise contradicted",
                       numbers: [Measured("fitted slope", slope), Measured("beta - 1", beta - 1), Measured("difference", slope - (beta - 1))],
                       verdict: Criteria.holds(Swift.abs(slope - (beta - 1)) < slopeTolerance))
    }

    /// T8 for one target loss: at the far end the gradient restores pi_l, and the loss has
    /// exactly one stationary point, at h* = dr/beta. Nil when `loss` is not in the study or
    /// has no reward gap.
    public static func t8(_ study: GradientStudy, _ loss: Loss) -> Finding? {
        guard let sm = study.summaries.first(where: { $0.loss == loss }) else { return nil }
        let p = study.configuration.parameters(for: loss)
        guard let dr = p.rewardGap else { return nil }
        let target = dr / p.beta
        let point = sm.stationary.points.count == 1 ? sm.stationary.points.first?.h : nil
        let error = point.map { Swift.abs($0 - target) / Swift.max(1, Swift.abs(target)) } ?? .nan
        let holds = sm.direction == .restoring && sm.stationary.flatFrom == nil && Criteria.within(error, stationaryTolerance)
        return Finding(id: "T8 (\(loss.rawValue))",
                       claim: "\(loss.rawValue) is minimised at h* = dr/beta and its gradient restores pi_l past it",
                       rule: "reproduced if dl/dpi_l < 0 at the far end (restoring) and the only stationary point is within 1e-9 relative of dr/beta; otherwise contradicted",
                       numbers: [Measured("stationary point", point ?? .nan), Measured("dr/beta", target),
                                 Measured("sign of dl/dpi_l at the far end", farEndSign(sm.direction))],
                       verdict: Criteria.holds(holds))
    }

    /// The paper's "the principled loss avoids the large gradients DPO shows as pi_l -> 0",
    /// for `loss` against DPO. Nil when either is missing from the study.
    ///
    /// Rule: contradicted if `loss`'s gradient does not restore pi_l at the far end; reproduced
    /// if it does and its |dl/dpi_l| grows no faster than DPO's (its fitted slope is >= DPO's,
    /// or it is exactly 0 on the tail); qualified if it restores pi_l but its magnitude grows
    /// faster than DPO's (the stated exception).
    public static func avoidsLargeGradients(_ study: GradientStudy, _ loss: Loss) -> Finding? {
        guard let sm = study.summaries.first(where: { $0.loss == loss }),
              let dpo = study.summaries.first(where: { $0.loss == .sigmoid }), let dpoSlope = dpo.slope else { return nil }
        return avoidsLargeGradients(loss, slope: sm.slope, direction: sm.direction, dpoSlope: dpoSlope)
    }

    /// The rule of ``avoidsLargeGradients(_:_:)`` on its numbers: `loss`'s fitted slope (nil
    /// when its gradient is 0 on the tail), its far-end direction, and DPO's fitted slope.
    public static func avoidsLargeGradients(_ loss: Loss, slope: Double?, direction: GradientStudy.Direction, dpoSlope: Double) -> Finding {
        let restoring = direction == .restoring
        let steeper = slope.map { !($0 >= dpoSlope) } ?? false
        let verdict: Verdict = !restoring ? .contradicted : (steeper ? .qualified : .reproduced)
        return Finding(id: "gradients (\(loss.rawValue))",
                       claim: "\(loss.rawValue) avoids the large gradients DPO shows as pi_l -> 0",
                       rule: "contradicted unless dl/dpi_l < 0 at the far end (a descent step restores pi_l); reproduced if it is and its fitted slope "
                           + "of log10|dl/dpi_l| is >= DPO's (or its gradient is 0 on the tail); qualified if it restores pi_l but its slope is steeper than DPO's",
                       numbers: [Measured("slope", slope ?? 0), Measured("DPO's slope", dpoSlope),
                                 Measured("sign of dl/dpi_l at the far end", farEndSign(direction))],
                       verdict: verdict,
                       exception: verdict == .qualified
                           ? "its |dl/dpi_l| still grows faster than DPO's as pi_l -> 0, in the restoring direction: the claim holds for the direction that collapses pi_l, not for the size"
                           : nil)
    }
}
