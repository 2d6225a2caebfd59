import ArgumentParser
import Experiments
import Foundation
import LossMath

extension SimulationConfig.Policy: ExpressibleByArgument {}
extension SimulationConfig.Labels: ExpressibleByArgument {}
extension SimulationConfig.PairSampling: ExpressibleByArgument {}
extension Optimizer: ExpressibleByArgument {}

/// Where reward-aware losses get their target gap, as a command-line choice. `true`,
/// `model` and `constant` are the tabular trainer's; `true`, `proxy` and `fitted` the
/// sequence level's (docs/theory.md §5.2). `true` is the oracle in both: an upper bound.
enum TargetChoice: String, ExpressibleByArgument, CaseIterable {
    case `true`, model, constant, proxy, fitted

    /// Whether only the sequence-level policies take it.
    var isSequenceOnly: Bool { self == .proxy || self == .fitted }
    /// Whether only the tabular and log-linear policies take it.
    var isTabularOnly: Bool { self == .model || self == .constant }
}

/// The simulated environment's options (docs/theory.md §5), shared by train and sweep.
/// Defaults are Experiments' default tabular problem.
struct SimulationOptions: ParsableArguments {
    @Option(name: .customLong("policy"), help: "Policy family: tabular (default), loglinear, or the sequence-level markov or shared (markov/shared: report train and sweep).")
    var policyGiven: PolicyChoice?
    /// `--policy`, tabular when not given (``policyGiven`` tells whether it was).
    var policy: PolicyChoice {
        get { policyGiven ?? .tabular }
        set { policyGiven = newValue }
    }
    @Option(parsing: .unconditional, help: "Prompts P.")
    var prompts: Int = SimulationConfig().prompts
    @Option(parsing: .unconditional, help: "Candidate responses per prompt K (>= 2; tabular and loglinear only).")
    var responses: Int = SimulationConfig().responses
    @Option(parsing: .unconditional, help: "Pairs per prompt n (tabular and loglinear: distinct, <= K(K-1)/2, default \(SimulationConfig().pairsPerPrompt); markov/shared: default \(SequenceConfig().pairsPerPrompt)).")
    var pairsPerPrompt: Int?
    @Option(parsing: .unconditional, help: "Feature dimension d (loglinear only).")
    var features: Int = SimulationConfig().features
    /// A spread's range (reference logits, rewards, reward noise): `[0, optionMagnitudeBound]`
    /// (see there): logits and rewards of that size, divided by beta, stay inside the double
    /// range. At 1e300 the reference log-probabilities overflowed (regret 0 from NaN).
    static let spreadRange: ClosedRange<Double> = 0...optionMagnitudeBound

    @Option(parsing: .unconditional, help: "Spread s_ref of the reference logits, in [0, 1e150].")
    var referenceSpread: Double = SimulationConfig().referenceSpread
    @Option(parsing: .unconditional, help: "Spread s_r of the true rewards (markov/shared: per transition), in [0, 1e150] (default \(shortText(SimulationConfig().rewardSpread)); markov/shared \(shortText(SequenceConfig().rewardSpread))).")
    var rewardSpread: Double?
    @Option(help: "Labels: bt (Bradley-Terry sampling) or hard (by reward-model score).")
    var labels: SimulationConfig.Labels = SimulationConfig().labels
    @Option(help: "Pair sampling: reference (from pi_ref) or uniform (tabular and loglinear only; markov/shared draw from pi_ref).")
    var pairSampling: SimulationConfig.PairSampling = SimulationConfig().pairSampling
    @Option(parsing: .unconditional, help: "Seed of every random stream (GSL MT19937).")
    var seed: UInt64 = SimulationConfig().seed

    /// The ranges of the spreads (``spreadRange``); SimulationConfig checks the rest.
    /// (ArgumentParser runs it for every command that includes this group.)
    func validate() throws {
        try checkRange("--reference-spread", referenceSpread, Self.spreadRange, "a number")
        if let rewardSpread { try checkRange("--reward-spread", rewardSpread, Self.spreadRange, "a number") }
    }

    /// The tabular or log-linear simulation (a sequence-level `--policy` is refused before
    /// this is called: ``requireTabular(_:)``; it falls back to tabular).
    func simulation(beta: Double, rewardNoise: Double) -> SimulationConfig {
        let d = SimulationConfig()
        return SimulationConfig(policy: policy.tabularPolicy ?? .tabular, prompts: prompts, responses: responses,
                                pairsPerPrompt: pairsPerPrompt ?? d.pairsPerPrompt, features: features,
                                referenceSpread: referenceSpread, rewardSpread: rewardSpread ?? d.rewardSpread,
                                rewardNoise: rewardNoise, labels: labels, pairSampling: pairSampling, beta: beta, seed: seed)
    }
}

/// The optimiser's options, shared by train and sweep.
struct OptimizerOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Optimizer steps.")
    var steps: Int = TrainingConfig(loss: .sigmoid).steps
    @Option(name: .customLong("lr"), parsing: .unconditional, help: "Learning rate.")
    var learningRate: Double = TrainingConfig(loss: .sigmoid).learningRate
    @Option(help: "Optimizer: sgd or adam.")
    var optimizer: Optimizer = TrainingConfig(loss: .sigmoid).optimizer
    @Option(parsing: .unconditional, help: "Minibatch size (default: full batch).")
    var batchSize: Int?
    @Option(parsing: .unconditional, help: "Clip the gradient to this Euclidean norm (what practitioners use to hide DPO's blow-up).")
    var clip: Double?
    @Option(parsing: .unconditional, help: "Log metrics every k steps.")
    var logEvery: Int = TrainingConfig(loss: .sigmoid).logEvery
    @Option(parsing: .unconditional, help: "TRL label_smoothing for cdpo, robust, exo_pair (default 0; exo_pair 1e-3).")
    var labelSmoothing: Double?
    @OptionGroup var lossParameters: LossParameterOptions
    @Option(help: ArgumentHelp(
        "Target gap of rpo_*/spo*. tabular/loglinear: true, model (default) or constant; markov/shared: true, proxy or fitted (default).",
        discussion: "true is the oracle (the true reward; an upper bound, not a comparison on equal information); "
            + "model the noisy reward model; constant --constant-gap; proxy the labeller's biased reward; "
            + "fitted a Bradley-Terry reward model fitted to the labels DPO sees (DPO's information)."))
    var target: TargetChoice?
    @Option(parsing: .unconditional, help: "The gap used with --target constant; |gap| <= 8.99e307.")
    var constantGap: Double = 1


    func training(loss: Loss) -> TrainingConfig {
        let source: RewardGapSource
        switch target ?? .model {
        case .true: source = .trueReward
        case .model, .proxy, .fitted: source = .rewardModel
        case .constant: source = .constant(constantGap)
        }
        return TrainingConfig(loss: loss, labelSmoothing: labelSmoothing,
                              lossParameterValues: lossParameters.values, target: source, optimizer: optimizer,
                              learningRate: learningRate, steps: steps, batchSize: batchSize, clipNorm: clip,
                              logEvery: logEvery)
    }

    func validate() throws {
        // As `report gradients` and `report losses` (LossOptions): a smoothing outside [0, 1)
        // is refused even for losses that do not use it, never silently ignored.
        if let eps = labelSmoothing, !(eps.isFinite && eps >= 0 && eps < 1) {
            throw ValidationError("--label-smoothing must be in [0, 1), got \(eps)")
        }
        // The constant gap's range: that of a reward gap (LossOptions.rewardGapRange).
        try checkRange("--constant-gap", constantGap, LossOptions.rewardGapRange, "a number")
    }
}

/// Maps an experiment's configuration error to a message that names the option.
func optionError(_ error: ExperimentError) -> ValidationError {
    let names: [String: String] = [
        "prompts P": "--prompts", "responses K": "--responses", "pairs per prompt n": "--pairs-per-prompt",
        "features d": "--features", "reference spread s_ref": "--reference-spread", "reward spread s_r": "--reward-spread",
        "reward noise s_noise": "--reward-noise", "beta": "--beta", "steps": "--steps", "learning rate": "--lr",
        "batch size": "--batch-size", "clip norm": "--clip", "log every": "--log-every",
        "shard count n": "--shard", "shard index i": "--shard", "constant reward gap": "--constant-gap",
        "vocabulary V": "--vocab", "length T": "--length", "proxy bias lambda": "--proxy-bias",
        "spurious token k": "--spurious-token", "rm-l2": "--rm-l2",
        "table size P(1+(T-1)V)V": "--prompts, --vocab, --length", "pairs P x n x 2T": "--pairs-per-prompt",
    ]
    if case .loss(let lossError) = error, case .invalidParameter(let name, _, _) = lossError, Loss.parameter(named: name) != nil {
        return ValidationError("--loss-param \(name): \(lossError)")
    }
    if let name = error.parameterName {
        let option = names[name] ?? names.first { name.hasPrefix($0.key) }?.value
        if let option { return ValidationError("\(option): \(error)") }
    }
    return ValidationError("\(error)")
}

/// Parses a comma list of numbers for an option, naming it on failure.
func parseNumbers(_ text: String, option: String) throws -> [Double] {
    var out: [Double] = []
    for part in text.split(separator: ",") {
        let s = part.trimmingCharacters(in: .whitespaces)
        guard let x = Double(s), x.isFinite else {
            throw ValidationError("\(option): '\(s)' is not a finite number (expected a comma list such as 0.1,0.5)")
        }
        out.append(x)
    }
    if out.isEmpty { throw ValidationError("\(option): empty list") }
    return out
}
