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
            and the throughput of exp, log1p, division and square root as the compiled code uses them;
              kernels   loss + gradient evaluations per second for each loss on --pairs random pairs, \
            single thread, through the batch API (switch hoisted) and the per-pair Loss.evaluate;
              trainer   pair-updates per second (pairs x steps / time) of full-batch Adam on the \
            default tabular problem and on P=10^4, K=64, n=32, on one thread and on all cores;
              sweep     a sweep of independent trainings on 1 worker and on all cores;
              scaling   time against P*K, against K and against the number of steps, with the \
            fitted log-log exponent (GSL least squares);
              commands  wall time of `report gradients` and `report all` (run as subprocesses).

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
        @Option(help: "Steps on the large problem.")
        var largeSteps: Int = 40
        @Option(help: "Prompts P of the large problem (K=64, n=32).")
        var largePrompts: Int = 10_000
        @Option(help: "Steps of each run of the sweep benchmark (128 runs on the default problem).")
        var sweepSteps: Int = 5000
        @Option(help: "Median of this many runs per measurement.")
        var repeats: Int = 3
        @Option(help: "Comma list of sections: peaks, kernels, trainer, sweep, scaling, commands, or all.")
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

        func validate() throws {
            guard pairs >= 1 else { throw ValidationError("--pairs must be >= 1, got \(pairs)") }
            guard repeats >= 1 else { throw ValidationError("--repeats must be >= 1, got \(repeats)") }
            guard defaultSteps >= 1, largeSteps >= 1, sweepSteps >= 1 else { throw ValidationError("--default-steps, --large-steps and --sweep-steps must be >= 1") }
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
            let chosen = try selectedSections()
            var result = BenchResult(machine: .current, arguments: Array(CommandLine.arguments.dropFirst()))
            let runner = BenchRunner(repeats: repeats)
            if chosen.contains(.peaks) { result.peaks = runner.peaks() }
            if chosen.contains(.kernels) {
                result.kernels = runner.kernels(losses: try Loss.parseList(losses), pairs: pairs, peaks: result.peaks)
            }
            if chosen.contains(.trainer) {
                result.trainer = try runner.trainer(losses: try Loss.parseList(trainerLosses), defaultSteps: defaultSteps,
                                                    largeSteps: largeSteps, largePrompts: largePrompts, peaks: result.peaks)
            }
            if chosen.contains(.sweep) { result.sweep = try runner.sweep(steps: sweepSteps) }
            if chosen.contains(.scaling) { result.scaling = try runner.scaling(largePrompts: largePrompts) }
            if chosen.contains(.commands) { result.commands = try runner.commands(skipAll: skipAll) }
            switch format {
            case .markdown: emit(result.markdown())
            case .csv: emit(result.csv())
            case .json: emit(result.json())
            }
        }
    }
}

enum BenchFormat: String, ExpressibleByArgument, CaseIterable { case markdown, csv, json }

enum BenchSection: String, CaseIterable { case peaks, kernels, trainer, sweep, scaling, commands }

// MARK: - Machine

struct BenchMachine {
    var cpu: String
    var processors: Int
    var date: String
    var binary: String

    static var current: BenchMachine {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return BenchMachine(cpu: model, processors: Sweep.processorCount, date: f.string(from: Date()), binary: selfExecutable())
    }
}

/// The running binary (for the subprocess timings).
func selfExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

// MARK: - Timing

/// Monotonic seconds.
@inline(never)
func benchNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
}

/// Sums the finite entries (a checksum printed so that no work can be optimised away).
func finiteSum(_ b: UnsafeMutableBufferPointer<Double>) -> Double {
    var s = 0.0
    for x in b where x.isFinite { s += x }
    return s
}

// MARK: - Results

struct PeakRow { var name: String; var rate: Double; var unit: String; var note: String }

/// Operation counts of one loss evaluation (value and gradient), for the roofline model; nil
/// for the losses built on polynomials and several selected branches (exo_pair's and
/// rpo_*'s Bernoulli KL, discopop, spo_bt, apo_down), which the model does not count.
struct OpCount {
    /// Elementary's vectorised functions, and lanes of vectorised divisions and square roots
    /// (every loop the model counts vectorises).
    var exp = 0.0, log1p = 0.0, log = 0.0, expm1 = 0.0, div = 0.0, sqrt = 0.0
    /// Bytes moved per item (read + written, no write-allocate, as STREAM counts).
    var bytes = 0.0
    var text: String {
        var parts: [String] = []
        if exp > 0 { parts.append("\(g3(exp)) exp") }
        if log1p > 0 { parts.append("\(g3(log1p)) log1p") }
        if log > 0 { parts.append("\(g3(log)) log") }
        if expm1 > 0 { parts.append("\(g3(expm1)) expm1") }
        if div > 0 { parts.append("\(g3(div)) div") }
        if sqrt > 0 { parts.append("\(g3(sqrt)) sqrt") }
        parts.append("\(g3(bytes)) B")
        return parts.joined(separator: " + ")
    }
}

struct Peaks {
    var bandwidth: Double       // bytes/s
    var exp: Double, log1p: Double, log: Double, expm1: Double, div: Double, sqrt: Double   // per second
    /// Roofline time per item: max(compute, memory), compute = sum count/peak (compute and
    /// memory traffic overlap perfectly).
    func seconds(_ c: OpCount) -> Double {
        Swift.max(compute(c), c.bytes / bandwidth)
    }
    /// The same without overlap: compute + memory. Where the two are about equal (the
    /// transcendental kernels here) the truth lies between the two models.
    func secondsWithoutOverlap(_ c: OpCount) -> Double {
        compute(c) + c.bytes / bandwidth
    }
    func compute(_ c: OpCount) -> Double {
        c.exp / exp + c.log1p / log1p + c.log / log + c.expm1 / expm1 + c.div / div + c.sqrt / sqrt
    }
}

struct KernelRow {
    var loss: Loss
    var batchRate: Double, scalarRate: Double
    var checksum: Double
    var ops: OpCount?
    var modelRate: Double?
    var modelRateWithoutOverlap: Double?
}

struct TrainerRow {
    var problem: String, loss: Loss
    var P: Int, K: Int, n: Int, steps: Int, threads: Int
    var seconds: Double, rate: Double
    var finalRegret: Double
    var ops: OpCount?, modelRate: Double?, modelRateWithoutOverlap: Double? = nil
}

struct SweepRow { var workers: Int; var runs: Int; var steps: Int; var seconds: Double; var rate: Double }

struct ScalingRow { var study: String; var P: Int, K: Int, n: Int, steps: Int; var seconds: Double }

struct ScalingFit { var study: String; var variable: String; var exponent: Double; var standardError: Double }

struct CommandRow { var command: String; var seconds: Double; var status: Int32 }

struct BenchResult {
    var machine: BenchMachine
    var arguments: [String]
    var peaks: [PeakRow] = []
    var kernels: [KernelRow] = []
    var trainer: [TrainerRow] = []
    var sweep: [SweepRow] = []
    var scaling: (rows: [ScalingRow], fits: [ScalingFit]) = ([], [])
    var commands: [CommandRow] = []
}

func g3(_ x: Double) -> String { x.isFinite ? String(format: "%.3g", x) : "-" }
func f2(_ x: Double) -> String { x.isFinite ? String(format: "%.2f", x) : "-" }
func mega(_ x: Double) -> String { x.isFinite ? String(format: "%.1f", x / 1e6) : "-" }

// MARK: - Measurements

struct BenchRunner {
    let repeats: Int

    // MARK: Peaks

    /// Machine peaks for the roofline model, measured the way the compiled code runs: the
    /// triad `a = b + s c` on 3 x 128 MiB (24 bytes per element, no write-allocate counted),
    /// and LossMath's `Elementary` functions, division and square root in loops over arrays
    /// in L1, vectorised to the width this binary was built for (Package.swift: the
    /// building machine's, unless PRINCIPLED_LOSS_PORTABLE is set).
    func peaks() -> [PeakRow] {
        var rows: [PeakRow] = []
        // Bandwidth.
        let n = 1 << 24
        let a = UnsafeMutableBufferPointer<Double>.allocate(capacity: n); a.initialize(repeating: 0)
        let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: n); b.initialize(repeating: 1)
        let c = UnsafeMutableBufferPointer<Double>.allocate(capacity: n); c.initialize(repeating: 2)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        let bw = median((0..<Swift.max(repeats, 3)).map { r in
            let s = 0.5 + Double(r)
            let t0 = benchNow()
            triad(a, b, c, s)
            return Double(24 * n) / (benchNow() - t0)
        })
        rows.append(PeakRow(name: "memory bandwidth (triad)", rate: bw, unit: "B/s", note: "3 x 128 MiB arrays, 24 B per element"))
        // Operations on cached data.
        let m = 4096, rounds = 512
        let x = UnsafeMutableBufferPointer<Double>.allocate(capacity: m)
        let y = UnsafeMutableBufferPointer<Double>.allocate(capacity: m)
        defer { x.deallocate(); y.deallocate() }
        let rng = RandomGenerator(seed: 99)
        for i in 0..<m { x[i] = -3 + 6 * rng.uniform(); y[i] = 0 }
        func rate(_ name: String, _ body: () -> Void) -> Double {
            median((0..<Swift.max(repeats, 3)).map { _ in
                let t0 = benchNow()
                for _ in 0..<rounds { body() }
                return Double(m * rounds) / (benchNow() - t0)
            })
        }
        let rExp = rate("exp") { mapExp(x, y) }
        let rLog1p = rate("log1p") { mapLog1p(x, y) }
        let rLog = rate("log") { mapLog(x, y) }
        let rExpm1 = rate("expm1") { mapExpm1(x, y) }
        let rDiv = rate("div") { mapDiv(x, y) }
        let rSqrt = rate("sqrt") { mapSqrt(x, y) }
        let keep = finiteSum(y)
        let note = "Elementary, vectorised loop, data in L1"
        rows.append(PeakRow(name: "exp (vectorised)", rate: rExp, unit: "op/s", note: note))
        rows.append(PeakRow(name: "log1p (vectorised)", rate: rLog1p, unit: "op/s", note: note))
        rows.append(PeakRow(name: "log (vectorised)", rate: rLog, unit: "op/s", note: note))
        rows.append(PeakRow(name: "expm1 (vectorised)", rate: rExpm1, unit: "op/s", note: note))
        rows.append(PeakRow(name: "division (vectorised)", rate: rDiv, unit: "op/s", note: "y = (y + 1) / (x + 4), data in L1"))
        rows.append(PeakRow(name: "square root (vectorised)", rate: rSqrt, unit: "op/s", note: "y = sqrt(|x|) with LLVM's sqrt intrinsic; checksum \(g3(keep))"))
        return rows
    }

    static func peaks(from rows: [PeakRow]) -> Peaks? {
        func r(_ prefix: String) -> Double? { rows.first { $0.name.hasPrefix(prefix) }?.rate }
        guard let bw = r("memory"), let e = r("exp ("), let l = r("log1p"), let lg = r("log ("), let em = r("expm1"),
              let d = r("division"), let s = r("square") else { return nil }
        return Peaks(bandwidth: bw, exp: e, log1p: l, log: lg, expm1: em, div: d, sqrt: s)
    }

    // MARK: Kernels

    /// Operation counts of the batch kernels' value-and-gradient path (see Sources/LossMath/Losses/),
    /// after common subexpressions are merged (`exp(-|x|)` of a sigmoid and of its density
    /// is one exponential). Divisions by loop-invariant parameters (1/(2 beta),
    /// 1/(1 - 2 eps)) are hoisted by the compiler and not counted. Bytes: 4 log-probabilities
    /// and the gap read, value and two derivatives written: 64 B per pair.
    static func kernelOps(_ loss: Loss) -> OpCount? {
        let io = 64.0
        // Each loss states its counts (PreferenceLoss.rooflineOps); nil when not modelled.
        return loss.rooflineOps.map { OpCount(exp: $0.exp, log1p: $0.log1p, log: $0.log, expm1: $0.expm1, div: $0.div, sqrt: $0.sqrt, bytes: io) }
    }

    /// The parameters of the kernel benchmark (and of benchmarks/baseline.py): beta 0.1,
    /// label smoothing 0.1 (exo_pair 1e-3), per-pair reward gaps.
    static func kernelParameters(_ loss: Loss) -> LossParameters {
        let eps = loss == .exoPair ? 1e-3 : (loss.usesLabelSmoothing ? 0.1 : 0)
        return LossParameters(beta: 0.1, labelSmoothing: eps, rewardGap: nil)
    }

    /// Loss + gradient throughput per loss. Inputs (generated once with GSL's MT19937, seed
    /// 2025, as benchmarks/baseline.py draws them with numpy): reference log-probabilities
    /// `-U(20, 80)`, policy log-ratios `N(0, 2^2)`, reward gaps `N(0, 1)`.
    func kernels(losses: [Loss], pairs n: Int, peaks: [PeakRow]) -> [KernelRow] {
        func buffer() -> UnsafeMutableBufferPointer<Double> {
            let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: n); b.initialize(repeating: 0); return b
        }
        let cw = buffer(), cl = buffer(), rw = buffer(), rl = buffer(), gap = buffer()
        let v = buffer(), dw = buffer(), dl = buffer()
        defer { for b in [cw, cl, rw, rl, gap, v, dw, dl] { b.deallocate() } }
        let rng = RandomGenerator(seed: 2025)
        for i in 0..<n {
            rw[i] = -(20 + 60 * rng.uniform())
            rl[i] = -(20 + 60 * rng.uniform())
            cw[i] = rw[i] + rng.gaussian(sigma: 2)
            cl[i] = rl[i] + rng.gaussian(sigma: 2)
            gap[i] = rng.gaussian(sigma: 1)
        }
        let model = Self.peaks(from: peaks)
        var rows: [KernelRow] = []
        for loss in losses {
            let p = Self.kernelParameters(loss)
            let batch = median((0..<repeats).map { _ in
                let t0 = benchNow()
                loss.evaluateBatch(chosen: UnsafeBufferPointer(cw), rejected: UnsafeBufferPointer(cl),
                                   refChosen: UnsafeBufferPointer(rw), refRejected: UnsafeBufferPointer(rl),
                                   rewardGaps: UnsafeBufferPointer(gap), parameters: p, values: v, dChosen: dw, dRejected: dl)
                return benchNow() - t0
            })
            let checksum = finiteSum(v) + finiteSum(dw) + finiteSum(dl)
            let scalar = median((0..<repeats).map { _ in
                let t0 = benchNow()
                scalarLoop(loss, p, n, cw, cl, rw, rl, gap, v, dw, dl)
                return benchNow() - t0
            })
            let check2 = finiteSum(v) + finiteSum(dw) + finiteSum(dl)
            precondition(check2.bitPattern == checksum.bitPattern || (check2.isNaN && checksum.isNaN),
                         "the batch and per-pair paths disagree for \(loss.rawValue)")
            let ops = Self.kernelOps(loss)
            let modelRate = ops.flatMap { o in model.map { 1 / $0.seconds(o) } }
            let serialRate = ops.flatMap { o in model.map { 1 / $0.secondsWithoutOverlap(o) } }
            rows.append(KernelRow(loss: loss, batchRate: Double(n) / batch, scalarRate: Double(n) / scalar,
                                  checksum: checksum, ops: ops, modelRate: modelRate, modelRateWithoutOverlap: serialRate))
        }
        return rows
    }

    // MARK: Trainer

    static func defaultProblem() -> SimulationConfig { SimulationConfig() }
    static func largeProblem(prompts: Int) -> SimulationConfig {
        SimulationConfig(prompts: prompts, responses: 64, pairsPerPrompt: 32)
    }

    /// The roofline count of one pair-update of the fused full-batch Adam step with DPO or
    /// spo, per pair, with `r = K/n` cells and `1/n` prompts per pair:
    /// - per cell: two exps (the softmax, and pi = exp(log pi) for the gradient), Adam's three
    ///   divisions and one square root;
    /// - per prompt: one log (the log-sum-exp);
    /// - per pair: the kernel's derivative (sigmoid: one exp and one division; spo: none);
    /// - per step: two expm1 (Adam's bias corrections), over `P n` pairs;
    /// - every `L` steps, the metrics: the full pass with values (one exp per cell, one log per
    ///   prompt, the kernel's value and gradient per pair: sigmoid one exp, log1p and
    ///   division), one more exp per cell for the KLs, one log10 (counted as a log) per pair.
    /// Every counted operation runs in a vectorised loop except the per-prompt logs.
    /// Bytes per step: 64 per cell (theta, m, v read and written, the reference read, log pi
    /// written) and 32 per pair (chosen, rejected, gap, weight); none when everything stays in
    /// cache (the default problem's working set is 2.3 KB).
    static func trainerOps(loss: Loss, P: Int, K: Int, n: Int, logEvery L: Int, inCache: Bool) -> OpCount? {
        let r = Double(K) / Double(n), l = Double(L), perPrompt = 1 / Double(n)
        // The step runs the loss's derivative-only kernel, the metrics its full kernel.
        guard let step = loss.rooflineGradientOps, let full = loss.rooflineOps else { return nil }
        return OpCount(exp: 2 * r + step.exp + (3 * r + full.exp) / l,
                       log1p: full.log1p / l,
                       log: perPrompt + (perPrompt + 1) / l,
                       expm1: 2 / (Double(P) * Double(n)),
                       div: step.div + full.div / l + r * 3,
                       sqrt: r,
                       bytes: inCache ? 0 : r * 64 + 32)
    }

    func trainer(losses: [Loss], defaultSteps: Int, largeSteps: Int, largePrompts: Int, peaks: [PeakRow]) throws -> [TrainerRow] {
        let model = Self.peaks(from: peaks)
        var rows: [TrainerRow] = []
        let threadCounts = Array(Set([1, Sweep.processorCount])).sorted()
        for (name, sim, steps) in [("default", Self.defaultProblem(), defaultSteps),
                                   ("large", Self.largeProblem(prompts: largePrompts), largeSteps)] {
            let env = try Environment(sim)
            for loss in losses {
                for threads in threadCounts {
                    var regret = 0.0
                    let seconds = median(try (0..<repeats).map { _ in
                        let t = try Trainer(environment: env, config: TrainingConfig(loss: loss, steps: steps))
                        t.threads = threads
                        let t0 = benchNow()
                        let r = t.run()
                        let dt = benchNow() - t0
                        regret = r.summary.finalRegret
                        return dt
                    })
                    let work = Double(sim.pairCount) * Double(steps)
                    let inCache = sim.prompts * sim.responses * 8 * 8 < 1 << 20
                    let ops = Self.trainerOps(loss: loss, P: sim.prompts, K: sim.responses, n: sim.pairsPerPrompt, logEvery: 20, inCache: inCache)
                    let modelRate = ops.flatMap { o in model.map { Double(threads) / $0.seconds(o) } }
                    let serialRate = ops.flatMap { o in model.map { Double(threads) / $0.secondsWithoutOverlap(o) } }
                    rows.append(TrainerRow(problem: name, loss: loss, P: sim.prompts, K: sim.responses, n: sim.pairsPerPrompt,
                                           steps: steps, threads: threads, seconds: seconds, rate: work / seconds,
                                           finalRegret: regret, ops: ops, modelRate: threads == 1 ? modelRate : nil,
                                           modelRateWithoutOverlap: threads == 1 ? serialRate : nil))
                }
            }
        }
        return rows
    }

    // MARK: Sweep

    /// 4 losses x 2 betas x 2 noises x 8 seeds = 128 runs of `steps` steps (default 5000) on the default
    /// problem (each run generates its environment, as `report sweep` does).
    func sweep(steps: Int) throws -> [SweepRow] {
        let spec = SweepSpec(losses: [.sigmoid, .ipo, .spo, .spoBT], betas: [0.1, 0.5], rewardNoises: [0, 0.5],
                             seeds: (1...8).map { UInt64($0) }, training: TrainingConfig(loss: .spo, steps: steps))
        let runs = try spec.runs()
        let work = Double(runs.count) * Double(spec.simulation.pairCount) * Double(spec.training.steps)
        var rows: [SweepRow] = []
        for workers in Array(Set([1, Sweep.processorCount])).sorted() {
            let seconds = median(try (0..<repeats).map { _ in
                let t0 = benchNow()
                _ = try Sweep.run(spec, runs: runs, workers: workers)
                return benchNow() - t0
            })
            rows.append(SweepRow(workers: workers, runs: runs.count, steps: steps, seconds: seconds, rate: work / seconds))
        }
        return rows
    }

    // MARK: Scaling

    /// Single-thread DPO training time against P*K (P from P_large/16 to P_large, K = 64,
    /// n = 32, 20 steps), against K (P = P_large/10, K = 16...256, n = K/2, 20 steps) and
    /// against the number of steps (P = P_large/10, K = 64, n = 32, 25...400 steps, minus
    /// the time of a 0-step run); each with metrics every 20 steps, as `report train` logs.
    /// Exponents are the GSL least-squares slopes of log time against log size.
    func scaling(largePrompts: Int) throws -> (rows: [ScalingRow], fits: [ScalingFit]) {
        var rows: [ScalingRow] = []
        var fits: [ScalingFit] = []
        func time(_ sim: SimulationConfig, steps: Int) throws -> Double {
            let env = try Environment(sim)
            return median(try (0..<repeats).map { _ in
                let t = try Trainer(environment: env, config: TrainingConfig(loss: .sigmoid, steps: steps))
                t.threads = 1
                let t0 = benchNow()
                _ = t.run()
                return benchNow() - t0
            })
        }
        func study(_ name: String, _ variable: String, _ configs: [(SimulationConfig, Int)], x: (SimulationConfig, Int) -> Double) throws {
            var xs: [Double] = [], ys: [Double] = []
            for (sim, steps) in configs {
                let s = try time(sim, steps: steps)
                rows.append(ScalingRow(study: name, P: sim.prompts, K: sim.responses, n: sim.pairsPerPrompt, steps: steps, seconds: s))
                xs.append(Foundation.log(x(sim, steps)))
                ys.append(Foundation.log(s))
            }
            let fit = try LinearFit(x: xs, y: ys)
            fits.append(ScalingFit(study: name, variable: variable, exponent: fit.slope, standardError: fit.slopeVariance.squareRoot()))
        }
        let top = Swift.max(1, largePrompts)
        let ps = [top / 16, top / 8, top / 4, top / 2, top].map { Swift.max(1, $0) }
        try study("P*K (P varies)", "P*K", ps.map { (SimulationConfig(prompts: $0, responses: 64, pairsPerPrompt: 32), 20) }) { s, _ in Double(s.prompts * s.responses) }
        let base = Swift.max(1, top / 10)
        try study("P*K (K varies)", "P*K", [16, 32, 64, 128, 256].map { (SimulationConfig(prompts: base, responses: $0, pairsPerPrompt: $0 / 2), 20) }) { s, _ in Double(s.prompts * s.responses) }
        // Against steps: the time of the steps themselves, i.e. minus a 0-step run (which
        // records the step-0 metrics and nothing else), so a fixed cost does not bend the fit.
        let stepSim = SimulationConfig(prompts: base, responses: 64, pairsPerPrompt: 32)
        let fixed = try time(stepSim, steps: 0)
        var xs: [Double] = [], ys: [Double] = []
        for steps in [25, 50, 100, 200, 400] {
            let s = try time(stepSim, steps: steps) - fixed
            rows.append(ScalingRow(study: "steps (minus a 0-step run)", P: base, K: 64, n: 32, steps: steps, seconds: s))
            xs.append(Foundation.log(Double(steps)))
            ys.append(Foundation.log(Swift.max(s, 1e-9)))
        }
        let fit = try LinearFit(x: xs, y: ys)
        fits.append(ScalingFit(study: "steps (minus a 0-step run)", variable: "steps", exponent: fit.slope, standardError: fit.slopeVariance.squareRoot()))
        return (rows, fits)
    }

    // MARK: Commands

    func commands(skipAll: Bool) throws -> [CommandRow] {
        let exe = selfExecutable()
        var rows: [CommandRow] = []
        func timeCommand(_ args: [String], repeats: Int) throws -> CommandRow {
            var status: Int32 = 0
            let seconds = median(try (0..<repeats).map { _ in
                let p = Process()
                p.executableURL = URL(fileURLWithPath: exe)
                p.arguments = args
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                let t0 = benchNow()
                try p.run()
                p.waitUntilExit()
                let dt = benchNow() - t0
                status = p.terminationStatus
                return dt
            })
            return CommandRow(command: "report " + args.joined(separator: " "), seconds: seconds, status: status)
        }
        rows.append(try timeCommand(["gradients"], repeats: repeats))
        if !skipAll {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-bench-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            var row = try timeCommand(["all", "--out", dir.path, "--quiet"], repeats: 1)
            row.command = "report all --out DIR --quiet"
            rows.append(row)
        }
        return rows
    }
}

// MARK: - Kernels of the peak measurements (not inlined into the timing closures)

@inline(never)
func triad(_ a: UnsafeMutableBufferPointer<Double>, _ b: UnsafeMutableBufferPointer<Double>, _ c: UnsafeMutableBufferPointer<Double>, _ s: Double) {
    let pa = a.baseAddress!, pb = b.baseAddress!, pc = c.baseAddress!
    for i in 0..<a.count { pa[i] = pb[i] + s * pc[i] }
}

@inline(never)
func mapExp(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    let px = x.baseAddress!, py = y.baseAddress!
    for i in 0..<x.count { py[i] = Elementary.exp(px[i]) }
}

@inline(never)
func mapLog1p(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    let px = x.baseAddress!, py = y.baseAddress!
    for i in 0..<x.count { py[i] = Elementary.log(onePlus: Swift.abs(px[i])) }
}

@inline(never)
func mapDiv(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    let px = x.baseAddress!, py = y.baseAddress!
    for i in 0..<x.count { py[i] = (py[i] + 1) / (px[i] + 4) }
}

@inline(never)
func mapLog(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    let px = x.baseAddress!, py = y.baseAddress!
    for i in 0..<x.count { py[i] = Elementary.log(Swift.abs(px[i]) + 0.5) }
}

@inline(never)
func mapExpm1(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    let px = x.baseAddress!, py = y.baseAddress!
    for i in 0..<x.count { py[i] = Elementary.expMinusOne(px[i]) }
}

/// LLVM's square-root intrinsic (see `intrinsicSquareRoot` in Experiments).
@_silgen_name("llvm.sqrt.f64")
func benchSquareRoot(_ x: Double) -> Double

@inline(never)
func mapSqrt(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    let px = x.baseAddress!, py = y.baseAddress!
    for i in 0..<x.count { py[i] = benchSquareRoot(Swift.abs(px[i])) }
}

/// The per-pair API, `Loss.evaluate` (a switch per pair), over the same buffers.
@inline(never)
func scalarLoop(_ loss: Loss, _ p: LossParameters, _ n: Int,
                _ cw: UnsafeMutableBufferPointer<Double>, _ cl: UnsafeMutableBufferPointer<Double>,
                _ rw: UnsafeMutableBufferPointer<Double>, _ rl: UnsafeMutableBufferPointer<Double>,
                _ gap: UnsafeMutableBufferPointer<Double>, _ v: UnsafeMutableBufferPointer<Double>,
                _ dw: UnsafeMutableBufferPointer<Double>, _ dl: UnsafeMutableBufferPointer<Double>) {
    var q = p
    for i in 0..<n {
        q.rewardGap = gap[i]
        let e = loss.evaluate(PairLogProbs(chosen: cw[i], rejected: cl[i], refChosen: rw[i], refRejected: rl[i]), q)
        v[i] = e.value; dw[i] = e.dChosen; dl[i] = e.dRejected
    }
}

// MARK: - Rendering

extension BenchResult {
    func markdown() -> String {
        var s = "# report bench\n\n"
        s += "- machine: \(machine.cpu), \(machine.processors) online processors\n"
        s += "- date: \(machine.date)\n"
        s += "- command: `report \(arguments.joined(separator: " "))` (\(machine.binary))\n"
        s += "- every figure is the median of the repeats; compare ratios within one run\n\n"
        if !peaks.isEmpty {
            s += "## Machine peaks (roofline inputs)\n\n"
            s += MarkdownTable(headers: ["measurement", "rate", "unit", "how"], alignments: [.left, .right, .left, .left],
                               rows: peaks.map { [$0.name, $0.unit == "B/s" ? String(format: "%.2f G", $0.rate / 1e9) : String(format: "%.1f M", $0.rate / 1e6), $0.unit, $0.note] }).render()
            s += "\n"
        }
        if !kernels.isEmpty {
            s += "## Loss kernels: loss + gradient, single thread\n\n"
            s += "Million pairs per second. *batch*: `Loss.evaluateBatch` (switch hoisted, shared sub-expressions); "
            s += "*per pair*: `Loss.evaluate` in a loop. *model*: the roofline estimate from the operation count "
            s += "and the measured peaks (max of compute and memory time).\n\n"
            s += MarkdownTable(headers: ["loss", "batch", "per pair", "batch / per pair", "op count", "model", "batch / model", "checksum"],
                               alignments: [.left, .right, .right, .right, .left, .right, .right, .right],
                               rows: kernels.map { k in
                                   [k.loss.rawValue, mega(k.batchRate), mega(k.scalarRate), f2(k.batchRate / k.scalarRate),
                                    k.ops?.text ?? "branchy: not modelled", k.modelRate.map(mega) ?? "-",
                                    k.modelRate.map { f2(k.batchRate / $0) } ?? "-", String(format: "%.6e", k.checksum)]
                               }).render()
            s += "\n"
        }
        if !trainer.isEmpty {
            s += "## Trainer: full-batch Adam, pair-updates per second\n\n"
            s += "pair-updates = pairs x steps; metrics every 20 steps included; environment generation excluded.\n\n"
            s += MarkdownTable(headers: ["problem", "P", "K", "n", "loss", "steps", "threads", "M pair-updates/s", "time (s)", "op count / pair-update", "model (1 thread)", "measured / model", "final regret"],
                               alignments: [.left, .right, .right, .right, .left, .right, .right, .right, .right, .left, .right, .right, .right],
                               rows: trainer.map { t in
                                   [t.problem, "\(t.P)", "\(t.K)", "\(t.n)", t.loss.rawValue, "\(t.steps)", "\(t.threads)", mega(t.rate),
                                    String(format: "%.3f", t.seconds), t.ops?.text ?? "-", t.modelRate.map(mega) ?? "-",
                                    t.modelRate.map { f2(t.rate / $0) } ?? "-", String(format: "%.6g", t.finalRegret)]
                               }).render()
            let pairsByKey = Dictionary(grouping: trainer) { "\($0.problem) \($0.loss.rawValue)" }
            var lines: [String] = []
            for key in pairsByKey.keys.sorted() {
                let g = pairsByKey[key]!.sorted { $0.threads < $1.threads }
                if g.count >= 2 { lines.append("- \(key): \(g.last!.threads) threads / 1 thread = \(f2(g.last!.rate / g[0].rate))x") }
            }
            if !lines.isEmpty { s += "\n" + lines.joined(separator: "\n") + "\n" }
            s += "\n"
        }
        if !sweep.isEmpty {
            s += "## Sweep: independent runs in parallel (default problem, \(sweep[0].steps) steps each)\n\n"
            let base = sweep.first { $0.workers == 1 }?.rate ?? sweep[0].rate
            s += MarkdownTable(headers: ["workers", "runs", "time (s)", "M pair-updates/s", "speed-up"],
                               alignments: [.right, .right, .right, .right, .right],
                               rows: sweep.map { ["\($0.workers)", "\($0.runs)", String(format: "%.3f", $0.seconds), mega($0.rate), f2($0.rate / base)] }).render()
            s += "\n"
        }
        if !scaling.rows.isEmpty {
            s += "## Scaling: single-thread DPO training time\n\n"
            s += MarkdownTable(headers: ["study", "P", "K", "n", "P*K", "steps", "time (s)", "ns per pair-update"],
                               alignments: [.left, .right, .right, .right, .right, .right, .right, .right],
                               rows: scaling.rows.map { r in
                                   [r.study, "\(r.P)", "\(r.K)", "\(r.n)", "\(r.P * r.K)", "\(r.steps)", String(format: "%.4f", r.seconds),
                                    String(format: "%.2f", r.seconds / (Double(r.P * r.n) * Double(r.steps)) * 1e9)]
                               }).render()
            s += "\n"
            s += MarkdownTable(headers: ["study", "fitted exponent of time in", "exponent", "standard error"],
                               alignments: [.left, .left, .right, .right],
                               rows: scaling.fits.map { [$0.study, $0.variable, String(format: "%.3f", $0.exponent), String(format: "%.3f", $0.standardError)] }).render()
            s += "\n"
        }
        if !commands.isEmpty {
            s += "## Commands: wall time (subprocess, output discarded)\n\n"
            s += MarkdownTable(headers: ["command", "wall time (s)", "exit status"], alignments: [.left, .right, .right],
                               rows: commands.map { [$0.command, String(format: "%.3f", $0.seconds), "\($0.status)"] }).render()
            s += "\n"
        }
        return s
    }

    /// One tidy table: section, name, parameters, threads, seconds, rate, unit, extra.
    func csv() -> String {
        var w = CSVWriter(header: ["section", "name", "P", "K", "n", "steps", "threads", "seconds", "rate", "unit", "model_rate", "checksum"])
        func n(_ x: Double?) -> String { x.map { $0.isFinite ? CSVWriter.format($0) : "" } ?? "" }
        for p in peaks { w.appendRow(["peaks", p.name, "", "", "", "", "1", "", n(p.rate), p.unit, "", ""]) }
        for k in kernels {
            w.appendRow(["kernels", k.loss.rawValue + " batch", "", "", "", "", "1", "", n(k.batchRate), "pairs/s", n(k.modelRate), n(k.checksum)])
            w.appendRow(["kernels", k.loss.rawValue + " per pair", "", "", "", "", "1", "", n(k.scalarRate), "pairs/s", "", n(k.checksum)])
        }
        for t in trainer {
            w.appendRow(["trainer", t.problem + " " + t.loss.rawValue, "\(t.P)", "\(t.K)", "\(t.n)", "\(t.steps)", "\(t.threads)",
                         n(t.seconds), n(t.rate), "pair-updates/s", n(t.modelRate), n(t.finalRegret)])
        }
        for r in sweep { w.appendRow(["sweep", "\(r.runs) runs", "", "", "", "", "\(r.workers)", n(r.seconds), n(r.rate), "pair-updates/s", "", ""]) }
        for r in scaling.rows {
            w.appendRow(["scaling", r.study, "\(r.P)", "\(r.K)", "\(r.n)", "\(r.steps)", "1", n(r.seconds), "", "", "", ""])
        }
        for f in scaling.fits { w.appendRow(["scaling-fit", f.study, "", "", "", "", "", "", n(f.exponent), "exponent", "", n(f.standardError)]) }
        for c in commands { w.appendRow(["commands", c.command, "", "", "", "", "", n(c.seconds), "", "s", "", "\(c.status)"]) }
        return w.text
    }

    func json() -> String {
        func num(_ x: Double?) -> JSONValue { .number(x) }
        var o: [String: JSONValue] = [
            "machine": .object(["cpu": .string(machine.cpu), "processors": .integer(machine.processors),
                                "date": .string(machine.date), "binary": .string(machine.binary)]),
            "arguments": .array(arguments.map { .string($0) }),
        ]
        o["peaks"] = .array(peaks.map { .object(["name": .string($0.name), "rate": num($0.rate), "unit": .string($0.unit)]) })
        o["kernels"] = .array(kernels.map { k in
            .object(["loss": .string(k.loss.rawValue), "batch_rate": num(k.batchRate), "per_pair_rate": num(k.scalarRate),
                     "model_rate": num(k.modelRate), "model_rate_no_overlap": num(k.modelRateWithoutOverlap), "op_count": k.ops.map { .string($0.text) } ?? .null, "checksum": num(k.checksum)])
        })
        o["trainer"] = .array(trainer.map { t in
            .object(["problem": .string(t.problem), "loss": .string(t.loss.rawValue), "P": .integer(t.P), "K": .integer(t.K),
                     "n": .integer(t.n), "steps": .integer(t.steps), "threads": .integer(t.threads), "seconds": num(t.seconds),
                     "rate": num(t.rate), "model_rate": num(t.modelRate), "model_rate_no_overlap": num(t.modelRateWithoutOverlap), "op_count": t.ops.map { .string($0.text) } ?? .null,
                     "final_regret": num(t.finalRegret)])
        })
        o["sweep"] = .array(sweep.map { .object(["workers": .integer($0.workers), "runs": .integer($0.runs), "steps": .integer($0.steps), "seconds": num($0.seconds), "rate": num($0.rate)]) })
        o["scaling"] = .array(scaling.rows.map { r in
            .object(["study": .string(r.study), "P": .integer(r.P), "K": .integer(r.K), "n": .integer(r.n), "steps": .integer(r.steps), "seconds": num(r.seconds)])
        })
        o["scaling_fits"] = .array(scaling.fits.map { .object(["study": .string($0.study), "variable": .string($0.variable), "exponent": num($0.exponent), "standard_error": num($0.standardError)]) })
        o["commands"] = .array(commands.map { .object(["command": .string($0.command), "seconds": num($0.seconds), "status": .integer(Int($0.status))]) })
        return JSONValue.object(o).rendered(pretty: true)
    }
}

// MARK: - Environment export for the numpy baseline

/// Writes a generated environment, the training configuration and Swift's own training of
/// it into a folder that `benchmarks/baseline.py` reads:
///
/// - `meta.json`: sizes, beta, loss, optimiser settings, Swift's logged metrics
///   (`swift_metrics`, one object per logged step, StepMetrics' CSV names) and file names;
/// - raw little-endian arrays (`numpy.fromfile`): `log_reference.f64`, `log_optimal.f64`,
///   `rewards.f64`, `initial_parameters.f64` (P*K), `seen.u8` (P*K), `pair_prompt.i64`,
///   `pair_chosen.i64`, `pair_rejected.i64`, `pair_gap.f64` (the gap the loss trains on),
///   `pair_true_gap.f64`, and `swift_final_parameters.f64` (after `steps`).
enum EnvironmentExport {
    static func write(to folder: String, problem: String, largePrompts: Int, loss lossName: String, steps: Int,
                      logEvery: Int, learningRate: Double, seed: UInt64, optimizer: Optimizer) throws {
        var sim: SimulationConfig
        switch problem {
        case "default": sim = BenchRunner.defaultProblem()
        case "large": sim = BenchRunner.largeProblem(prompts: largePrompts)
        case "tiny": sim = SimulationConfig(prompts: 3, responses: 5, pairsPerPrompt: 4)
        default: throw ValidationError("--export-problem: expected default, large or tiny, got '\(problem)'")
        }
        sim.seed = seed
        let loss: Loss
        do { loss = try Loss(name: lossName) } catch { throw ValidationError("--export-loss: \(error)") }
        let config = TrainingConfig(loss: loss, optimizer: optimizer, learningRate: learningRate, steps: steps, logEvery: logEvery)
        let env: Environment
        let trainer: Trainer
        do {
            env = try Environment(sim)
            trainer = try Trainer(environment: env, config: config)
        } catch { throw ValidationError("\(error)") }
        let result = trainer.run()
        let dir = URL(fileURLWithPath: folder)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func write<T>(_ name: String, _ values: [T]) throws {
            let data = values.withUnsafeBufferPointer { Data(buffer: $0) }
            try data.write(to: dir.appendingPathComponent(name), options: .atomic)
        }
        let gaps = env.pairs.map { p -> Double in
            switch config.target {
            case .trueReward: return p.trueRewardGap
            case .rewardModel: return p.modelRewardGap
            case .constant(let c): return c
            }
        }
        try write("log_reference.f64", env.logReference)
        try write("log_optimal.f64", env.logOptimal)
        try write("rewards.f64", env.rewards)
        try write("initial_parameters.f64", env.referenceParameters)
        try write("seen.u8", env.seen.map { UInt8($0 ? 1 : 0) })
        try write("pair_prompt.i64", env.pairs.map { Int64($0.prompt) })
        try write("pair_chosen.i64", env.pairs.map { Int64($0.chosen) })
        try write("pair_rejected.i64", env.pairs.map { Int64($0.rejected) })
        try write("pair_gap.f64", gaps)
        try write("pair_true_gap.f64", env.pairs.map(\.trueRewardGap))
        try write("swift_final_parameters.f64", trainer.parameters)
        let p = config.lossParameters(beta: sim.beta)
        let metrics: [JSONValue] = result.metrics.map { m in
            var o: [String: JSONValue] = ["step": .integer(m.step)]
            for (k, v) in zip(StepMetrics.metricColumnNames, m.metricValues) { o[k] = v.isFinite ? .number(v) : .string(String(v)) }
            return .object(o)
        }
        let meta: JSONValue = .object([
            "problem": .string(problem), "prompts": .integer(sim.prompts), "responses": .integer(sim.responses),
            "pairs_per_prompt": .integer(sim.pairsPerPrompt), "pair_count": .integer(sim.pairCount), "seed": .integer(Int(seed)),
            "beta": .number(sim.beta), "loss": .string(loss.rawValue), "label_smoothing": .number(p.labelSmoothing),
            "bco_delta": .number(p.bcoDelta), "bdpo_lambda": .number(p.bdpoLambda), "discopop_tau": .number(p.discopopTau),
            "optimizer": .string(optimizer.rawValue), "learning_rate": .number(learningRate), "steps": .integer(steps),
            "log_every": .integer(logEvery), "relative_tolerance": .number(config.relativeTolerance),
            "swift_metrics": .array(metrics),
        ])
        try meta.rendered(pretty: true).write(to: dir.appendingPathComponent("meta.json"), atomically: true, encoding: .utf8)
    }
}
