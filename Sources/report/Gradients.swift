import ArgumentParser
import Experiments
import Foundation
import Formats
import LossMath

extension Report {
    /// `report gradients`: the gradient study of T6–T8.
    struct Gradients: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sweep pi_l toward 0 with pi_w fixed and compare each loss's dl/dpi_l.",
            discussion: """
            The rejected response's probability pi_l runs over a log-spaced grid from \
            10^(--log10-start) down to 10^(--log10-end), far below the double range, with \
            the chosen response held fixed. Probability-space gradients are reported as log10 \
            magnitude and sign. With no options it prints the Markdown summary and an ASCII plot.

            Example:
              report gradients --beta 0.1 --reward-gap 1 --losses sigmoid,ipo,spo,spo_bt
              report gradients --format csv > gradients.csv
              report gradients --format json > gradients.json
              report gradients --out results/     # csv, md, json, ASCII plot and SVG figure
            """
        )

        @OptionGroup var lossOptions: LossOptions
        @OptionGroup var output: OutputOptions

        /// A log-probability option's range: `[-optionFieldMagnitudeBound, 0]` (see there),
        /// as an input file's log-probability.
        static let logProbabilityRange: ClosedRange<Double> = -optionFieldMagnitudeBound...0
        /// A log10-probability's range: that of a log-probability divided by ln 10 (pi_l =
        /// 10^x enters as the log-probability x ln 10).
        static let log10ProbabilityRange: ClosedRange<Double> = -optionFieldMagnitudeBound / 2.302585092994046...0

        @Option(parsing: .unconditional, help: "Reward gap dr = r(y_w) - r(y_l), the target of rpo_* and spo* (h* = dr/beta); |dr| <= 8.99e307.")
        var rewardGap: Double = 1.0

        @Option(parsing: .unconditional, help: "Number of log-spaced points in the sweep (>= 2).")
        var points: Int = 120

        @Option(parsing: .unconditional, help: "log10 of the first (largest) pi_l of the sweep.")
        var log10Start: Double = -1

        @Option(parsing: .unconditional, help: "log10 of the last (smallest) pi_l of the sweep; may be far below -308.")
        var log10End: Double = -400

        @Option(parsing: .unconditional, help: "log pi(y_w), held fixed (default log 0.1).")
        var logpChosen: Double = Foundation.log(0.1)

        @Option(parsing: .unconditional, help: "log pi_ref(y_w) (default log 0.1).")
        var refChosen: Double = Foundation.log(0.1)

        @Option(parsing: .unconditional, help: "log pi_ref(y_l) (default log 0.1).")
        var refRejected: Double = Foundation.log(0.1)

        func validate() throws {
            guard points >= 2 && points <= 1_000_000 else {
                throw ValidationError("--points must be between 2 and 1000000, got \(points)")
            }
            try checkRange("--reward-gap", rewardGap, LossOptions.rewardGapRange, "a number")
            for (name, v) in [("--log10-start", log10Start), ("--log10-end", log10End), ("--logp-chosen", logpChosen),
                              ("--ref-chosen", refChosen), ("--ref-rejected", refRejected)] where !v.isFinite {
                throw ValidationError("\(name) must be a finite number, got \(v)")
            }
            // Log-probabilities (and log10 pi_l times ln 10) enter h = (log pi_w - log pi_ref_w)
            // - (log pi_l - log pi_ref_l): the bound of optionFieldMagnitudeBound.
            for (name, v) in [("--logp-chosen", logpChosen), ("--ref-chosen", refChosen), ("--ref-rejected", refRejected)] {
                try checkRange(name, v, Self.logProbabilityRange, "a log-probability")
            }
            for (name, v) in [("--log10-start", log10Start), ("--log10-end", log10End)] {
                try checkRange(name, v, Self.log10ProbabilityRange, "a log10 probability")
            }
            guard log10Start <= 0 else { throw ValidationError("--log10-start must be <= 0 (a probability), got \(log10Start)") }
            guard log10End < log10Start else {
                throw ValidationError("--log10-end (\(log10End)) must be below --log10-start (\(log10Start))")
            }
            for (name, v) in [("--logp-chosen", logpChosen), ("--ref-chosen", refChosen), ("--ref-rejected", refRejected)] where v > 0 {
                throw ValidationError("\(name) is a log-probability and must be <= 0, got \(v)")
            }
            let losses = try lossOptions.selectedLosses()
            try lossOptions.validateLosses(losses, rewardGap: rewardGap)
        }

        func run() throws {
            let losses = try lossOptions.selectedLosses()
            var config = GradientStudy.Configuration(
                parameters: lossOptions.parameters(for: .sigmoid, rewardGap: rewardGap),
                logpChosen: logpChosen, refChosen: refChosen, refRejected: refRejected,
                log10Start: log10Start, log10End: log10End, points: points)
            for loss in losses {
                config.parameterOverrides[loss] = lossOptions.parameters(for: loss, rewardGap: rewardGap)
            }
            let study = try GradientStudy(configuration: config, losses: losses)
            let csv = GradientReport.csv(study)
            let markdown = GradientReport.markdown(study)
            let plot = GradientReport.plot(study)
            let json = GradientReport.json(study)
            if let folder = output.out {
                try writeFiles([("gradients.csv", csv), ("gradients.md", markdown), ("gradients.json", json),
                                ("gradients-plot.txt", plot), ("gradients.svg", GradientReport.svg(study))],
                               into: folder)
            }
            switch output.format {
            case .csv?: emit(csv)
            case .markdown?: emit(markdown)
            case .plot?: emit(plot)
            case .json?: emit(json)
            case nil:
                if output.out == nil { emit(markdown + "\n" + plot) }
            }
        }
    }
}

/// Formatting of a ``GradientStudy``: CSV, Markdown and the ASCII plot.
enum GradientReport {
    static let ln10 = Foundation.log(10.0)

    static func csv(_ study: GradientStudy) -> String {
        var w = CSVWriter(header: ["loss"] + GradientColumns.header.prefix(3) + ["log10_p_rejected"] + GradientColumns.header.dropFirst(3))
        for row in study.rows {
            var cells = GradientColumns.cells(loss: row.loss, pair: row.pair, parameters: study.configuration.parameters(for: row.loss),
                                              evaluation: row.evaluation)
            cells.insert(CSVWriter.format(row.pair.rejected / ln10), at: 3)
            w.appendRow([row.loss.rawValue] + cells)
        }
        return w.text
    }

    static func g4(_ x: Double) -> String { String(format: "%.4g", x) }

    static func markdown(_ study: GradientStudy) -> String {
        let c = study.configuration
        let beta = c.parameters.beta
        let dr = c.parameters.rewardGap ?? 0
        var s = "# Gradient study: dl/dpi_l as pi_l -> 0\n\n"
        s += "beta = \(g4(beta)), reward gap dr = \(g4(dr)) (target h* = dr/beta = \(g4(dr / beta))), "
        s += "pi_w = \(g4(Foundation.exp(c.logpChosen))) held fixed, pi_ref(y_w) = \(g4(Foundation.exp(c.refChosen))), "
        s += "pi_ref(y_l) = \(g4(Foundation.exp(c.refRejected))); pi_l from 1e\(g4(c.log10Start)) to 1e\(g4(c.log10End)) "
        s += "in \(c.points) log-spaced points. Slopes are GSL least-squares fits of log10|dl/dpi_l| on log10 pi_l "
        s += "over the far half of the sweep.\n\n"
        let rows: [[String]] = study.summaries.map { sm in
            [sm.loss.rawValue,
             sm.slope.map { g4($0) } ?? sm.missingSlopeReason ?? "",
             sm.direction.rawValue,
             sm.stationary.summary,
             sm.log10DPOOverLossAtEnd.map { g4($0) } ?? "(loss gradient 0)",
             sm.log10MaxCollapseForce.map { g4($0) } ?? "none",
             sm.log10CollapseForceAtEnd.map { g4($0) } ?? "none"]
        }
        s += MarkdownTable(
            headers: ["loss", "slope", "far end", "stationary point", "log10 DPO/loss at min pi_l",
                      "log10 max collapse", "log10 collapse at end"],
            alignments: [.left, .right, .left, .left, .right, .right, .right],
            rows: rows).render()
        s += "\n"
        s += "- **slope**: d log10|dl/dpi_l| / d log10 pi_l on the tail. T7 predicts beta - 1 = \(g4(beta - 1)) for DPO (sigmoid).\n"
        s += "- **far end**: at the smallest pi_l a descent step lowers pi_l (collapse) or raises it (restoring).\n"
        s += "- **collapse**: log10 of the collapse force max(0, dl/dpi_l) of T8; \"none\" means it is 0 (the gradient never pushes pi_l down there).\n\n"
        s += checks(study)
        return s
    }

    /// One finding as a Markdown bullet: its label, its numbers, its rule and its exception.
    static func bullet(_ f: Finding) -> String {
        var s = "- \(f.id): \(f.claim): **\(f.verdict.rawValue)**. "
        s += f.numbers.map { "\($0.name) = \(g4($0.value))" }.joined(separator: ", ")
        s += ". Rule: \(f.rule)."
        if let e = f.exception { s += " Exception: \(e)." }
        return s
    }

    /// The verdicts on T7 and T8 (and on "avoids the large gradients") from the study's own
    /// numbers, computed by ``GradientFindings``.
    static func checks(_ study: GradientStudy) -> String {
        var lines: [String] = ["## Checks against the theory", ""]
        if let t7 = GradientFindings.t7(study) {
            let direction = study.summaries.first { $0.loss == .sigmoid }?.direction.rawValue ?? "-"
            lines.append(bullet(t7) + " Direction at the far end: \(direction).")
        }
        for form in [Loss.spo, .spoBT, .spoAsym] {
            if let t8 = GradientFindings.t8(study, form) { lines.append(bullet(t8)) }
            if let large = GradientFindings.avoidsLargeGradients(study, form) { lines.append(bullet(large)) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Per loss, (log10 pi_l, log10 |dl/dpi_l|) over the sweep; points where the gradient is exactly 0
    /// (no logarithm) are left out.
    static func plotSeries(_ study: GradientStudy) -> [(name: String, points: [(Double, Double)])] {
        let n = study.configuration.points
        return study.losses.enumerated().map { k, loss in
            let rows = study.rows[(k * n)..<((k + 1) * n)]
            return (loss.rawValue, rows.compactMap { r in
                r.gradients.rejected.isZero ? nil : (r.pair.rejected / ln10, r.gradients.rejected.log10Magnitude)
            })
        }
    }

    static func plot(_ study: GradientStudy) -> String {
        ASCIIPlot(title: "log10 |dl/dpi_l| against log10 pi_l (beta = \(g4(study.configuration.parameters.beta)))",
                  xLabel: "log10 pi_l", yLabel: "log10 |dl/dpi_l|", series: plotSeries(study)).render()
    }

    /// The same figure as ``plot(_:)`` as SVG, both axes logarithmic with ticks at powers of ten.
    static func svg(_ study: GradientStudy) -> String {
        SVGPlot(title: "|dl/dpi_l| against pi_l (beta = \(g4(study.configuration.parameters.beta)), pi_w fixed)",
                xLabel: "pi_l, probability of the rejected response",
                yLabel: "|dl/dpi_l|, per unit probability",
                series: plotSeries(study), xIsLog10: true, yIsLog10: true).render()
    }

    /// The per-loss summary and the configuration as pretty-printed JSON (sorted keys; values
    /// that are absent or not finite are null). `stationary_points` lists {h, kind}; `flat_from`
    /// is the h from which the loss is flat, if any.
    static func json(_ study: GradientStudy) -> String {
        let c = study.configuration
        let p = c.parameters
        let configuration: JSONValue = .object([
            "beta": .number(p.beta),
            "label_smoothing": .number(p.labelSmoothing),
            "reward_gap": .number(p.rewardGap),
            "target_h": .number(p.rewardGap.map { $0 / p.beta }),
            "logp_chosen": .number(c.logpChosen),
            "ref_logp_chosen": .number(c.refChosen),
            "ref_logp_rejected": .number(c.refRejected),
            "log10_p_rejected_start": .number(c.log10Start),
            "log10_p_rejected_end": .number(c.log10End),
            "points": .integer(c.points),
            "tail_fraction": .number(c.tailFraction),
            "losses": .array(study.losses.map { .string($0.rawValue) }),
        ])
        let summaries: [JSONValue] = study.summaries.map { sm in
            let lp = c.parameters(for: sm.loss)
            return .object([
                "loss": .string(sm.loss.rawValue),
                "beta": .number(lp.beta),
                "label_smoothing": .number(lp.labelSmoothing),
                "reward_gap": .number(lp.rewardGap),
                "slope": .number(sm.slope),
                "slope_standard_error": .number(sm.slopeStandardError),
                "far_end_direction": .string(sm.direction.rawValue),
                "stationary_points": .array(sm.stationary.points.map {
                    .object(["h": .number($0.h), "kind": .string($0.kind.rawValue)])
                }),
                "flat_from": .number(sm.stationary.flatFrom),
                "log10_dpo_over_loss_at_end": .number(sm.log10DPOOverLossAtEnd),
                "log10_max_collapse_force": .number(sm.log10MaxCollapseForce),
                "log10_collapse_force_at_end": .number(sm.log10CollapseForceAtEnd),
            ])
        }
        return JSONValue.object([
            "command": .string("gradients"),
            "configuration": configuration,
            "expected_dpo_slope": .number(p.beta - 1),
            "summaries": .array(summaries),
        ]).rendered(pretty: true)
    }
}
