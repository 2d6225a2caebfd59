import ArgumentParser
import Experiments
import Foundation
import LossMath

/// The sequence-level axes of `report sweep` (docs/theory.md §5.2): comma lists of
/// policies, targets, proxy biases, spurious tokens, vocabularies, lengths and reward-model
/// L2 strengths. Each is optional: unset, the axis has one value (`--policy`, `--target`, or
/// ``Experiments/SequenceConfig``'s default). With the tabular or log-linear policy a given
/// sequence axis is refused, never ignored.
///
/// A sweep never mixes levels: tabular/loglinear runs and markov/shared runs record
/// different metrics, so `--policies tabular,markov` is refused (run two sweeps).
///
/// See also: ``Experiments/SweepLevel``, ``SequenceOptions`` (`report train`'s single values).
struct SweepSequenceOptions: ParsableArguments {
    @Option(help: "Comma list of sequence-level policies: markov, shared (default: --policy). A sweep is either tabular/loglinear or markov/shared, never both.")
    var policies: String?
    @Option(help: "Comma list of targets of the reward-aware losses (markov/shared): true (the oracle: an upper bound), proxy, fitted (default: --target, else fitted).")
    var targets: String?
    @Option(parsing: .unconditional, help: "Comma list of proxy biases lambda in [-1e150, 1e150] (markov/shared; default 0).")
    var proxyBiases: String?
    @Option(parsing: .unconditional, help: "Comma list of spurious tokens k in 0..<V (markov/shared; default 0).")
    var spuriousTokens: String?
    @Option(parsing: .unconditional, help: "Comma list of vocabularies V >= 2 (markov/shared; default \(SequenceConfig().vocabulary)).")
    var vocabs: String?
    @Option(parsing: .unconditional, help: "Comma list of response lengths T >= 1 (markov/shared; default \(SequenceConfig().length)).")
    var lengths: String?
    @Option(name: .customLong("rm-l2s"), parsing: .unconditional, help: "Comma list of the fitted reward model's L2 strengths in [0, 1e150] (markov/shared; default \(shortText(SequenceConfig().rewardModelL2))).")
    var rmL2s: String?

    /// The sequence-only options given, by name (`--policies` is not one: it may name a tabular policy).
    var given: [String] {
        [("--targets", targets), ("--proxy-biases", proxyBiases), ("--spurious-tokens", spuriousTokens),
         ("--vocabs", vocabs), ("--lengths", lengths), ("--rm-l2s", rmL2s)].compactMap { $0.1 == nil ? nil : $0.0 }
    }

    /// The policy list: `--policies` if given (all of one level), else `--policy` (tabular
    /// when not given). `--policy` and `--policies` together are refused, naming both,
    /// whatever their values (`--policy tabular --policies markov` mixes levels).
    func policyList(_ policy: PolicyChoice?) throws -> [PolicyChoice] {
        guard let policies else { return [policy ?? .tabular] }
        if let policy {
            throw ValidationError("--policy \(policy.rawValue) --policies \(policies): give --policy or --policies, not both "
                                  + "(--policies is the sweep's policy axis)")
        }
        var out: [PolicyChoice] = []
        for part in policies.split(separator: ",", omittingEmptySubsequences: false) {
            let s = part.trimmingCharacters(in: .whitespaces)
            guard let p = PolicyChoice(rawValue: s) else {
                throw ValidationError("--policies: '\(s)' is not a policy (tabular, loglinear, markov, shared)")
            }
            out.append(p)
        }
        let sequence = out.filter { $0.sequenceParameterisation != nil }
        if !sequence.isEmpty && sequence.count != out.count {
            throw ValidationError("--policies \(policies): a sweep is either tabular/loglinear or markov/shared, not both "
                                  + "(their runs record different metrics); run one sweep per level")
        }
        if sequence.isEmpty && out.count > 1 {
            throw ValidationError("--policies \(policies): a tabular sweep takes one policy (--policy tabular or loglinear); "
                                  + "only markov,shared form a policy axis")
        }
        return out
    }

    /// Comma list of integers for `option`.
    static func integers(_ text: String, option: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        return try parts.map { s in
            guard let k = Int(s) else { throw ValidationError("\(option): '\(s)' is not an integer (expected a comma list such as 4,8)") }
            return k
        }
    }

    /// The grid's sequence axes and the base configuration (P, n, spreads, labels from the
    /// simulation options), for `parameterisations`.
    func axes(_ parameterisations: [SequenceConfig.Parameterisation], target: TargetChoice?) throws -> [SweepAxis: [SweepValue]] {
        let d = SequenceConfig()
        var grid: [SweepAxis: [SweepValue]] = [.policy: parameterisations.map { .policy($0) }]
        let targetValues: [SequenceConfig.Target]
        if let targets {
            if target != nil { throw ValidationError("--targets: give --target or --targets, not both") }
            targetValues = try targets.split(separator: ",", omittingEmptySubsequences: false).map { part in
                let s = part.trimmingCharacters(in: .whitespaces)
                guard let t = SequenceConfig.Target(rawValue: s) else {
                    throw ValidationError("--targets: '\(s)' is not a sequence-level target (true, proxy, fitted)")
                }
                return t
            }
        } else {
            switch target {
            case .true?: targetValues = [.trueReward]
            case .proxy?: targetValues = [.proxy]
            case .fitted?, nil: targetValues = [.fitted]
            case .model?, .constant?:
                throw ValidationError("--target \(target?.rawValue ?? ""): applies to --policy tabular|loglinear; "
                                      + "the sequence-level policies take true (oracle), proxy or fitted")
            }
        }
        grid[.target] = targetValues.map { .target($0) }
        let biases = try proxyBiases.map { try parseNumbers($0, option: "--proxy-biases") } ?? [d.proxyBias]
        for b in biases { try checkRange("--proxy-biases", b, -optionMagnitudeBound...optionMagnitudeBound, "a number") }
        grid[.proxyBias] = biases.map { .real($0) }
        let l2s = try rmL2s.map { try parseNumbers($0, option: "--rm-l2s") } ?? [d.rewardModelL2]
        for x in l2s { try checkRange("--rm-l2s", x, 0...optionMagnitudeBound, "a number") }
        grid[.rmL2] = l2s.map { .real($0) }
        grid[.spuriousToken] = try (spuriousTokens.map { try Self.integers($0, option: "--spurious-tokens") } ?? [d.spuriousToken]).map { .integer($0) }
        grid[.vocab] = try (vocabs.map { try Self.integers($0, option: "--vocabs") } ?? [d.vocabulary]).map { .integer($0) }
        grid[.length] = try (lengths.map { try Self.integers($0, option: "--lengths") } ?? [d.length]).map { .integer($0) }
        return grid
    }
}

extension Report.SweepCommand {
    /// The sequence-level spec (`--policy`/`--policies` markov|shared): the options that do
    /// not apply are refused, every message names the option.
    func sequenceSpec(_ parameterisations: [SequenceConfig.Parameterisation], losses list: [Loss],
                      betas: [Double], noises: [Double]) throws -> SweepSpec {
        if let option = simulation.tabularOnlyGiven.first {
            throw ValidationError("\(option) applies to the tabular and loglinear policies only; "
                                  + "a sequence-level response is --lengths T tokens from --vocabs V")
        }
        if optimizer.batchSize != nil {
            throw ValidationError("--batch-size: the sequence-level trainer is full batch (leave --batch-size unset)")
        }
        if optimizer.constantGap != 1 {
            throw ValidationError("--constant-gap applies to --target constant, which the sequence-level policies do not take")
        }
        for b in betas { try checkRange("--betas", b, LossOptions.betaRange, "a number") }
        for s in noises { try checkRange("--reward-noises", s, SimulationOptions.spreadRange, "a number") }
        var grid = try sequenceAxes.axes(parameterisations, target: optimizer.target)
        grid[.loss] = list.map { .loss($0) }
        grid[.beta] = betas.map { .real($0) }
        grid[.rewardNoise] = noises.map { .real($0) }
        grid[.seed] = (1...seeds).map { .seed(UInt64($0)) }
        let d = SequenceConfig()
        let base = SequenceConfig(prompts: simulation.prompts, pairsPerPrompt: simulation.pairsPerPrompt ?? d.pairsPerPrompt,
                                  referenceSpread: simulation.referenceSpread, rewardSpread: simulation.rewardSpread ?? d.rewardSpread,
                                  labels: simulation.labels)
        var training = optimizer.training(loss: list[0])
        training.target = .rewardModel
        let spec = SweepSpec(grid: grid, training: training, sequence: base)
        do { try spec.validate() } catch { throw Self.sweepOptionError(error) }
        return spec
    }

    /// ``optionError(_:)`` with the sweep's list options named (`--vocabs` for `--vocab`, ...).
    static func sweepOptionError(_ error: ExperimentError) -> ValidationError {
        // A grid list's own error (empty, repeated, of the wrong type) names the list.
        if let name = error.parameterName, let axis = SweepLevel.sequence.axes.first(where: { $0.listName == name }) {
            let option = axis == .loss ? "--losses" : "--" + axis.manifestKey.replacingOccurrences(of: "_", with: "-")
            return ValidationError("\(option): \(error)")
        }
        var message = optionError(error).message
        let table = "--prompts, --vocab, --length:"
        if message.hasPrefix(table) { message = "--prompts, --vocabs, --lengths:" + message.dropFirst(table.count) }
        for (single, list) in [("--vocab", "--vocabs"), ("--length", "--lengths"), ("--proxy-bias", "--proxy-biases"),
                               ("--spurious-token", "--spurious-tokens"), ("--rm-l2", "--rm-l2s"),
                               ("--reward-noise", "--reward-noises"), ("--beta", "--betas")] where message.hasPrefix(single + ":") {
            return ValidationError(list + message.dropFirst(single.count))
        }
        return ValidationError(message)
    }
}
