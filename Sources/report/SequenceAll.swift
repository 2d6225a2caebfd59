import Experiments
import Foundation
import Formats
import LossMath

/// The sequence-level part of `report all` (docs/theory.md §5.2): the default small problem
/// (`P = 8`, `V = 4`, `T = 6`, `n = 16`, exact win rates) with the markov and the shared
/// parameterisation, each with a well-specified proxy (`lambda = 0`) and a biased one
/// (`lambda = 1` on token 0), DPO, ipo, spo and spo_bt, the reward-aware losses told the
/// fitted reward model (DPO's information). One folder per run, as `report train --out`
/// writes it, and a section of the index.
///
/// See also: ``SequenceTrainReport``, ``Report/All``.
enum SequenceAll {
    struct Run {
        let folder: String
        let environment: SequenceEnvironment
        let trainings: [TrainingConfig]
        let results: [SequenceTrainingResult]
    }

    static let losses: [Loss] = [.sigmoid, .ipo, .spo, .spoBT]

    /// Trains the four configurations: 500 steps (`quick`: 200), metrics every 50 (each
    /// metrics pass enumerates all 4096 responses per prompt for the exact win rate, which
    /// dominates the cost).
    static func run(quick: Bool, threads: Int) throws -> [Run] {
        var runs: [Run] = []
        for parameterisation in SequenceConfig.Parameterisation.allCases {
            for bias in [0.0, 1.0] {
                let config = SequenceConfig(parameterisation: parameterisation, proxyBias: bias)
                let trainings = losses.map { TrainingConfig(loss: $0, steps: quick ? 200 : 500, logEvery: 50) }
                do {
                    let env = try SequenceEnvironment(config)
                    let results = try SequenceRuns.train(trainings, environment: env, threads: threads)
                    runs.append(Run(folder: "sequence-\(parameterisation.rawValue)-bias\(Int(bias))", environment: env,
                                    trainings: trainings, results: results))
                } catch { throw ReportError("sequence level, \(parameterisation.rawValue), proxy bias \(bias): \(error)") }
            }
        }
        return runs
    }

    /// Every file of every run, with its folder prefix.
    static func files(_ runs: [Run]) -> [(String, String)] {
        runs.flatMap { run -> [(String, String)] in
            let report = SequenceTrainReport(environment: run.environment, trainings: run.trainings, results: run.results)
            return (report.files() + SequenceTables.texts(environment: run.environment, results: run.results))
                .map { (run.folder + "/" + $0.name, $0.text) }
        }
    }

    /// The index section: per run and loss, the true reward (oracle) next to the proxy
    /// reward, the win rate against pi_ref and the final mean log-probabilities of the pairs.
    static func indexSection(_ runs: [Run]) -> String {
        func g(_ x: Double) -> String { AllReport.g(x) }
        var s = "\n## Sequence level (docs/theory.md §5.2)\n\n"
        s += "Autoregressive policies on P = 8 prompts, V = 4 tokens, T = 6 tokens (exact win rates), n = 16 pairs per prompt from "
        s += "pi_ref, labels from the proxy r~ = r + lambda #{y_t = 0}; the reward-aware losses are told a reward model fitted "
        s += "to the labels DPO sees. E[r] is the true reward (an oracle measurement), E[r~] the proxy.\n\n"
        var rows: [[String]] = []
        for run in runs {
            let c = run.environment.config
            for r in run.results {
                let m = r.summary
                rows.append(["[\(c.parameterisation.rawValue)](\(run.folder)/summary.md)", g(c.proxyBias), m.loss.rawValue,
                             g(m.finalExpectedReward), g(m.finalProxyReward), g(m.finalWinRate), g(m.finalMeanLogpChosen),
                             g(m.finalMeanLogpRejected), "\(m.status)"])
            }
        }
        s += MarkdownTable(headers: ["policy", "lambda", "loss", "true reward E[r] (oracle)", "proxy reward E[r~]", "win rate vs pi_ref",
                                     "mean log pi_w", "mean log pi_l", "status"],
                           alignments: [.left, .right, .left, .right, .right, .right, .right, .right, .left], rows: rows).render()
        if let first = runs.first {
            s += "\n![true reward against KL](\(first.folder)/reward-kl.svg)\n"
        }
        return s
    }
}
