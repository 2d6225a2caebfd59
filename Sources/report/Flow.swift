import ArgumentParser
import Experiments
import Foundation
import Formats
import LossMath

extension Report {
    /// `report flow`: T11's gradient flow h(t) for each loss.
    struct Flow: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Integrate the two-response gradient flow h'(t) (T11) with GSL's implicit BDF stepper (msbdf).",
            discussion: """
            One prompt, two responses, tabular logits, uniform reference, continuous-time \
            gradient descent. DPO's h grows like (1/beta) log t without end; a target loss \
            converges exponentially to h* = dr/beta. Times are log-spaced.

            Example:
              report flow
              report flow --losses sigmoid,spo,ipo --beta 0.5 --t-end 1e8 --format csv
            """
        )

        @Option(help: "Comma-separated losses (TRL names), or all.", completion: .lossNames)
        var losses: String = "sigmoid,ipo,spo,spo_bt,spo_asym"
        @Option(parsing: .unconditional, help: "KL strength beta > 0.")
        var beta: Double = 0.5
        @Option(parsing: .unconditional, help: "The pair's reward gap dr (target h* = dr/beta).")
        var rewardGap: Double = 1
        @Option(parsing: .unconditional, help: "Initial h.")
        var h0: Double = 0
        @Option(parsing: .unconditional, help: "First time > 0 of the log-spaced grid.")
        var tStart: Double = 1e-2
        @Option(parsing: .unconditional, help: "Last time.")
        var tEnd: Double = 1e6
        @Option(parsing: .unconditional, help: ArgumentHelp("Number of times (2 to 100000).", discussion: "Memory grows with it: the curves and their table are held whole, about 9 KB per time with all the losses (0.9 GB at 100000), proportionally less with fewer."))
        var points: Int = 60
        @Option(parsing: .unconditional, help: ArgumentHelp(
            "The integrator's step budget per output interval.",
            discussion: "A loss that needs more (a stiff flow, such as at --beta 1e100) stops with a message naming it, and the command exits 1 after writing the other losses."))
        var maxSteps: Int = 100_000
        @OptionGroup var output: OutputOptions

        func lossList() throws -> [Loss] {
            do { return try Loss.parseList(losses) } catch { throw ValidationError("--losses: \(error)") }
        }

        func validate() throws {
            try checkRange("--beta", beta, LossOptions.betaRange, "a number")
            try checkRange("--reward-gap", rewardGap, LossOptions.rewardGapRange, "a number")
            guard h0.isFinite else { throw ValidationError("--h0 must be finite") }
            guard tStart > 0 && tEnd > tStart && tEnd.isFinite else { throw ValidationError("need 0 < --t-start < --t-end, got \(tStart), \(tEnd)") }
            guard (beta * h0).isFinite else { throw ValidationError("--h0 times --beta must be finite, got \(h0) x \(beta)") }
            guard maxSteps >= 1 else { throw ValidationError("--max-steps must be >= 1, got \(maxSteps)") }
            guard points >= 2 && points <= 100_000 else { throw ValidationError("--points must be between 2 and 100000, got \(points)") }
            for loss in try lossList() {
                let p = LossParameters(beta: beta, labelSmoothing: loss.defaultLabelSmoothing, rewardGap: rewardGap)
                do { try loss.validate(p) } catch { throw ValidationError("\(error)") }
            }
        }

        func run() throws {
            let times = GradientFlow.logSpacedTimes(from: tStart, to: tEnd, count: points)
            let (files, table, failed) = try FlowReport.files(losses: try lossList(), beta: beta, rewardGap: rewardGap, h0: h0,
                                                              times: times, maxSteps: maxSteps)
            let byName = Dictionary(uniqueKeysWithValues: files)
            if let folder = output.out { try writeFiles(files, into: folder) }
            let (md, plot) = (byName["flow.md"] ?? "", byName["flow-plot.txt"] ?? "")
            switch output.format {
            case .csv?: emit(table.csv())
            case .markdown?: emit(md)
            case .plot?: emit(plot)
            case .json?: emit(table.json())
            case nil: if output.out == nil { emit(md + "\n" + plot) }
            }
            if !failed.isEmpty {
                throw ReportError("could not integrate \(failed.map(\.rawValue).joined(separator: ", ")) (see the notes above: raise --max-steps, now \(maxSteps) per output interval, where the step budget ran out, or lower --beta); the output holds the other losses")
            }
        }
    }
}

/// The files of `report flow` (also used by `report all`).
enum FlowReport {
    /// One row of flow.csv; the coding keys are the column names.
    struct Row: Encodable {
        let loss: String
        let beta: Double
        let rewardGap: Double
        let t: Double
        let log10T: Double
        let h: Double
        let targetH: Double
        enum CodingKeys: String, CodingKey {
            case loss, beta, rewardGap = "reward_gap", t, log10T = "log10_t", h, targetH = "target_h"
        }
    }

    /// The files, and the table behind flow.csv (for `--format json`).
    /// `failed` lists the losses the integrator could not follow (each named in a note).
    static func files(losses: [Loss], beta: Double, rewardGap: Double, h0: Double, times: [Double],
                      maxSteps: Int = 10_000_000) throws -> (files: [(String, String)], table: ResultTable, failed: [Loss]) {
        var curves: [GradientFlow.Curve] = []
        var failed: [Loss] = []
        for loss in losses {
            let p = LossParameters(beta: beta, labelSmoothing: loss.defaultLabelSmoothing, rewardGap: rewardGap)
            do { curves.append(try GradientFlow.solve(loss, parameters: p, h0: h0, times: times, maxSteps: maxSteps)) } catch {
                failed.append(loss)
                note("\(loss.rawValue): the integrator stopped (\(error)); left out")
            }
        }
        var csv = ResultTable(columns: ["loss", "beta", "reward_gap", "t", "log10_t", "h", "target_h"])
        for c in curves {
            for (t, h) in zip(c.times, c.h) {
                do {
                    try csv.append(Row(loss: c.loss.rawValue, beta: beta, rewardGap: rewardGap, t: t, log10T: Foundation.log10(t), h: h, targetH: c.target))
                } catch { throw ReportError("\(error)") }
            }
        }
        let plot = ASCIIPlot(title: "h(t) under gradient flow (beta=\(String(format: "%.4g", beta)) dr=\(String(format: "%.4g", rewardGap)) h0=\(String(format: "%.4g", h0)) h*=\(String(format: "%.4g", rewardGap / beta)))",
                             xLabel: "log10 t", yLabel: "h (nats)",
                             series: curves.map { c in (c.loss.rawValue, zip(c.times, c.h).map { (Foundation.log10($0), $1) }) }).render()
        var md = "# Gradient flow (T11)\n\nbeta = \(String(format: "%.4g", beta)), dr = \(String(format: "%.4g", rewardGap)), h(0) = \(String(format: "%.4g", h0)); h* = dr/beta = \(String(format: "%.4g", rewardGap / beta)).\n\n"
        md += MarkdownTable(headers: ["loss", "h(t_end)", "h(t_end) - h*", "h(t_end) - h(t_end/10)"],
                            alignments: [.left, .right, .right, .right],
                            rows: curves.map { c in
                                let n = c.h.count
                                let k = c.times.lastIndex { $0 <= c.times[n - 1] / 10 } ?? 0
                                return [c.loss.rawValue, String(format: "%.6g", c.h[n - 1]), String(format: "%.3g", c.h[n - 1] - c.target),
                                        String(format: "%.3g", c.h[n - 1] - c.h[k])]
                            }).render()
        md += "\nA loss that keeps growing by about (1/beta) log 10 = \(String(format: "%.4g", Foundation.log(10) / beta)) per decade of t has no finite target.\n"
        let svg = SVGPlot(title: "h(t) under gradient flow, beta=\(String(format: "%.4g", beta)) dr=\(String(format: "%.4g", rewardGap)) h0=\(String(format: "%.4g", h0)) h*=\(String(format: "%.4g", rewardGap / beta))",
                          xLabel: "time t (gradient-flow units)", yLabel: "h = u_w - u_l (nats)",
                          series: curves.map { c in (c.loss.rawValue, zip(c.times, c.h).map { (Foundation.log10($0), $1) }) },
                          xIsLog10: true).render()
        return ([("flow.csv", csv.csv()), ("flow.md", md), ("flow-plot.txt", plot), ("flow.svg", svg)], csv, failed)
    }
}
