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
            abstract: "Run a grid of losses x beta x reward noise x seeds (and the sequence-level axes) and aggregate over seeds.",
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

            --lrs a,b adds a learning_rate axis (either level, just before seed); its column \
            exists only when --lrs is given, so other sweeps keep their files' bytes.

            A run whose trainer refuses its data (spo_asym on a pair with a zero reward gap) \
            does not stop the sweep: its row has status "failed: <reason>" and empty metrics, \
            the aggregates leave it out (counted in the diverged column), sweep.md lists it, \
            and the sweep exits with status 4 after writing every file.

            Sequence level (--policy markov|shared, or --policies markov,shared; docs/theory.md \
            §5.2): the grid adds the axes policy, target, proxy_bias, spurious_token, vocab, \
            length and rm_l2 (--targets, --proxy-biases, --spurious-tokens, --vocabs, --lengths, \
            --rm-l2s; each unset axis has one value), and each run trains its loss as `report \
            train --policy markov|shared` does. runs.csv then has the columns run_id, policy, \
            loss, target, beta, reward_noise, proxy_bias, spurious_token, vocab, length, rm_l2, \
            seed, the sequence summary's metrics (final_expected_reward is the true reward, an \
            oracle measurement; final_proxy_reward, final_win_rate against pi_ref, \
            final_mean_logp_chosen and _rejected, ...), win_rate_vs_dpo (against the policy DPO, \
            sigmoid, trains on the same cell and seed: each run trains DPO too unless this \
            process already did, so a sweep without sigmoid among its losses costs up to \
            twice as much; sigmoid's own row is 0.5 by definition) and status. Target true is the oracle: an upper bound. A sweep never \
            mixes levels: tabular/loglinear and markov/shared runs record different metrics, so \
            --policies tabular,markov is refused (run one sweep per level); a tabular sweep's \
            files keep their columns and bytes.

            Example:
              report sweep --losses sigmoid,spo --betas 0.1,0.5 --reward-noises 0,0.5,1 --seeds 5 --out sweep/
              report sweep --policies markov,shared --losses sigmoid,spo --proxy-biases 0,1 --betas 0.5 --reward-noises 0 --seeds 3 --out seq/
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
        @Option(parsing: .unconditional, help: "Comma list of learning rates: a learning_rate axis (either level; its column only when given). Default: --lr.")
        var lrs: String?
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
        @OptionGroup(title: "Sequence-level axes (--policy markov|shared)") var sequenceAxes: SweepSequenceOptions
        @OptionGroup var optimizer: OptimizerOptions
        @OptionGroup var output: OutputOptions

        func spec() throws -> SweepSpec {
            let policies = try sequenceAxes.policyList(simulation.policyGiven)
            let list: [Loss]
            do { list = try Loss.parseList(losses) } catch { throw ValidationError("--losses: \(error)") }
            guard seeds >= 1 && seeds <= 1_000_000 else { throw ValidationError("--seeds must be between 1 and 1000000, got \(seeds)") }
            let parameterisations = policies.compactMap(\.sequenceParameterisation)
            let rates = try learningRates()
            if !parameterisations.isEmpty {
                var s = try sequenceSpec(parameterisations, losses: list, betas: try parseNumbers(betas, option: "--betas"),
                                         noises: try parseNumbers(rewardNoises, option: "--reward-noises"))
                if let rates {
                    s.grid[.learningRate] = rates.map { .real($0) }
                    do { try s.validate() } catch { throw Self.learningRateError(error) ?? Self.sweepOptionError(error) }
                }
                return s
            }
            if let option = sequenceAxes.given.first {
                throw ValidationError("\(option) applies to --policy markov|shared (the sequence level); this sweep is \(policies.first?.rawValue ?? "tabular")")
            }
            try optimizer.requireTabularTarget()
            var simulation = self.simulation
            if let p = policies.first { simulation.policy = p }
            var s = SweepSpec(losses: list, betas: try parseNumbers(betas, option: "--betas"),
                              rewardNoises: try parseNumbers(rewardNoises, option: "--reward-noises"),
                              seeds: (1...seeds).map { UInt64($0) },
                              simulation: simulation.simulation(beta: 1, rewardNoise: 0),
                              training: optimizer.training(loss: list[0]))
            if let rates { s.grid[.learningRate] = rates.map { .real($0) } }
            do { try s.validate() } catch { throw (rates == nil ? nil : Self.learningRateError(error)) ?? optionError(error) }
            return s
        }

        /// `--lrs` as numbers (nil when not given); refused together with a non-default `--lr`.
        func learningRates() throws -> [Double]? {
            guard let lrs else { return nil }
            if optimizer.learningRate != TrainingConfig(loss: .sigmoid).learningRate {
                throw ValidationError("--lrs: give --lr or --lrs, not both (--lr \(optimizer.learningRate) with --lrs \(lrs))")
            }
            return try parseNumbers(lrs, option: "--lrs")
        }

        /// A validation error about the learning-rate axis, naming `--lrs` (nil for any other).
        static func learningRateError(_ error: ExperimentError) -> ValidationError? {
            guard let name = error.parameterName, name == SweepAxis.learningRate.listName || name == "learning rate" else { return nil }
            return ValidationError("--lrs: \(error)")
        }

        func shardIndex() throws -> (Int, Int)? { try parseShard(shard) }

        /// Exit status of a sweep with failed runs (its files are written in full first).
        static let failedRunsExitCode: Int32 = 4

        /// After the files: when some runs failed (``Experiments/RunStatus/failed(reason:)``), a
        /// message with their number (even with --quiet: it explains the exit status) and exit
        /// ``failedRunsExitCode``.
        static func reportFailures(_ results: [SweepRunResult]) throws {
            let failed = Sweep.failures(results)
            guard let first = failed.first else { return }
            StandardOutput.writeError("error: " + "\(failed.count) of \(results.count) runs failed (status \"failed: ...\" in runs.csv, listed in sweep.md; "
                 + "left out of the aggregates); the first: run \(first.run.id), \(first.status)\n")
            throw ExitCode(failedRunsExitCode)
        }

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
                lock = try SweepLock(folder: folder, command: "report sweep")
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
            case .csv?: emit(byName["aggregate.csv"] ?? "")
            case .markdown?, .plot?: emit(byName["sweep.md"] ?? "")
            case .json?: emit(jsonRecords(fromCSV: byName["aggregate.csv"] ?? ""))
            case nil: if output.out == nil { emit(byName["sweep.md"] ?? "") }
            }
            try Self.reportFailures(results)
        }
    }
}
