import LossMath

/// One arm of the study (`docs/theory.md §6`): a loss and the reward gap it is told, on the
/// same data as every other arm of its seed.
///
/// **What each arm is told.** A Bradley–Terry reward model is fitted to the labels DPO
/// sees, whose gap on pair `i` is `dr_hat_i`: for sequences the environment is built with
/// ``SequenceConfig/Target/fitted`` (an additive model); for tabular and log-linear cells
/// it is a ``TabularRewardModel`` (``TabularStudyRunner``).
/// - ``dpo``, ``ipo``, ``dpop``, ``chipo``: the labels only.
/// - ``cdpoMatched``, the information-matched DPO: `cdpo` with the per-pair label smoothing
///   `eps_i = sigma(-dr_hat_i)` from the same reward model. cdpo's loss
///   `(1 - eps) softplus(-x) + eps softplus(x)` with that `eps` is, term by term, spo_bt's
///   `sigma(dr) softplus(-x) + sigma(-dr) softplus(x)` at `dr = dr_hat` (as
///   `1 - sigma(-d) = sigma(d)`): unclamped, the matched DPO *is* spo_bt. cdpo's smoothing is
///   defined on `[0, 1/2]`, and `sigma(-dr_hat) > 1/2` where the model says the labelled
///   order is wrong; the arm clamps, `eps_i = min(sigma(-dr_hat_i), 1/2) = sigma(-max(dr_hat_i, 0))`,
///   so such a pair becomes uninformative (minimum at `h = 0`) instead of being flipped.
///   It runs as spo_bt's kernel on the gaps `max(dr_hat_i, 0)`, the same function
///   (the tests compare the two per pair).
/// - ``spo``, ``spoBT``: the fitted gaps `dr_hat`, exactly DPO's information.
/// - ``spoOracle``, ``spoBTOracle``: the TRUE gaps. **Oracles**: no practitioner has them;
///   they are upper bounds, labelled so in every output.
///
/// See also: ``StudySpec``, ``StudyRunner``, ``StudyClaims``.
public enum StudyArm: String, CaseIterable, Sendable, Hashable, Codable {
    case dpo
    case cdpoMatched = "cdpo_matched"
    case ipo
    case dpop
    case chipo
    case spo
    case spoBT = "spo_bt"
    case spoOracle = "spo_oracle"
    case spoBTOracle = "spo_bt_oracle"

    /// The catalogue loss the arm trains with.
    public var loss: Loss {
        switch self {
        case .dpo: return .sigmoid
        case .cdpoMatched, .spoBT, .spoBTOracle: return .spoBT
        case .ipo: return .ipo
        case .dpop: return .dpop
        case .chipo: return .chipo
        case .spo, .spoOracle: return .spo
        }
    }

    /// Whether the arm is told the true reward (an upper bound, not a fair comparison).
    public var isOracle: Bool { self == .spoOracle || self == .spoBTOracle }

    /// The baselines every principled arm is compared with: the five label-information arms.
    public static let baselines: [StudyArm] = [.dpo, .cdpoMatched, .ipo, .dpop, .chipo]
    /// The principled arms: spo and spo_bt on the fitted gaps, then their oracles.
    public static let principled: [StudyArm] = [.spo, .spoBT, .spoOracle, .spoBTOracle]

    /// The arm's name in tables, with "(oracle)" for the oracle arms.
    public var label: String { isOracle ? rawValue + " (oracle)" : rawValue }

    /// The gap of each training pair the arm's loss is told, on an environment built with
    /// the fitted target (see the type's documentation).
    public func toldGaps(_ environment: SequenceEnvironment) -> [Double] {
        toldGaps(fitted: environment.targetGaps, trueGaps: environment.trueGaps)
    }

    /// The gap of each training pair the arm's loss is told, from the fitted model's gaps
    /// `dr_hat` and the true gaps `dr` (any environment; see the type's documentation):
    /// `dr` for the oracles, `max(dr_hat, 0)` for cdpo_matched, `dr_hat` otherwise.
    public func toldGaps(fitted: [Double], trueGaps: [Double]) -> [Double] {
        switch self {
        case .spoOracle, .spoBTOracle: return trueGaps
        case .cdpoMatched: return fitted.map { Swift.max($0, 0) }
        default: return fitted
        }
    }
}
