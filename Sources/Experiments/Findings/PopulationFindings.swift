/// T5 at the population optimum (docs/theory.md, T5): DPO's population loss has no finite
/// minimiser on hard labels, and under Bradley-Terry labels its minimiser is pi* itself.
///
/// See also: ``PopulationOptimum``, ``Criteria/optimumTolerance``.
public enum PopulationFindings {
    /// The T5 finding for DPO's population optimum under `labels`.
    ///
    /// Rule, Bradley-Terry labels: reproduced if the solver reports a minimum whose regret is
    /// below 1e-6 (pi* itself); otherwise contradicted. Hard labels: reproduced if the solver
    /// reports the objective diverging (no finite minimiser); otherwise contradicted. Either:
    /// not comparable when the solver reports ``PopulationOptimum/Status/unresolved``.
    public static func dpo(labels: SimulationConfig.Labels, result r: PopulationOptimum.Result) -> Finding {
        let numbers = [Measured("regret at the minimiser", r.regret), Measured("max |h|", r.maxAbsH)]
        if r.status == .unresolved {
            return Finding(id: "T5 (DPO, \(labels.rawValue) labels)", claim: labels == .bt
                           ? "under Bradley-Terry labels DPO's population minimiser is pi*"
                           : "on hard labels DPO's population loss has no finite minimiser",
                           rule: "not comparable when beta is too large for h to be resolved in double precision (status unresolved)",
                           numbers: numbers, verdict: .notComparable, exception: r.reason)
        }
        switch labels {
        case .bt:
            return Finding(id: "T5 (DPO, bt labels)", claim: "under Bradley-Terry labels DPO's population minimiser is pi*",
                           rule: "reproduced if the solver reports a minimum whose regret is below 1e-6; otherwise contradicted",
                           numbers: numbers,
                           verdict: Criteria.holds(r.status == .minimum && r.regret.isFinite && Swift.abs(r.regret) < Criteria.optimumTolerance))
        case .hard:
            return Finding(id: "T5 (DPO, hard labels)", claim: "on hard labels DPO's population loss has no finite minimiser",
                           rule: "reproduced if the solver reports the objective diverging toward infinite h; otherwise contradicted",
                           numbers: numbers,
                           verdict: Criteria.holds(r.status == .diverging))
        }
    }
}
