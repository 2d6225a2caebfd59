import Experiments
import Foundation
import Formats
import LossMath

// The sequence-level section of `report bench` (issue 10's timing problem, docs/theory.md
// §5.2) and the export that benchmarks/sequence_torch.py, the PyTorch baseline, reads.

/// One timing of full-batch DPO on ``Experiments/SequenceBenchmark``'s problem.
struct SequenceBenchRow {
    var parameterisation: String
    var P: Int, V: Int, T: Int, n: Int, steps: Int
    var seconds: Double, rate: Double
    /// The thread's CPU time over the same steps, and the rate per CPU second: on a loaded
    /// machine the wall time counts other processes' time slices, the CPU time does not.
    var cpuSeconds: Double, cpuRate: Double
    var checksum: Double
}

/// The calling thread's CPU time in seconds (`CLOCK_THREAD_CPUTIME_ID`).
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

extension BenchRunner {
    /// Pair-updates per second (`P n` pairs x steps / seconds) of full-batch DPO (Adam, lr
    /// 0.01) on `P = 64, V = 32, T = 64, n = 16`, one thread, both parameterisations (markov
    /// also step by step). The
    /// environment and the trainer are built outside the timing; no metrics are taken (a
    /// training loop's steps only), and every repeat continues from where the last one
    /// ended (the cost of a step does not depend on the parameters).
    func sequence(steps: Int) throws -> [SequenceBenchRow] {
        var rows: [SequenceBenchRow] = []
        // markov twice: prompt by prompt between logged steps (what a run does), and one
        // full step at a time (the same bits); shared has only the step path.
        for (parameterisation, blocked, name) in [(SequenceConfig.Parameterisation.markov, true, "markov"),
                                                  (.markov, false, "markov, step by step"), (.shared, true, "shared")] {
            let bench = try SequenceBenchmark(parameterisation)
            let c = SequenceBenchmark.problem(parameterisation)
            var checksum = 0.0
            var cpu: [Double] = []
            let seconds = median((0..<repeats).map { _ in
                let c0 = threadCPUSeconds()
                let t0 = benchNow()
                checksum = bench.run(steps: steps, threads: 1, blocked: blocked)
                let dt = benchNow() - t0
                cpu.append(threadCPUSeconds() - c0)
                return dt
            })
            let cpuSeconds = median(cpu)
            let work = Double(bench.pairsPerStep) * Double(steps)
            rows.append(SequenceBenchRow(parameterisation: name, P: c.prompts, V: c.vocabulary, T: c.length,
                                         n: c.pairsPerPrompt, steps: steps, seconds: seconds, rate: work / seconds,
                                         cpuSeconds: cpuSeconds, cpuRate: work / cpuSeconds, checksum: checksum))
        }
        return rows
    }
}

/// Writes the timing problem (markov) for benchmarks/sequence_torch.py: `transitions.csv`
/// and `pairs.csv` as `report train --out` writes them (``SequenceTables``; here without
/// the size limit: the problem has 4,130,816 rows), and `metrics.csv`, the toolkit's own
/// DPO training of it for `steps` steps logged every `logEvery` (to compare the first steps).
enum SequenceExport {
    static func write(to folder: String, steps: Int, logEvery: Int, learningRate: Double) throws {
        let config = SequenceBenchmark.problem(.markov)
        let training = TrainingConfig(loss: .sigmoid, learningRate: learningRate, steps: steps, logEvery: logEvery)
        let env: SequenceEnvironment
        let result: SequenceTrainingResult
        do {
            env = try SequenceEnvironment(config)
            result = try SequenceTrainer(environment: env, config: training).run()
        } catch { throw ReportError("\(error)") }
        let rows = result.metrics.map { SequenceLossStepRow(loss: .sigmoid, metrics: $0) }
        let metrics = TrainReport.File(name: "metrics.csv", text: tableCSV(rows, columns: SequenceLossStepRow.columnNames))
        do {
            try AtomicFolder.build(URL(fileURLWithPath: folder), owns: ["metrics.csv", "transitions.csv", "pairs.csv", "problem.txt"]) { dir in
                try AtomicFile.write(metrics.text, to: dir.appendingPathComponent(metrics.name))
                try AtomicFile.write("markov P=\(config.prompts) V=\(config.vocabulary) T=\(config.length) n=\(config.pairsPerPrompt) "
                                     + "beta=\(config.beta) lr=\(learningRate) steps=\(steps) log_every=\(logEvery) seed=\(config.seed)\n",
                                     to: dir.appendingPathComponent("problem.txt"))
                try SequenceTables.stream(to: dir.appendingPathComponent("transitions.csv")) { try SequenceTables.transitionLines(env, $0) }
                try SequenceTables.stream(to: dir.appendingPathComponent("pairs.csv")) { try SequenceTables.pairLines(env, $0) }
            }
        } catch let error as ReportError { throw error } catch { throw ReportError("\(error)") }
    }
}

extension BenchResult {
    /// The sequence-level section as Markdown.
    func sequenceMarkdown() -> String {
        guard !sequence.isEmpty else { return "" }
        var s = "## Sequence level: full-batch DPO, P=64, V=32, T=64, n=16, one thread\n\n"
        s += "pair-updates = P n pairs x steps; training steps only (no metrics); environment generation excluded. "
        s += "Compare with benchmarks/sequence_torch.py (BENCHMARKS.md).\n\n"
        s += MarkdownTable(headers: ["parameterisation", "P", "V", "T", "n", "steps", "time (s)", "pair-updates/s", "CPU time (s)",
                                     "pair-updates per CPU second", "last loss"],
                           alignments: [.left, .right, .right, .right, .right, .right, .right, .right, .right, .right, .right],
                           rows: sequence.map { r in
                               [r.parameterisation, "\(r.P)", "\(r.V)", "\(r.T)", "\(r.n)", "\(r.steps)", String(format: "%.3f", r.seconds),
                                String(format: "%.4g", r.rate), String(format: "%.3f", r.cpuSeconds), String(format: "%.4g", r.cpuRate),
                                String(format: "%.6g", r.checksum)]
                           }).render()
        return s + "\n"
    }
}
