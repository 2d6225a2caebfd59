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
            Each result of docs/theory.md (T1-T11) gets the number that verifies it, the rule \
            that decides its verdict, and the verdict: reproduced (the result as stated holds \
            within the tolerance), qualified (it holds, with a measured exception that is \
            stated), or contradicted.

            Exit status: 0 every result reproduced or qualified; 2 a result contradicted (the \
            output is written first); 1 an --out file could not be written; 64 bad option; \
            74 output error (standard output could not be written).

            Example:
              report theory
              report theory --instances 1000 --seed 7 --format csv
            """
        )

        @Option(parsing: .unconditional, help: "Random instances per check.")
        var instances: Int = 200

        @Option(parsing: .unconditional, help: "Seed for the random instances (GSL MT19937).")
        var seed: UInt64 = 250_807_137

        @OptionGroup var output: OutputOptions

        func validate() throws {
            try output.rejectPlot("report theory", instead: "use markdown, csv or json")
            guard instances >= 1 && instances <= 1_000_000 else {
                throw ValidationError("--instances must be between 1 and 1000000, got \(instances)")
            }
        }

        func run() throws {
            let checks = try TheoryChecks.run(seed: seed, instances: instances)
            let md = TheoryReport.markdown(checks)
            let table = try TheoryReport.table(checks)
            let csv = table.csv()
            if let folder = output.out {
                try writeFiles([("theory.md", md), ("theory.csv", csv)], into: folder)
            }
            switch output.format {
            case .csv?: emit(csv)
            case .markdown?, .plot?: emit(md)
            case .json?: emit(table.json())
            case nil: if output.out == nil { emit(md) }
            }
            if checks.contains(where: { $0.verdict == .contradicted }) {
                throw ExitCode(2)
            }
        }
    }
}

/// Formatting of ``TheoryChecks``: the Markdown report and the table (CSV, JSON) of the checks.
enum TheoryReport {
    /// One row of theory.csv; the coding keys are the column names.
    struct Row: Codable {
        let result: String
        let verdict: Verdict
        let value: Double
        let tolerance: Double
        let claim: String
        let rule: String
        let measurement: String
        let exception: String?
        let note: String

        init(_ c: TheoryChecks.Check) {
            (result, verdict, value, tolerance) = (c.id, c.verdict, c.value, c.tolerance)
            (claim, rule, measurement, exception, note) = (c.claim, c.rule, c.measurement, c.exception, c.note)
        }
    }

    /// A check's statement, rule, exception and note, as one Markdown bullet's text.
    static func bullet(_ c: TheoryChecks.Check) -> String {
        var s = "\(c.claim). Rule: \(c.rule)."
        if let e = c.exception { s += " Exception: \(e)." }
        if !c.note.isEmpty { s += " \(c.note)" }
        return s
    }

    static func markdown(_ checks: [TheoryChecks.Check]) -> String {
        var s = "# Theory checks (docs/theory.md, T1-T11)\n\n"
        s += MarkdownTable(
            headers: ["result", "verdict", "measured", "bound", "what was measured"],
            alignments: [.left, .left, .right, .right, .left],
            rows: checks.map { [$0.id, $0.verdict.rawValue, String(format: "%.3g", $0.value), String(format: "%.0e", $0.tolerance), $0.measurement] }
        ).render()
        s += "\n"
        for c in checks { s += "- **\(c.id)** (\(c.verdict.rawValue)): \(bullet(c))\n" }
        return s
    }

    static func table(_ checks: [TheoryChecks.Check]) throws -> ResultTable {
        do { return try ResultTable(checks.map(Row.init)) } catch { throw ReportError("\(error)") }
    }
}
