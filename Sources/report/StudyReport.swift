import Experiments
import Foundation
import Formats

/// The index README.md of a study folder and the verdict table that `report study` prints
/// and the project README quotes. Only formats: every verdict comes from ``StudyAnalysis``.
enum StudyReport {
    static func g4(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "-" }

    static func short(_ v: Verdict) -> String {
        switch v {
        case .reproduced: return "R"
        case .contradicted: return "C"
        case .notSignificant: return "ns"
        case .notComparable: return "nc"
        case .qualified: return "q"
        }
    }

    static func cellLegend(_ a: StudyAnalysis) -> String {
        a.spec.cells.enumerated().map { "(\($0.offset + 1)) \(StudyFigures.phrase($0.element))" }.joined(separator: "; ")
    }

    /// The compact verdict table: one row per claim, measure and principled arm, one column
    /// per baseline, each entry the verdicts of the cells in grid order separated by `/`.
    static func verdictTable(_ a: StudyAnalysis, arms: [StudyArm]) -> String {
        var rows: [[String]] = []
        for m in StudyMeasure.allCases {
            for arm in arms {
                var row = [m.claim, m.text, arm.label]
                for b in StudyArm.baselines {
                    row.append(a.spec.cells.map { cell in
                        guard m.applies(to: cell) else { return cell.policy.hasProxy ? "·" : "n/a" }
                        guard let c = a.comparisons.first(where: { $0.cell == cell && $0.measure == m && $0.arm == arm && $0.baseline == b })
                        else { return "·" }
                        return short(c.verdict)
                    }.joined(separator: " / "))
                }
                rows.append(row)
            }
        }
        return MarkdownTable(headers: ["claim", "measure", "arm"] + StudyArm.baselines.map { "vs " + $0.rawValue },
                             alignments: [.left, .left, .left] + StudyArm.baselines.map { _ in .center }, rows: rows).render()
    }

    static let legend = "R reproduced, C contradicted, ns not significant, nc not comparable (fewer than 2 comparable seeds), · not measured in that cell (the hacking measures need a proxy bias)."

    /// ``legend``, plus the meaning of `n/a` when the grid has a tabular or log-linear policy.
    static func legend(_ a: StudyAnalysis) -> String {
        a.spec.policies.allSatisfy(\.hasProxy) ? legend
            : legend + " n/a not applicable (the tabular and log-linear environments have no proxy reward: nothing can be hacked)."
    }

    /// The environment sentence of the index (the sequence-level one alone keeps its text).
    static func environmentText(_ a: StudyAnalysis) -> String {
        let sequence = a.spec.policies.contains(where: \.hasProxy), tabular = a.spec.policies.contains { !$0.hasProxy }
        switch (sequence, tabular) {
        case (true, false): return "Sequence-level simulation (docs/theory.md §5.2)"
        case (false, _): return "Tabular and log-linear simulation (docs/theory.md §5.1; reward model: docs/theory.md §6.1)"
        case (true, true): return "Sequence-level (docs/theory.md §5.2) and tabular/log-linear (docs/theory.md §5.1, §6.1) simulation"
        }
    }

    /// Per claim: in each cell, for each arm and measure, the baselines where it holds,
    /// fails, or the data cannot tell. No sentence spans cells.
    static func claimSummary(_ a: StudyAnalysis, arms: [StudyArm]) -> String {
        var s = ""
        for (id, text) in StudyMeasure.claims {
            s += "### \(id): \(text)\n\n"
            for (k, cell) in a.spec.cells.enumerated() {
                for arm in arms {
                    var parts: [String] = []
                    for m in StudyMeasure.allCases where m.claim == id && m.applies(to: cell) {
                        let cs = a.comparisons.filter { $0.cell == cell && $0.measure == m && $0.arm == arm }
                        func list(_ vs: [Verdict]) -> String {
                            let names = cs.filter { vs.contains($0.verdict) }.map(\.baseline.rawValue)
                            return names.isEmpty ? "none" : names.joined(separator: ", ")
                        }
                        parts.append("\(m.text): holds vs \(list([.reproduced])); fails vs \(list([.contradicted])); "
                                     + "cannot tell vs \(list([.notSignificant, .notComparable]))")
                    }
                    if id == "C4" && !cell.policy.hasProxy {
                        parts.append("amount hacked and spurious-token count: not applicable (no proxy reward)")
                    }
                    s += "- cell (\(k + 1)) \(StudyFigures.phrase(cell)), \(arm.label): " + parts.joined(separator: ". ") + ".\n"
                }
            }
            s += "\n"
        }
        return s
    }

    static func detailTable(_ a: StudyAnalysis, arms: [StudyArm]) -> String {
        let rows = a.comparisons.filter { arms.contains($0.arm) }.map { c -> [String] in
            let cell = (a.spec.cells.firstIndex(of: c.cell) ?? 0) + 1
            return ["(\(cell))", c.measure.claim, c.measure.rawValue, "\(c.arm.label) - \(c.baseline.rawValue)",
                    g4(c.mean), c.lower.isFinite ? "[\(g4(c.lower)), \(g4(c.upper))]" : "-",
                    "\(c.n)", "\(c.notComparable)", "\(c.notReached)", c.verdict.rawValue]
        }
        return MarkdownTable(headers: ["cell", "claim", "measure", "difference", "mean", "95% interval", "n", "diverged", "not reached", "verdict"],
                             alignments: [.right, .left, .left, .left, .right, .right, .right, .right, .right, .left], rows: rows).render()
    }

    static func armTable(_ a: StudyAnalysis) -> String {
        var rows: [[String]] = []
        for (k, cell) in a.spec.cells.enumerated() {
            for arm in StudyArm.allCases {
                func v(_ key: StudyRunValue) -> String {
                    let m = a.armMean(cell, arm, key)
                    return g4(m.mean) + (m.half.isFinite ? " ± " + g4(m.half) : "")
                }
                let d = a.armMean(cell, arm, .finalTrueReward)
                rows.append(["(\(k + 1))", arm.label, v(.finalTrueReward), v(.finalProxyReward), v(.finalWinRate), v(.winVersusDPO),
                             v(.finalKL), "\(d.n)", "\(d.diverged)"])
            }
        }
        return MarkdownTable(headers: ["cell", "arm", "true reward", "proxy reward", "win rate vs pi_ref", "win rate vs DPO", "KL(pi||pi_ref)", "ok", "diverged"],
                             alignments: [.right, .left, .right, .right, .right, .right, .right, .right, .right], rows: rows).render()
    }

    static func readme(_ a: StudyAnalysis, manifest: String, figures: [String]) -> String {
        let fitted = StudyArm.principled.filter { !$0.isOracle }
        let oracles = StudyArm.principled.filter(\.isOracle)
        var s = "# Study: does the principled loss beat DPO given the same information?\n\n"
        s += environmentText(a) + ", every arm trained on the same data per seed (paired). "
        s += "Settings (manifest.txt):\n\n```\n\(manifest)```\n\n"
        s += "## Arms\n\n"
        s += "- Baselines, told the labels only: dpo (sigmoid), ipo, dpop, chipo; and cdpo_matched, the information-matched DPO: "
        s += "cdpo with per-pair label smoothing eps_i = min(sigma(-dr_hat_i), 1/2) from the same fitted reward model (clamped to cdpo's range: "
        s += "a pair the model thinks mislabelled becomes uninformative; unclamped it would be spo_bt itself).\n"
        s += "- Principled, told the fitted reward model's gap dr_hat (exactly DPO's information): spo, spo_bt.\n"
        s += "- Oracles, told the TRUE gap: spo_oracle, spo_bt_oracle. **Upper bounds, not fair comparisons.**\n\n"
        s += "## Rule\n\n\(StudyMeasure.rule)\n\n"
        s += "Matched KL: \(matchedText(a))\n\n"
        s += "## Verdicts (principled arms on the fitted gap)\n\nCells: \(cellLegend(a)). Entries: the cells' verdicts in that order. \(legend(a))\n\n"
        s += verdictTable(a, arms: fitted) + "\n"
        s += "## Per claim: where it holds, where it fails, where the data cannot tell\n\n" + claimSummary(a, arms: fitted)
        s += "## Oracle arms (upper bounds: told the true reward)\n\n" + verdictTable(a, arms: oracles) + "\n"
        s += "## Arms per cell (seed mean ± 95% half-width)\n\n" + armTable(a) + "\n"
        s += "## All comparisons of the fitted principled arms\n\n" + detailTable(a, arms: fitted) + "\n"
        s += "The oracle arms' comparisons are in comparisons.csv.\n\n"
        s += "## Files\n\n- runs.csv: one row per run (cell, seed, arm, status, measures); trajectories.csv: every logged step (KL, true and proxy reward, win rate).\n"
        s += "- comparisons.csv: every paired comparison; frontiers.csv: the frontier curves; arms.csv: per-arm means.\n"
        s += figures.map { "- [figures/\($0)](figures/\($0))" }.joined(separator: "\n") + "\n"
        return s
    }

    static func matchedText(_ a: StudyAnalysis) -> String {
        "each comparison is read at its own matched KL: the median over seeds of the smaller of the two runs' largest logged KL "
            + "(the largest KL both runs of a typical seed reached; column matched_kl of comparisons.csv); a run is read at its "
            + "first logged crossing, linear in KL between logged points, never extrapolated; a run that does not reach it is "
            + "counted as not reached."
    }
}
