import Foundation
import Formats
import LossMath

// MARK: - Rendering

extension BenchResult {
    func markdown() -> String {
        var s = "# report bench\n\n"
        s += "- machine: \(machine.cpu), \(machine.processors) online processors\n"
        s += "- date: \(machine.date)\n"
        s += "- command: `report \(arguments.joined(separator: " "))` (\(machine.binary))\n"
        s += "- every figure is the median of the repeats; compare ratios within one run\n\n"
        if !peaks.isEmpty {
            s += "## Machine peaks (roofline inputs)\n\n"
            s += MarkdownTable(headers: ["measurement", "rate", "unit", "how"], alignments: [.left, .right, .left, .left],
                               rows: peaks.map { [$0.name, $0.unit == "B/s" ? String(format: "%.2f G", $0.rate / 1e9) : String(format: "%.1f M", $0.rate / 1e6), $0.unit, $0.note] }).render()
            s += "\n"
        }
        if !kernels.isEmpty {
            s += "## Loss kernels: loss + gradient, single thread\n\n"
            s += "Million pairs per second. *batch*: `Loss.evaluateBatch` (switch hoisted, shared sub-expressions); "
            s += "*per pair*: `Loss.evaluate` in a loop. *model*: the roofline estimate from the operation count "
            s += "and the measured peaks (max of compute and memory time).\n\n"
            s += MarkdownTable(headers: ["loss", "batch", "per pair", "batch / per pair", "op count", "model", "batch / model", "checksum"],
                               alignments: [.left, .right, .right, .right, .left, .right, .right, .right],
                               rows: kernels.map { k in
                                   [k.loss.rawValue, mega(k.batchRate), mega(k.scalarRate), f2(k.batchRate / k.scalarRate),
                                    k.ops?.text ?? "branchy: not modelled", k.modelRate.map(mega) ?? "-",
                                    k.modelRate.map { f2(k.batchRate / $0) } ?? "-", String(format: "%.6e", k.checksum)]
                               }).render()
            s += "\n"
        }
        if !trainer.isEmpty {
            s += "## Trainer: full-batch Adam, pair-updates per second\n\n"
            s += "pair-updates = pairs x steps; metrics every 20 steps included; environment generation excluded.\n\n"
            s += MarkdownTable(headers: ["problem", "P", "K", "n", "loss", "steps", "threads", "M pair-updates/s", "time (s)", "op count / pair-update", "model (1 thread)", "measured / model", "model, 8-lane peaks", "final regret"],
                               alignments: [.left, .right, .right, .right, .left, .right, .right, .right, .right, .left, .right, .right, .right, .right],
                               rows: trainer.map { t in
                                   [t.problem, "\(t.P)", "\(t.K)", "\(t.n)", t.loss.rawValue, "\(t.steps)", "\(t.threads)", mega(t.rate),
                                    String(format: "%.3f", t.seconds), t.ops?.text ?? "-", t.modelRate.map(mega) ?? "-",
                                    t.modelRate.map { f2(t.rate / $0) } ?? "-", t.modelRateEightLanes.map(mega) ?? "-",
                                    String(format: "%.6g", t.finalRegret)]
                               }).render()
            let pairsByKey = Dictionary(grouping: trainer) { "\($0.problem) \($0.loss.rawValue)" }
            var lines: [String] = []
            for key in pairsByKey.keys.sorted() {
                let g = (pairsByKey[key] ?? []).sorted { $0.threads < $1.threads }
                if g.count >= 2, let first = g.first, let last = g.last {
                    lines.append("- \(key): \(last.threads) threads / 1 thread = \(f2(last.rate / first.rate))x")
                }
            }
            if !lines.isEmpty { s += "\n" + lines.joined(separator: "\n") + "\n" }
            s += "\n"
        }
        if !sweep.isEmpty {
            s += "## Sweep: independent runs in parallel (default problem, \(sweep[0].steps) steps each)\n\n"
            let base = sweep.first { $0.workers == 1 }?.rate ?? sweep[0].rate
            s += MarkdownTable(headers: ["workers", "runs", "time (s)", "M pair-updates/s", "speed-up"],
                               alignments: [.right, .right, .right, .right, .right],
                               rows: sweep.map { ["\($0.workers)", "\($0.runs)", String(format: "%.3f", $0.seconds), mega($0.rate), f2($0.rate / base)] }).render()
            s += "\n"
        }
        if !scaling.rows.isEmpty {
            s += "## Scaling: single-thread DPO training time\n\n"
            s += MarkdownTable(headers: ["study", "P", "K", "n", "P*K", "steps", "time (s)", "ns per pair-update"],
                               alignments: [.left, .right, .right, .right, .right, .right, .right, .right],
                               rows: scaling.rows.map { r in
                                   [r.study, "\(r.P)", "\(r.K)", "\(r.n)", "\(r.P * r.K)", "\(r.steps)", String(format: "%.4f", r.seconds),
                                    String(format: "%.2f", r.seconds / (Double(r.P * r.n) * Double(r.steps)) * 1e9)]
                               }).render()
            s += "\n"
            s += MarkdownTable(headers: ["study", "fitted exponent of time in", "exponent", "standard error"],
                               alignments: [.left, .left, .right, .right],
                               rows: scaling.fits.map { [$0.study, $0.variable, String(format: "%.3f", $0.exponent), String(format: "%.3f", $0.standardError)] }).render()
            s += "\n"
        }
        if !commands.isEmpty {
            s += "## Commands: wall time (subprocess, output discarded)\n\n"
            s += MarkdownTable(headers: ["command", "wall time (s)", "exit status"], alignments: [.left, .right, .right],
                               rows: commands.map { [$0.command, String(format: "%.3f", $0.seconds), "\($0.status)"] }).render()
            s += "\n"
        }
        s += sequenceMarkdown()
        return s
    }

    /// One tidy table: section, name, parameters, threads, seconds, rate, unit, extra.
    func csv() -> String {
        var w = CSVWriter(header: ["section", "name", "P", "K", "n", "steps", "threads", "seconds", "rate", "unit", "model_rate", "checksum"])
        func n(_ x: Double?) -> String { x.map { $0.isFinite ? CSVWriter.format($0) : "" } ?? "" }
        for p in peaks { w.appendRow(["peaks", p.name, "", "", "", "", "1", "", n(p.rate), p.unit, "", ""]) }
        for k in kernels {
            w.appendRow(["kernels", k.loss.rawValue + " batch", "", "", "", "", "1", "", n(k.batchRate), "pairs/s", n(k.modelRate), n(k.checksum)])
            w.appendRow(["kernels", k.loss.rawValue + " per pair", "", "", "", "", "1", "", n(k.scalarRate), "pairs/s", "", n(k.checksum)])
        }
        for t in trainer {
            w.appendRow(["trainer", t.problem + " " + t.loss.rawValue, "\(t.P)", "\(t.K)", "\(t.n)", "\(t.steps)", "\(t.threads)",
                         n(t.seconds), n(t.rate), "pair-updates/s", n(t.modelRate), n(t.finalRegret)])
        }
        for r in sweep { w.appendRow(["sweep", "\(r.runs) runs", "", "", "", "", "\(r.workers)", n(r.seconds), n(r.rate), "pair-updates/s", "", ""]) }
        for r in scaling.rows {
            w.appendRow(["scaling", r.study, "\(r.P)", "\(r.K)", "\(r.n)", "\(r.steps)", "1", n(r.seconds), "", "", "", ""])
        }
        for f in scaling.fits { w.appendRow(["scaling-fit", f.study, "", "", "", "", "", "", n(f.exponent), "exponent", "", n(f.standardError)]) }
        for c in commands { w.appendRow(["commands", c.command, "", "", "", "", "", n(c.seconds), "", "s", "", "\(c.status)"]) }
        // The sequence rows carry V and T in the name (K has no meaning there).
        for r in sequence {
            w.appendRow(["sequence", "\(r.parameterisation) V=\(r.V) T=\(r.T) sigmoid", "\(r.P)", "", "\(r.n)", "\(r.steps)", "1",
                         n(r.seconds), n(r.rate), "pair-updates/s", "", n(r.checksum)])
        }
        return w.text
    }

    func json() -> String {
        func num(_ x: Double?) -> JSONValue { .number(x) }
        var o: [String: JSONValue] = [
            "machine": .object(["cpu": .string(machine.cpu), "processors": .integer(machine.processors),
                                "date": .string(machine.date), "binary": .string(machine.binary)]),
            "arguments": .array(arguments.map { .string($0) }),
        ]
        o["peaks"] = .array(peaks.map { .object(["name": .string($0.name), "rate": num($0.rate), "unit": .string($0.unit)]) })
        o["kernels"] = .array(kernels.map { k in
            .object(["loss": .string(k.loss.rawValue), "batch_rate": num(k.batchRate), "per_pair_rate": num(k.scalarRate),
                     "model_rate": num(k.modelRate), "model_rate_no_overlap": num(k.modelRateWithoutOverlap), "op_count": k.ops.map { .string($0.text) } ?? .null, "checksum": num(k.checksum)])
        })
        o["trainer"] = .array(trainer.map { t in
            .object(["problem": .string(t.problem), "loss": .string(t.loss.rawValue), "P": .integer(t.P), "K": .integer(t.K),
                     "n": .integer(t.n), "steps": .integer(t.steps), "threads": .integer(t.threads), "seconds": num(t.seconds),
                     "rate": num(t.rate), "model_rate": num(t.modelRate), "model_rate_no_overlap": num(t.modelRateWithoutOverlap),
                     "model_rate_8_lanes": num(t.modelRateEightLanes), "op_count": t.ops.map { .string($0.text) } ?? .null,
                     "final_regret": num(t.finalRegret)])
        })
        o["sweep"] = .array(sweep.map { .object(["workers": .integer($0.workers), "runs": .integer($0.runs), "steps": .integer($0.steps), "seconds": num($0.seconds), "rate": num($0.rate)]) })
        o["scaling"] = .array(scaling.rows.map { r in
            .object(["study": .string(r.study), "P": .integer(r.P), "K": .integer(r.K), "n": .integer(r.n), "steps": .integer(r.steps), "seconds": num(r.seconds)])
        })
        o["scaling_fits"] = .array(scaling.fits.map { .object(["study": .string($0.study), "variable": .string($0.variable), "exponent": num($0.exponent), "standard_error": num($0.standardError)]) })
        o["sequence"] = .array(sequence.map { r in
            .object(["parameterisation": .string(r.parameterisation), "P": .integer(r.P), "V": .integer(r.V), "T": .integer(r.T),
                     "n": .integer(r.n), "steps": .integer(r.steps), "seconds": num(r.seconds), "rate": num(r.rate),
                     "cpu_seconds": num(r.cpuSeconds), "cpu_rate": num(r.cpuRate),
                     "last_loss": num(r.checksum)])
        })
        o["commands"] = .array(commands.map { .object(["command": .string($0.command), "seconds": num($0.seconds), "status": .integer(Int($0.status))]) })
        return JSONValue.object(o).rendered(pretty: true)
    }
}
