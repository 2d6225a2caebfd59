import ArgumentParser
import Experiments
import Foundation
import Formats
import LossMath
import Synchronization

extension Report {
    /// `report sweep`: a grid of runs, in parallel, shardable and resumable.
    struct SweepCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sweep",
            abstract: "Run a grid of losses x beta x reward noise x seeds and aggregate over seeds.",
            discussion: """
            One summary row per run (runs.csv) and an aggregate with the mean and a 95% \
            Student-t interval over seeds per (loss, beta, noise) (aggregate.csv, sweep.md). \
            Runs go in parallel on all cores (--jobs).

            Scale-out: --shard i/n runs every n-th run starting at i, an independent, \
            deterministic piece; run the n pieces anywhere (a Slurm job array with \
            --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT, GNU parallel, Kubernetes \
            indexed jobs), then `report merge` joins their folders into exactly the bytes one \
            machine would write. With --out, finished runs are journalled as they complete: \
            rerunning the same command after an interruption skips them.

            Example:
              report sweep --losses sigmoid,spo --betas 0.1,0.5 --reward-noises 0,0.5,1 --seeds 5 --out sweep/
              report sweep --shard 0/4 --out sweep-0 ...   # and 1/4, 2/4, 3/4 elsewhere
              report merge sweep-0 sweep-1 sweep-2 sweep-3 --out sweep
            """
        )

        @Option(help: "Comma-separated losses (TRL names), or all.", completion: .lossNames)
        var losses: String = "sigmoid,ipo,spo,spo_bt"
        @Option(help: "Comma list of beta values.")
        var betas: String = "0.5"
        @Option(help: "Comma list of reward-model noise levels s_noise.")
        var rewardNoises: String = "0,0.5,1"
        @Option(help: "Number of seeds per cell (seeds 1...N), each a different data set.")
        var seeds: Int = 5
        @Option(help: "Run only shard i of n (i in 0..<n), written i/n.")
        var shard: String?
        @Option(help: "Parallel worker threads (default: all cores).")
        var jobs: Int = Sweep.processorCount
        /// For testing resume: stop (exit 3) once at least this many runs are journalled.
        @Option(help: .hidden)
        var stopAfter: Int?
        @OptionGroup var simulation: SimulationOptions
        @OptionGroup var optimizer: OptimizerOptions
        @OptionGroup var output: OutputOptions

        func spec() throws -> SweepSpec {
            try simulation.requireTabular("report sweep")
            try optimizer.requireTabularTarget()
            let list: [Loss]
            do { list = try Loss.parseList(losses) } catch { throw ValidationError("--losses: \(error)") }
            guard seeds >= 1 && seeds <= 1_000_000 else { throw ValidationError("--seeds must be between 1 and 1000000, got \(seeds)") }
            let s = SweepSpec(losses: list, betas: try parseNumbers(betas, option: "--betas"),
                              rewardNoises: try parseNumbers(rewardNoises, option: "--reward-noises"),
                              seeds: (1...seeds).map { UInt64($0) },
                              simulation: simulation.simulation(beta: 1, rewardNoise: 0),
                              training: optimizer.training(loss: list[0]))
            do { try s.validate() } catch { throw optionError(error) }
            return s
        }

        func shardIndex() throws -> (Int, Int)? { try parseShard(shard) }

        func validate() throws {
            try output.rejectPlot("report sweep", instead: "its figures are SVG files in --out DIR/figures; use markdown, csv or json")
            _ = try spec()
            _ = try shardIndex()
            guard jobs >= 1 else { throw ValidationError("--jobs must be >= 1, got \(jobs)") }
        }

        func run() throws {
            let spec = try spec()
            var runs: [SweepRun]
            do { runs = try spec.runs() } catch { throw optionError(error) }
            if let (i, n) = try shardIndex() {
                do { runs = try Sweep.shard(runs, index: i, count: n) } catch { throw optionError(error) }
            }
            let manifest = SweepFiles.manifest(spec: spec, shard: shard)
            var results: [SweepRunResult] = []
            var journal: SweepJournal? = nil
            var lock: SweepLock? = nil
            defer { lock?.release() }
            if let folder = output.out {
                lock = try SweepLock(folder: folder)
                let grid: [SweepRun]
                do { grid = try spec.runs() } catch { throw optionError(error) }
                let j = try SweepJournal(folder: folder, manifest: manifest, grid: grid)
                journal = j
                results = j.completed.filter { r in runs.contains { $0.id == r.run.id } }
                let done = Set(results.map(\.run.id))
                if !done.isEmpty {
                    note("resuming: \(done.count) of \(runs.count) runs already finished in \(folder)")
                }
                runs.removeAll { done.contains($0.id) }
            }
            let total = runs.count + results.count
            let bar = ProgressBar(total: total, label: "sweep", enabled: output.showsProgress)
            bar.advance(by: results.count)
            // --stop-after (for tests): run only enough runs to reach the count, then exit 3.
            var stopping = false
            if let stop = stopAfter, Swift.max(1, stop - results.count) < runs.count {
                runs = Array(runs.prefix(Swift.max(1, stop - results.count)))
                stopping = true
            }
            // Each run is journalled as it finishes, so an interruption loses only the runs
            // in progress.
            let journalError = Mutex<ReportError?>(nil)
            let sink = journal
            let done: [SweepRunResult]
            do {
                done = try Sweep.run(spec, runs: runs, workers: jobs, progress: { _, _ in bar.advance() }) { r in
                    do throws(ReportError) { try sink?.append(r) } catch {
                        journalError.withLock { if $0 == nil { $0 = error } }
                    }
                }
            } catch { throw ReportError("\(error)") }
            if let e = journalError.withLock({ $0 }) { throw e }
            results += done
            if stopping {
                journal?.close(removing: false)
                note("stopping after \(results.count) runs (--stop-after); rerun the same command to resume")
                throw ExitCode(3)
            }
            bar.finish()
            results.sort { $0.run.id < $1.run.id }
            let files = SweepFiles.files(manifest: manifest, results: results)
            if let folder = output.out {
                try writeFiles(files.map { ($0.name, $0.text) }, into: folder)
                journal?.close(removing: true)
            }
            let byName = Dictionary(uniqueKeysWithValues: files.map { ($0.name, $0.text) })
            switch output.format {
            case .csv?: emit(byName["aggregate.csv"]!)
            case .markdown?, .plot?: emit(byName["sweep.md"]!)
            case .json?: emit(jsonRecords(fromCSV: byName["aggregate.csv"]!))
            case nil: if output.out == nil { emit(byName["sweep.md"]!) }
            }
        }
    }
}

/// The files a sweep (or a merge) writes. Both build them with this one function from the
/// run results sorted by id, so a merge of shards is byte-identical to a single run.
enum SweepFiles {
    struct File { let name: String; let text: String }

    /// A text that identifies the sweep's grid and settings (not the shard), stored in
    /// manifest.txt so that merge can refuse shards of different sweeps.
    static func manifest(spec: SweepSpec, shard: String?) -> String {
        var lines: [String] = []
        for axis in SweepAxis.allCases {
            lines.append("\(axis.manifestKey)=\(spec.values(of: axis).map(text).joined(separator: ","))")
        }
        let sim = spec.simulation
        lines.append("simulation=\(sim.policy.rawValue) P=\(sim.prompts) K=\(sim.responses) n=\(sim.pairsPerPrompt) d=\(sim.features) s_ref=\(CSVWriter.format(sim.referenceSpread)) s_r=\(CSVWriter.format(sim.rewardSpread)) labels=\(sim.labels.rawValue) pairs=\(sim.pairSampling.rawValue) seed=\(sim.seed)")
        let t = spec.training
        lines.append("training=\(t.optimizer.rawValue) lr=\(CSVWriter.format(t.learningRate)) steps=\(t.steps) batch=\(t.batchSize.map(String.init) ?? "full") clip=\(t.clipNorm.map(CSVWriter.format) ?? "none") eps=\(t.labelSmoothing.map(CSVWriter.format) ?? "default") target=\(t.target) log_every=\(t.logEvery)")
        // Only when given, so the manifest of a sweep without them keeps its bytes.
        if !t.lossParameterValues.isEmpty {
            lines.append("loss_params=" + t.lossParameterValues.sorted { $0.key < $1.key }
                .map { "\($0.key)=\(CSVWriter.format($0.value))" }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func files(manifest: String, results: [SweepRunResult]) -> [File] {
        let runs = tableCSV(results, columns: SweepRunResult.columnNames)
        let aggregates = Sweep.aggregate(results)
        let agg = tableCSV(aggregates, columns: SweepAggregate.columnNames)
        return [File(name: "manifest.txt", text: manifest), File(name: "runs.csv", text: runs),
                File(name: "aggregate.csv", text: agg), File(name: "sweep.md", text: markdown(aggregates))] + SweepFigures.files(aggregates, manifest: manifest)
    }

    /// A grid value as the manifest writes it: a loss name, a CSV number or an integer.
    static func text(_ value: SweepValue) -> String {
        switch value {
        case .loss(let l): return l.rawValue
        case .real(let x): return CSVWriter.format(x)
        case .seed(let s): return String(s)
        }
    }

    /// A grid value as sweep.md shows it.
    static func short(_ value: SweepValue) -> String {
        if case .real(let x) = value { return g4(x) }
        return text(value)
    }

    static func g4(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "-" }

    static func markdown(_ aggregates: [SweepAggregate]) -> String {
        var s = "# Sweep: mean and 95% interval over seeds\n\n"
        let names = RunSummary.metricColumnNames
        let show = ["final_regret", "mean_abs_h_minus_target", "min_logp_rejected", "max_h"]
        let idx = show.compactMap { names.firstIndex(of: $0) }
        let axes = SweepAxis.cellAxes
        s += MarkdownTable(
            headers: axes.map(\.header) + ["seeds"] + show.map { $0.replacingOccurrences(of: "_", with: " ") },
            alignments: axes.map { $0.kind == .loss ? .left : .right } + [.right] + Array(repeating: .right, count: show.count),
            rows: aggregates.map { a in
                a.cell.map(short) + [String(a.count)]
                    + idx.map { k in g4(a.mean[k]) + (a.halfWidth[k].isFinite ? " ± " + g4(a.halfWidth[k]) : "") }
            }).render()
        // DPO against spo in each cell of the other axes.
        var lines: [String] = []
        let others = axes.filter { $0 != .loss }
        for a in aggregates where a.loss == .sigmoid {
            let rest = others.map { a.value($0) }
            guard let b = aggregates.first(where: { c in c.loss == .spo && others.map { c.value($0) } == rest }),
                  let k = names.firstIndex(of: "final_regret") else { continue }
            let at = others.map { "\($0.phrase) \(a.value($0).map(short) ?? "-")" }.joined(separator: ", ")
            lines.append("- \(at): final regret DPO \(g4(a.mean[k])), spo \(g4(b.mean[k])) " + (Criteria.isZeroToRounding(b.mean[k]) ? "(spo's is 0 to rounding: no ratio)" : "(ratio \(g4(a.mean[k] / b.mean[k])))"))
        }
        if !lines.isEmpty { s += "\n## DPO against spo under reward-model noise\n\n" + lines.joined(separator: "\n") + "\n" }
        // Only when a run diverged, so the file of a sweep without divergence keeps its bytes.
        let diverged = aggregates.filter { $0.diverged > 0 }.map { a in
            "- " + axes.map { "\($0.phrase) \(a.value($0).map(short) ?? "-")" }.joined(separator: ", ")
                + ": \(a.diverged) of \(a.count + a.diverged) runs diverged (left out of the means and intervals)"
        }
        if !diverged.isEmpty { s += "\n## Diverged runs\n\n" + diverged.joined(separator: "\n") + "\n" }
        return s
    }
}
