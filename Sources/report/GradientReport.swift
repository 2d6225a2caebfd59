import Experiments
import Foundation
import Formats
import LossMath

/// Formatting of a ``GradientStudy``: CSV, Markdown and the ASCII plot.
enum GradientReport {
    static let ln10 = Foundation.log(10.0)

    /// The CSV header: the loss, the shared gradient columns and log10 pi_l.
    static var csvHeader: [String] {
        ["loss"] + GradientColumns.header.prefix(3) + ["log10_p_rejected"] + GradientColumns.header.dropFirst(3)
    }

    /// The whole CSV as one string (for `report all`; a large sweep streams with
    /// ``writeCSV(_:_:)``).
    static func csv(_ study: GradientStudy) -> String {
        var text = ""
        writeCSV(study) { text += $0 }
        return text
    }

    /// Writes the CSV in pieces of at most 4096 rows to `sink`, computing the rows as it
    /// goes: memory does not grow with the number of points.
    static func writeCSV<E: Error>(_ study: GradientStudy, _ sink: (String) throws(E) -> Void) throws(E) {
        func line(_ cells: [String]) -> String { cells.map(CSVWriter.escape).joined(separator: ",") + "\n" }
        var chunk = line(csvHeader)
        var count = 0
        for loss in study.losses {
            let p = study.configuration.parameters(for: loss)
            for i in 0..<study.configuration.points {
                let row = study.row(loss, at: i)
                var cells = GradientColumns.cells(loss: row.loss, pair: row.pair, parameters: p, evaluation: row.evaluation)
                cells.insert(CSVWriter.format(row.pair.rejected / ln10), at: 3)
                chunk += line([row.loss.rawValue] + cells)
                count += 1
                if count == 4096 { try sink(chunk); chunk = ""; count = 0 }
            }
        }
        if !chunk.isEmpty { try sink(chunk) }
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

    /// The losses the figures of a study draw: the default set of `report gradients`
    /// (``Report/Gradients/defaultLosses``) when the study holds all of it (as `report all`'s
    /// study of every loss does: 19 curves would hide DPO's), else every loss of the study.
    /// The CSV, Markdown and JSON keep every loss.
    static func figureLosses(_ study: GradientStudy) -> [Loss] {
        let defaults = Report.Gradients.defaultLosses
        return defaults.allSatisfy(study.losses.contains) ? defaults : study.losses
    }

    /// The ASCII figure (``GradientFigure/ascii(_:losses:)``) of ``figureLosses(_:)``.
    static func plot(_ study: GradientStudy) -> String { GradientFigure.ascii(study, losses: figureLosses(study)) }

    /// The SVG figure (``GradientFigure/svg(_:losses:)``) of ``figureLosses(_:)``.
    static func svg(_ study: GradientStudy) -> String { GradientFigure.svg(study, losses: figureLosses(study)) }

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
