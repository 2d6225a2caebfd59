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

/// Parameters of a loss evaluation, named as in TRL's `DPOConfig`.
public struct LossParameters: Sendable, Equatable, Hashable {
    /// KL strength `beta > 0` (TRL `beta`).
    public var beta: Double
    /// TRL's `label_smoothing` (`eps`), read by the losses whose descriptor says so
    /// (cdpo, robust, exo_pair).
    public var labelSmoothing: Double
    /// The reward gap `dr = r(y_w) - r(y_l)`, needed by rpo_* and spo*; `nil` when unknown.
    public var rewardGap: Double?
    /// The losses' own parameters by ``LossParameter/name`` (e.g. `bdpo_lambda`); a missing
    /// entry takes the parameter's default.
    public var values: [String: Double]

    public init(beta: Double, labelSmoothing: Double = 0, rewardGap: Double? = nil, values: [String: Double] = [:]) {
        self.beta = beta
        self.labelSmoothing = labelSmoothing
        self.rewardGap = rewardGap
        self.values = values
    }

    /// With bco_pair's `delta`, bdpo's `lambda` and discopop's `tau` given explicitly.
    public init(beta: Double, labelSmoothing: Double, rewardGap: Double?,
                bcoDelta: Double, bdpoLambda: Double, discopopTau: Double) {
        self.init(beta: beta, labelSmoothing: labelSmoothing, rewardGap: rewardGap,
                  values: [Losses.BCOPair.delta.name: bcoDelta, Losses.BDPO.lambda.name: bdpoLambda,
                           Losses.DiscoPOP.tau.name: discopopTau])
    }

    /// bco_pair's shift `delta` (see ``Losses/BCOPair/delta``).
    public var bcoDelta: Double {
        get { Losses.BCOPair.delta.value(in: self) }
        set { values[Losses.BCOPair.delta.name] = newValue }
    }
    /// bdpo's mixing weight `lam` (see ``Losses/BDPO/lambda``).
    public var bdpoLambda: Double {
        get { Losses.BDPO.lambda.value(in: self) }
        set { values[Losses.BDPO.lambda.name] = newValue }
    }
    /// discopop's temperature `tau` (see ``Losses/DiscoPOP/tau``).
    public var discopopTau: Double {
        get { Losses.DiscoPOP.tau.value(in: self) }
        set { values[Losses.DiscoPOP.tau.name] = newValue }
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
    case unknownParameter(String)
    /// A loss list that names no loss (`''`, `,`).
    case emptyLossList(String)
    /// A sign change of `dl/dh` in `[lower, upper]` that the root solver could not refine
    /// (the loss's parameters put the root beyond double precision); `reason` is the solver's.
    case stationaryPointUnresolved(loss: Loss, lower: Double, upper: Double, reason: String)

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
        case .emptyLossList(let text):
            return "'\(text)' names no loss; give comma-separated names such as sigmoid,spo, or all"
        case .stationaryPointUnresolved(let loss, let lower, let upper, let reason):
            return "\(loss.rawValue): a stationary point in h between \(lower) and \(upper) could not be resolved "
                + "(\(reason)); its parameters (beta, \(loss.descriptor.parameters.map(\.name).joined(separator: ", "))) "
                + "put it beyond double precision: choose values nearer 1"
        case .unknownParameter(let name):
            let known = Loss.allCases.flatMap(\.descriptor.parameters).map(\.name)
            return "unknown loss parameter '\(name)'; known: \(known.joined(separator: ", "))"
        }
    }
}
