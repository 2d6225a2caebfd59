import LossMath

/// The verdicts of `report train` on DPO against spo: which ends with the larger regret
/// (with the rounding floor of ``Criteria/roundingFloor``), and whether DPO's smallest
/// log-probability of a rejected response is still falling (``Criteria/trend(_:)``).
///
/// See also: ``PaperClaims``, which uses the same criteria.
public enum TrainingFindings {
    /// "DPO ends with a larger regret than spo" on one pair of runs of the same data.
    ///
    /// Rule: reproduced if DPO's final regret is above spo's and not 0 to rounding; otherwise
    /// contradicted. The ratio DPO/spo is among the numbers only when neither is 0 to
    /// rounding.
    /// If either run diverged, the verdict is ``Verdict/notComparable`` and names it.
    public static func finalRegret(dpo: RunSummary, spo: RunSummary) -> Finding {
        let rule = "reproduced if DPO's final regret is above spo's and not 0 to rounding; otherwise contradicted; "
            + Criteria.roundingFloorRule
        if let diverged = divergedRuns(["DPO": dpo, "spo": spo]) {
            return Finding(id: "final regret", claim: "DPO ends with a larger regret than spo", rule: rule, numbers: [],
                           verdict: .notComparable, exception: diverged)
        }
        let a = dpo.finalRegret, b = spo.finalRegret
        var numbers = [Measured("DPO's final regret", a), Measured("spo's final regret", b)]
        if !Criteria.isZeroToRounding(a) && !Criteria.isZeroToRounding(b) && a.isFinite && b.isFinite {
            numbers.append(Measured("DPO/spo", a / b))
        }
        return Finding(id: "final regret", claim: "DPO ends with a larger regret than spo",
                       rule: "reproduced if DPO's final regret is above spo's and not 0 to rounding; otherwise contradicted; "
                           + Criteria.roundingFloorRule,
                       numbers: numbers,
                       verdict: Criteria.holds(a.isFinite && b.isFinite && a > b && !Criteria.isZeroToRounding(a)))
    }

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
