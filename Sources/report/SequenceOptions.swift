import ArgumentParser
import Experiments
import Foundation

/// `--policy`: the tabular and log-linear simulated policies (docs/theory.md §5.1) and the
/// two sequence-level parameterisations (docs/theory.md §5.2).
///
/// See also: ``SimulationOptions``, ``SequenceOptions``.
enum PolicyChoice: String, ExpressibleByArgument, CaseIterable {
    case tabular, loglinear, markov, shared

    /// The tabular-trainer family, or nil for a sequence-level policy.
    var tabularPolicy: SimulationConfig.Policy? {
        switch self {
        case .tabular: return .tabular
        case .loglinear: return .loglinear
        case .markov, .shared: return nil
        }
    }

    /// The sequence-level parameterisation, or nil for the tabular and log-linear policies.
    var sequenceParameterisation: SequenceConfig.Parameterisation? {
        switch self {
        case .markov: return .markov
        case .shared: return .shared
        case .tabular, .loglinear: return nil
        }
    }
}

/// The options of the sequence-level simulation (`--policy markov|shared`,
/// docs/theory.md §5.2): responses of `T` tokens from `V`, a proxy reward
/// `r~ = r + lambda * #{t : y_t = k}` that labels the data, and the fitted reward model's L2.
///
/// Every field is optional so that `report train` can tell a given option from a default:
/// with the tabular or log-linear policy a given sequence option is rejected, never ignored.
/// Defaults are ``Experiments/SequenceConfig``'s.
struct SequenceOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Vocabulary V >= 2 (markov/shared only; default \(SequenceConfig().vocabulary)).")
    var vocab: Int?
    @Option(parsing: .unconditional, help: "Tokens per response T >= 1 (markov/shared only; default \(SequenceConfig().length)).")
    var length: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Proxy bias lambda in [-1e150, 1e150] (markov/shared only; default 0, the well-specified case).",
        discussion: "The labels come from r~ = r + lambda * (number of occurrences of the spurious token)."))
    var proxyBias: Double?
    @Option(parsing: .unconditional, help: "The spurious token k in 0..<V whose count the proxy rewards (markov/shared only; default 0).")
    var spuriousToken: Int?
    @Option(name: .customLong("rm-l2"), parsing: .unconditional,
            help: "L2 strength in [0, 1e150] of the reward model fitted for --target fitted (markov/shared only; default \(shortText(SequenceConfig().rewardModelL2))).")
    var rmL2: Double?

    /// The ranges of the real-valued options (the rest is checked by ``Experiments/SequenceConfig/validate()``).
    func validate() throws {
        if let proxyBias {
            try checkRange("--proxy-bias", proxyBias, -optionMagnitudeBound...optionMagnitudeBound, "a number")
        }
        if let rmL2 { try checkRange("--rm-l2", rmL2, 0...optionMagnitudeBound, "a number") }
    }

    /// The options given on the command line, by name.
    var given: [String] {
        var names: [String] = []
        if vocab != nil { names.append("--vocab") }
        if length != nil { names.append("--length") }
        if proxyBias != nil { names.append("--proxy-bias") }
        if spuriousToken != nil { names.append("--spurious-token") }
        if rmL2 != nil { names.append("--rm-l2") }
        return names
    }
}

extension SimulationOptions {
    /// The options of the tabular and log-linear policies that a sequence-level policy does
    /// not have, when set to other than their defaults (a default value is harmless).
    var tabularOnlyGiven: [String] {
        let d = SimulationConfig()
        var names: [String] = []
        if responses != d.responses { names.append("--responses") }
        if features != d.features { names.append("--features") }
        if pairSampling != d.pairSampling { names.append("--pair-sampling") }
        return names
    }

    /// Throws unless the policy is tabular or log-linear: `command` has no sequence level.
    func requireTabular(_ command: String) throws {
        guard policy.tabularPolicy != nil else {
            throw ValidationError("--policy \(policy.rawValue): \(command) takes the tabular and loglinear policies; "
                                  + "train the sequence-level policies with `report train --policy \(policy.rawValue)`")
        }
    }
}

extension OptimizerOptions {
    /// Throws unless `--target` is one of the tabular trainer's (true, model, constant).
    func requireTabularTarget() throws {
        if let target, target.isSequenceOnly {
            throw ValidationError("--target \(target.rawValue) applies to --policy markov|shared; "
                                  + "the tabular and loglinear policies take true, model or constant")
        }
    }
}
