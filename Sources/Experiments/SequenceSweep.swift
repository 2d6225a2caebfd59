import GSLKit
import LossMath

/// The sequence level of a sweep (``SweepLevel/sequence``, docs/theory.md §5.2): each run
/// generates the ``SequenceEnvironment`` of its grid point and trains its loss on it with
/// ``SequenceTrainer``, exactly as `report train --policy markov|shared` does for that
/// configuration and loss. Runs with the same seed and environment axes share the
/// reference, rewards, pairs and labels (the streams of ``SequenceRandomStream``), so
/// comparisons across losses are paired.
///
/// See also: ``SweepSpec``, ``SweepLevel``, ``SequenceRuns``.
extension SweepSpec {
    /// The sequence-level configuration and training configuration of `run` (a run of a
    /// sequence-level spec; the base ``sequence`` otherwise defaults). The training's target
    /// is the environment's gap (``SequenceConfig/target``), as `report train` sets it.
    public func sequenceConfiguration(for run: SweepRun) -> (sequence: SequenceConfig, training: TrainingConfig) {
        var s = sequence ?? SequenceConfig(), t = training
        for (axis, value) in zip(run.level.axes, run.values) { axis.apply(value, to: &s, &t) }
        t.target = .rewardModel
        return (s, t)
    }

    /// Checks one combination of a sequence-level grid's values, without generating anything:
    /// the configuration (``SequenceConfig/validate()``), then the training as the sequence
    /// trainer checks it (full batch only).
    static func validate(sequence: SequenceConfig, training: TrainingConfig, axes: [SweepAxis],
                         values: [SweepValue]) throws(ExperimentError) {
        var s = sequence, t = training
        for (axis, value) in zip(axes, values) { axis.apply(value, to: &s, &t) }
        t.target = .rewardModel
        try s.validate()
        let standIn = SimulationConfig(prompts: s.prompts, responses: 2, pairsPerPrompt: s.pairsPerPrompt,
                                       rewardSpread: 1, rewardNoise: 0, beta: s.beta)
        try t.validate(for: standIn)
        if let b = t.batchSize {
            try require(b == s.pairCount, "batch size", "\(b)",
                        "the full batch P*n = \(s.pairCount): the sequence trainer is full batch (leave it unset)")
        }
    }
}

extension Sweep {
    /// Trains one sequence-level run on up to `threads` threads (the results do not depend
    /// on it). Its row holds ``SequenceRunSummary``'s metrics and `win_rate_vs_dpo`.
    ///
    /// **`win_rate_vs_dpo`** (design): a sweep run trains one loss, so the policy DPO
    /// (`sigmoid`) trains on the same data is obtained by training `sigmoid` on the run's own
    /// environment with the run's own settings (its configuration with the loss replaced:
    /// same cell, same seed, same data, labels and optimiser). Training is deterministic, so
    /// this policy is bit for bit the one of the sweep's `sigmoid` run of that cell and seed,
    /// and the one `report train --losses sigmoid,<loss>` compares with. The value is then
    /// computed exactly as ``SequenceRuns/train(_:environment:threads:)`` computes it: the
    /// win rate under the true reward of the run's final policy against DPO's
    /// (``WinRate/compute(policy:against:reward:samplesPerPrompt:seed:)``: exact when
    /// `V^T <= 2^20`, else Monte Carlo on the ``SequenceRandomStream/winRate`` stream), only
    /// when both runs ended `ok` (else an empty cell). The `sigmoid` row is DPO against
    /// itself: exactly 1/2 by definition (for identical policies `P(r(y) > r(y')) =
    /// P(r(y) < r(y'))` by symmetry, so `P(>) + P(=)/2 = 1/2`), written as `0.5`.
    /// `report train` computes that entry instead, so its DPO row reads 1/2 up to the
    /// rounding of the enumeration's sums (e.g. `0.4999999999999999`), or a Monte Carlo
    /// estimate of 1/2 when `V^T > 2^20`; every other row equals `report train`'s bit for bit.
    ///
    /// Cost: up to one extra DPO training per run. Within one process `dpoCache` holds DPO's
    /// result per (configuration, training settings), so each (cell, seed) trains DPO at most
    /// once per process while the cache holds it (a bounded budget, ``SequenceDPOCache``);
    /// a sweep whose losses include `sigmoid` then costs about what it did, a sweep without
    /// it up to twice as much, and shards each train the DPO runs their cells need. Results
    /// never depend on the cache, the run order, the shard or the thread count.
    static func sequenceRun(_ run: SweepRun, of spec: SweepSpec, threads: Int,
                            dpoCache: SequenceDPOCache? = nil) throws(ExperimentError) -> SweepRunResult {
        let (config, training) = spec.sequenceConfiguration(for: run)
        let threads = Swift.max(1, threads)
        let environment = try SequenceEnvironment(config)
        var dpoTraining = training
        dpoTraining.loss = .sigmoid
        let key = SequenceDPOCache.Key(sequence: config, training: dpoTraining)
        // DPO's run on this environment: from the cache, or trained here (and cached).
        func dpo() throws(ExperimentError) -> SequenceDPOCache.Entry {
            if let hit = dpoCache?.entry(key) { return hit }
            let r = try SequenceTrainer(environment: environment, config: dpoTraining).run(threads: threads)
            let entry = SequenceDPOCache.Entry(summary: r.summary, finalLogPolicy: r.finalLogPolicy)
            dpoCache?.insert(entry, for: key)
            return entry
        }
        let own: SequenceDPOCache.Entry
        if training.loss == .sigmoid {
            own = try dpo()
        } else {
            let r = try SequenceTrainer(environment: environment, config: training).run(threads: threads)
            own = SequenceDPOCache.Entry(summary: r.summary, finalLogPolicy: r.finalLogPolicy)
        }
        var summary = own.summary
        if summary.status == .ok && training.loss == .sigmoid {
            summary.winRateVersusDPO = 0.5
        } else if summary.status == .ok, let reference = try? dpo(), reference.summary.status == .ok {
            let space = environment.space
            let pi = MarkovPolicy(space: space, normalizedLogProbabilities: own.finalLogPolicy)
            let dpoPolicy = MarkovPolicy(space: space, normalizedLogProbabilities: reference.finalLogPolicy)
            let seed = RandomGenerator.derivedSeed(config.seed, SequenceRandomStream.winRate.rawValue)
            summary.winRateVersusDPO = WinRate.compute(policy: pi, against: dpoPolicy, reward: environment.reward,
                                                       samplesPerPrompt: config.winRateSamplesPerPrompt, seed: seed).value
        }
        return SweepRunResult(run: run, sequenceSummary: summary)
    }
}
