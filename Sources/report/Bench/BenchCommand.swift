import ArgumentParser
import Dispatch
import Experiments
import Foundation
import Formats
import GSLKit
import LossMath

extension Report {
    /// `report bench`: throughput of the loss kernels, the trainer and sweeps, how the cost
    /// grows with the problem, and the wall time of the headline commands. Benchmarks are
    /// not tests: they print numbers (and a checksum that keeps the work alive) and never fail
    /// on speed. `benchmarks/run.py` runs this side by side with the numpy baseline.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmark loss kernels, the trainer, sweeps, scaling and command wall times.",
            discussion: """
            Sections (--sections, comma list or all):
              peaks     measured machine peaks for the roofline model: memory bandwidth (triad), \
            the throughput of exp, log1p, log, expm1, division and square root as the compiled code uses them \
            (vectorised loops, and explicit eight-lane loops), of additions and multiplications on registers \
            (four- and eight-lane chains) and of the scalar scatter-add of the gradient rows;
              kernels   loss + gradient evaluations per second for each loss on --pairs random pairs, \
            single thread, through the batch API (switch hoisted) and the per-pair Loss.evaluate;
              trainer   pair-updates per second (pairs x steps / time) of full-batch Adam on the \
            default tabular problem, on the mid-size P=200, K=16, n=12 and on P=10^4, K=64, n=32, on one thread and on all cores;
              sweep     a sweep of independent trainings on 1 worker and on all cores;
              scaling   time against P*K, against K and against the number of steps, with the \
            fitted log-log exponent (GSL least squares);
              commands  wall time of `report gradients` and `report all` (run as subprocesses);
              sequence  pair-updates per second of full-batch DPO at the sequence level, \
            P=64, V=32, T=64, n=16, markov and shared, one thread (benchmarks/sequence_torch.py \
            is the PyTorch side).

            Every figure is the median of --repeats runs. Quote ratios measured in one run, not \
            absolute times. Results depend on nothing but speed: the trainer is bit-identical \
            for every thread count.

            Example:
              report bench
              report bench --sections kernels,trainer --pairs 1000000 --format json
              report bench --skip-all
            """
        )

        @Option(help: "Random pairs for the loss-kernel benchmark.")
        var pairs: Int = 10_000_000
        @Option(help: "Losses for the kernel benchmark (comma list or all).")
        var losses: String = "all"
        @Option(help: "Losses for the trainer benchmark.")
        var trainerLosses: String = "sigmoid,spo"
        @Option(help: "Steps on the default problem (P=8, K=6, n=6).")
        var defaultSteps: Int = 20_000
        @Option(help: "Steps on the mid-size problem (P=200, K=16, n=12).")
        var midSteps: Int = 20_000
        @Option(help: "Steps on the large problem.")
        var largeSteps: Int = 40
        @Option(help: "Prompts P of the large problem (K=64, n=32).")
        var largePrompts: Int = 10_000
        @Option(help: "Steps of each run of the sweep benchmark (128 runs on the default problem).")
        var sweepSteps: Int = 5000
        @Option(help: "Steps of the sequence-level benchmark (P=64, V=32, T=64, n=16).")
        var sequenceSteps: Int = 20
        @Option(help: "Median of this many runs per measurement.")
        var repeats: Int = 3
        @Option(help: "Comma list of sections: peaks, kernels, trainer, sweep, scaling, commands, sequence, or all.")
        var sections: String = "all"
        @Flag(help: "Do not time `report all` (it takes about a minute).")
        var skipAll = false
        @Option(help: "Output: markdown (default), csv or json.")
        var format: BenchFormat = .markdown

        // Hidden: write a generated environment and Swift's training of it for the numpy
        // baseline (benchmarks/baseline.py), then exit.
        @Option(help: .hidden) var exportEnvironment: String?
        @Option(help: .hidden) var exportProblem: String = "default"
        @Option(help: .hidden) var exportLoss: String = "sigmoid"
        @Option(help: .hidden) var exportSteps: Int = 200
        @Option(help: .hidden) var exportLogEvery: Int = 20
        @Option(help: .hidden) var exportLr: Double = 0.05
        @Option(help: .hidden) var exportSeed: UInt64 = 1
        @Option(help: .hidden) var exportOptimizer: Optimizer = .adam
        // Hidden: write the sequence-level timing problem and the toolkit's first steps on
        // it for benchmarks/sequence_torch.py, then exit.
        @Option(help: .hidden) var exportSequence: String?
        // Hidden: time the trainer one step at a time (no temporal blocking; the same bits),
        // to compare the two in one session.
        @Flag(help: .hidden) var perStepTrainer = false

        func validate() throws {
            // Upper bounds (issue 13): --pairs 2^63-1 overflowed the buffer size and trapped.
            guard pairs >= 1 && pairs <= 100_000_000 else { throw ValidationError("--pairs must be between 1 and 100000000, got \(pairs)") }
            guard repeats >= 1 && repeats <= 1000 else { throw ValidationError("--repeats must be between 1 and 1000, got \(repeats)") }
            guard !sections.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--sections: empty; give a comma list of sections, or all") }
            guard defaultSteps >= 1, midSteps >= 1, largeSteps >= 1, sweepSteps >= 1, sequenceSteps >= 1 else {
                throw ValidationError("--default-steps, --mid-steps, --large-steps, --sweep-steps and --sequence-steps must be >= 1")
            }
            guard largePrompts >= 1 else { throw ValidationError("--large-prompts must be >= 1, got \(largePrompts)") }
            _ = try selectedSections()
            do { _ = try Loss.parseList(losses) } catch { throw ValidationError("--losses: \(error)") }
            do { _ = try Loss.parseList(trainerLosses) } catch { throw ValidationError("--trainer-losses: \(error)") }
        }

        func selectedSections() throws -> [BenchSection] {
            let t = sections.trimmingCharacters(in: .whitespaces)
            if t == "all" || t.isEmpty { return BenchSection.allCases }
            return try t.split(separator: ",").map { part in
                let name = part.trimmingCharacters(in: .whitespaces)
                guard let s = BenchSection(rawValue: name) else {
                    throw ValidationError("--sections: unknown section '\(name)'; known: \(BenchSection.allCases.map(\.rawValue).joined(separator: ", ")), all")
                }
                return s
            }
        }

        func run() throws {
            if let dir = exportEnvironment {
                try EnvironmentExport.write(to: dir, problem: exportProblem, largePrompts: largePrompts, loss: exportLoss,
                                            steps: exportSteps, logEvery: exportLogEvery, learningRate: exportLr, seed: exportSeed,
                                            optimizer: exportOptimizer)
                return
            }
            if let dir = exportSequence {
                try SequenceExport.write(to: dir, steps: exportSteps, logEvery: exportLogEvery, learningRate: exportLr)
                return
            }
            let chosen = try selectedSections()
            var result = BenchResult(machine: .current, arguments: Array(CommandLine.arguments.dropFirst()))
            let runner = BenchRunner(repeats: repeats, temporalBlocking: !perStepTrainer)
            if chosen.contains(.peaks) { result.peaks = runner.peaks() }
            if chosen.contains(.kernels) {
                result.kernels = runner.kernels(losses: try Loss.parseList(losses), pairs: pairs, peaks: result.peaks)
            }
            if chosen.contains(.trainer) {
                result.trainer = try runner.trainer(losses: try Loss.parseList(trainerLosses), defaultSteps: defaultSteps,
                                                    midSteps: midSteps, largeSteps: largeSteps, largePrompts: largePrompts, peaks: result.peaks)
            }
            if chosen.contains(.sweep) { result.sweep = try runner.sweep(steps: sweepSteps) }
            if chosen.contains(.scaling) { result.scaling = try runner.scaling(largePrompts: largePrompts) }
            if chosen.contains(.commands) { result.commands = try runner.commands(skipAll: skipAll) }
            if chosen.contains(.sequence) { result.sequence = try runner.sequence(steps: sequenceSteps) }
            switch format {
            case .markdown: emit(result.markdown())
            case .csv: emit(result.csv())
            case .json: emit(result.json())
            }
        }
    }
}

enum BenchFormat: String, ExpressibleByArgument, CaseIterable { case markdown, csv, json }

enum BenchSection: String, CaseIterable { case peaks, kernels, trainer, sweep, scaling, commands, sequence }
