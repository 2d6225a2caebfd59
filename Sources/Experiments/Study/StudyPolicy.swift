/// The policy of a study cell (`docs/theory.md §6.1`): the sequence-level parameterisations
/// (``SequenceConfig/Parameterisation``: a ``SequenceEnvironment``) or the families of the
/// tabular trainer (``SimulationConfig/Policy``: an ``Environment``).
///
/// The tabular and log-linear environments have no proxy reward: their labels come from the
/// reward model `r_hat = r + noise`, with no spurious token. Their cells therefore take proxy
/// bias 0 only (``StudySpec/cells``), and the hacking measures are *not applicable* there.
///
/// See also: ``StudySpec``, ``TabularStudyRunner``.
public enum StudyPolicy: String, CaseIterable, Sendable, Hashable, Codable {
    case tabular
    case loglinear
    case markov
    case shared

    /// The sequence-level parameterisation, or nil for the tabular and log-linear policies.
    public var sequence: SequenceConfig.Parameterisation? {
        switch self {
        case .markov: return .markov
        case .shared: return .shared
        case .tabular, .loglinear: return nil
        }
    }

    /// The tabular trainer's family, or nil for a sequence-level policy.
    public var simulation: SimulationConfig.Policy? {
        switch self {
        case .tabular: return .tabular
        case .loglinear: return .loglinear
        case .markov, .shared: return nil
        }
    }

    /// Whether the environment has a proxy reward (and so a proxy-bias axis).
    public var hasProxy: Bool { sequence != nil }
}
