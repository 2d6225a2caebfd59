import Dispatch
import GSLKit
import LossMath

/// Several losses trained on one ``SequenceEnvironment`` (the same pairs, labels and
/// targets for each: paired comparisons), and the win rate of each against DPO.
///
/// See also: ``SequenceTrainer``, ``SequenceRunSummary/winRateVersusDPO``.
public enum SequenceRuns {
    /// Trains every configuration in `configs` on `environment`, on up to `threads` threads
    /// (one run per thread at a time; threads left over when there are fewer runs than
    /// threads go to each run's blocked steps over prompts), and returns the results in the
    /// order of `configs`. Every run is deterministic and independent of its thread count, so
    /// the results do not depend on `threads`.
    ///
    /// When `configs` contains DPO (``LossMath/Loss/sigmoid``; the first such configuration
    /// if several), each run that ended `ok` gets ``SequenceRunSummary/winRateVersusDPO``:
    /// its final policy's win rate against DPO's final policy under the true reward
    /// (``WinRate/compute(policy:against:reward:samplesPerPrompt:seed:)``, exact when
    /// `V^T <= 2^20`, else Monte Carlo on the ``SequenceRandomStream/winRate`` stream). DPO's
    /// own row then has about 1/2. Without DPO in the list, or when DPO's run diverged, it
    /// stays nil.
    ///
    /// - Throws: ``ExperimentError`` naming the first invalid configuration's parameter,
    ///   before any training starts.
    public static func train(_ configs: [TrainingConfig], environment: SequenceEnvironment,
                             threads: Int = 1) throws(ExperimentError) -> [SequenceTrainingResult] {
        for c in configs { _ = try SequenceTrainer.targetGaps(config: c, environment: environment) }
        let count = configs.count
        let out = UnsafeMutableBufferPointer<SequenceTrainingResult?>.allocate(capacity: count)
        out.initialize(repeating: nil)
        defer { out.deinitialize(); out.deallocate() }
        let shared = UncheckedSendable(out)
        let workers = Swift.max(1, Swift.min(threads, count))
        let runThreads = Swift.max(1, threads / workers)   // spare threads go to each run's prompts
        let work: @Sendable (Int) -> Void = { k in
            var i = k
            while i < count {
                // Validated above; a failure here would be a bug, and leaves the slot nil.
                if let trainer = try? SequenceTrainer(environment: environment, config: configs[i]) {
                    shared.value[i] = trainer.run(threads: runThreads)
                }
                i += workers
            }
        }
        if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
        var results: [SequenceTrainingResult] = []
        for i in 0..<count {
            guard let r = out[i] else {
                throw ExperimentError.invalidParameter(name: "loss", value: configs[i].loss.rawValue,
                                                       requirement: "a configuration the sequence trainer accepts")
            }
            results.append(r)
        }
        if let d = configs.firstIndex(where: { $0.loss == .sigmoid }), results[d].summary.status == .ok {
            let space = environment.space
            let dpo = MarkovPolicy(space: space, normalizedLogProbabilities: results[d].finalLogPolicy)
            let seed = RandomGenerator.derivedSeed(environment.config.seed, SequenceRandomStream.winRate.rawValue)
            for i in results.indices where results[i].summary.status == .ok {
                let pi = MarkovPolicy(space: space, normalizedLogProbabilities: results[i].finalLogPolicy)
                results[i].summary.winRateVersusDPO = WinRate.compute(
                    policy: pi, against: dpo, reward: environment.reward,
                    samplesPerPrompt: environment.config.winRateSamplesPerPrompt, seed: seed).value
            }
        }
        return results
    }
}

/// The timing problem of issue 10: `P = 64`, `V = 32`, `T = 64`, `n = 16` (1024 pairs,
/// `P S V` = 4.1 million logits for `markov`), DPO (`sigmoid`) with Adam, full batch.
/// Building it (the environment, the trainer) is not timed; ``run(steps:)`` takes the
/// steps alone, with no metrics.
///
/// The target is ``SequenceConfig/Target/proxy``, so no reward model is fitted (DPO does
/// not read a gap).
public final class SequenceBenchmark {
    /// The problem's configuration for `parameterisation`.
    public static func problem(_ parameterisation: SequenceConfig.Parameterisation = .markov, seed: UInt64 = 1) -> SequenceConfig {
        SequenceConfig(parameterisation: parameterisation, prompts: 64, vocabulary: 32, length: 64, pairsPerPrompt: 16,
                       target: .proxy, heldOutPairsPerPrompt: 1, seed: seed)
    }

    public let trainer: SequenceTrainer

    /// Builds the problem and a trainer for `loss` at `pi_ref`.
    public init(_ parameterisation: SequenceConfig.Parameterisation = .markov, loss: Loss = .sigmoid,
                learningRate: Double = 0.01) throws(ExperimentError) {
        let env = try SequenceEnvironment(Self.problem(parameterisation))
        trainer = try SequenceTrainer(environment: env, config: TrainingConfig(loss: loss, learningRate: learningRate))
    }

    /// Pairs per step: `P n`.
    public var pairsPerStep: Int { trainer.pairCount }

    /// Takes `steps` full-batch steps; returns the mean loss at the last one's start
    /// (NaN if none), so the work cannot be optimised away.
    ///
    /// - Parameters:
    ///   - threads: threads over prompts (the blocked path only; the same bits for any count).
    ///   - blocked: true (default) takes the steps as one block of temporal blocking
    ///     (``SequenceTrainer/blockedSteps(to:threads:)``, as a run between two logged steps
    ///     does); false takes them one by one on the step path (the same bits; for comparison).
    @discardableResult
    public func run(steps: Int, threads: Int = 1, blocked: Bool = true) -> Double {
        if blocked && trainer.blockingApplies {
            trainer.blockedSteps(to: trainer.stepCount + steps, threads: threads)
            return steps > 0 ? trainer.lastStepLoss : .nan
        }
        var last = Double.nan
        for _ in 0..<steps {
            trainer.step()
            last = trainer.lastStepLoss
        }
        return last
    }
}
