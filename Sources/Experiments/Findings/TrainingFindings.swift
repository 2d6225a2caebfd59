import LossMath

/// The verdicts of `report train` on DPO against spo: which ends with the larger regret
/// (with the rounding floor of ``Criteria/roundingFloor``), and whether DPO's smallest
/// log-probability of a rejected response is still falling (``Criteria/trend(_:)``).
///
/// See also: ``PaperClaims``, which uses the same criteria.
public enum TrainingFindings {
    /// "DPO ends with a larger regret than spo" on one pair of runs of the same data.
    ///
    /// Rule (``finalRegretRule``): reproduced if DPO's final regret is above spo's and not 0 to
    /// rounding; otherwise contradicted. The ratio DPO/spo is among the numbers only when neither is 0 to
    /// rounding.
    /// If either run diverged, the verdict is ``Verdict/notComparable`` and names it; so it is
    /// when `trainedSteps` is 0: both "runs" are then the reference policy, and their equal
    /// regrets say nothing about the claim.
    public static func finalRegret(dpo: RunSummary, spo: RunSummary, trainedSteps: Int) -> Finding {
        let rule = Self.finalRegretRule
        if let diverged = divergedRuns(["DPO": dpo, "spo": spo]) {
            return Finding(id: "final regret", claim: "DPO ends with a larger regret than spo", rule: rule, numbers: [],
                           verdict: .notComparable, exception: diverged)
        }
        if trainedSteps <= 0 {
            return Finding(id: "final regret", claim: "DPO ends with a larger regret than spo", rule: rule,
                           numbers: [Measured("DPO's final regret", dpo.finalRegret), Measured("spo's final regret", spo.finalRegret)],
                           verdict: .notComparable, exception: "no training step was run: both policies are the reference")
        }
        let a = dpo.finalRegret, b = spo.finalRegret
        var numbers = [Measured("DPO's final regret", a), Measured("spo's final regret", b)]
        if !Criteria.isZeroToRounding(a) && !Criteria.isZeroToRounding(b) && a.isFinite && b.isFinite {
            numbers.append(Measured("DPO/spo", a / b))
        }
        return Finding(id: "final regret", claim: "DPO ends with a larger regret than spo",
                       rule: rule,
                       numbers: numbers,
                       verdict: Criteria.holds(a.isFinite && b.isFinite && a > b && !Criteria.isZeroToRounding(a)))
    }

    /// The rule of ``finalRegret(dpo:spo:trainedSteps:)``, printed next to its verdict.
    public static let finalRegretRule = "reproduced if DPO's final regret is above spo's and not 0 to rounding; otherwise contradicted; "
        + "not comparable if a run diverged or no training step was run; " + Criteria.roundingFloorRule

    /// "DPO diverged at step 12; spo diverged at step 3" for the runs of `runs` (name to
    /// summary, named in name order) that diverged; nil if none did.
    public static func divergedRuns(_ runs: [String: RunSummary]) -> String? {
        let lines = runs.sorted { $0.key < $1.key }.filter { $0.value.status.isDiverged }.map { "\($0.key) \($0.value.status)" }
        return lines.isEmpty ? nil : lines.joined(separator: "; ")
    }

    /// The trend of a run's smallest rejected log-probability over the logged steps.
    public static func minLogpTrend(_ result: TrainingResult) -> Criteria.Trend {
        Criteria.trend(result.metrics.map(\.minLogpRejected))
    }
}
