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
    /// on it). Its row holds ``SequenceRunSummary``'s metrics; `win_rate_vs_dpo` is not
    /// recorded (it needs DPO's run of the same cell).
    static func sequenceRun(_ run: SweepRun, of spec: SweepSpec, threads: Int) throws(ExperimentError) -> SweepRunResult {
        let (config, training) = spec.sequenceConfiguration(for: run)
        let trainer = try SequenceTrainer(environment: try SequenceEnvironment(config), config: training)
        return SweepRunResult(run: run, sequenceSummary: trainer.run(threads: Swift.max(1, threads)).summary)
    }
}
