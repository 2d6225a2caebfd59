import Dispatch
import GSLKit
import LossMath
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A grid of training runs, one list of values per ``SweepAxis`` (losses × betas × reward
/// noises × seeds), on a base simulation and base training configuration.
///
/// Runs are enumerated in a fixed order (loss outermost, then beta, noise, seed, each in the
/// order given) and numbered `0..<count`; the number is the run id. The same spec always
/// gives the same ids, so shards, partial outputs and resumed sweeps can be merged by id.
///
/// Each run trains `training` with its loss on the environment of `simulation` with its beta,
/// reward noise and seed. Runs that share a seed share the reference, the rewards and the
/// pairs (the streams are independent, see ``RandomStream``), so comparisons across losses
/// and betas are paired.
///
/// See also: ``Sweep``, ``SweepRun``, ``SweepRunResult``, ``SweepAggregate``.
public struct SweepSpec: Sendable, Hashable, Codable {
    /// The values of each axis, in the order given (an axis with no entry has no values).
    public var grid: [SweepAxis: [SweepValue]]
    /// The base simulation; the axes' values replace its fields per run.
    public var simulation: SimulationConfig
    /// The base training configuration; the axes' values replace its fields per run.
    public var training: TrainingConfig
    /// The base sequence-level configuration, for a sweep of the sequence level (nil: the
    /// tabular level, on ``simulation``). The axes' values replace its fields per run.
    public var sequence: SequenceConfig?

    public init(grid: [SweepAxis: [SweepValue]], simulation: SimulationConfig = SimulationConfig(),
                training: TrainingConfig = TrainingConfig(loss: .spo), sequence: SequenceConfig? = nil) {
        self.grid = grid
        self.simulation = simulation
        self.training = training
        self.sequence = sequence
    }

    /// The sweep's level: ``SweepLevel/sequence`` when it has a base ``sequence`` configuration.
    public var level: SweepLevel {
        SweepLevel(sequence == nil ? .tabular : .sequence, learningRate: !values(of: .learningRate).isEmpty)
    }

    /// The level's axes, in enumeration order.
    public var axes: [SweepAxis] { level.axes }

    public init(losses: [Loss], betas: [Double], rewardNoises: [Double], seeds: [UInt64],
                simulation: SimulationConfig = SimulationConfig(),
                training: TrainingConfig = TrainingConfig(loss: .spo)) {
        self.init(grid: [.loss: losses.map { .loss($0) }, .beta: betas.map { .real($0) },
                         .rewardNoise: rewardNoises.map { .real($0) }, .seed: seeds.map { .seed($0) }],
                  simulation: simulation, training: training)
    }

    /// The values of `axis`, in order.
    public func values(of axis: SweepAxis) -> [SweepValue] { grid[axis] ?? [] }

    /// Number of runs, the product of the axes' list lengths.
    public var runCount: Int { axes.reduce(1) { $0 * values(of: $1).count } }

    /// Checks the grid (non-empty lists without repeats, values of each axis's type) and
    /// every combination of the non-replicate axes' configuration, naming the first bad
    /// parameter.
    public func validate() throws(ExperimentError) {
        var count = 1, overflow = false
        for axis in SweepAxis.allCases where !axes.contains(axis) {
            try require(values(of: axis).isEmpty, axis.listName, values(of: axis).map(\.description).joined(separator: ","),
                        "no values: a \(level.rawValue)-level sweep has no \(axis.column) axis")
        }
        for axis in axes {
            let xs = values(of: axis)
            try require(!xs.isEmpty, axis.listName, "[]", "at least one value")
            var seen = Set<SweepValue>()
            for x in xs {
                try require(x.kind == axis.kind, axis.listName, "\(x)", "a value of the axis's type")
                try require(seen.insert(x).inserted, axis.listName, "\(x) (repeated)", "distinct values")
            }
            let (c, o) = count.multipliedReportingOverflow(by: xs.count)
            count = c
            overflow = overflow || o
        }
        try require(!overflow && count <= 1 << 40, "sweep size",
                    axes.map { String(values(of: $0).count) }.joined(separator: " x "), "at most 2^40 runs")
        // Configuration errors depend on the non-replicate axes only; the loss innermost so
        // that a simulation is checked before the losses on it.
        let checked = axes.filter { !$0.isReplicate && $0 != .loss } + [.loss]
        if let sequence {
            for combination in product(checked) {
                try Self.validate(sequence: sequence, training: training, axes: checked, values: combination)
            }
            return
        }
        for combination in product(checked) {
            var sim = simulation, t = training
            for (axis, value) in zip(checked, combination) { axis.apply(value, to: &sim, &t) }
            try sim.validate()
            try t.validate(for: sim)
        }
    }

    /// Every combination of the values of `axes`, the first axis outermost.
    func product(_ axes: [SweepAxis]) -> [[SweepValue]] {
        axes.reduce([[]]) { partial, axis in partial.flatMap { prefix in values(of: axis).map { prefix + [$0] } } }
    }

    /// All runs in id order (the first axis outermost). Validates first.
    public func runs() throws(ExperimentError) -> [SweepRun] {
        try validate()
        let level = self.level
        return product(axes).enumerated().map { SweepRun(id: $0.offset, values: $0.element, level: level) }
    }

    /// The simulation and training configuration of `run`.
    public func configuration(for run: SweepRun) -> (simulation: SimulationConfig, training: TrainingConfig) {
        var sim = simulation, t = training
        for (axis, value) in zip(run.level.axes, run.values) { axis.apply(value, to: &sim, &t) }
        return (sim, t)
    }
}

/// Typed views of the built-in axes.
extension SweepSpec {
    public var losses: [Loss] {
        get { values(of: .loss).compactMap(\.loss) }
        set { grid[.loss] = newValue.map { .loss($0) } }
    }
    public var betas: [Double] {
        get { values(of: .beta).compactMap(\.real) }
        set { grid[.beta] = newValue.map { .real($0) } }
    }
    public var rewardNoises: [Double] {
        get { values(of: .rewardNoise).compactMap(\.real) }
        set { grid[.rewardNoise] = newValue.map { .real($0) } }
    }
    public var seeds: [UInt64] {
        get { values(of: .seed).compactMap(\.seedValue) }
        set { grid[.seed] = newValue.map { .seed($0) } }
    }
}

/// One run of a sweep, identified by its id (its position in ``SweepSpec/runs()``).
public struct SweepRun: Sendable, Hashable, Codable {
    public var id: Int
    /// One value per axis, in the order of the level's axes (``SweepLevel/axes``).
    public var values: [SweepValue]
    /// The sweep's level, which names the axes of ``values``.
    public var level: SweepLevel

    public init(id: Int, values: [SweepValue], level: SweepLevel = .tabular) {
        self.id = id
        self.values = values
        self.level = level
    }

    public init(id: Int, loss: Loss, beta: Double, rewardNoise: Double, seed: UInt64) {
        self.init(id: id, values: [.loss(loss), .real(beta), .real(rewardNoise), .seed(seed)])
    }

    /// The value on `axis`.
    public func value(_ axis: SweepAxis) -> SweepValue? {
        guard let k = level.axes.firstIndex(of: axis), k < values.count else { return nil }
        return values[k]
    }

    public var loss: Loss { value(.loss)?.loss ?? .sigmoid }
    public var beta: Double { value(.beta)?.real ?? .nan }
    public var rewardNoise: Double { value(.rewardNoise)?.real ?? .nan }
    public var seed: UInt64 { value(.seed)?.seedValue ?? 0 }

    /// The id's column.
    static let idColumn = "run_id"

    /// The tabular level's columns: `run_id, loss, beta, reward_noise, seed`.
    public static var columnNames: [String] { columnNames(.tabular) }

    /// `run_id`, then one column per axis of `level`.
    public static func columnNames(_ level: SweepLevel) -> [String] { [idColumn] + level.axes.map(\.column) }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ColumnKey.self)
        try c.encode(id, forKey: ColumnKey(Self.idColumn))
        var a = encoder.container(keyedBy: SweepAxis.self)
        for (axis, value) in zip(level.axes, values) { try value.encode(to: &a, key: axis) }
    }

    /// Reads a row back; a row with a `policy` column is of the sequence level.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ColumnKey.self)
        let a = try decoder.container(keyedBy: SweepAxis.self)
        let level = SweepLevel.of(a)
        self.init(id: try c.decode(Int.self, forKey: ColumnKey(Self.idColumn)),
                  values: try level.axes.map { try $0.decode(from: a, key: $0) }, level: level)
    }
}

/// A finished run: its identity and its summary. One row of the sweep's per-run CSV.
///
/// A tabular run's metrics are its ``summary``; a sequence-level run's are its
/// ``sequenceSummary`` (its ``summary`` then carries the loss, the status and the fields the
/// two share: final regret, KL and true reward, min log pi_l, max h, max gradient norm).
public struct SweepRunResult: Sendable, Hashable, Codable {
    public var run: SweepRun
    public var summary: RunSummary
    /// The sequence-level summary (nil for a tabular run).
    public var sequenceSummary: SequenceRunSummary?

    public init(run: SweepRun, summary: RunSummary) {
        self.run = run
        self.summary = summary
        self.sequenceSummary = nil
    }

    /// A sequence-level run's result.
    public init(run: SweepRun, sequenceSummary s: SequenceRunSummary) {
        self.run = run
        self.summary = RunSummary(loss: s.loss, finalRegret: s.finalRegret, finalKLRef: s.finalKLRef,
                                  finalExpectedReward: s.finalExpectedReward, minLogpRejected: s.minLogpRejected,
                                  meanAbsHMinusTarget: .nan, maxH: s.maxH, unseenMass: .nan, maxGradNorm: s.maxGradNorm,
                                  maxLog10AbsDPRejected: .nan, status: s.status)
        self.sequenceSummary = s
    }

    /// `ok` or `diverged at step N`.
    public var status: RunStatus { sequenceSummary?.status ?? summary.status }

    /// Equal when the run, the status and the metrics' bits are: a NaN metric (an empty
    /// cell) equals itself, so a result equals its own copy read back from a row.
    public static func == (a: SweepRunResult, b: SweepRunResult) -> Bool {
        a.run == b.run && a.summary.loss == b.summary.loss && a.status == b.status
            && a.metricValues.map(\.bitPattern) == b.metricValues.map(\.bitPattern)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(run)
        hasher.combine(metricValues.map(\.bitPattern))
    }

    /// The metrics in the order of ``SweepLevel/metricColumnNames`` of the run's level.
    public var metricValues: [Double] {
        if let s = sequenceSummary { return SequenceRunSummary.metricFields.map { s[keyPath: $0.field] } + [s.winRateVersusDPO ?? .nan] }
        return summary.metricValues
    }

    /// The status column (``RunStatus``: `ok` or `diverged at step N`), last.
    static let statusColumn = "status"

    /// The tabular level's columns (``columnNames(_:)``).
    public static var columnNames: [String] { columnNames(.tabular) }

    /// ``SweepRun/columnNames(_:)``, then the level's ``SweepLevel/metricColumnNames``, then
    /// `status` (last, so the other columns keep their positions).
    public static func columnNames(_ level: SweepLevel) -> [String] {
        SweepRun.columnNames(level) + level.metricColumnNames + [statusColumn]
    }

    /// One flat table row: the run's columns, the summary's metrics, then its status.
    public func encode(to encoder: any Encoder) throws {
        try run.encode(to: encoder)
        var c = encoder.container(keyedBy: ColumnKey.self)
        if let s = sequenceSummary {
            for f in SequenceRunSummary.metricFields { try c.encode(s[keyPath: f.field], forKey: ColumnKey(f.name)) }
            try c.encode(s.winRateVersusDPO ?? .nan, forKey: ColumnKey(SweepLevel.winRateVersusDPOColumn))
        } else {
            try summary.encodeMetrics(to: encoder)
        }
        try c.encode(status, forKey: ColumnKey(Self.statusColumn))
    }

    /// Reads a row back by column name (empty metrics are NaN; the status is required).
    public init(from decoder: any Decoder) throws {
        let run = try SweepRun(from: decoder)
        let c = try decoder.container(keyedBy: ColumnKey.self)
        let status = try c.decode(RunStatus.self, forKey: ColumnKey(Self.statusColumn))
        if run.level.isSequence {
            var s = SequenceRunSummary(loss: run.loss, metrics: [], status: status)
            for f in SequenceRunSummary.metricFields {
                s[keyPath: f.field] = try c.decodeIfPresent(Double.self, forKey: ColumnKey(f.name)) ?? .nan
            }
            s.winRateVersusDPO = try c.decodeIfPresent(Double.self, forKey: ColumnKey(SweepLevel.winRateVersusDPOColumn))
                .flatMap { $0.isNaN ? nil : $0 }
            self.init(run: run, sequenceSummary: s)
        } else {
            var summary = try RunSummary(loss: run.loss, metricsFrom: decoder)
            summary.status = status
            self.init(run: run, summary: summary)
        }
    }
}

/// Running, sharding and aggregating sweeps. No files, no terminal: the CLI does those.
public enum Sweep {

    /// The runs `i, i+n, i+2n, ...` of `runs` (by position), for shard `i` of `n`. The `n`
    /// shards partition `runs` exactly, and interleaving balances losses across shards.
    ///
    /// - Throws: ``ExperimentError/invalidParameter(name:value:requirement:)`` unless
    ///   `n >= 1` and `0 <= i < n`.
    public static func shard(_ runs: [SweepRun], index i: Int, count n: Int) throws(ExperimentError) -> [SweepRun] {
        try require(n >= 1, "shard count n", "\(n)", "n >= 1 (shard i/n)")
        try require(i >= 0 && i < n, "shard index i", "\(i)", "0 <= i < n = \(n) (shard i/n)")
        return Swift.stride(from: i, to: runs.count, by: n).map { runs[$0] }
    }

    /// The number of online processors (at least 1).
    public static var processorCount: Int {
        Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Trains one run of `spec` (validated by ``SweepSpec/runs()``).
    public static func run(_ run: SweepRun, of spec: SweepSpec) throws(ExperimentError) -> SweepRunResult {
        try Self.run(run, of: spec, threads: Sweep.processorCount)
    }

    /// ``run(_:of:)`` with at most `threads` threads inside the training (results do not
    /// depend on it; see ``Trainer/threads``).
    static func run(_ run: SweepRun, of spec: SweepSpec, threads: Int,
                    dpoCache: SequenceDPOCache? = nil) throws(ExperimentError) -> SweepRunResult {
        if run.level.isSequence { return try sequenceRun(run, of: spec, threads: threads, dpoCache: dpoCache) }
        let (sim, training) = spec.configuration(for: run)
        let trainer = try Trainer(environment: try Environment(sim), config: training)
        trainer.threads = threads
        return SweepRunResult(run: run, summary: trainer.run().summary)
    }

    /// Trains `runs` on up to `workers` threads and returns their results ordered by run
    /// id, whatever order they finish in, so the output is identical to a serial run.
    ///
    /// Each worker takes the next unstarted run, builds its own environment, generator and
    /// trainer, and stores the result in that run's slot.
    ///
    /// - Parameters:
    ///   - workers: threads to use; default ``processorCount``. 1 runs serially on the caller.
    ///   - progress: called after each finished run with `(completed, total)`. Calls come
    ///     from worker threads, one at a time (serialised by a lock), with `completed`
    ///     increasing by one each call.
    ///   - finished: called with each run's result as soon as it finishes (before
    ///     `progress`), from worker threads, one at a time under the same lock: the place
    ///     to journal runs as they complete.
    /// - Returns: one result per run. A run that throws is a result with status
    ///   ``RunStatus/failed(reason:)`` and no metrics; the other runs are unaffected.
    /// - Throws: validation errors of `spec`, before any run starts.
    public static func run(_ spec: SweepSpec, runs: [SweepRun], workers: Int = Sweep.processorCount,
                           progress: (@Sendable (_ completed: Int, _ total: Int) -> Void)? = nil,
                           finished: (@Sendable (SweepRunResult) -> Void)? = nil) throws(ExperimentError) -> [SweepRunResult] {
        try spec.validate()
        let ordered = runs.sorted { $0.id < $1.id }
        let total = ordered.count
        let state = SweepWorkQueue(total: total)
        let threads = Swift.max(1, Swift.min(workers, total))
        // Runs side by side each train on one thread; a lone worker may split its training.
        let inner = threads == 1 ? Swift.max(1, workers) : 1
        // DPO's runs, shared by the runs of a sequence-level cell that need them (win_rate_vs_dpo).
        let dpoCache = spec.level.isSequence ? SequenceDPOCache() : nil
        let work: @Sendable (Int) -> Void = { _ in
            while let k = state.claim() {
                // A run that throws (its data defeat its loss, e.g. spo_asym on a zero reward
                // gap) becomes a failed row; the sweep goes on (``SweepRunResult/init(run:failure:)``).
                let result: SweepRunResult
                do { result = try Sweep.run(ordered[k], of: spec, threads: inner, dpoCache: dpoCache) } catch {
                    result = SweepRunResult(run: ordered[k], failure: error)
                }
                state.finish(k, .success(result), progress, finished)
            }
        }
        if threads == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: threads, execute: work)
        }
        return try state.results()
    }

}
