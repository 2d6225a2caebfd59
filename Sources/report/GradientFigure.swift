import Foundation
import Formats
import LossMath

/// The figures of `report gradients`: which way each loss pushes pi_l as pi_l -> 0.
///
/// Two panels share the x axis, log10 pi_l:
/// - **collapse**: log10 dl/dpi_l where dl/dpi_l > 0, so that a descent step lowers pi_l
///   further (DPO's case over the whole sweep, docs/theory.md, T7/T8);
/// - **restoring**: log10(-dl/dpi_l) where dl/dpi_l < 0, so that the step raises pi_l back
///   toward the target h* (spo's case past h*, T8).
///
/// A loss is drawn in the panel of its direction at each point; where it changes direction
/// the curve ends in one panel and continues in the other (never a line across the gap).
/// Reference lines: DPO's asymptote `log10 dl/dpi_l = log10 beta - beta (u_w + log pi_ref(y_l))
/// / ln 10 + (beta - 1) log10 pi_l` (from `dl/dlog pi_l = beta sigma(-beta h)` with
/// `sigma(-beta h) ~ exp(-beta h)`: slope beta - 1, T7), and the vertical line h = h* =
/// dr/beta. Titles name the configuration (beta, dr, pi_w and the reference
/// probabilities), so two figures of different settings never share a title.
///
/// See also: ``GradientReport``, ``Formats/SVGPlot``, ``Formats/ASCIIPlot``.
enum GradientFigure {
    /// At most this many points per loss are drawn (every k-th row of the sweep, and the last).
    static let maxPoints = 1000

    static let ln10 = Foundation.log(10.0)

    static func g4(_ x: Double) -> String { String(format: "%.4g", x) }

    /// The configuration in words: beta, dr, pi_w, pi_ref(y_w), pi_ref(y_l).
    static func setting(_ study: GradientStudy) -> String {
        let c = study.configuration
        var s = "beta=\(g4(c.parameters.beta))"
        if let dr = c.parameters.rewardGap { s += " dr=\(g4(dr))" }
        s += " pi_w=\(g4(Foundation.exp(c.logpChosen))) pi_ref=\(g4(Foundation.exp(c.refChosen)))/\(g4(Foundation.exp(c.refRejected)))"
        return s
    }

    /// The grid indices drawn: all of them up to ``maxPoints``, else every k-th and the last.
    static func sampledIndices(_ n: Int) -> [Int] {
        guard n > maxPoints else { return Array(0..<n) }
        let step = (n + maxPoints - 2) / (maxPoints - 1)
        var out = Array(stride(from: 0, to: n - 1, by: step))
        out.append(n - 1)
        return out
    }

    /// Per loss, (log10 pi_l, log10 |dl/dpi_l|) where the gradient's sign is `sign` and NaN
    /// elsewhere (a gap, so that no line is drawn across it).
    static func series(_ study: GradientStudy, _ losses: [Loss], sign: Int) -> [(name: String, points: [(Double, Double)])] {
        let indices = sampledIndices(study.configuration.points)
        return losses.map { loss in
            (loss.rawValue, indices.map { i in
                let r = study.row(loss, at: i)
                let g = r.gradients.rejected
                return (r.pair.rejected / ln10, g.sign == sign && !g.isZero ? g.log10Magnitude : .nan)
            })
        }
    }

    /// log10 pi_l where h = h*, if the study has a reward gap.
    static func targetLog10Probability(_ study: GradientStudy) -> Double? {
        let c = study.configuration
        guard let dr = c.parameters.rewardGap else { return nil }
        let x = (c.logpChosen - c.refChosen + c.refRejected - dr / c.parameters.beta) / ln10
        return x.isFinite ? x : nil
    }

    /// DPO's asymptote as a line in (log10 pi_l, log10 dl/dpi_l).
    static func dpoAsymptote(_ study: GradientStudy) -> (slope: Double, intercept: Double) {
        let c = study.configuration
        let beta = c.parameters.beta
        return (beta - 1, Foundation.log10(beta) - beta * (c.logpChosen - c.refChosen + c.refRejected) / ln10)
    }

    /// The sweep's range of log10 pi_l, shared by both panels.
    static func xRange(_ s: GradientStudy) -> ClosedRange<Double> {
        s.configuration.log10End...s.configuration.log10Start
    }

    /// Two ASCII panels (collapse above, restoring below) with the same markers per loss.
    static func ascii(_ study: GradientStudy, losses: [Loss]? = nil) -> String {
        let losses = losses ?? study.losses
        let b = g4(study.configuration.parameters.beta - 1)
        var top = ASCIIPlot(title: "Collapse: dl/dpi_l > 0 (\(setting(study)))",
                            xLabel: "log10 pi_l", yLabel: "log10 dl/dpi_l: descent lowers pi_l (DPO's slope beta-1 = \(b), T7)",
                            series: series(study, losses, sign: 1), xRange: xRange(study))
        top.firstSeriesOnTop = true  // DPO (listed first) stays visible under any number of losses
        var bottom = ASCIIPlot(title: "Restoring: dl/dpi_l < 0 (\(setting(study)))",
                               xLabel: "log10 pi_l", yLabel: "log10(-dl/dpi_l): descent raises pi_l back toward h*",
                               series: series(study, losses, sign: -1), xRange: xRange(study))
        bottom.firstSeriesOnTop = true
        return top.render() + "\n" + bottom.render()
    }

    /// The two panels as one SVG picture, with the reference lines.
    static func svg(_ study: GradientStudy, losses: [Loss]? = nil) -> String {
        let losses = losses ?? study.losses
        let c = study.configuration
        var hLine: [SVGPlot.Reference] = []
        if let x = targetLog10Probability(study), (c.log10End...c.log10Start).contains(x), let dr = c.parameters.rewardGap {
            hLine.append(.init("h = h* = dr/beta = \(g4(dr / c.parameters.beta))", .vertical(x: x)))
        }
        let a = dpoAsymptote(study)
        var top = SVGPlot(title: "Collapse: dl/dpi_l > 0 (\(setting(study)))",
                          xLabel: "pi_l, probability of the rejected response",
                          yLabel: "dl/dpi_l: descent lowers pi_l", series: series(study, losses, sign: 1),
                          xIsLog10: true, yIsLog10: true, xRange: xRange(study))
        // h* first, so that its line has the same dash in both panels.
        top.references = hLine + [.init("T7: DPO slope beta-1 = \(g4(a.slope))", .line(slope: a.slope, intercept: a.intercept))]
        var bottom = SVGPlot(title: "Restoring: dl/dpi_l < 0 (\(setting(study)))",
                             xLabel: "pi_l, probability of the rejected response",
                             yLabel: "-dl/dpi_l: descent raises pi_l", series: series(study, losses, sign: -1),
                             xIsLog10: true, yIsLog10: true, xRange: xRange(study))
        bottom.references = hLine
        return SVGPlot.stack([top, bottom])
    }
}
