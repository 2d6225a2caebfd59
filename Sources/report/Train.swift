import ArgumentParser
import Experiments
import Foundation
import Formats
import LossMath

extension Report {
    /// `report train`: the simulated-policy mini-trainer, one run per loss.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a simulated policy with each loss and track the exact regret.",
            discussion: """
            Every run trains on the same offline pairs (same seed), so the losses are compared \
            on identical data. The regret beta*KL(pi||pi*) is exact (T2). With no options this \
            runs DPO (sigmoid), ipo, spo and spo_bt on the default tabular problem and prints \
            a Markdown summary and ASCII plots of regret and of min log pi_l over steps.

            Outputs with --out DIR: metrics.csv (one row per loss per logged step), \
            summary.csv (one row per loss), summary.md and plots.txt.

            Sequence level (--policy markov or shared, docs/theory.md §5.2): responses of \
            --length T tokens from --vocab V; labels from the proxy r + lambda * (count of \
            --spurious-token) with --proxy-bias lambda; --target true (the oracle: an upper \
            bound), proxy or fitted (default; --rm-l2). The summary shows the true and the proxy \
            reward side by side, win rates, log-probabilities of the pairs and the fitted reward \
            model's held-out accuracy. Options of the tabular trainer that a sequence policy does \
            not have (--responses, --features, --pair-sampling, --batch-size: it is full batch, \
            --target model|constant, --constant-gap) are rejected when given, and the sequence \
            options are rejected with --policy tabular or loglinear. With --out DIR it writes, \
            into a folder that appears whole (built under a hidden sibling): metrics.csv, \
            summary.csv, summary.md, plots.txt, transitions.csv \
            (prompt,position,previous,token,logp_reference,reward,proxy_reward,logp_optimal), \
            policy-<loss>.csv (prompt,position,previous,token,logp), pairs.csv \
            (prompt,chosen,rejected,preference,true_gap,proxy_gap,target_gap; responses as T \
            space-separated tokens; read by benchmarks/sequence_torch.py) and three SVGs: \
            reward-kl.svg, win-rate.svg and logp-pairs.svg. The tables have P(1+(T-1)V)V rows; \
            more than \(SequenceTables.maximumRows) is refused.

            Example:
              report train
              report train --losses sigmoid,spo --labels bt --reward-noise 0.5 --steps 5000
              report train --policy loglinear --features 8 --clip 1 --out results/train
              report train --policy shared --vocab 8 --length 16 --proxy-bias 1 --target fitted --out results/seq
            """
        )

        @Option(help: "Comma-separated losses (TRL names), or all.", completion: .lossNames)
        var losses: String = "sigmoid,ipo,spo,spo_bt"
        @Option(parsing: .unconditional, help: "KL strength beta in [1e-150, 1e150].")
        var beta: Double = SimulationConfig().beta
        @Option(parsing: .unconditional, help: "Reward-model noise s_noise in [0, 1e150].")
        var rewardNoise: Double = 0
        @OptionGroup var simulation: SimulationOptions
        @OptionGroup var optimizer: OptimizerOptions
        @OptionGroup var sequence: SequenceOptions
        @OptionGroup var output: OutputOptions

        func configurations() throws -> (SimulationConfig, [TrainingConfig]) {
            if let option = sequence.given.first {
                throw ValidationError("\(option) applies to --policy markov|shared only (the policy is \(simulation.policy.rawValue))")
            }
            try optimizer.requireTabularTarget()
            let list: [Loss]
            do { list = try Loss.parseList(losses) } catch { throw ValidationError("--losses: \(error)") }
            try checkRange("--beta", beta, LossOptions.betaRange, "a number")
            try checkRange("--reward-noise", rewardNoise, SimulationOptions.spreadRange, "a number")
            let sim = simulation.simulation(beta: beta, rewardNoise: rewardNoise)
            do { try sim.validate() } catch { throw optionError(error) }
            var trainings: [TrainingConfig] = []
            for loss in list {
                let t = optimizer.training(loss: loss)
                do { try t.validate(for: sim) } catch {
                    if case .loss(let e) = error, case .labelSmoothingOutOfRange = e { throw ValidationError("--label-smoothing: \(e)") }
                    throw optionError(error)
                }
                trainings.append(t)
            }
            return (sim, trainings)
        }

        func validate() throws {
            if simulation.policy.sequenceParameterisation != nil { _ = try sequenceConfigurations() } else { _ = try configurations() }
        }

        func run() throws {
            if simulation.policy.sequenceParameterisation != nil { return try runSequence() }
            let (sim, trainings) = try configurations()
            let progress = ProgressBar(total: trainings.count, label: "train", enabled: output.showsProgress)
            var results: [TrainingResult] = []
            for t in trainings {
                do { results.append(try Trainer.train(sim, t)) } catch { throw ReportError("\(t.loss.rawValue): \(error)") }
                progress.advance()
            }
            progress.finish()
            let files = TrainReport.files(simulation: sim, trainings: trainings, results: results)
            if let folder = output.out { try writeFiles(files.map { ($0.name, $0.text) }, into: folder) }
            let byName = Dictionary(uniqueKeysWithValues: files.map { ($0.name, $0.text) })
            switch output.format {
            case .csv?: emit(byName["summary.csv", default: ""])
            case .markdown?: emit(byName["summary.md", default: ""])
            case .plot?: emit(byName["plots.txt", default: ""])
            case .json?: emit(jsonRecords(fromCSV: byName["summary.csv", default: ""]))
            case nil: if output.out == nil { emit(byName["summary.md", default: ""] + "\n" + byName["plots.txt", default: ""]) }
            }
        }
    }
}

enum TrainReport {
    struct File { let name: String; let text: String }

    static func g4(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "-" }

    static func files(simulation sim: SimulationConfig, trainings: [TrainingConfig], results: [TrainingResult]) -> [File] {
        // Per-step metrics, tidy: one row per loss per logged step.
        let metrics = tableCSV(results.flatMap { r in r.metrics.map { LossStepMetrics(loss: r.summary.loss, metrics: $0) } },
                               columns: LossStepMetrics.columnNames)
        let summary = tableCSV(results.map(\.summary), columns: RunSummary.columnNames)
        return [File(name: "metrics.csv", text: metrics), File(name: "summary.csv", text: summary),
                File(name: "summary.md", text: markdown(sim, trainings, results)), File(name: "plots.txt", text: plots(sim, results, training: trainings.first)),
                File(name: "regret.svg", text: SVGPlot(title: "Regret beta KL(pi || pi*) (\(FigureSetting.describe(sim, trainings.first)))", xLabel: "optimizer step",
                                                       yLabel: "regret (reward units; below 1e-12: 0 to rounding, a gap)", series: regretSeries(results), yIsLog10: true).render()),
                File(name: "min-logp-rejected.svg", text: SVGPlot(title: "min log pi_l (\(FigureSetting.describe(sim, trainings.first)))", xLabel: "optimizer step",
                                                                  yLabel: "min log pi_l (nats)", series: minLogpSeries(results)).render())]
    }

    static func markdown(_ sim: SimulationConfig, _ trainings: [TrainingConfig], _ results: [TrainingResult]) -> String {
        let t0 = trainings.first
        var s = "# Training on the simulated policy\n\n"
        s += "\(sim.policy.rawValue) policy, P = \(sim.prompts) prompts, K = \(sim.responses) responses, n = \(sim.pairsPerPrompt) pairs per prompt"
        if sim.policy == .loglinear { s += ", d = \(sim.features) features" }
        s += "; s_ref = \(g4(sim.referenceSpread)), s_r = \(g4(sim.rewardSpread)), reward-model noise \(g4(sim.rewardNoise)), \(sim.labels.rawValue) labels, "
        s += "beta = \(g4(sim.beta)), seed \(sim.seed)."
        if let t = t0 {
            s += " \(t.optimizer.rawValue), lr \(g4(t.learningRate)), \(t.steps) steps, "
            s += t.batchSize.map { "batch \($0)" } ?? "full batch"
            s += t.clipNorm.map { ", gradient clipped to norm \(g4($0))" } ?? ""
            s += ", reward-aware target: \(t.target).\n\n"
        }
        s += MarkdownTable(
            headers: ["loss", "final regret", "KL(pi, pi_ref)", "E[r]", "min log pi_l", "mean abs(h - h*)", "max h", "unseen mass",
                      "max grad norm", "max log10 abs(dl/dpi_l)"],
            alignments: [.left] + Array(repeating: .right, count: 9),
            rows: results.map { r in [r.summary.loss.rawValue] + r.summary.metricValues.map(g4) }).render()
        s += "\n"
        s += "regret = beta KL(pi || pi*), exact (T2); h* = dr/beta with the true reward gap.\n\n"
        let diverged = results.filter { $0.summary.status.isDiverged }
        if !diverged.isEmpty {
            s += "Diverged (a non-finite loss, gradient or parameter; the row shows the last finite metrics, and no verdict compares with it): "
            s += diverged.map { "\($0.summary.loss.rawValue) \($0.summary.status)" }.joined(separator: ", ") + ".\n\n"
        }
        s += verdicts(results)
        return s
    }

    /// DPO against spo when both ran: the final-regret finding of ``TrainingFindings`` with
    /// its rule, and DPO's min log pi_l trend by ``Criteria/trend(_:)``.
    static func verdicts(_ results: [TrainingResult]) -> String {
        guard let dpo = results.first(where: { $0.summary.loss == .sigmoid }),
              let spo = results.first(where: { $0.summary.loss == .spo }) else { return "" }
        var lines = ["## DPO against spo", ""]
        let regret = TrainingFindings.finalRegret(dpo: dpo.summary, spo: spo.summary,
                                                 trainedSteps: dpo.metrics.last?.step ?? 0)
        func described(_ x: Double) -> String { g4(x) + (Criteria.isZeroToRounding(x) ? " (0 to rounding)" : "") }
        var line = "- Final regret: DPO \(described(dpo.summary.finalRegret)), spo \(described(spo.summary.finalRegret))"
        if let ratio = regret.number("DPO/spo") { line += ": DPO's is \(g4(ratio)) times spo's" }
        lines.append(line + ". \(regret.claim): **\(regret.verdict.rawValue)**"
                     + (regret.exception.map { " (\($0))" } ?? "") + " (rule: \(regret.rule)).")
        let mins = dpo.metrics.map(\.minLogpRejected)
        lines.append("- DPO's min log pi_l: \(g4(mins.first ?? .nan)) at step 0, \(g4(mins.last ?? .nan)) at the end: "
                     + "\(TrainingFindings.minLogpTrend(dpo).rawValue) (rule: \(Criteria.trendRule)).")
        lines.append("- spo's mean |h - h*| at the end: \(g4(spo.summary.meanAbsHMinusTarget)) (DPO's: \(g4(dpo.summary.meanAbsHMinusTarget))).")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Per loss, (step, log10 regret); steps with regret exactly 0 have no logarithm and are left out.
    static func regretSeries(_ results: [TrainingResult]) -> [(name: String, points: [(Double, Double)])] {
        results.map { r in (r.summary.loss.rawValue, r.metrics.map { m in  // 0 to rounding: a gap on the log axis
            (Double(m.step), m.regret > 0 && !Criteria.isZeroToRounding(m.regret) ? Foundation.log10(m.regret) : .nan) }) }
    }

    static func minLogpSeries(_ results: [TrainingResult]) -> [(name: String, points: [(Double, Double)])] {
        results.map { r in (r.summary.loss.rawValue, r.metrics.map { (Double($0.step), $0.minLogpRejected) }) }
    }

    /// The two ASCII plots; their titles name the configuration (``FigureSetting``), as the SVGs' do.
    static func plots(_ sim: SimulationConfig, _ results: [TrainingResult], training: TrainingConfig?) -> String {
        let setting = FigureSetting.describe(sim, training)
        let regret = ASCIIPlot(title: "log10 regret beta KL(pi||pi*) against step (\(setting))", xLabel: "step", yLabel: "log10 regret",
                               series: regretSeries(results)).render()
        let minLogp = ASCIIPlot(title: "min log pi_l over the rejected responses against step (\(setting))", xLabel: "step",
                                yLabel: "min log pi_l (nats)", series: minLogpSeries(results)).render()
        return regret + "\n" + minLogp
    }
}

/// The CSV of typed rows through ``Formats/ResultTable``: columns named by the row type's
/// coding keys, numbers as round-trip text, non-finite values as empty cells. `columns` are
/// the row type's own (they name the header of an empty table). The row types of this
/// module are flat, so encoding cannot fail; a failure is a programming error and stops.
func tableCSV<Row: Encodable>(_ rows: [Row], columns: [String]) -> String {
    do {
        return try ResultTable(rows, columns: columns).csv()
    } catch {
        preconditionFailure("\(Row.self) is not a flat table row: \(error)")
    }
}
