import ArgumentParser
import Experiments
import Foundation
import Formats

extension Report {
    /// `report theory`: T1–T11 checked numerically, each with its number and verdict.
    struct TheoryCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "theory",
            abstract: "Check the results T1-T11 numerically on seeded random instances.",
            discussion: """
            Each result gets the number that verifies it and a verdict: reproduced, qualified \
            (the math holds but the paper's wording claims more), or contradicted.

            Example:
              report theory
              report theory --instances 1000 --seed 7 --format csv
            """
        )

        @Option(help: "Random instances per check.")
        var instances: Int = 200

        @Option(help: "Seed for the random instances (GSL MT19937).")
        var seed: UInt64 = 250_807_137

        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard instances >= 1 && instances <= 1_000_000 else {
                throw ValidationError("--instances must be between 1 and 1000000, got \(instances)")
            }
        }

        func run() throws {
            let checks = try TheoryChecks.run(seed: seed, instances: instances)
            let md = TheoryReport.markdown(checks)
            let csv = TheoryReport.csv(checks)
            if let folder = output.out {
                try writeFiles([("theory.md", md), ("theory.csv", csv)], into: folder)
            }
            switch output.format {
            case .csv?: emit(csv)
            case .markdown?, .plot?: emit(md)
            case .json?: emit(jsonRecords(fromCSV: csv))
            case nil: if output.out == nil { emit(md) }
            }
            if checks.contains(where: { $0.verdict == .contradicted }) {
                throw ExitCode(2)
            }
        }
    }
}

enum TheoryReport {
    static func markdown(_ checks: [TheoryChecks.Check]) -> String {
        var s = "# Theory checks (THEORY.md T1-T11)\n\n"
        s += MarkdownTable(
            headers: ["result", "verdict", "measured", "bound", "what was measured"],
            alignments: [.left, .left, .right, .right, .left],
            rows: checks.map { [$0.id, $0.verdict.rawValue, String(format: "%.3g", $0.value), String(format: "%.0e", $0.tolerance), $0.measurement] }
        ).render()
        s += "\n"
        for c in checks {
            s += "- **\(c.id)** (\(c.verdict.rawValue)): \(c.claim)."
            if !c.note.isEmpty { s += " \(c.note)" }
            s += "\n"
        }
        return s
    }

    static func csv(_ checks: [TheoryChecks.Check]) -> String {
        var w = CSVWriter(header: ["result", "verdict", "value", "tolerance", "claim", "measurement", "note"])
        for c in checks {
            w.appendRow([c.id, c.verdict.rawValue, CSVWriter.format(c.value), CSVWriter.format(c.tolerance), c.claim, c.measurement, c.note])
        }
        return w.text
    }
}
