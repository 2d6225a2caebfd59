/// The criteria the findings share, each defined once.
///
/// See also: ``Finding``, ``PairedComparison``.
public enum Criteria {
    /// The absolute floor below which a regret (a KL divergence, never negative in exact
    /// arithmetic) counts as 0 to rounding: `|regret| < 1e-12`. Sums of O(1) terms in double
    /// precision leave residues of order 1e-16 to 1e-15, so 1e-12 is well above rounding and
    /// well below any regret a run reports as a result. No ratio is ever formed with a value
    /// below the floor.
    public static let roundingFloor = 1e-12

    /// The rule text for ``roundingFloor``.
    public static let roundingFloorRule = "a regret with |regret| < 1e-12 is 0 to rounding and is never divided by"

    /// Whether `x` is 0 to rounding (see ``roundingFloor``).
    public static func isZeroToRounding(_ x: Double) -> Bool { Swift.abs(x) < roundingFloor }

    /// Whether a logged series is still falling at the end of training.
    public enum Trend: String, Sendable, Codable, Hashable {
        case falling = "still falling"
        case notFalling = "not falling"
        case cannotTell = "cannot tell"
    }

    /// The fewest logged values ``trend(_:)`` decides on.
    public static let trendMinimumPoints = 5

    /// The rule text for ``trend(_:)``.
    public static let trendRule = "a series is still falling when, of its n logged values, the last is below the one at index floor(3n/4) "
        + "(three quarters through training); with fewer than \(trendMinimumPoints) logged values: cannot tell"

    /// Whether `series` (values at the logged steps, in step order) is still falling at the
    /// end: the last value is strictly below the value at index `floor(3n/4)`. With fewer
    /// than ``trendMinimumPoints`` values (for example `--steps 0`, one logged step) the
    /// answer is ``Trend/cannotTell``; a non-finite value at either index also gives it.
    public static func trend(_ series: [Double]) -> Trend {
        let n = series.count
        guard n >= trendMinimumPoints else { return .cannotTell }
        let last = series[n - 1], mark = series[n * 3 / 4]
        guard last.isFinite && mark.isFinite else { return .cannotTell }
        return last < mark ? .falling : .notFalling
    }

    /// The verdict of a test that either holds or does not.
    public static func holds(_ condition: Bool) -> Verdict { condition ? .reproduced : .contradicted }

    /// `value <= tolerance` for a finite value (a NaN never passes).
    public static func within(_ value: Double, _ tolerance: Double) -> Bool { value.isFinite && value <= tolerance }
}

extension Criteria {
    /// The regret below which a numerically found population minimiser counts as pi* itself:
    /// 1e-6, the scale of the minimiser's gradient tolerance (GSL BFGS, see
    /// ``PopulationOptimum``), far above rounding.
    public static let optimumTolerance = 1e-6

    /// The two values ``trend(_:)`` compares (the one at index floor(3n/4), then the last),
    /// or nil when it cannot tell from the count.
    public static func trendPoints(_ series: [Double]) -> (mark: Double, last: Double)? {
        let n = series.count
        guard n >= trendMinimumPoints else { return nil }
        return (series[n * 3 / 4], series[n - 1])
    }
}

extension Finding {
    /// The same finding under another identifier and statement (a theorem's rule applied to
    /// one of the paper's claims, for example).
    public func restated(id: String, claim: String) -> Finding {
        Finding(id: id, claim: claim, rule: rule, numbers: numbers, verdict: verdict, exception: exception, details: details)
    }
}
