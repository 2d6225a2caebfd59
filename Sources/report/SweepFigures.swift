import Experiments
import Foundation
import Formats
import LossMath

/// The figures of a sweep (`report sweep --out`, `report merge`): for each metric and each
/// numeric sweep axis, the mean over seeds of every loss against the axis, with its 95%
/// Student-t interval (``Experiments/SweepAggregate/halfWidth``) as a band.
///
/// Built on ``Experiments/SweepAxis`` alone: every non-loss cell axis whose values are
/// numbers, with at least two values, gets figures, one per combination of the other axes' values (at the sequence level, of those with several values), so an axis added to
/// SweepAxis gets its figures without a change here. File names:
/// `figures/<metric>-vs-<axis>[-<other axis>=<value>...].svg`.
///
/// Regret is a KL divergence (docs/theory.md, T2), never negative: a regret mean below 0 is
/// rounding noise and is drawn as 0, and an interval's lower bound below 0 is cut at 0; the
/// figure's notes say so and count both. Titles name
/// the metric, the axis, the other axes' values and the simulation of the manifest, so two
/// figures of different settings never share a title.
///
/// See also: ``SweepFiles``, ``Formats/SVGPlot``.
enum SweepFigures {
    static func g4(_ x: Double) -> String { String(format: "%.4g", x) }

    /// The cell's value on `axis` as a number (any kind whose manifest text is a number: a
    /// real, or an integer axis added later), or nil.
    static func number(_ a: SweepAggregate, _ axis: SweepAxis) -> Double? {
        guard let v = a.value(axis), let x = Double(SweepFiles.text(v)), x.isFinite else { return nil }
        return x
    }

    /// Whether metric `name` is a regret (a KL divergence, clamped at 0).
    static func isRegret(_ name: String) -> Bool { name.contains("regret") }

    /// `x`, or 0 when `x` is a regret below 0 (rounding noise).
    static func clamped(_ x: Double, regret: Bool) -> Double { regret && x < 0 ? 0 : x }

    /// The figure files for `aggregates`; `manifest` supplies the simulation and training
    /// settings for the titles and notes.
    static func files(_ aggregates: [SweepAggregate], manifest: String, level: SweepLevel = .tabular) -> [SweepFiles.File] {
        let lines = manifest.split(separator: "\n").map(String.init)
        let settings = lines.filter { $0.hasPrefix("simulation=") || $0.hasPrefix("sequence=") || $0.hasPrefix("training=") }
        let policy = lines.first { $0.hasPrefix("simulation=") }.map { String($0.dropFirst("simulation=".count).prefix { $0 != " " }) } ?? ""
        var files: [SweepFiles.File] = []
        let axes = level.cellAxes
        for axis in axes where axis.kind != .loss {
            let xs = Set(aggregates.compactMap { number($0, axis) }).sorted()
            guard xs.count >= 2 else { continue }
            // The sequence level has many axes: only those with several values name a figure
            // (the tabular level keeps its file names).
            let others = axes.filter { other in
                other != axis && other != .loss
                    && (!level.isSequence || Set(aggregates.compactMap { $0.value(other).map(SweepFiles.text) }).count > 1)
            }
            var groups: [[String]: [SweepAggregate]] = [:]
            var order: [[String]] = []
            for a in aggregates {
                let key = others.map { a.value($0).map(SweepFiles.text) ?? "-" }
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(a)
            }
            let logX = xs.allSatisfy { $0 > 0 } && (xs.last ?? 1) / (xs.first ?? 1) >= 10
            for key in order {
                let group = groups[key] ?? []
                let at = zip(others, key).map { "\($0.header) \($1)" }.joined(separator: ", ")
                let suffix = zip(others, key).map { "-\($0.column)=\($1)" }.joined()
                for (k, metric) in level.metricColumnNames.enumerated() {
                    let plot = figure(group, axis: axis, metric: k, name: metric, logX: logX,
                                      title: "\(metric) against \(axis.header)" + (at.isEmpty ? "" : " (\(at))") + (policy.isEmpty ? "" : ", \(policy)"),
                                      settings: settings)
                    files.append(SweepFiles.File(name: "figures/\(metric)-vs-\(axis.column)\(suffix).svg", text: plot.render()))
                }
            }
        }
        return files
    }

    /// One figure: a series (mean) and a band (95% interval) per loss, in first-seen order.
    static func figure(_ group: [SweepAggregate], axis: SweepAxis, metric k: Int, name: String, logX: Bool,
                       title: String, settings: [String]) -> SVGPlot {
        let regret = isRegret(name)
        var losses: [Loss] = []
        for a in group where !losses.contains(a.loss) { losses.append(a.loss) }
        var series: [(name: String, points: [(Double, Double)])] = []
        var bands: [SVGPlot.Band] = []
        var clampedMeans = 0, cutBounds = 0
        for (i, loss) in losses.enumerated() {
            let cells = group.filter { $0.loss == loss }.compactMap { a -> (Double, SweepAggregate)? in
                number(a, axis).map { ($0, a) } }.sorted { $0.0 < $1.0 }
            func x(_ v: Double) -> Double { logX ? Foundation.log10(v) : v }
            let points = cells.map { (v, a) -> (Double, Double) in
                let m = k < a.mean.count ? a.mean[k] : .nan
                if regret && m < 0 { clampedMeans += 1 }
                return (x(v), clamped(m, regret: regret))
            }
            series.append((loss.rawValue, points))
            bands.append(SVGPlot.Band(seriesIndex: i, points: cells.map { (v, a) in
                let m = k < a.mean.count ? a.mean[k] : .nan
                let w = k < a.halfWidth.count ? a.halfWidth[k] : .nan
                if regret && m - w < 0 && m >= 0 { cutBounds += 1 }
                return (x(v), clamped(m - w, regret: regret), clamped(m + w, regret: regret))
            }))
        }
        var plot = SVGPlot(title: title, xLabel: axis.header + (logX ? " (log scale)" : ""),
                           yLabel: name + ": mean and 95% interval over seeds", series: series, xIsLog10: logX)
        plot.bands = bands
        var notes = ["Line: mean over the seeds that finished ok; band: 95% Student-t interval (none with one seed)."]
        if regret {
            notes.append("Regret is a KL divergence (>= 0): a mean below 0 is rounding noise, drawn as 0 (\(clampedMeans) here); "
                         + "an interval's lower bound below 0 is cut at 0 (\(cutBounds) here).")
        }
        plot.notes = notes + settings
        return plot
    }
}
