import Experiments
import Foundation
import Formats
import LossMath

/// The files a sweep (or a merge) writes. Both build them with this one function from the
/// run results sorted by id, so a merge of shards is byte-identical to a single run.
enum SweepFiles {
    struct File { let name: String; let text: String }

    /// A text that identifies the sweep's grid and settings (not the shard), stored in
    /// manifest.txt so that merge can refuse shards of different sweeps.
    ///
    /// A sequence-level sweep's manifest starts with its `policies=` line (its first axis);
    /// ``level(manifest:)`` reads the level back from it.
    static func manifest(spec: SweepSpec, shard: String?) -> String {
        var lines: [String] = []
        for axis in spec.axes {
            lines.append("\(axis.manifestKey)=\(spec.values(of: axis).map(text).joined(separator: ","))")
        }
        let t = spec.training
        // With a learning-rate axis, --lr is not used: the runs' rates are on the axis line.
        let lr = spec.axes.contains(.learningRate) ? "per-run" : CSVWriter.format(t.learningRate)
        if let q = spec.sequence {
            lines.append("sequence=P=\(q.prompts) n=\(q.pairsPerPrompt) s_ref=\(CSVWriter.format(q.referenceSpread)) s_r=\(CSVWriter.format(q.rewardSpread)) labels=\(q.labels.rawValue) held_out=\(q.heldOutPairsPerPrompt) win_rate_samples=\(q.winRateSamplesPerPrompt)")
            lines.append("training=\(t.optimizer.rawValue) lr=\(lr) steps=\(t.steps) batch=full clip=\(t.clipNorm.map(CSVWriter.format) ?? "none") eps=\(t.labelSmoothing.map(CSVWriter.format) ?? "default") log_every=\(t.logEvery)")
            if !t.lossParameterValues.isEmpty {
                lines.append("loss_params=" + t.lossParameterValues.sorted { $0.key < $1.key }
                    .map { "\($0.key)=\(CSVWriter.format($0.value))" }.joined(separator: ","))
            }
            return lines.joined(separator: "\n") + "\n"
        }
        let sim = spec.simulation
        lines.append("simulation=\(sim.policy.rawValue) P=\(sim.prompts) K=\(sim.responses) n=\(sim.pairsPerPrompt) d=\(sim.features) s_ref=\(CSVWriter.format(sim.referenceSpread)) s_r=\(CSVWriter.format(sim.rewardSpread)) labels=\(sim.labels.rawValue) pairs=\(sim.pairSampling.rawValue) seed=\(sim.seed)")
        lines.append("training=\(t.optimizer.rawValue) lr=\(lr) steps=\(t.steps) batch=\(t.batchSize.map(String.init) ?? "full") clip=\(t.clipNorm.map(CSVWriter.format) ?? "none") eps=\(t.labelSmoothing.map(CSVWriter.format) ?? "default") target=\(t.target) log_every=\(t.logEvery)")
        // Only when given, so the manifest of a sweep without them keeps its bytes.
        if !t.lossParameterValues.isEmpty {
            lines.append("loss_params=" + t.lossParameterValues.sorted { $0.key < $1.key }
                .map { "\($0.key)=\(CSVWriter.format($0.value))" }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The level of the sweep a manifest describes: sequence when it has a `policies=` line.
    static func level(manifest: String) -> SweepLevel {
        let lines = manifest.split(separator: "\n")
        func has(_ axis: SweepAxis) -> Bool { lines.contains { $0.hasPrefix(axis.manifestKey + "=") } }
        return SweepLevel(has(.policy) ? .sequence : .tabular, learningRate: has(.learningRate))
    }

    static func files(manifest: String, results: [SweepRunResult]) -> [File] {
        let level = Self.level(manifest: manifest)
        let runs = tableCSV(results, columns: SweepRunResult.columnNames(level))
        let aggregates = Sweep.aggregate(results)
        let agg = tableCSV(aggregates, columns: SweepAggregate.columnNames(level))
        return [File(name: "manifest.txt", text: manifest), File(name: "runs.csv", text: runs),
                File(name: "aggregate.csv", text: agg), File(name: "sweep.md", text: markdown(aggregates, level: level, failures: Sweep.failures(results)))]
            + SweepFigures.files(aggregates, manifest: manifest, level: level)
    }

    /// A grid value as the manifest writes it: a loss name, a CSV number or an integer.
    static func text(_ value: SweepValue) -> String {
        switch value {
        case .loss(let l): return l.rawValue
        case .real(let x): return CSVWriter.format(x)
        case .seed(let s): return String(s)
        case .integer(let k): return String(k)
        case .policy(let p): return p.rawValue
        case .target(let t): return t.rawValue
        }
    }

    /// A grid value as sweep.md shows it.
    static func short(_ value: SweepValue) -> String {
        if case .real(let x) = value { return g4(x) }
        if case .target(let t) = value, t.isOracle { return "true (oracle)" }
        return text(value)
    }

    static func g4(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "-" }

    /// sweep.md: the aggregate table, DPO against spo per cell, then (only when some run
    /// did not end `ok`, so other sweeps keep their bytes) the cells with diverged or failed
    /// runs and each failed run with its reason (`failures`, ``Sweep/failures(_:)``).
    static func markdown(_ aggregates: [SweepAggregate], level: SweepLevel = .tabular,
                         failures: [SweepRunResult] = []) -> String {
        var s = "# Sweep: mean and 95% interval over seeds\n\n"
        let names = level.metricColumnNames
        let show = !level.isSequence ? ["final_regret", "mean_abs_h_minus_target", "min_logp_rejected", "max_h"]
            : ["final_regret", "final_expected_reward", "final_proxy_reward", "final_win_rate",
               "final_mean_logp_chosen", "final_mean_logp_rejected"]
        let idx = show.compactMap { names.firstIndex(of: $0) }
        let axes = level.cellAxes
        if level.isSequence {
            s += "Sequence level (docs/theory.md §5.2): final_expected_reward is the true reward (an oracle measurement), "
            s += "final_proxy_reward the proxy that labelled the data, win rates against pi_ref under the true reward. "
            s += "Target true is the oracle (the true reward gap): its rows are an upper bound, not a comparison on equal information.\n\n"
        }
        s += MarkdownTable(
            headers: axes.map(\.header) + ["seeds"] + show.map { $0.replacingOccurrences(of: "_", with: " ") },
            alignments: axes.map { [.loss, .policy, .target].contains($0.kind) ? .left : .right } + [.right] + Array(repeating: .right, count: show.count),
            rows: aggregates.map { a in
                a.cell.map(short) + [String(a.count)]
                    + idx.map { k in g4(a.mean[k]) + (a.halfWidth[k].isFinite ? " ± " + g4(a.halfWidth[k]) : "") }
            }).render()
        // DPO against spo in each cell of the other axes.
        var lines: [String] = []
        let others = axes.filter { $0 != .loss }
        // At the sequence level the noise is label noise, and only axes with several values are named.
        func phrase(_ axis: SweepAxis) -> String { level.isSequence && axis == .rewardNoise ? "label noise" : axis.phrase }
        let named = !level.isSequence ? others : others.filter { axis in Set(aggregates.compactMap { $0.value(axis) }).count > 1 }
        for a in aggregates where a.loss == .sigmoid {
            let rest = others.map { a.value($0) }
            guard let b = aggregates.first(where: { c in c.loss == .spo && others.map { c.value($0) } == rest }),
                  let k = names.firstIndex(of: "final_regret") else { continue }
            let at = named.isEmpty ? "every cell" : named.map { "\(phrase($0)) \(a.value($0).map(short) ?? "-")" }.joined(separator: ", ")
            lines.append("- \(at): final regret DPO \(g4(a.mean[k])), spo \(g4(b.mean[k])) " + (Criteria.isZeroToRounding(b.mean[k]) ? "(spo's is 0 to rounding: no ratio)" : "(ratio \(g4(a.mean[k] / b.mean[k])))"))
        }
        let heading = !level.isSequence ? "DPO against spo under reward-model noise" : "DPO against spo per cell"
        if !lines.isEmpty { s += "\n## \(heading)\n\n" + lines.joined(separator: "\n") + "\n" }
        // Only when a run diverged, so the file of a sweep without divergence keeps its bytes.
        let failedCells = failures.map { r in level.cellAxes.map { r.run.value($0).map(text) } }
        let diverged = aggregates.filter { $0.diverged > 0 }.map { a in
            let key = a.cell.map { Optional(text($0)) }
            let what = failedCells.contains(key) ? "diverged or failed" : "diverged"
            return "- " + axes.map { "\(phrase($0)) \(a.value($0).map(short) ?? "-")" }.joined(separator: ", ")
                + ": \(a.diverged) of \(a.count + a.diverged) runs \(what) (left out of the means and intervals)"
        }
        if !diverged.isEmpty { s += "\n## Diverged runs\n\n" + diverged.joined(separator: "\n") + "\n" }
        if !failures.isEmpty {
            s += "\n## Failed runs\n\nThese runs could not be trained (their trainer refused the run's data); "
            s += "their rows in runs.csv have the status and empty metrics.\n\n"
            s += failures.map { r in
                "- run \(r.run.id) (" + r.run.level.axes.map { "\(phrase($0)) \(r.run.value($0).map(short) ?? "-")" }
                    .joined(separator: ", ") + "): \(r.status)"
            }.joined(separator: "\n") + "\n"
        }
        return s
    }
}
