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
              report gradients --losses all       # every loss (the figures get crowded)

            Default losses: \(defaultLosses.map(\.rawValue).joined(separator: ", ")). The figures \
            show the direction: one panel for the collapse force (dl/dpi_l > 0: a descent step \
            lowers pi_l, DPO's case all the way down) and one for the restoring force \
            (dl/dpi_l < 0: the step raises pi_l back toward h*, spo's case past h*), with \
            DPO's asymptote of slope beta - 1 (docs/theory.md, T7) and h = h* as reference lines.
            """
        )

        /// The losses of the default figure: DPO against the principled loss and its
        /// neighbours, few enough that every curve stays visible.
        static let defaultLosses: [Loss] = [.sigmoid, .ipo, .spo, .spoBT]

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

        @Option(parsing: .unconditional, help: ArgumentHelp(
            "Number of log-spaced points in the sweep (2 to 1000000).",
            discussion: "Memory does not grow with the rows: they are computed and written one at a time. "
                + "It grows by 16 bytes per point for the slope fit (one loss at a time: 8 MB at 10^6 points); "
                + "the figures sample at most \(GradientFigure.maxPoints) points per loss."))
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
            // The target h* = dr/beta is printed and drawn: it must be a finite number.
            guard (rewardGap / lossOptions.beta).isFinite else {
                throw ValidationError("--reward-gap \(rewardGap) with --beta \(lossOptions.beta): the target h* = dr/beta overflows; "
                                      + "keep |dr|/beta <= 1.79e308")
            }
            let losses = try lossOptions.selectedLosses(defaults: Self.defaultLosses)
            try lossOptions.validateLosses(losses, rewardGap: rewardGap)
        }

        func run() throws {
            let losses = try lossOptions.selectedLosses(defaults: Self.defaultLosses)
            var config = GradientStudy.Configuration(
                parameters: lossOptions.parameters(for: .sigmoid, rewardGap: rewardGap),
                logpChosen: logpChosen, refChosen: refChosen, refRejected: refRejected,
                log10Start: log10Start, log10End: log10End, points: points)
            for loss in losses {
                config.parameterOverrides[loss] = lossOptions.parameters(for: loss, rewardGap: rewardGap)
            }
            let study = try GradientStudy(configuration: config, losses: losses)
            let markdown = GradientReport.markdown(study)
            let plot = GradientFigure.ascii(study)
            if let folder = output.out {
                // The rows stream into gradients.csv; the other files are small.
                do {
                    try AtomicFile.createDirectory(URL(fileURLWithPath: folder))
                    let file = try AtomicFileStream(URL(fileURLWithPath: folder).appendingPathComponent("gradients.csv"))
                    try GradientReport.writeCSV(study) { text throws(FormatError) in try file.write(text) }
                    try file.commit()
                } catch { throw ReportError("\(error)") }
                try writeFiles([("gradients.md", markdown), ("gradients.json", GradientReport.json(study)),
                                ("gradients-plot.txt", plot), ("gradients.svg", GradientFigure.svg(study))],
                               into: folder)
            }
            switch output.format {
            case .csv?: GradientReport.writeCSV(study) { emit($0) }
            case .markdown?: emit(markdown)
            case .plot?: emit(plot)
            case .json?: emit(GradientReport.json(study))
            case nil:
                if output.out == nil { emit(markdown + "\n" + plot) }
            }
        }
    }
}
