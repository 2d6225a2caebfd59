/// How a statement fares against the toolkit's own numbers.
///
/// - ``reproduced``: the statement, as stated, holds by its rule.
/// - ``qualified``: the rule holds, with an exception that was measured and is stated in
///   ``Finding/exception``.
/// - ``contradicted``: the numbers violate the rule.
/// - ``notSignificant``: only for comparisons across seeds (paired by seed, see
///   ``PairedComparison``): the 95% interval of the mean paired difference contains 0.
/// - ``notComparable``: a run the rule compares diverged (``RunStatus``); no number of a
///   diverged run enters a ratio or a comparison, and ``Finding/exception`` says which run.
public enum Verdict: String, Sendable, Codable, CaseIterable, Hashable {
    case reproduced
    case qualified
    case contradicted
    case notSignificant = "not significant"
    case notComparable = "not comparable"
}

/// One named number a verdict was computed from.
public struct Measured: Sendable, Codable, Hashable {
    public let name: String
    public let value: Double

    public init(_ name: String, _ value: Double) {
        self.name = name
        self.value = value
    }
}

/// A verdict with everything it was computed from: the statement, the rule that decides it
/// (in words, printed next to the label), the numbers, and for ``Verdict/qualified`` the
/// measured exception. Nested ``details`` hold per-cell findings (one per (beta, noise) cell
/// of a sweep, for example); the parent's rule says how their labels combine.
///
/// Findings are built only by the rule functions of this module (``TheoryChecks``,
/// ``GradientFindings``, ``TrainingFindings``, ``PaperClaims``); the command line formats
/// them and never decides a label.
public struct Finding: Sendable, Codable, Hashable {
    /// A short identifier, such as `T5` or `claim 3`.
    public let id: String
    /// The statement under test.
    public let claim: String
    /// The decision rule, in words.
    public let rule: String
    /// The numbers the rule was applied to.
    public let numbers: [Measured]
    public let verdict: Verdict
    /// The measured exception, when ``verdict`` is ``Verdict/qualified``.
    public let exception: String?
    /// Per-cell findings the verdict combines (empty for most findings).
    public let details: [Finding]

    public init(id: String, claim: String, rule: String, numbers: [Measured], verdict: Verdict,
                exception: String? = nil, details: [Finding] = []) {
        self.id = id
        self.claim = claim
        self.rule = rule
        self.numbers = numbers
        self.verdict = verdict
        self.exception = exception
        self.details = details
    }

    /// The number named `name`, if the finding carries it.
    public func number(_ name: String) -> Double? { numbers.first { $0.name == name }?.value }
}
