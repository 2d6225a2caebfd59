/// The paper's four claims (arXiv 2508.07137) and what the study measures each one by
/// (`docs/theory.md §6`). Every measure is compared as *principled arm minus baseline*,
/// paired by seed, and ``direction`` is the sign the claim predicts for that difference.
///
/// - **C1** DPO rewards an unbounded `h`: `max_h`, the largest `h` over the training pairs
///   and the logged steps; predicted smaller for the principled loss.
/// - **C2** The principled loss targets `h* = dr/beta`: the final mean `|beta h - dr|` over
///   the training pairs, `dr` the gap the principled arm was told (fitted, or true for an
///   oracle arm; the baseline is measured against the same gap); predicted smaller.
/// - **C3** It avoids DPO's large gradients as `pi_l -> 0`: `log10` of the largest collapse
///   force (T8) and the largest parameter-gradient norm over training; predicted smaller.
/// - **C4** Its stability prevents reward hacking and gives higher win rates: at the final
///   step the true reward, the win rate against `pi_ref`, and the head-to-head win rate
///   against the baseline's policy minus 1/2 (the baseline's side is 0); at matched KL
///   (``MatchedKL``) the true reward and the win rate against `pi_ref`; predicted larger.
///   Where the proxy bias `lambda` is not 0: the amount hacked, proxy minus true reward,
///   and `sign(lambda)` times the spurious token's expected count (the direction the proxy
///   pays for); predicted smaller. Where `lambda = 0` these two are not measured (the proxy
///   is the true reward).
///
/// See also: ``StudyAnalysis``, ``PairedComparison``.
public enum StudyMeasure: String, CaseIterable, Sendable, Hashable {
    case maxH = "max_h"
    case absGap = "abs_beta_h_minus_dr"
    case collapseForce = "log10_max_collapse_force"
    case gradNorm = "max_grad_norm"
    case trueReward = "final_true_reward"
    case winRate = "final_win_rate"
    case headToHead = "head_to_head_win_rate"
    case trueRewardMatched = "true_reward_at_matched_kl"
    case winRateMatched = "win_rate_at_matched_kl"
    case hacked = "hacked"
    case spurious = "spurious_count"

    /// `C1` ... `C4`.
    public var claim: String {
        switch self {
        case .maxH: return "C1"
        case .absGap: return "C2"
        case .collapseForce, .gradNorm: return "C3"
        default: return "C4"
        }
    }

    /// The claims in words.
    public static let claims: [(id: String, text: String)] = [
        ("C1", "DPO rewards an unbounded h"),
        ("C2", "the principled loss targets a finite h* = dr/beta"),
        ("C3", "it avoids DPO's large gradients as pi_l -> 0"),
        ("C4", "its stability prevents reward hacking and gives higher (win rate) alignment"),
    ]

    /// The sign the claim predicts for principled minus baseline.
    public var direction: PairedComparison.Direction {
        switch self {
        case .trueReward, .winRate, .headToHead, .trueRewardMatched, .winRateMatched: return .positive
        default: return .negative
        }
    }

    /// What is measured, in words.
    public var text: String {
        switch self {
        case .maxH: return "max h over training pairs and steps"
        case .absGap: return "final mean |beta h - dr| (dr as told to the principled arm)"
        case .collapseForce: return "log10 largest collapse force over training"
        case .gradNorm: return "largest parameter-gradient norm over training"
        case .trueReward: return "final true reward"
        case .winRate: return "final win rate vs pi_ref"
        case .headToHead: return "head-to-head win rate vs the baseline, minus 1/2"
        case .trueRewardMatched: return "true reward at matched KL"
        case .winRateMatched: return "win rate vs pi_ref at matched KL"
        case .hacked: return "amount hacked: proxy minus true reward"
        case .spurious: return "sign(lambda) x expected spurious-token count"
        }
    }

    /// Whether the measure applies in `cell` (the hacking measures need a proxy bias).
    public func applies(to cell: StudySpec.Cell) -> Bool {
        switch self {
        case .hacked, .spurious: return cell.proxyBias != 0
        default: return true
        }
    }

    /// The rule in words, printed next to every verdict table.
    public static let rule = """
        Each verdict compares a principled arm with one baseline in one grid cell, paired by seed: \
        d_s = (principled - baseline) on seed s, over the seeds where both runs ended ok (and, at \
        matched KL, both reached the KL). Mean and 95% Student-t interval mean ± t_{0.975, n-1} s/sqrt(n) \
        (t quantile from GSL). reproduced: the interval lies wholly on the side the claim predicts; \
        contradicted: wholly on the other side; not significant: it contains 0; not comparable: fewer \
        than 2 comparable seeds (a pair with a diverged run is never compared as numbers; it is counted).
        """
}
