/// The measured values of one study run, one column each of `runs.csv` (see ``StudyRunRecord``).
///
/// - Final values are those of the last logged step (= the last step).
/// - `max_h`: the largest `h` over the training pairs and the logged steps (C1).
/// - `final_abs_beta_h_minus_dr_fitted` / `_true`: the mean over pairs of `|beta h - dr_hat|`
///   (the fitted model's gap) and of `|beta h - dr|` (the true gap) at the end (C2).
/// - `log10_max_collapse_force`: `log10` of the largest collapse force `max(0, dl/dpi_l)`
///   (`docs/theory.md, T8`) over the training pairs and logged steps, each arm's loss with
///   the gap it was told; a run whose force is 0 at every pair and logged step records
///   `-308` (about `log10` of the smallest normal double), so that it compares as smaller
///   than any nonzero force (C3).
/// - `max_grad_norm`: the largest parameter-gradient norm over every step (C3).
/// - `hacked`: final proxy reward minus final true reward (C4).
/// - `win_rate_vs_<baseline>`: the final policy's win rate under the true reward against the
///   baseline arm's final policy on the same seed (exact when `V^T <= 2^20`) (C4).
/// - `max_kl`: the largest logged `KL(pi || pi_ref)`, the end of the matched-KL range.
/// - Tabular and log-linear runs (``TabularStudyRunner``) have no proxy reward: their
///   `final_proxy_reward`, `hacked` and `final_spurious_count` are empty (not applicable);
///   their win rates are always exact.
public enum StudyRunValue: String, CaseIterable, Sendable {
    case finalKL = "final_kl"
    case maxKL = "max_kl"
    case finalTrueReward = "final_true_reward"
    case finalProxyReward = "final_proxy_reward"
    case hacked
    case finalWinRate = "final_win_rate"
    case finalSpuriousCount = "final_spurious_count"
    case finalRegret = "final_regret"
    case maxH = "max_h"
    case absFitted = "final_abs_beta_h_minus_dr_fitted"
    case absTrue = "final_abs_beta_h_minus_dr_true"
    case log10MaxCollapseForce = "log10_max_collapse_force"
    case maxGradNorm = "max_grad_norm"
    case winVersusDPO = "win_rate_vs_dpo"
    case winVersusCDPOMatched = "win_rate_vs_cdpo_matched"
    case winVersusIPO = "win_rate_vs_ipo"
    case winVersusDPOP = "win_rate_vs_dpop"
    case winVersusChiPO = "win_rate_vs_chipo"

    /// The head-to-head column against `baseline` (one of ``StudyArm/baselines``).
    public static func winVersus(_ baseline: StudyArm) -> StudyRunValue? {
        switch baseline {
        case .dpo: return .winVersusDPO
        case .cdpoMatched: return .winVersusCDPOMatched
        case .ipo: return .winVersusIPO
        case .dpop: return .winVersusDPOP
        case .chipo: return .winVersusChiPO
        default: return nil
        }
    }

    /// The value recorded for a run whose collapse force is zero throughout.
    public static let zeroCollapseForceLog10 = -308.0
}

/// One run of a study: its unit (cell and seed), arm, status and measured values. A
/// diverged run has no values (empty cells): no number of it enters a comparison.
///
/// See also: ``StudyRunValue``, ``StudyTrajectoryPoint``, ``StudyRunner``.
public struct StudyRunRecord: Sendable, Hashable {
    public var unit: Int
    public var cell: StudySpec.Cell
    public var seed: UInt64
    public var arm: StudyArm
    public var status: RunStatus
    /// Values in ``StudyRunValue/allCases`` order; nil when missing.
    public var values: [Double?]
    /// The fitted reward model's held-out pairwise accuracy and the labels' agreement with
    /// the true reward (the same for every arm of the unit).
    public var rewardModelAccuracy: Double
    public var labelAgreement: Double

    public init(unit: Int, cell: StudySpec.Cell, seed: UInt64, arm: StudyArm, status: RunStatus, values: [Double?],
                rewardModelAccuracy: Double, labelAgreement: Double) {
        precondition(values.count == StudyRunValue.allCases.count, "one value per StudyRunValue")
        self.unit = unit
        self.cell = cell
        self.seed = seed
        self.arm = arm
        self.status = status
        self.values = values
        self.rewardModelAccuracy = rewardModelAccuracy
        self.labelAgreement = labelAgreement
    }

    /// The value of `key`, nil when missing or when the run diverged.
    public subscript(_ key: StudyRunValue) -> Double? {
        guard status == .ok, let i = StudyRunValue.allCases.firstIndex(of: key) else { return nil }
        return values[i]
    }
}

/// One logged step of a study run's trajectory (a row of `trajectories.csv`): what matched-KL
/// readings and the over-optimisation frontiers are computed from.
public struct StudyTrajectoryPoint: Sendable, Hashable {
    public var unit: Int
    public var arm: StudyArm
    public var step: Int
    /// `KL(pi || pi_ref)`.
    public var kl: Double
    /// `E_pi[r]`, the true reward.
    public var trueReward: Double
    /// `E_pi[r~]`.
    public var proxyReward: Double
    /// The win rate against `pi_ref` under the true reward.
    public var winRate: Double

    public init(unit: Int, arm: StudyArm, step: Int, kl: Double, trueReward: Double, proxyReward: Double, winRate: Double) {
        self.unit = unit
        self.arm = arm
        self.step = step
        self.kl = kl
        self.trueReward = trueReward
        self.proxyReward = proxyReward
        self.winRate = winRate
    }
}
