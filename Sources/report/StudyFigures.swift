import Experiments
import Foundation
import Formats

/// The SVG figures of a study (the project's own plotters, ``SVGPlot`` and ``SVGForestPlot``):
/// - `frontier-<cell>.svg`: the over-optimisation frontier of each cell (one file per
///   proxy bias, policy, beta and noise): seed-mean true reward against `sqrt(KL(pi || pi_ref))`,
///   one solid line per arm and its 95% band dashed in the same colour (points reached by at
///   least 2 seeds). spo_bt_oracle is left out of the picture (8 colours), not of frontiers.csv.
/// - `win-rate-vs-proxy-bias-<policy, beta, noise>.svg`: seed-mean final win rate against
///   `pi_ref` per arm, against the proxy bias (sequence-level policies: the tabular and
///   log-linear ones have no proxy).
/// - `forest-<measure>.svg`: one row per cell and (fitted) principled arm and baseline: the
///   paired mean difference, its 95% interval and the zero line.
enum StudyFigures {
    static func slug(_ c: StudySpec.Cell) -> String {
        "\(c.policy.rawValue)-beta\(CSVWriter.format(c.beta))-bias\(CSVWriter.format(c.proxyBias))-noise\(CSVWriter.format(c.rewardNoise))"
    }

    static func phrase(_ c: StudySpec.Cell) -> String {
        "\(c.policy.rawValue), beta \(CSVWriter.format(c.beta)), proxy bias \(CSVWriter.format(c.proxyBias)), noise \(CSVWriter.format(c.rewardNoise))"
    }

    static func figures(_ a: StudyAnalysis) -> [(String, String)] {
        var out: [(String, String)] = []
        let shown = Array(StudyArm.allCases.filter { $0 != .spoBTOracle }.prefix(SVGPlot.palette.count))
        for cell in a.spec.cells {
            var means: [(name: String, points: [(Double, Double)])] = []
            var bands: [(name: String, points: [(Double, Double)])] = []
            for arm in shown {
                let pts = a.frontiers.filter { $0.cell == cell && $0.arm == arm && $0.n >= 2 }
                means.append((arm.label, pts.map { ($0.kl.squareRoot(), $0.mean) }))
                let upper = pts.filter { $0.upper.isFinite }.map { ($0.kl.squareRoot(), $0.upper) }
                let lower = pts.filter { $0.lower.isFinite }.map { ($0.kl.squareRoot(), $0.lower) }
                bands.append((arm.rawValue + " 95% band", upper + [(Double.nan, Double.nan)] + lower))
            }
            let plot = SVGPlot(title: "Over-optimisation frontier (\(phrase(cell)))", xLabel: "sqrt(KL(pi || pi_ref))",
                               yLabel: "true reward E_pi[r] (seed mean)", series: means + bands)
            out.append(("frontier-\(slug(cell)).svg", plot.render()))
        }
        // Win rate against the proxy bias, per (policy, beta, noise).
        for p in a.spec.policies where p.hasProxy { for b in a.spec.betas { for s in a.spec.rewardNoises {
            let series = StudyArm.allCases.map { arm in
                (name: arm.label, points: a.spec.proxyBiases.map { l in
                    (l, a.armMean(StudySpec.Cell(policy: p, beta: b, proxyBias: l, rewardNoise: s), arm, .finalWinRate).mean)
                })
            }
            let plot = SVGPlot(title: "Final win rate vs pi_ref (\(p.rawValue), beta \(CSVWriter.format(b)), noise \(CSVWriter.format(s)))",
                               xLabel: "proxy bias lambda", yLabel: "win rate vs pi_ref (seed mean)", series: series)
            out.append(("win-rate-vs-proxy-bias-\(p.rawValue)-beta\(CSVWriter.format(b))-noise\(CSVWriter.format(s)).svg", plot.render()))
        } } }
        // Forest plots.
        for m in StudyMeasure.allCases {
            let rows = a.comparisons.filter { $0.measure == m && !$0.arm.isOracle }.map { c in
                SVGForestPlot.Row(label: "\(phrase(c.cell)): \(c.arm.rawValue) - \(c.baseline.rawValue)", estimate: c.mean,
                                  lower: c.lower, upper: c.upper, group: StudyArm.baselines.firstIndex(of: c.baseline) ?? 0)
            }
            if rows.isEmpty { continue }
            let claimed = m.direction == .positive ? "claim predicts > 0" : "claim predicts < 0"
            let plot = SVGForestPlot(title: "\(m.claim): \(m.text), principled minus baseline (\(claimed))",
                                     xLabel: "paired difference, mean and 95% t-interval over seeds", rows: rows)
            out.append(("forest-\(m.rawValue).svg", plot.render()))
        }
        return out
    }
}
