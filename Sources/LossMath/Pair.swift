/// The four sequence log-probabilities of one preference pair, with TRL's meaning.
///
/// - `chosen`, `rejected`: log pi(y_w|x), log pi(y_l|x) under the policy (TRL
///   `chosen_logps`, `rejected_logps`). Sums over tokens: values like -800 are ordinary.
/// - `refChosen`, `refRejected`: the same under the reference (TRL `ref_chosen_logps`,
///   `ref_rejected_logps`).
/// - `chosenLength`, `rejectedLength`: token counts, used only by `ipo`, which (as TRL
///   does) averages each log-ratio over its tokens. Default 1 (no averaging).
public struct PairLogProbs: Sendable, Equatable, Hashable {
    public var chosen: Double
    public var rejected: Double
    public var refChosen: Double
    public var refRejected: Double
    public var chosenLength: Double
    public var rejectedLength: Double

    @inlinable
    public init(chosen: Double, rejected: Double, refChosen: Double, refRejected: Double,
                chosenLength: Double = 1, rejectedLength: Double = 1) {
        self.chosen = chosen
        self.rejected = rejected
        self.refChosen = refChosen
        self.refRejected = refRejected
        self.chosenLength = chosenLength
        self.rejectedLength = rejectedLength
    }

    /// `u_w = log pi(y_w) - log pi_ref(y_w)`.
    @inlinable public var chosenLogRatio: Double { chosen - refChosen }
    /// `u_l = log pi(y_l) - log pi_ref(y_l)`.
    @inlinable public var rejectedLogRatio: Double { rejected - refRejected }
    /// The logits difference `h = u_w - u_l` (TRL's `logits` before the factor beta).
    @inlinable public var logitsDifference: Double { chosenLogRatio - rejectedLogRatio }
}

/// Parameters shared by the catalogue, named as in TRL's `DPOConfig`.
public struct LossParameters: Sendable, Equatable, Hashable {
    /// KL strength `beta > 0` (TRL `beta`).
    public var beta: Double
    /// TRL's `label_smoothing` (`eps`), used by cdpo, robust and exo_pair.
    public var labelSmoothing: Double
    /// The reward gap `dr = r(y_w) - r(y_l)`, needed by rpo_* and spo*; `nil` when unknown.
    public var rewardGap: Double?
    /// bco_pair's shift `delta`. TRL uses a running mean of the batch rewards; a pure
    /// per-pair function cannot, so the default is 0 and a caller may pass TRL's value.
    public var bcoDelta: Double
    /// bdpo's mixing weight `lam` in `log(lam exp(u_l) + 1 - lam)`, in (0, 1]. Default 0.5.
    public var bdpoLambda: Double
    /// discopop's temperature `tau` (TRL `discopop_tau`). Default 0.05.
    public var discopopTau: Double

    public init(beta: Double, labelSmoothing: Double = 0, rewardGap: Double? = nil,
                bcoDelta: Double = 0, bdpoLambda: Double = 0.5, discopopTau: Double = 0.05) {
        self.beta = beta
        self.labelSmoothing = labelSmoothing
        self.rewardGap = rewardGap
        self.bcoDelta = bcoDelta
        self.bdpoLambda = bdpoLambda
        self.discopopTau = discopopTau
    }
}

/// A loss value and its exact derivatives.
///
/// `dChosen = dl/d log pi(y_w)` and `dRejected = dl/d log pi(y_l)`. Because
/// `u = log pi - log pi_ref`, these equal `dl/du_w` and `dl/du_l`. `dH` is `dl/dh` for
/// losses of `h` alone, else `nil`.
public struct LossEvaluation: Sendable, Equatable {
    public var value: Double
    public var dChosen: Double
    public var dRejected: Double
    public var dH: Double?

    @inlinable
    public init(value: Double, dChosen: Double, dRejected: Double, dH: Double?) {
        self.value = value
        self.dChosen = dChosen
        self.dRejected = dRejected
        self.dH = dH
    }
}

/// Why a loss cannot be evaluated with the given parameters.
public enum LossMathError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidBeta(Double)
    case labelSmoothingOutOfRange(loss: Loss, value: Double, range: String)
    case missingRewardGap(loss: Loss)
    case rewardGapZero(loss: Loss)
    case invalidParameter(name: String, value: Double, requirement: String)
    case unknownLoss(String)

    public var description: String {
        switch self {
        case .invalidBeta(let b):
            return "beta must be a finite number > 0, got \(b)"
        case .labelSmoothingOutOfRange(let loss, let v, let range):
            return "label smoothing \(v) is out of range for \(loss.rawValue): it needs \(range)"
        case .missingRewardGap(let loss):
            return "\(loss.rawValue) needs a reward gap (score_chosen - score_rejected, or a constant)"
        case .rewardGapZero(let loss):
            return "\(loss.rawValue) needs a nonzero reward gap (its target z = beta*h/dr divides by dr)"
        case .invalidParameter(let name, let v, let req):
            return "\(name) = \(v) is invalid: it needs \(req)"
        case .unknownLoss(let name):
            return "unknown loss '\(name)'; known losses: \(Loss.allCases.map(\.rawValue).joined(separator: ", "))"
        }
    }
}
