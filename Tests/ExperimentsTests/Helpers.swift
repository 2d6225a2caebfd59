import GSLKit
import LossMath
import Experiments

/// The bit patterns of every field of every record, so equality is bit-for-bit
/// (NaN == NaN, +0 != -0) rather than IEEE equality.
func bitPatterns(_ ms: [StepMetrics]) -> [[UInt64]] {
    ms.map { [UInt64(bitPattern: Int64($0.step))] + $0.metricValues.map(\.bitPattern) }
}

/// `|a - b| <= abs + rel * max(|a|, |b|)`.
func close(_ a: Double, _ b: Double, abs: Double = 0, rel: Double = 1e-9) -> Bool {
    Swift.abs(a - b) <= abs + rel * Swift.max(Swift.abs(a), Swift.abs(b))
}

/// The error a throwing expression threw, as an ExperimentError (nil when none).
func experimentError(_ body: () throws -> Void) -> ExperimentError? {
    do { try body(); return nil } catch let e as ExperimentError { return e } catch { return nil }
}

/// A small tabular problem where every pair of every prompt is observed.
func fullyObserved(prompts: Int = 3, responses: Int = 4, beta: Double = 0.5, labels: SimulationConfig.Labels = .hard,
                   seed: UInt64 = 7, policy: SimulationConfig.Policy = .tabular, features: Int = 3) -> SimulationConfig {
    SimulationConfig(policy: policy, prompts: prompts, responses: responses,
                     pairsPerPrompt: SimulationConfig.distinctPairs(responses: responses), features: features,
                     referenceSpread: 1, rewardSpread: 1, rewardNoise: 0, labels: labels,
                     pairSampling: .fromReference, beta: beta, seed: seed)
}
