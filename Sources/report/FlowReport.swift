import Experiments
import Foundation
import Formats
import LossMath

/// The tables and figures of `report flow` (also used by `report all`), computed in one pass
/// over each loss's curve with memory bounded whatever `--points`.
///
/// - The rows of flow.csv (one per loss and time, loss by loss) go to `rows` in pieces of at
///   most ``pieceRows`` rows as they are computed (``stream(losses:beta:rewardGap:h0:times:maxSteps:rows:)``).
/// - The figures keep at most ``maxFigurePoints`` points per loss: every k-th time,
///   `k = ceil((N - 1) / (maxFigurePoints - 1))`, and the last (all N when N <= maxFigurePoints,
///   so those figures are those of the whole curve). flow.md needs h(t_end) and h at the last
///   time <= t_end/10, kept on the way.
/// - A loss the integrator cannot follow is left out of every output (named in a note, and
///   in ``Result/failed``). So its rows must not be written before it is known to finish: up to
///   ``pieceRows`` times a loss's rows are held until it ends; beyond, the flow (deterministic)
///   is first integrated without output, then again writing its rows. The second pass costs
///   time, not memory.
///
/// Memory: O(``pieceRows`` + losses x ``maxFigurePoints``), about 2 MB, whatever the number of
/// times (before: about 2.6 KB per time with the 5 default losses, held whole).
///
/// See also: ``GradientFlow/solve(_:parameters:h0:times:relativeTolerance:absoluteTolerance:maxSteps:onPoint:)``,
/// ``Formats/AtomicFileStream``.
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

    static let columns = ["loss", "beta", "reward_gap", "t", "log10_t", "h", "target_h"]
    /// Rows per piece handed to the sink, and the rows of a loss held until it ends.
    static let pieceRows = 4096
    /// Points per loss in the figures.
    static let maxFigurePoints = 1000

    /// What the figures and flow.md need of one loss's curve.
    struct CurveSummary {
        let loss: Loss
        /// `h* = dr/beta`.
        let target: Double
        /// (log10 t, h) at the sampled times (see the type's notes).
        var points: [(Double, Double)] = []
        /// h(t_end).
        var hEnd = Double.nan
        /// h at the last time <= t_end/10 (the first time if none).
        var hTenth = Double.nan
    }

    struct Result {
        var curves: [CurveSummary] = []
        /// The losses the integrator could not follow (each named in a note).
        var failed: [Loss] = []
    }

    /// Whether time `i` of `n` is drawn: all when `n <= maxFigurePoints`, else every k-th and the last.
    static func isSampled(_ i: Int, of n: Int) -> Bool {
        guard n > maxFigurePoints else { return true }
        let step = (n + maxFigurePoints - 2) / (maxFigurePoints - 1)
        return i == n - 1 || i % step == 0
    }

    /// Integrates each loss over `times` and hands flow.csv's rows to `rows` in pieces (a
    /// ``ResultTable`` of at most ``pieceRows`` rows, loss by loss, in time order). An error
    /// thrown by `rows` ends the run and is rethrown.
    static func stream(losses: [Loss], beta: Double, rewardGap: Double, h0: Double, times: LogSpacedTimes,
                       maxSteps: Int = 10_000_000, rows: (ResultTable) throws -> Void) throws -> Result {
        var result = Result()
        let n = times.count
        let tenth = times.end / 10
        for loss in losses {
            let p = LossParameters(beta: beta, labelSmoothing: loss.defaultLabelSmoothing, rewardGap: rewardGap)
            var curve = CurveSummary(loss: loss, target: rewardGap / beta)
            var piece = ResultTable(columns: columns)
            var sinkError: Error?
            // Keeps the figure's points and flow.md's numbers; with `write`, appends the row
            // and hands over full pieces. False (stop) after an error.
            func take(_ i: Int, _ t: Double, _ h: Double, write: Bool, flush: Bool) -> Bool {
                if isSampled(i, of: n) { curve.points.append((Foundation.log10(t), h)) }
                if i == n - 1 { curve.hEnd = h }
                if i == 0 || t <= tenth { curve.hTenth = h }
                guard write else { return true }
                do {
                    try piece.append(Row(loss: loss.rawValue, beta: beta, rewardGap: rewardGap, t: t, log10T: Foundation.log10(t),
                                         h: h, targetH: curve.target))
                    if flush && piece.rows.count == pieceRows { try rows(piece); piece.removeAllRows() }
                    return true
                } catch {
                    sinkError = error
                    return false
                }
            }
            let held = n <= pieceRows
            do {
                // Held whole (n <= pieceRows), or a first pass without output.
                try GradientFlow.solve(loss, parameters: p, h0: h0, times: times, maxSteps: maxSteps) {
                    take($0, $1, $2, write: held, flush: false)
                }
            } catch {
                result.failed.append(loss)
                note("\(loss.rawValue): the integrator stopped (\(error)); left out")
                continue
            }
            if let sinkError { throw reportError(sinkError) }
            if !held {
                curve.points.removeAll(keepingCapacity: true)
                do {
                    try GradientFlow.solve(loss, parameters: p, h0: h0, times: times, maxSteps: maxSteps) {
                        take($0, $1, $2, write: true, flush: true)
                    }
                } catch {
                    throw ReportError("\(loss.rawValue): the second pass of the integrator failed where the first succeeded (\(error))")
                }
                if let sinkError { throw reportError(sinkError) }
            }
            if !piece.rows.isEmpty {
                do { try rows(piece) } catch { throw reportError(error) }
            }
            result.curves.append(curve)
        }
        return result
    }

    static func reportError(_ error: Error) -> ReportError { (error as? ReportError) ?? ReportError("\(error)") }

    /// A CSV and a JSON rendering of the pieces of ``stream(losses:beta:rewardGap:h0:times:maxSteps:rows:)``:
    /// the header first, then each piece's rows; ``finish()`` closes the JSON array.
    struct TableSinks {
        var csv: [(String) throws -> Void] = []
        var json: [(String) throws -> Void] = []
        private var jsonWriter = PrettyJSONArrayWriter()
        private var started = false

        init(csv: [(String) throws -> Void] = [], json: [(String) throws -> Void] = []) {
            self.csv = csv
            self.json = json
        }

        /// The CSV header (once, before any piece).
        mutating func start() throws {
            guard !started else { return }
            started = true
            let header = ResultTable(columns: FlowReport.columns).csv()
            for sink in csv { try sink(header) }
        }

        mutating func write(_ piece: ResultTable) throws {
            try start()
            if !csv.isEmpty {
                let text = piece.csv(includeHeader: false)
                for sink in csv { try sink(text) }
            }
            if !json.isEmpty {
                let text = piece.json(continuing: &jsonWriter)
                for sink in json { try sink(text) }
            }
        }

        mutating func finish() throws {
            try start()
            let end = jsonWriter.end()
            for sink in json { try sink(end) }
        }
    }

    static func g4(_ x: Double) -> String { String(format: "%.4g", x) }

    /// flow.md: h(t_end), its distance to h* and its growth over the last decade, per loss.
    static func markdown(_ result: Result, beta: Double, rewardGap: Double, h0: Double) -> String {
        var md = "# Gradient flow (T11)\n\nbeta = \(g4(beta)), dr = \(g4(rewardGap)), h(0) = \(g4(h0)); h* = dr/beta = \(g4(rewardGap / beta)).\n\n"
        md += MarkdownTable(headers: ["loss", "h(t_end)", "h(t_end) - h*", "h(t_end) - h(t_end/10)"],
                            alignments: [.left, .right, .right, .right],
                            rows: result.curves.map { c in
                                [c.loss.rawValue, String(format: "%.6g", c.hEnd), String(format: "%.3g", c.hEnd - c.target),
                                 String(format: "%.3g", c.hEnd - c.hTenth)]
                            }).render()
        md += "\nA loss that keeps growing by about (1/beta) log 10 = \(g4(Foundation.log(10) / beta)) per decade of t has no finite target.\n"
        return md
    }

    /// flow-plot.txt: the sampled curves as an ASCII plot.
    static func plot(_ result: Result, beta: Double, rewardGap: Double, h0: Double) -> String {
        ASCIIPlot(title: "h(t) under gradient flow (beta=\(g4(beta)) dr=\(g4(rewardGap)) h0=\(g4(h0)) h*=\(g4(rewardGap / beta)))",
                  xLabel: "log10 t", yLabel: "h (nats)",
                  series: result.curves.map { ($0.loss.rawValue, $0.points) }).render()
    }

    /// flow.svg: the sampled curves, log10 t on the x axis.
    static func svg(_ result: Result, beta: Double, rewardGap: Double, h0: Double) -> String {
        SVGPlot(title: "h(t) under gradient flow, beta=\(g4(beta)) dr=\(g4(rewardGap)) h0=\(g4(h0)) h*=\(g4(rewardGap / beta))",
                xLabel: "time t (gradient-flow units)", yLabel: "h = u_w - u_l (nats)",
                series: result.curves.map { ($0.loss.rawValue, $0.points) },
                xIsLog10: true).render()
    }

    /// The four files in memory, for `report all` (a few dozen times): flow.csv, flow.md,
    /// flow-plot.txt, flow.svg. `failed` lists the losses the integrator could not follow.
    static func files(losses: [Loss], beta: Double, rewardGap: Double, h0: Double, times: LogSpacedTimes,
                      maxSteps: Int = 10_000_000) throws -> (files: [(String, String)], failed: [Loss]) {
        var csv = ""
        var sinks = TableSinks(csv: [{ csv += $0 }])
        try sinks.start()
        let result = try stream(losses: losses, beta: beta, rewardGap: rewardGap, h0: h0, times: times, maxSteps: maxSteps) {
            try sinks.write($0)
        }
        try sinks.finish()
        return ([("flow.csv", csv), ("flow.md", markdown(result, beta: beta, rewardGap: rewardGap, h0: h0)),
                 ("flow-plot.txt", plot(result, beta: beta, rewardGap: rewardGap, h0: h0)),
                 ("flow.svg", svg(result, beta: beta, rewardGap: rewardGap, h0: h0))], result.failed)
    }
}
