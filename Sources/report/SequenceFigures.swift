import Experiments
import Formats

/// The figures of a sequence-level `report train` (docs/theory.md §5.2), as SVG
/// (``Formats/SVGPlot``: a distinct colour, then dash pattern, per series) and as ASCII
/// plots for the terminal:
///
/// - **reward-kl.svg**: the true reward `E_pi[r]` (an oracle measurement) against
///   `KL(pi || pi_ref)` over training, one curve per loss, from step 0 (`KL = 0`): the
///   over-optimisation frontier (Gao et al. 2023). A curve that bends down as KL grows is
///   over-optimising.
/// - **win-rate.svg**: the win rate against `pi_ref` under the true reward, against step.
/// - **logp-pairs.svg**: the mean `log pi(y_w)` and `log pi(y_l)` over the training pairs
///   against step, two series per loss (`<loss> chosen`, `<loss> rejected`); both falling is
///   likelihood displacement.
///
/// Titles name the configuration (``SequenceTrainReport/configurationTitle(_:)``).
///
/// See also: ``SequenceTrainReport``, ``TrainReport``.
struct SequenceFigures {
    /// The configuration, for the titles.
    let title: String
    let results: [SequenceTrainingResult]

    /// Wide enough for a title naming the configuration over a legend of `<loss> rejected`.
    static let width = 1000

    typealias Series = [(name: String, points: [(Double, Double)])]

    /// Per loss, `(KL(pi || pi_ref), E_pi[r])` at each logged step.
    var rewardKLSeries: Series {
        results.map { r in (r.summary.loss.rawValue, r.metrics.map { ($0.klReference, $0.expectedReward) }) }
    }

    /// Per loss, `(step, win rate against pi_ref)`.
    var winRateSeries: Series {
        results.map { r in (r.summary.loss.rawValue, r.metrics.map { (Double($0.step), $0.winRate) }) }
    }

    /// Per loss, `(step, mean log pi(y_w))` then, per loss, `(step, mean log pi(y_l))`.
    var logpSeries: Series {
        results.map { r in ("\(r.summary.loss.rawValue) chosen", r.metrics.map { (Double($0.step), $0.meanLogpChosen) }) }
            + results.map { r in ("\(r.summary.loss.rawValue) rejected", r.metrics.map { (Double($0.step), $0.meanLogpRejected) }) }
    }

    func rewardAgainstKL() -> SVGPlot {
        SVGPlot(title: "True reward vs KL(pi || pi_ref) in training: \(title)", xLabel: "KL(pi || pi_ref) (nats)",
                yLabel: "true reward E_pi[r] (oracle)", series: rewardKLSeries, width: Self.width)
    }

    func winRate() -> SVGPlot {
        SVGPlot(title: "Win rate vs pi_ref, true reward: \(title)", xLabel: "optimizer step",
                yLabel: "win rate vs pi_ref", series: winRateSeries, width: Self.width)
    }

    func pairLogProbabilities() -> SVGPlot {
        SVGPlot(title: "Mean log pi(y_w), log pi(y_l) of the pairs: \(title)", xLabel: "optimizer step",
                yLabel: "mean sequence log-probability (nats)", series: logpSeries, width: Self.width)
    }

    /// The three plots as text.
    func ascii() -> String {
        [ASCIIPlot(title: "true reward E_pi[r] (oracle) against KL(pi||pi_ref): \(title)", xLabel: "KL(pi||pi_ref)",
                   yLabel: "E_pi[r]", series: rewardKLSeries).render(),
         ASCIIPlot(title: "win rate against pi_ref against step: \(title)", xLabel: "step", yLabel: "win rate",
                   series: winRateSeries).render(),
         ASCIIPlot(title: "mean log pi(y_w) and log pi(y_l) over the pairs against step: \(title)", xLabel: "step",
                   yLabel: "mean log-probability (nats)", series: logpSeries).render()].joined(separator: "\n")
    }
}
