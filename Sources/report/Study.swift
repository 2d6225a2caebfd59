import ArgumentParser
import Experiments
import Foundation
import Synchronization
import Formats
import LossMath

extension Report {
    /// `report study`: every arm on S seeds over a grid, with paired verdicts per claim and cell.
    struct Study: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Does the principled loss beat DPO given the same information? Paired verdicts per claim and grid cell.",
            discussion: """
            Per cell of --policy x --betas x --proxy-bias x --reward-noise and per seed, one data \
            set (pairs from pi_ref, labels, a Bradley-Terry reward model fitted to the labels), \
            and on it every arm: \
            dpo, cdpo_matched (cdpo with per-pair label smoothing from the fitted model), ipo, \
            dpop, chipo, spo and spo_bt on the fitted gap, and spo_oracle, spo_bt_oracle on the \
            TRUE gap (upper bounds). Each claim (C1-C4) gets a verdict per cell and baseline from \
            the seed-paired differences: mean and 95% Student-t interval (GSL's quantile); the \
            rule is printed with the verdicts.

            Policies: markov and shared are sequence level (docs/theory.md §5.2: labels from \
            the proxy reward, additive reward model); tabular and loglinear are the tabular \
            trainer's (docs/theory.md §5.1: labels from r + noise, a free reward per (prompt, \
            response) or a linear reward in the policy's features, fitted by BT; K \
            --responses, d --features, P and n shared). They have no proxy reward: their cells \
            take proxy bias 0 only, and the hacking measures are not applicable there.

            Resume: with --out, each finished (cell, seed) unit is journalled in the folder \
            (.study-journal.txt); a killed run rerun with the same options continues and ends \
            with the same bytes as an uninterrupted one.

            With --out, one folder (built whole, then renamed into place): README.md (the \
            index), runs.csv, trajectories.csv, comparisons.csv, frontiers.csv, arms.csv, \
            figures/*.svg. Progress on standard error.

            Scale-out: --shard i/n runs every n-th (cell, seed) unit from i and writes only \
            its raw tables; `report merge` joins the n shard folders into exactly the bytes of \
            one machine's run.

            Default: shared policy, beta 0.5, proxy bias 0 and 1, noise 0, 10 seeds, \
            P=8 V=4 T=6 n=16, Adam lr 0.05, 600 steps.

            Example:
              report study --out study
              report study --seeds 5 --proxy-bias 0,0.5,1 --reward-noise 0,1 --out study
              report study --policy tabular,loglinear --out study-tabular
              report study --shard 0/2 --out s0 && report study --shard 1/2 --out s1
              report merge s0 s1 --out study
            """
        )

        @Option(parsing: .unconditional, help: "Seeds per cell, 1...S (each a different data set; >= 2).")
        var seeds: Int = 10
        @Option(help: "Comma list of beta values.")
        var betas: String = "0.5"
        @Option(name: .customLong("proxy-bias"), help: "Comma list of proxy biases lambda (r~ = r + lambda * count of the spurious token).")
        var proxyBias: String = "0,1"
        @Option(name: .customLong("reward-noise"), help: "Comma list of label noise levels s_noise.")
        var rewardNoise: String = "0"
        @Option(help: "Comma list of policies: tabular, loglinear (the tabular trainer's; proxy bias 0 only), markov, shared (sequence level).")
        var policy: String = "shared"
        @Option(parsing: .unconditional, help: "Responses K per prompt (tabular and loglinear cells).")
        var responses: Int = StudySpec.defaultTabularBase.responses
        @Option(parsing: .unconditional, help: "Feature dimension d (loglinear cells).")
        var features: Int = StudySpec.defaultTabularBase.features
        @Option(parsing: .unconditional, help: "Prompts P.")
        var prompts: Int = StudySpec.defaultBase.prompts
        @Option(parsing: .unconditional, help: "Vocabulary V.")
        var vocab: Int = StudySpec.defaultBase.vocabulary
        @Option(parsing: .unconditional, help: "Tokens per response T.")
        var length: Int = StudySpec.defaultBase.length
        @Option(name: .customLong("pairs-per-prompt"), parsing: .unconditional, help: "Training pairs per prompt n.")
        var pairsPerPrompt: Int = StudySpec.defaultBase.pairsPerPrompt
        @Option(parsing: .unconditional, help: "Optimiser steps per run.")
        var steps: Int = StudySpec.defaultTraining.steps
        @Option(name: .customLong("lr"), parsing: .unconditional, help: "Adam learning rate.")
        var learningRate: Double = StudySpec.defaultTraining.learningRate
        @Option(name: .customLong("log-every"), parsing: .unconditional, help: "Log metrics (and the trajectory) every this many steps.")
        var logEvery: Int = StudySpec.defaultTraining.logEvery
        @Option(help: "Run only shard i of n (i in 0..<n), written i/n.")
        var shard: String?
        @Option(parsing: .unconditional, help: "Parallel worker threads (default: all cores).")
        var jobs: Int = Sweep.processorCount
        @Option(help: "Output folder (built whole, then renamed into place).")
        var out: String?
        @Flag(help: "No progress or notes on standard error.")
        var quiet = false
        @Option(name: .customLong("stop-after"), help: .hidden)
        var stopAfter: Int?

        func spec() throws -> StudySpec {
            var policies: [StudyPolicy] = []
            for name in policy.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let p = StudyPolicy(rawValue: name) else {
                    throw ValidationError("--policy: unknown policy '\(name)'; the study takes tabular, loglinear, markov and shared")
                }
                if !policies.contains(p) { policies.append(p) }
            }
            guard seeds >= 2 && seeds <= 100_000 else { throw ValidationError("--seeds must be between 2 and 100000 (a paired interval needs two), got \(seeds)") }
            let betaList = try parseNumbers(betas, option: "--betas")
            for b in betaList { try checkRange("--betas", b, LossOptions.betaRange, "a number") }
            let biases = try parseNumbers(proxyBias, option: "--proxy-bias")
            for l in biases { try checkRange("--proxy-bias", l, -1e6...1e6, "a number") }
            let noises = try parseNumbers(rewardNoise, option: "--reward-noise")
            for s in noises { try checkRange("--reward-noise", s, SimulationOptions.spreadRange, "a number") }
            for (name, value) in [("--responses", responses), ("--features", features), ("--prompts", prompts), ("--vocab", vocab), ("--length", length), ("--pairs-per-prompt", pairsPerPrompt), ("--log-every", logEvery)] {
                guard value >= 1 else { throw ValidationError("\(name) must be >= 1, got \(value)") }
            }
            guard steps >= 1 && steps <= 10_000_000 else { throw ValidationError("--steps must be between 1 and 10000000, got \(steps)") }
            var base = StudySpec.defaultBase
            base.prompts = prompts
            base.vocabulary = vocab
            base.length = length
            base.pairsPerPrompt = pairsPerPrompt
            var training = StudySpec.defaultTraining
            training.steps = steps
            training.learningRate = learningRate
            training.logEvery = logEvery
            var tabular = StudySpec.defaultTabularBase
            tabular.responses = responses
            tabular.features = features
            let s = StudySpec(policies: policies, betas: betaList, proxyBiases: biases, rewardNoises: noises, seeds: seeds,
                              base: base, training: training, tabularBase: tabular)
            do { try s.validate() } catch { throw optionError(error) }
            return s
        }

        func shardIndex() throws -> (Int, Int)? { try parseShard(shard) }

        func validate() throws {
            _ = try spec()
            if try shardIndex() != nil && out == nil { throw ValidationError("--shard needs --out (the shard's folder, for `report merge`)") }
            guard jobs >= 1 else { throw ValidationError("--jobs must be >= 1, got \(jobs)") }
            if let out, out.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--out: the folder name is empty") }
            Verbosity.setQuiet(quiet)
        }

        func run() throws {
            let spec = try spec()
            let shardPart = try shardIndex()
            var units = shardPart.map { spec.shard(index: $0.0, count: $0.1) } ?? spec.units
            let manifest = StudyTables.manifest(spec)
            if spec.policies.contains(where: { !$0.hasProxy }) && spec.proxyBiases != [0] {
                note("the tabular and loglinear cells take proxy bias 0 only (no proxy reward); --proxy-bias applies to markov and shared")
            }
            // With --out: the folder's lock and resume journal (each finished unit journalled).
            var journal: StudyJournal? = nil
            var lock: SweepLock? = nil
            defer { lock?.release() }
            var resumed: [StudyRunner.UnitResult] = []
            if let folder = out {
                try Self.checkFolder(folder)
                lock = try SweepLock(folder: folder, command: "report study")
                let j = try StudyJournal(folder: folder, manifest: manifest, shard: shardPart.map { "\($0.0)/\($0.1)" },
                                         units: units)
                journal = j
                resumed = j.completed
                let done = Set(resumed.map(\.unit.id))
                if !done.isEmpty { note("resuming: \(done.count) of \(units.count) units already finished in \(folder)") }
                units.removeAll { done.contains($0.id) }
            }
            // --stop-after (for tests): run only enough units to reach the count, then exit 3.
            var stopping = false
            if let stop = stopAfter, Swift.max(1, stop - resumed.count) < units.count {
                units = Array(units.prefix(Swift.max(1, stop - resumed.count)))
                stopping = true
            }
            let fresh = try Self.runUnits(spec, units: units, jobs: jobs, progress: !quiet, journal: journal)
            if stopping {
                journal?.close(removing: false)
                note("stopping after \(resumed.count + fresh.count) units (--stop-after); rerun the same command to resume")
                throw ExitCode(3)
            }
            let results = (resumed + fresh).sorted { $0.unit.id < $1.unit.id }
            let runs = StudyTables.runsCSV(results.flatMap(\.records))
            let trajectories = StudyTables.trajectoriesCSV(results.flatMap(\.trajectory))
            if let folder = out {
                var files: [(String, String)]
                if let (i, n) = shardPart {
                    files = [("manifest.txt", manifest), ("runs.csv", runs), ("trajectories.csv", trajectories),
                             ("shard.txt", "\(i)/\(n)\n"),
                             ("README.md", "# Study shard \(i)/\(n)\n\nRaw tables of \(results.count) of \(spec.units.count) units. "
                                + "Join all \(n) shards with `report merge <shard folders> --out DIR`: the verdicts need every seed.\n")]
                } else {
                    files = try StudyFiles.files(manifest: manifest, runs: runs, trajectories: trajectories)
                }
                try Self.writeFolder(folder, files: files)
                journal?.close(removing: true)
                if shardPart == nil { note("wrote the study to \(folder)/README.md") }
            } else {
                let files = try StudyFiles.files(manifest: manifest, runs: runs, trajectories: trajectories)
                emit(files.first { $0.0 == "README.md" }?.1 ?? "")
            }
        }

        /// Runs `units` with progress on standard error and returns runs.csv and
        /// trajectories.csv (unit order, arms in catalogue order).
        static func execute(_ spec: StudySpec, units: [StudySpec.Unit], jobs: Int, progress: Bool) throws -> (String, String) {
            let results = try runUnits(spec, units: units, jobs: jobs, progress: progress, journal: nil)
            return (StudyTables.runsCSV(results.flatMap(\.records)), StudyTables.trajectoriesCSV(results.flatMap(\.trajectory)))
        }

        /// Runs `units` with progress on standard error, journalling each finished unit in
        /// `journal`; the results in unit-id order.
        static func runUnits(_ spec: StudySpec, units: [StudySpec.Unit], jobs: Int, progress: Bool,
                             journal: StudyJournal?) throws -> [StudyRunner.UnitResult] {
            let bar = ProgressBar(total: units.count, label: "study", enabled: progress && isatty(2) != 0)
            let lines = progress && isatty(2) == 0
            let total = units.count
            let counter = Counter()
            let journalError = Mutex<ReportError?>(nil)
            let results: [StudyRunner.UnitResult]
            do {
                results = try StudyRunner.run(spec, units: units, workers: jobs) { r in
                    do throws(ReportError) { try journal?.append(r) } catch {
                        journalError.withLock { if $0 == nil { $0 = error } }
                    }
                    bar.advance()
                    let k = counter.next()
                    if lines && (k == total || k % Swift.max(1, total / 10) == 0) {
                        StandardOutput.writeError("study: \(k)/\(total) units (cell x seed) done\n")
                    }
                }
            } catch { throw ReportError("\(optionError(error))") }
            if let e = journalError.withLock({ $0 }) { throw e }
            bar.finish()
            return results
        }

        /// Refuses, before any work and before the lock and journal go in, an `--out` that is
        /// not a directory or holds a file a study did not write (``AtomicFolder``'s rule).
        static func checkFolder(_ path: String) throws {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return }
            guard isDir.boolValue else { throw ReportError("--out \(path): exists and is not a folder") }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            if let foreign = entries.sorted().first(where: { !StudyFiles.owned.contains($0) && !$0.hasPrefix(".") }) {
                throw ReportError("--out \(path): it holds '\(foreign)', which `report study` did not write; choose a new or empty folder")
            }
        }

        /// Writes `files` as the folder `path`, whole or not at all.
        static func writeFolder(_ path: String, files: [(String, String)]) throws {
            do {
                try AtomicFolder.build(URL(fileURLWithPath: path), owns: StudyFiles.owned) { dir in
                    for (name, text) in files {
                        let url = dir.appendingPathComponent(name)
                        if name.contains("/") { try AtomicFile.createDirectory(url.deletingLastPathComponent()) }
                        try AtomicFile.write(text, to: url)
                    }
                }
            } catch let e as ReportError { throw e } catch { throw ReportError("\(error)") }
        }
    }
}

/// A thread-safe counter for progress lines.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
