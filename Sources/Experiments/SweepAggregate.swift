import GSLKit
import LossMath

/// Mean and 95% Student-t interval over seeds of one cell: one value per non-replicate axis
/// (``SweepAxis/cellAxes``). Diverged runs (``RunStatus/diverged(atStep:)``) and failed runs
/// (``RunStatus/failed(reason:)``) are left out of the mean and the interval and counted in
/// ``diverged``.
public struct SweepAggregate: Sendable, Hashable, Codable {
    /// One value per ``SweepAxis/cellAxes``, in order.
    public var cell: [SweepValue]
    /// Number of seeds (runs) in the cell that finished `ok`: the `n` of the mean.
    public var count: Int
    /// Number of runs in the cell that diverged or failed (left out of the mean and interval).
    public var diverged: Int
    /// Per metric of ``RunSummary/metricColumnNames``: the mean over seeds.
    public var mean: [Double]
    /// Per metric: the half-width `t_{0.975, n-1} s / sqrt(n)` of the 95% interval
    /// `mean ± halfWidth`, with `s` the sample standard deviation. NaN when `n = 1`, and
    /// non-finite when a run's value is.
    public var halfWidth: [Double]
    /// The sweep's level: it names the axes of ``cell`` and the metrics of ``mean``.
    public var level: SweepLevel

    public init(cell: [SweepValue], count: Int, diverged: Int = 0, mean: [Double], halfWidth: [Double],
                level: SweepLevel = .tabular) {
        self.cell = cell
        self.count = count
        self.diverged = diverged
        self.mean = mean
        self.halfWidth = halfWidth
        self.level = level
    }

    /// The value on `axis` (nil for a replicate axis).
    public func value(_ axis: SweepAxis) -> SweepValue? {
        guard let k = level.cellAxes.firstIndex(of: axis), k < cell.count else { return nil }
        return cell[k]
    }

    public var loss: Loss { value(.loss)?.loss ?? .sigmoid }
    public var beta: Double { value(.beta)?.real ?? .nan }
    public var rewardNoise: Double { value(.rewardNoise)?.real ?? .nan }

    /// The column of the number of replicates in a cell.
    static let countColumn = "seeds"
    /// The column of the number of diverged runs in a cell, last.
    static let divergedColumn = "diverged"

    /// The cell's axes (`loss, beta, reward_noise`), `seeds` (runs that finished `ok`),
    /// `<metric>_mean, <metric>_ci95` per metric of ``RunSummary/metricColumnNames``, then
    /// `diverged`.
    public static var columnNames: [String] { columnNames(.tabular) }

    /// The columns of an aggregate of `level`: its cell axes, `seeds`, two per metric, `diverged`.
    public static func columnNames(_ level: SweepLevel) -> [String] {
        level.cellAxes.map(\.column) + [countColumn]
            + level.metricColumnNames.flatMap { [$0 + "_mean", $0 + "_ci95"] } + [divergedColumn]
    }

    /// One flat table row in the order of ``columnNames(_:)``.
    public func encode(to encoder: any Encoder) throws {
        var a = encoder.container(keyedBy: SweepAxis.self)
        for (axis, value) in zip(level.cellAxes, cell) { try value.encode(to: &a, key: axis) }
        var m = encoder.container(keyedBy: ColumnKey.self)
        try m.encode(count, forKey: ColumnKey(Self.countColumn))
        for (k, name) in level.metricColumnNames.enumerated() {
            try m.encode(k < mean.count ? mean[k] : .nan, forKey: ColumnKey(name + "_mean"))
            try m.encode(k < halfWidth.count ? halfWidth[k] : .nan, forKey: ColumnKey(name + "_ci95"))
        }
        try m.encode(diverged, forKey: ColumnKey(Self.divergedColumn))
    }

    /// Reads a row back by column name (empty cells are NaN; a `policy` column: the sequence level).
    public init(from decoder: any Decoder) throws {
        let a = try decoder.container(keyedBy: SweepAxis.self)
        let m = try decoder.container(keyedBy: ColumnKey.self)
        let level = SweepLevel.of(a)
        var mean: [Double] = [], half: [Double] = []
        for name in level.metricColumnNames {
            mean.append(try m.decodeIfPresent(Double.self, forKey: ColumnKey(name + "_mean")) ?? .nan)
            half.append(try m.decodeIfPresent(Double.self, forKey: ColumnKey(name + "_ci95")) ?? .nan)
        }
        self.init(cell: try level.cellAxes.map { try $0.decode(from: a, key: $0) },
                  count: try m.decode(Int.self, forKey: ColumnKey(Self.countColumn)),
                  diverged: try m.decode(Int.self, forKey: ColumnKey(Self.divergedColumn)), mean: mean, halfWidth: half,
                  level: level)
    }
}

extension Sweep {
    /// Mean and 95% interval over seeds per cell (loss, beta, noise), in order of first appearance
    /// in `results` sorted by run id. Uses GSL's Student-t quantile ``GSLKit/StudentT``.
    ///
    /// Only runs with status `ok` enter the mean and interval (`n` = their number); diverged
    /// runs are counted in ``SweepAggregate/diverged``. A cell whose runs all diverged has
    /// `count` 0 and NaN means (empty cells in the CSV).
    public static func aggregate(_ results: [SweepRunResult]) -> [SweepAggregate] {
        let level = results.first?.run.level ?? .tabular
        let cellIndices = level.axes.indices.filter { !level.axes[$0].isReplicate }
        var order: [[SweepValue]] = []
        var groups: [[SweepValue]: [SweepRunResult]] = [:]
        for r in results.sorted(by: { $0.run.id < $1.run.id }) {
            let k = cellIndices.map { $0 < r.run.values.count ? r.run.values[$0].bitKey : .real(.nan) }
            if groups[k] == nil { order.append(k) }
            groups[k, default: []].append(r)
        }
        return order.compactMap { k in
            guard let all = groups[k], let first = all.first else { return nil }
            let g = all.filter { !$0.status.isDiverged }
            let n = g.count
            let columns = level.metricColumnNames.count
            var mean = [Double](repeating: .nan, count: columns)
            var half = [Double](repeating: .nan, count: columns)
            let t = n >= 2 ? StudentT.quantile(0.975, degreesOfFreedom: Double(n - 1)) : .nan
            for c in 0..<columns {
                guard n >= 1 else { continue }
                let xs = g.map { $0.metricValues[c] }
                let m = xs.reduce(0, +) / Double(n)
                mean[c] = m
                if n >= 2 {
                    // Two-pass variance (no E[x^2] - E[x]^2 cancellation).
                    let ss = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) }
                    let s = (ss / Double(n - 1)).squareRoot()
                    half[c] = t * s / Double(n).squareRoot()
                }
            }
            let cell = cellIndices.map { $0 < first.run.values.count ? first.run.values[$0] : .real(.nan) }
            return SweepAggregate(cell: cell, count: n, diverged: all.count - n, mean: mean, halfWidth: half, level: level)
        }
    }
}
