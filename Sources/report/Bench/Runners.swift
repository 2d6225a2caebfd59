import Dispatch
import Experiments
import Foundation
import GSLKit
import LossMath

// The measurements of `report bench` other than the machine peaks (MachinePeaks.swift): the
// loss kernels, the trainer, the sweep, the scaling studies and the command wall times.

struct BenchRunner {
    let repeats: Int
    /// Whether the trainer section's runs block their steps in time (the default; false times
    /// the per-step path, which gives the same bits).
    var temporalBlocking = true

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
    /// The mid-size problem of issue 12: P=200, K=16, n=12 (2400 pairs, 3200 cells), where
    /// numpy's per-call overhead no longer dominates but the state fits in L2.
    static func midProblem() -> SimulationConfig {
        SimulationConfig(prompts: 200, responses: 16, pairsPerPrompt: 12)
    }

    func trainer(losses: [Loss], defaultSteps: Int, midSteps: Int, largeSteps: Int, largePrompts: Int, peaks: [PeakRow]) throws -> [TrainerRow] {
        let model = Self.peaks(from: peaks), model8 = Self.eightLanePeaks(from: peaks)
        var rows: [TrainerRow] = []
        let threadCounts = Array(Set([1, Sweep.processorCount])).sorted()
        for (name, sim, steps) in [("default", Self.defaultProblem(), defaultSteps), ("mid", Self.midProblem(), midSteps),
                                   ("large", Self.largeProblem(prompts: largePrompts), largeSteps)] {
            let env = try Environment(sim)
            for loss in losses {
                for threads in threadCounts {
                    var regret = 0.0
                    let seconds = median(try (0..<repeats).map { _ in
                        let t = try Trainer(environment: env, config: TrainingConfig(loss: loss, steps: steps))
                        t.threads = threads
                        t.useTemporalBlocking = temporalBlocking
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
                    let rate8 = ops.flatMap { o in model8.map { Double(threads) / $0.seconds(o) } }
                    rows.append(TrainerRow(problem: name, loss: loss, P: sim.prompts, K: sim.responses, n: sim.pairsPerPrompt,
                                           steps: steps, threads: threads, seconds: seconds, rate: work / seconds,
                                           finalRegret: regret, ops: ops, modelRate: threads == 1 ? modelRate : nil,
                                           modelRateWithoutOverlap: threads == 1 ? serialRate : nil,
                                           modelRateEightLanes: threads == 1 ? rate8 : nil))
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
