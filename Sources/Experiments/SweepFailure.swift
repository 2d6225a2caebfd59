import LossMath

/// A run of a sweep that could not be trained: its trainer threw (for example `spo_asym`
/// when a pair's reward gap is 0, which its target `z = beta h / dr` divides by; this
/// happens at tiny `V`, `T`, where both responses of a pair can be equal).
///
/// Such a run is a row like any other, with status `failed: <reason>` (``RunStatus/failed(reason:)``)
/// and empty metric cells; the sweep goes on with the other runs. Aggregates leave it out of
/// the means and intervals and count it with the diverged runs (``SweepAggregate/diverged``).
/// A failure is deterministic (same spec, same reason), so it is journalled and not
/// retried on resume, and shards holding failed rows merge byte-exact.
///
/// See also: ``Sweep/run(_:runs:workers:progress:finished:)``, ``RunStatus``.
extension SweepRunResult {
    /// The failed row of `run`: no metrics (NaN, written as empty cells), status
    /// ``RunStatus/failed(_:)`` of `error`.
    public init(run: SweepRun, failure error: some Error) {
        let status = RunStatus.failed(error)
        if run.level.isSequence {
            self.init(run: run, sequenceSummary: SequenceRunSummary(loss: run.loss, metrics: [], status: status))
        } else {
            self.init(run: run, summary: RunSummary(loss: run.loss, metrics: [], status: status))
        }
    }
}

extension Sweep {
    /// The runs of `results` that failed (status ``RunStatus/failed(reason:)``), in order.
    public static func failures(_ results: [SweepRunResult]) -> [SweepRunResult] {
        results.filter { $0.status.isFailed }
    }
}
