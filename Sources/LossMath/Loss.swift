/// The loss catalogue, named as TRL's `DPOTrainer` `loss_type` (and NeMo-Aligner's RPO
/// names, and this project's `spo` forms for the seed paper's principled loss).
///
/// See `docs/loss-catalogue.md` for every formula and ``Kernels`` for the functions.
public enum Loss: String, CaseIterable, Sendable, Hashable, Codable {
    case sigmoid
    case cdpo
    case hinge
    case ipo
    case exoPair = "exo_pair"
    case ncaPair = "nca_pair"
    case robust
    case bcoPair = "bco_pair"
    case sppoHard = "sppo_hard"
    case apoZero = "apo_zero"
    case apoDown = "apo_down"
    case discopop
    case bdpo
    case rpoSq = "rpo_sq"
    case rpoBackwardKL = "rpo_bwd_kl"
    case rpoForwardKL = "rpo_fwd_kl"
    /// The seed paper's principled loss, default squared form `(beta h - dr)^2`.
    case spo
    /// The principled loss, Bradley–Terry cross-entropy form.
    case spoBT = "spo_bt"
    /// The principled loss, asymmetric form `-z e^-z`, `z = beta h / dr`.
    case spoAsym = "spo_asym"

    /// Parses a TRL-style name, throwing a message that lists the known names.
    public init(name: String) throws(LossMathError) {
        guard let loss = Loss(rawValue: name.trimmedOf(" \t")) else {
            throw .unknownLoss(name)
        }
        self = loss
    }

    /// True when the loss is a function of `h = u_w - u_l` alone (so T6's ratio applies).
    /// `ipo` counts as such when both lengths are 1.
    public var dependsOnLogitsDifferenceOnly: Bool {
        switch self {
        case .ncaPair, .bcoPair, .sppoHard, .apoZero, .apoDown, .bdpo: return false
        default: return true
        }
    }

    /// True when the loss needs the reward gap `dr` (the reward-aware and principled losses).
    public var needsRewardGap: Bool {
        switch self {
        case .rpoSq, .rpoBackwardKL, .rpoForwardKL, .spo, .spoBT, .spoAsym: return true
        default: return false
        }
    }

    /// True when the loss reads TRL's `label_smoothing`.
    public var usesLabelSmoothing: Bool {
        switch self {
        case .cdpo, .robust, .exoPair: return true
        default: return false
        }
    }

    /// The label smoothing to use when the caller sets none: 0, except exo_pair, whose
    /// formula takes `log eps` and which gets TRL's own substitute for 0, `1e-3`.
    public var defaultLabelSmoothing: Double { self == .exoPair ? 1e-3 : 0 }

    /// True for losses whose derivative is exactly zero on a whole half-line in `h`
    /// (hinge past its margin). Used to tell a genuine flat region from underflow.
    public var hasFlatRegion: Bool { self == .hinge }

    /// Checks `parameters` for this loss, with a message that names the parameter.
    public func validate(_ p: LossParameters) throws(LossMathError) {
        guard p.beta.isFinite, p.beta > 0 else { throw .invalidBeta(p.beta) }
        let eps = p.labelSmoothing
        switch self {
        case .cdpo:
            guard eps >= 0, eps <= 0.5 else { throw .labelSmoothingOutOfRange(loss: self, value: eps, range: "0 <= label_smoothing <= 0.5") }
        case .robust:
            guard eps >= 0, eps < 0.5 else { throw .labelSmoothingOutOfRange(loss: self, value: eps, range: "0 <= label_smoothing < 0.5") }
        case .exoPair:
            guard eps > 0, eps < 1 else { throw .labelSmoothingOutOfRange(loss: self, value: eps, range: "0 < label_smoothing < 1 (TRL silently replaces 0 by 1e-3)") }
        case .bdpo:
            guard p.bdpoLambda > 0, p.bdpoLambda <= 1 else { throw .invalidParameter(name: "bdpo lambda", value: p.bdpoLambda, requirement: "0 < lambda <= 1") }
        case .discopop:
            guard p.discopopTau > 0, p.discopopTau.isFinite else { throw .invalidParameter(name: "discopop tau", value: p.discopopTau, requirement: "tau > 0") }
        case .bcoPair:
            guard p.bcoDelta.isFinite else { throw .invalidParameter(name: "bco delta", value: p.bcoDelta, requirement: "a finite number") }
        default:
            break
        }
        if needsRewardGap {
            guard let dr = p.rewardGap else { throw .missingRewardGap(loss: self) }
            guard dr.isFinite else { throw .invalidParameter(name: "reward gap", value: dr, requirement: "a finite number") }
            if self == .spoAsym && dr == 0 { throw .rewardGapZero(loss: self) }
        }
    }

    /// The loss and its exact derivatives for one pair.
    ///
    /// Does not validate: call ``validate(_:)`` once per configuration first. A loss that
    /// needs a reward gap reads `parameters.rewardGap ?? 0`.
    @inlinable
    public func evaluate(_ pair: PairLogProbs, _ p: LossParameters) -> LossEvaluation {
        let uW = pair.chosenLogRatio, uL = pair.rejectedLogRatio
        let beta = p.beta
        let x = beta * (uW - uL)
        let dr = p.rewardGap ?? 0
        @inline(__always) func hOnly(_ r: (value: Double, dx: Double)) -> LossEvaluation {
            let dh = beta * r.dx
            return LossEvaluation(value: r.value, dChosen: dh, dRejected: -dh, dH: dh)
        }
        @inline(__always) func separate(_ r: (value: Double, dW: Double, dL: Double)) -> LossEvaluation {
            LossEvaluation(value: r.value, dChosen: r.dW, dRejected: r.dL, dH: nil)
        }
        switch self {
        case .sigmoid: return hOnly(Kernels.sigmoid(x: x))
        case .cdpo: return hOnly(Kernels.cdpo(x: x, eps: p.labelSmoothing))
        case .hinge: return hOnly(Kernels.hinge(x: x))
        case .ipo:
            let lw = pair.chosenLength, ll = pair.rejectedLength
            let r = Kernels.ipo(h: uW / lw - uL / ll, beta: beta)
            let isPlain = lw == 1 && ll == 1
            return LossEvaluation(value: r.value, dChosen: r.dh / lw, dRejected: -r.dh / ll, dH: isPlain ? r.dh : nil)
        case .exoPair: return hOnly(Kernels.exoPair(x: x, eps: p.labelSmoothing))
        case .ncaPair: return separate(Kernels.ncaPair(uW: uW, uL: uL, beta: beta))
        case .robust: return hOnly(Kernels.robust(x: x, eps: p.labelSmoothing))
        case .bcoPair: return separate(Kernels.bcoPair(uW: uW, uL: uL, beta: beta, delta: p.bcoDelta))
        case .sppoHard: return separate(Kernels.sppoHard(uW: uW, uL: uL, beta: beta))
        case .apoZero: return separate(Kernels.apoZero(uW: uW, uL: uL, beta: beta))
        case .apoDown: return separate(Kernels.apoDown(uW: uW, uL: uL, beta: beta))
        case .discopop: return hOnly(Kernels.discopop(x: x, tau: p.discopopTau))
        case .bdpo: return separate(Kernels.bdpo(uW: uW, uL: uL, beta: beta, lambda: p.bdpoLambda))
        case .rpoSq, .spo: return hOnly(Kernels.squaredTarget(x: x, rewardGap: dr))
        case .rpoBackwardKL: return hOnly(Kernels.rpoBackwardKL(x: x, rewardGap: dr))
        case .rpoForwardKL: return hOnly(Kernels.rpoForwardKL(x: x, rewardGap: dr))
        case .spoBT: return hOnly(Kernels.softLabelCrossEntropy(x: x, rewardGap: dr))
        case .spoAsym: return hOnly(Kernels.asymmetricTarget(x: x, rewardGap: dr))
        }
    }

    /// Parses a comma-separated list such as `"sigmoid,spo"`; `"all"` or an empty string
    /// gives the whole catalogue. Duplicates are dropped, order is kept.
    public static func parseList(_ text: String) throws(LossMathError) -> [Loss] {
        let trimmed = text.trimmedOf(" \t")
        if trimmed.isEmpty || trimmed == "all" { return Loss.allCases }
        var out: [Loss] = []
        for part in trimmed.split(separator: ",") {
            let loss = try Loss(name: String(part))
            if !out.contains(loss) { out.append(loss) }
        }
        return out
    }
}

extension String {
    @usableFromInline
    func trimmedOf(_ set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return String(s)
    }
}
