import LossMath

/// Where a reward-aware loss (``LossMath/Loss/needsRewardGap``: rpo_*, spo*) gets its target
/// reward gap `dr` for each pair. Losses that do not need a gap ignore it.
///
/// The metrics always measure `h` against the true target `h* = dr_true / beta`, whatever
/// source the loss trained on.
public enum RewardGapSource: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The true reward gap `r(y_w) - r(y_l)` (an oracle; only a simulation has it).
    case trueReward
    /// The reward model's gap `r_hat(y_w) - r_hat(y_l)` (what practice has). Equal to the
    /// true gap when `s_noise = 0`.
    case rewardModel
    /// The same gap `c` for every pair, which makes spo an IPO-like fixed-margin loss.
    case constant(Double)

    public var description: String {
        switch self {
        case .trueReward: return "true"
        case .rewardModel: return "model"
        case .constant(let c): return "constant(\(c))"
        }
    }
}

/// A first-order optimiser.
public enum Optimizer: String, Sendable, Hashable, Codable, CaseIterable {
    /// Plain gradient descent, `theta -= lr * g`.
    case sgd
    /// Adam (Kingma & Ba 2015) with `beta1 = 0.9`, `beta2 = 0.999`, `eps = 1e-8` and bias
    /// correction: `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g^2`,
    /// `theta -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)`.
    ///
    /// Adam divides by the running gradient scale, so DPO's vanishing gradient
    /// `|l'| = beta sigma(-beta h)` does not slow it: `h` keeps growing about `lr` per step
    /// instead of like `log t` (compare T11's gradient flow, which is plain gradient descent).
    case adam
}

/// How the trainer optimises one loss on an ``Environment``.
///
/// The training objective is the MEAN loss over the pairs of the batch, full batch by default.
///
/// See also: ``Trainer``, ``SimulationConfig``.
public struct TrainingConfig: Sendable, Hashable, Codable {
    /// The loss from the catalogue (TRL names).
    public var loss: Loss
    /// TRL's `label_smoothing` for cdpo, robust and exo_pair. `nil` uses the loss's usual
    /// default: 0 for cdpo and robust, and 1e-3 for exo_pair (TRL's own substitute for 0).
    public var labelSmoothing: Double?
    /// The losses' own parameters by name (``LossMath/LossParameter/name``, e.g.
    /// `dpop_lambda`), as each loss type declares them; a missing entry takes the parameter's
    /// default. Only the parameters of ``loss`` are read; each is checked by ``validate(for:)``.
    public var lossParameterValues: [String: Double]
    /// Where reward-aware losses get `dr`. Default ``RewardGapSource/rewardModel``.
    public var target: RewardGapSource
    /// Default ``Optimizer/adam``.
    public var optimizer: Optimizer
    /// Learning rate `> 0`.
    public var learningRate: Double
    /// Number of optimiser steps `>= 0`.
    public var steps: Int
    /// Minibatch size in `1...P*n`, or `nil` for full batch. Minibatches walk through a
    /// random permutation of the pairs, reshuffled every epoch from the seed's shuffle stream.
    public var batchSize: Int?
    /// When set, the batch gradient is rescaled to this Euclidean norm whenever it is longer
    /// (what practitioners use to hide DPO's blow-up). `> 0`.
    public var clipNorm: Double?
    /// Metrics are recorded at step 0, every `logEvery` steps, and at the final step. `>= 1`.
    public var logEvery: Int
    /// A pair is "at its target" when `|h - h*| <= relativeTolerance * max(1, |h*|)`.
    /// Default 0.1 (10% of the target, but at least 0.1 in absolute terms). `> 0`.
    public var relativeTolerance: Double

    public init(loss: Loss, labelSmoothing: Double? = nil, lossParameterValues: [String: Double] = [:],
                target: RewardGapSource = .rewardModel, optimizer: Optimizer = .adam,
                learningRate: Double = 0.05, steps: Int = 2000, batchSize: Int? = nil,
                clipNorm: Double? = nil, logEvery: Int = 20, relativeTolerance: Double = 0.1) {
        self.loss = loss
        self.labelSmoothing = labelSmoothing
        self.lossParameterValues = lossParameterValues
        self.target = target
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.steps = steps
        self.batchSize = batchSize
        self.clipNorm = clipNorm
        self.logEvery = logEvery
        self.relativeTolerance = relativeTolerance
    }

    /// The label smoothing actually used (see ``labelSmoothing``).
    public var effectiveLabelSmoothing: Double {
        labelSmoothing ?? loss.defaultLabelSmoothing
    }

    /// The loss parameters for `beta`, with no reward gap (set per pair).
    public func lossParameters(beta: Double) -> LossParameters {
        LossParameters(beta: beta, labelSmoothing: effectiveLabelSmoothing, rewardGap: nil,
                       values: lossParameterValues)
    }

    /// Checks the optimiser settings and the loss's parameters against `simulation`,
    /// naming the first bad parameter. Does no work.
    public func validate(for simulation: SimulationConfig) throws(ExperimentError) {
        try require(steps >= 0, "steps", "\(steps)", "steps >= 0")
        try require(learningRate.isFinite && learningRate > 0, "learning rate", "\(learningRate)", "a finite lr > 0")
        if let b = batchSize {
            try require(b >= 1 && b <= simulation.pairCount, "batch size", "\(b)",
                        "1 <= batch size <= P*n = \(simulation.pairCount), the number of pairs")
        }
        if let c = clipNorm {
            try require(c.isFinite && c > 0, "clip norm", "\(c)", "a finite clip norm > 0")
        }
        try require(logEvery >= 1, "log every", "\(logEvery)", "log every >= 1")
        try require(relativeTolerance.isFinite && relativeTolerance > 0, "tolerance", "\(relativeTolerance)", "a finite tolerance > 0")
        if case .constant(let c) = target {
            try require(c.isFinite, "constant reward gap", "\(c)", "a finite number")
        }
        var p = lossParameters(beta: simulation.beta)
        if loss.needsRewardGap {
            // The per-pair gap is checked by the trainer; validate the rest with a stand-in.
            if case .constant(let c) = target { p.rewardGap = c } else { p.rewardGap = 1 }
        }
        do { try loss.validate(p) } catch { throw .loss(error) }
        if loss == .spoAsym {
            // spo_asym divides by dr: a zero gap for every pair is a configuration error.
            let noGap: Bool
            switch target {
            case .constant(let c): noGap = c == 0
            case .trueReward: noGap = simulation.rewardSpread == 0
            case .rewardModel: noGap = simulation.rewardSpread == 0 && simulation.rewardNoise == 0
            }
            try require(!noGap, "reward gap for spo_asym", "0", "a nonzero gap: spo_asym's target z = beta*h/dr divides by dr (s_r > 0, or a nonzero constant)")
        }
    }
}
