import LossMath

/// The level of a sweep: which trainer its runs use and which axes (columns) it has.
///
/// A sweep never mixes levels: the tabular and log-linear policies (``Trainer``) and the
/// sequence-level policies (``SequenceTrainer``) record different metrics, so each level has
/// its own runs.csv columns. The tabular level's columns and bytes are those of sweeps
/// before the sequence level existed.
///
/// **The learning-rate axis** (design decision): a grid may vary the learning rate
/// (`report sweep --lrs`, either level). Its column, `learning_rate`, just before `seed`,
/// exists only when the grid has that axis (``hasLearningRate``), so a sweep without `--lrs`
/// keeps its columns, manifest and bytes; a sweep with it has the column in runs.csv and
/// aggregate.csv, a `learning_rates=` manifest line, the axis in sweep.md and its figures.
/// The level of a file is read back from its columns (`policy`, `learning_rate`) or its
/// manifest lines.
///
/// See also: ``SweepAxis``, ``SweepSpec/level``.
public struct SweepLevel: Sendable, Hashable, Codable {
    /// Which trainer the runs use.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// ``Trainer`` on the tabular or log-linear policy.
        case tabular
        /// ``SequenceTrainer`` (docs/theory.md §5.2).
        case sequence
    }

    public var kind: Kind
    /// True when the grid has a ``SweepAxis/learningRate`` axis (and so its column).
    public var hasLearningRate: Bool

    public init(_ kind: Kind, learningRate: Bool = false) {
        self.kind = kind
        hasLearningRate = learningRate
    }

    /// ``Trainer`` on the tabular or log-linear policy: `loss, beta, reward_noise, seed`.
    public static let tabular = SweepLevel(.tabular)
    /// ``SequenceTrainer``: `policy, loss, target, beta, reward_noise, proxy_bias,
    /// spurious_token, vocab, length, rm_l2, seed`.
    public static let sequence = SweepLevel(.sequence)

    /// `tabular` or `sequence`.
    public var rawValue: String { kind.rawValue }

    public var isSequence: Bool { kind == .sequence }

    /// The level's axes, in enumeration and column order (the first outermost); with a
    /// learning-rate axis, `learning_rate` comes just before `seed`.
    public var axes: [SweepAxis] {
        let base: [SweepAxis] = switch kind {
        case .tabular: [.loss, .beta, .rewardNoise, .seed]
        case .sequence: [.policy, .loss, .target, .beta, .rewardNoise, .proxyBias, .spuriousToken, .vocab, .length, .rmL2, .seed]
        }
        guard hasLearningRate else { return base }
        return base.dropLast() + [.learningRate, .seed]
    }

    /// The axes that form an aggregate's cell (all but the replicates), in order.
    public var cellAxes: [SweepAxis] { axes.filter { !$0.isReplicate } }

    /// The run metrics' column names: ``RunSummary/metricColumnNames`` for the tabular level;
    /// for the sequence level ``SequenceRunSummary``'s metric columns, then
    /// `win_rate_vs_dpo` (``Sweep/sequenceRun(_:of:threads:dpoCache:)`` says how a sweep run,
    /// which trains one loss, gets DPO's policy), the order of `report train`'s summary.csv.
    public var metricColumnNames: [String] {
        switch kind {
        case .tabular: return RunSummary.metricColumnNames
        case .sequence: return SequenceRunSummary.metricFields.map(\.name) + [Self.winRateVersusDPOColumn]
        }
    }

    /// The sequence level's column of the win rate against DPO's policy of the same cell and seed.
    static let winRateVersusDPOColumn = "win_rate_vs_dpo"

    /// The level of a row with `columns` (a container's keys): sequence with a `policy`
    /// column, with a learning-rate axis with a `learning_rate` column.
    static func of(_ c: KeyedDecodingContainer<SweepAxis>) -> SweepLevel {
        SweepLevel(c.contains(.policy) ? .sequence : .tabular, learningRate: c.contains(.learningRate))
    }
}
