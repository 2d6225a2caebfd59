/// A loss's catalogue entry: its name, flags and parameters, stated by the loss's type
/// (``PreferenceLoss/descriptor``). Validation (``Loss/validate(_:)``), the command line's
/// `--loss-param` option and `report losses --catalogue` all read it.
public struct LossDescriptor: Sendable, Hashable {
    /// TRL's `loss_type` (or NeMo-Aligner's, or this project's `spo*`).
    public let name: String
    /// One line: what the loss is and where it comes from.
    public let summary: String
    /// Whether the loss reads the reward gap `dr`.
    public let rewardGap: RewardGapUse
    /// TRL's `label_smoothing`, when the loss reads it.
    public let labelSmoothing: LabelSmoothingUse?
    /// True when the loss is a function of `h = u_w - u_l` alone (so T6's ratio applies).
    /// `ipo` counts as such when both lengths are 1.
    public let dependsOnLogitsDifferenceOnly: Bool
    /// True for losses whose derivative is exactly zero on a whole half-line in `h` (hinge
    /// past its margin). Used to tell a genuine flat region from underflow.
    public let hasFlatRegion: Bool
    /// The loss's own parameters (beyond beta, label smoothing and the reward gap).
    public let parameters: [LossParameter]

    public init(name: String, summary: String, rewardGap: RewardGapUse, labelSmoothing: LabelSmoothingUse?,
                dependsOnLogitsDifferenceOnly: Bool, hasFlatRegion: Bool, parameters: [LossParameter]) {
        self.name = name
        self.summary = summary
        self.rewardGap = rewardGap
        self.labelSmoothing = labelSmoothing
        self.dependsOnLogitsDifferenceOnly = dependsOnLogitsDifferenceOnly
        self.hasFlatRegion = hasFlatRegion
        self.parameters = parameters
    }
}

/// Whether a loss reads the reward gap.
public enum RewardGapUse: String, Sendable, Hashable {
    /// The loss ignores `dr`.
    case ignored
    /// The loss needs a finite `dr`.
    case required
    /// The loss needs a finite, nonzero `dr` (it divides by it).
    case requiredNonzero = "required_nonzero"
}

/// How a loss reads TRL's `label_smoothing`.
public struct LabelSmoothingUse: Sendable, Hashable {
    /// The valid values.
    public let range: ParameterRange
    /// The value used when the caller sets none.
    public let defaultValue: Double
    /// A remark printed with the range, e.g. what TRL does with 0.
    public let note: String?

    public init(range: ParameterRange, defaultValue: Double, note: String? = nil) {
        self.range = range
        self.defaultValue = defaultValue
        self.note = note
    }
}

/// A parameter of one loss, e.g. bdpo's `lambda`: its name on the command line
/// (`--loss-param bdpo_lambda=0.3`) and in ``LossParameters/values``, its default and range.
public struct LossParameter: Sendable, Hashable {
    /// Unique over the catalogue, `<loss>_<symbol>` (TRL's name where TRL has one).
    public let name: String
    /// The symbol in the formula, e.g. `lambda`.
    public let symbol: String
    /// One line: what it does.
    public let summary: String
    public let defaultValue: Double
    public let range: ParameterRange

    public init(name: String, symbol: String, summary: String, defaultValue: Double, range: ParameterRange) {
        self.name = name
        self.symbol = symbol
        self.summary = summary
        self.defaultValue = defaultValue
        self.range = range
    }

    /// The value in `parameters`, or the default.
    @inlinable
    public func value(in parameters: LossParameters) -> Double {
        parameters.values[name] ?? defaultValue
    }
}

/// A set of finite reals between optional bounds, each open or closed.
public struct ParameterRange: Sendable, Hashable {
    public let lower: Double?, lowerIncluded: Bool
    public let upper: Double?, upperIncluded: Bool

    public init(lower: Double? = nil, included lowerIncluded: Bool = true, upper: Double? = nil, included upperIncluded: Bool = true) {
        self.lower = lower
        self.lowerIncluded = lowerIncluded
        self.upper = upper
        self.upperIncluded = upperIncluded
    }

    /// Every finite number.
    public static let finite = ParameterRange()

    public func contains(_ v: Double) -> Bool {
        guard v.isFinite else { return false }
        if let l = lower, lowerIncluded ? v < l : v <= l { return false }
        if let u = upper, upperIncluded ? v > u : v >= u { return false }
        return true
    }

    /// E.g. `0 < lambda <= 1`, `tau > 0`, `a finite number`.
    public func requirement(symbol: String) -> String {
        func num(_ x: Double) -> String { shortNumber(x) }
        switch (lower, upper) {
        case let (l?, u?): return "\(num(l)) \(lowerIncluded ? "<=" : "<") \(symbol) \(upperIncluded ? "<=" : "<") \(num(u))"
        case let (l?, nil): return "\(symbol) \(lowerIncluded ? ">=" : ">") \(num(l))"
        case let (nil, u?): return "\(symbol) \(upperIncluded ? "<=" : "<") \(num(u))"
        case (nil, nil): return "a finite number"
        }
    }
}
