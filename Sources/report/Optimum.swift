import ArgumentParser
import Experiments
import Foundation
import Formats
import LossMath

extension Report {
    /// `report optimum`: where each loss's population minimiser sits relative to pi*.
    struct Optimum: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Minimise each loss's expected objective over all pairs (GSL BFGS) and compare with pi*.",
            discussion: """
            On a small tabular problem the full expected objective (every ordered pair weighted \
            by pi_ref(y) pi_ref(y') and its label probability) is minimised with GSL's BFGS. The \
            table shows the regret at the minimiser and how far its h sits from h* = dr/beta; a \
            loss without a finite minimiser is reported as diverging, not as a number; the \
            rule that gave each status is printed next to it. Where beta is so large that h \
            cannot be resolved in double precision (beta x 4 eps max(1, |logit|) > 1e-6), the \
            status is unresolved.

            Example:
              report optimum
              report optimum --labels hard --losses sigmoid,spo
            """
        )

        @Option(help: "Comma-separated losses (TRL names), or all.", completion: .lossNames)
        var losses: String = "sigmoid,ipo,spo,spo_bt,rpo_fwd_kl"
        @Option(parsing: .unconditional, help: "KL strength beta in [1e-150, 1e150].")
        var beta: Double = 0.5
        @Option(parsing: .unconditional, help: "Prompts P.")
        var prompts: Int = 2
        @Option(parsing: .unconditional, help: "Responses per prompt K.")
        var responses: Int = 4
        @Option(help: "Labels: bt or hard.")
        var labels: SimulationConfig.Labels = .bt
        @Option(parsing: .unconditional, help: "Seed.")
        var seed: UInt64 = 1
        @OptionGroup var output: OutputOptions

        func setup() throws -> (SimulationConfig, [TrainingConfig]) {
            let list: [Loss]
            do { list = try Loss.parseList(losses) } catch { throw ValidationError("--losses: \(error)") }
            try checkRange("--beta", beta, LossOptions.betaRange, "a number")
            let sim = SimulationConfig(prompts: prompts, responses: responses, pairsPerPrompt: 1, labels: labels, beta: beta, seed: seed)
            do { try sim.validate() } catch { throw optionError(error) }
            let trainings = list.map { TrainingConfig(loss: $0, target: .trueReward) }
            for t in trainings { do { try t.validate(for: sim) } catch { throw optionError(error) } }
            return (sim, trainings)
        }

        func validate() throws { try output.rejectPlot("report optimum", instead: "use markdown, csv or json"); _ = try setup() }

        func run() throws {
            let (sim, trainings) = try setup()
            let solved = try OptimumReport.solve(simulation: sim, trainings: trainings)
            let files = try OptimumReport.files(simulation: sim, solved: solved)
            if let folder = output.out { try writeFiles(files, into: folder) }
            let md = files.first { $0.0 == "optimum.md" }?.1 ?? ""
            switch output.format {
            case .csv?: emit(try OptimumReport.table(solved).csv())
            case .markdown?, .plot?: emit(md)
            case .json?: emit(try OptimumReport.table(solved).json())
            case nil: if output.out == nil { emit(md) }
            }
        }
    }
}

/// The files of `report optimum` (also used by `report all`).
enum OptimumReport {
    /// Each training's population minimiser, in order (solved once; `report all` reuses them).
    static func solve(simulation sim: SimulationConfig, trainings: [TrainingConfig]) throws -> [(loss: Loss, result: PopulationOptimum.Result)] {
        try trainings.map { t in
            do { return (t.loss, try PopulationOptimum.solve(sim, training: t)) } catch { throw ReportError("\(t.loss.rawValue): \(error)") }
        }
    }

    /// One row of optimum.csv; the coding keys are the column names.
    struct Row: Encodable {
        let loss: String
        let status: String
        let regret: Double
        let maxAbsHMinusTarget: Double
        let maxAbsH: Double
        let objective: Double
        let gradientNorm: Double
        let iterations: Int
        enum CodingKeys: String, CodingKey {
            case loss, status, regret, maxAbsHMinusTarget = "max_abs_h_minus_target", maxAbsH = "max_abs_h", objective
            case gradientNorm = "gradient_norm", iterations
        }
    }

    static func table(_ solved: [(loss: Loss, result: PopulationOptimum.Result)]) throws -> ResultTable {
        var table = ResultTable(columns: ["loss", "status", "regret", "max_abs_h_minus_target", "max_abs_h", "objective", "gradient_norm", "iterations"])
        for (loss, r) in solved {
            do {
                try table.append(Row(loss: loss.rawValue, status: r.status.rawValue, regret: r.regret, maxAbsHMinusTarget: r.maxAbsHMinusTarget,
                                  maxAbsH: r.maxAbsH, objective: r.objective, gradientNorm: r.gradientNorm, iterations: r.iterations))
            } catch { throw ReportError("\(error)") }
        }
        return table
    }

    static func files(simulation sim: SimulationConfig, solved: [(loss: Loss, result: PopulationOptimum.Result)]) throws -> [(String, String)] {
        let rows: [[String]] = solved.map { loss, r in
            [loss.rawValue, r.status.rawValue, String(format: "%.3g", r.regret), String(format: "%.3g", r.maxAbsHMinusTarget),
             String(format: "%.4g", r.maxAbsH), r.reason]
        }
        var md = "# Population optimum\n\nTabular, P = \(sim.prompts), K = \(sim.responses), \(sim.labels.rawValue) labels, beta = \(String(format: "%.4g", sim.beta)), seed \(sim.seed); "
        md += "every ordered pair weighted by pi_ref(y) pi_ref(y') and its label probability; reward-aware losses use the true gap.\n\n"
        md += MarkdownTable(headers: ["loss", "status", "regret at minimiser", "max abs(h - h*)", "max abs(h)", "rule that gave the status"],
                            alignments: [.left, .left, .right, .right, .right, .left], rows: rows).render()
        md += "\nregret 0 and h = h* mean the loss's population minimiser is pi* itself.\n"
        if let dpo = solved.first(where: { $0.loss == .sigmoid }) {
            let f = PopulationFindings.dpo(labels: sim.labels, result: dpo.result)
            md += "\n- \(f.id): \(f.claim): **\(f.verdict.rawValue)**. "
                + f.numbers.map { "\($0.name) = \(String(format: "%.3g", $0.value))" }.joined(separator: ", ") + ". Rule: \(f.rule).\n"
        }
        return [("optimum.csv", try table(solved).csv()), ("optimum.md", md)]
    }
}
