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
        @Option(parsing: .unconditional, help: ArgumentHelp(
            "Number of times (2 to 1000000).",
            discussion: "Memory does not grow with it: the rows are written as they are computed (CSV and JSON, to --out and to standard output), "
                + "and the figures sample at most \(FlowReport.maxFigurePoints) times per loss (every k-th and the last). "
                + "Above \(FlowReport.pieceRows) times each loss is integrated twice (once to check that it finishes, once writing), "
                + "since a loss that fails is left out. "
                + "Peak resident memory with the default losses (debug build, /usr/bin/time -v): 29 MB at 10^4, 10^5 and 10^6 times "
                + "(before, with the curves held whole: 52 MB at 10^4, 264 MB at 10^5); with all the losses, 34 MB at 10^5 (before: 886 MB)."))
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
            guard points >= 2 && points <= 1_000_000 else { throw ValidationError("--points must be between 2 and 1000000, got \(points)") }
            for loss in try lossList() {
                let p = LossParameters(beta: beta, labelSmoothing: loss.defaultLabelSmoothing, rewardGap: rewardGap)
                do { try loss.validate(p) } catch { throw ValidationError("\(error)") }
            }
        }

        func run() throws {
            let times = LogSpacedTimes(from: tStart, to: tEnd, count: points)
            // flow.csv streams into the folder through a temporary file renamed into place at
            // the end (AtomicFileStream); CSV and JSON stream to standard output.
            var file: AtomicFileStream?
            if let folder = output.out {
                guard !folder.trimmingCharacters(in: .whitespaces).isEmpty else { throw ReportError("--out: the folder name is empty") }
                let dir = URL(fileURLWithPath: folder)
                do {
                    try AtomicFile.createDirectory(dir)
                    AtomicFile.removeStaleTemporaries(in: dir, for: ["flow.csv"])
                    file = try AtomicFileStream(dir.appendingPathComponent("flow.csv"))
                } catch { throw ReportError("\(error)") }
            }
            var sinks = FlowReport.TableSinks()
            if let file { sinks.csv.append { try file.write($0) } }
            switch output.format {
            case .csv?: sinks.csv.append { emit($0) }
            case .json?: sinks.json.append { emit($0) }
            default: break
            }
            try sinks.start()
            let result = try FlowReport.stream(losses: try lossList(), beta: beta, rewardGap: rewardGap, h0: h0,
                                               times: times, maxSteps: maxSteps) { try sinks.write($0) }
            try sinks.finish()
            let md = FlowReport.markdown(result, beta: beta, rewardGap: rewardGap, h0: h0)
            let plot = FlowReport.plot(result, beta: beta, rewardGap: rewardGap, h0: h0)
            if let folder = output.out, let file {
                do { try file.commit() } catch { throw ReportError("\(error)") }
                try writeFiles([("flow.md", md), ("flow-plot.txt", plot),
                                ("flow.svg", FlowReport.svg(result, beta: beta, rewardGap: rewardGap, h0: h0))], into: folder)
            }
            switch output.format {
            case .markdown?: emit(md)
            case .plot?: emit(plot)
            case nil: if output.out == nil { emit(md + "\n" + plot) }
            case .csv?, .json?: break
            }
            if !result.failed.isEmpty {
                throw ReportError("could not integrate \(result.failed.map(\.rawValue).joined(separator: ", ")) (see the notes above: raise --max-steps, now \(maxSteps) per output interval, where the step budget ran out, or lower --beta); the output holds the other losses")
            }
        }
    }
}
