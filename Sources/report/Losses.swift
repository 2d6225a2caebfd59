import ArgumentParser
import Foundation
import Formats
import LossMath

extension Report {
    /// `report losses`: the catalogue on the user's own pairs.
    struct EvaluateLosses: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "losses",
            abstract: "Evaluate every loss and its exact gradients on your own preference pairs.",
            discussion: """
            The input is CSV or JSON Lines (one object per line, as datasets' to_json writes) \
            with TRL's names: chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps \
            (sequence log-probabilities, summed over tokens). Optional: score_chosen and \
            score_rejected (the reward gap is their difference, as in UltraFeedback), and \
            chosen_length / rejected_length (token counts; ipo averages its log-ratios over \
            them, as TRL does). Other JSON fields are ignored. Gzip-compressed input \
            (pairs.jsonl.gz) is read directly. The format comes from the name (.csv, .jsonl, \
            .json) or, for standard input, from the first character.

            Output: CSV (or JSON Lines with --format json, same names, null for empty cells), \
            one row per input row per loss; `row` is the input's 0-based data row (JSON Lines: \
            record). The rpo_* and spo* losses need a reward gap: without scores or --reward-gap \
            they are skipped with a note (or rejected, if you named them in --losses).

            With --catalogue (and no --input), prints the catalogue itself instead: every loss's \
            name, flags and parameters with defaults and ranges, as each loss type declares them \
            (--format csv, json or markdown).

            Example:
              report losses --input pairs.csv --beta 0.1 --losses sigmoid,ipo,spo > out.csv
              report losses --input pairs.csv --losses bdpo --loss-param bdpo_lambda=0.3
              report losses --catalogue --format json
              report losses --input pairs.jsonl.gz --format json > out.jsonl
              report losses --input pairs.csv --reward-gap 1 --out results/
            """
        )

        @Option(name: .long, help: "Input file (CSV or JSON Lines, optionally gzipped), or - for standard input.")
        var input: String?

        @Flag(help: "Print the loss catalogue (names, flags, parameters) instead of evaluating pairs.")
        var catalogue = false

        @OptionGroup var lossOptions: LossOptions

        @Option(help: "A constant reward gap for every row (overrides score columns).")
        var rewardGap: Double?

        @Option(help: "Write losses.csv (losses.jsonl with --format json) into this folder (created if missing) instead of standard output.")
        var out: String?

        @Option(help: "Output format: csv or json (JSON Lines, one object per row); with --catalogue also markdown.")
        var format: RowFormat = .csv

        @Flag(help: "Silence notes on standard error (errors are still printed).")
        var quiet = false

        func validate() throws {
            Verbosity.setQuiet(quiet)
            if catalogue {
                if input != nil { throw ValidationError("--catalogue prints the catalogue: it takes no --input") }
                return
            }
            guard input != nil else { throw ValidationError("--input is required (or pass --catalogue)") }
            if format == .markdown { throw ValidationError("--format markdown is for --catalogue; pair rows are csv or json") }
            if let g = rewardGap, !g.isFinite { throw ValidationError("--reward-gap must be finite, got \(g)") }
            let losses = try lossOptions.selectedLosses()
            // Check parameters that do not depend on the data now, before reading anything.
            try lossOptions.validateLosses(losses.filter { !$0.needsRewardGap }, rewardGap: nil)
            if let g = rewardGap { try lossOptions.validateLosses(losses.filter(\.needsRewardGap), rewardGap: g) }
        }

        func run() throws {
            if catalogue {
                let text = LossCatalogue.render(Loss.allCases, format: format)
                if let folder = out {
                    try writeFiles([("catalogue." + (format == .markdown ? "md" : format.rawValue), text)], into: folder)
                } else {
                    emit(text)
                }
                return
            }
            guard let input else { throw ValidationError("--input is required (or pass --catalogue)") }
            let pairs: [InputPair]
            do { pairs = try PairInputReader.read(path: input) } catch { throw ReportError("\(error)") }
            var losses = try lossOptions.selectedLosses()
            let haveGap = rewardGap != nil || pairs.allSatisfy { $0.rewardGap != nil }
            if !haveGap {
                let needing = losses.filter(\.needsRewardGap)
                if !needing.isEmpty {
                    if lossOptions.lossesGiven {
                        throw ValidationError("\(needing.map(\.rawValue).joined(separator: ", ")) need a reward gap: "
                                              + "add score_chosen and score_rejected columns, or pass --reward-gap")
                    }
                    note("skipping \(needing.map(\.rawValue).joined(separator: ", ")): they need a reward gap "
                         + "(add score_chosen/score_rejected columns or pass --reward-gap)")
                    losses.removeAll(where: \.needsRewardGap)
                }
            }
            var w = RowWriter(format: format, header: ["row", "loss"] + GradientColumns.header)
            var overflowed = 0
            for (r, item) in pairs.enumerated() {
                let gap = rewardGap ?? item.rewardGap
                for loss in losses {
                    let p = lossOptions.parameters(for: loss, rewardGap: gap)
                    do { try loss.validate(p) } catch {
                        throw ReportError("\(input == "-" ? "<stdin>" : input): data row \(r): \(error)")
                    }
                    let e = loss.evaluate(item.pair, p)
                    if !e.value.isFinite { overflowed += 1 }
                    w.appendRow([String(r), loss.rawValue] + GradientColumns.cells(loss: loss, pair: item.pair, parameters: p, evaluation: e))
                }
            }
            if overflowed > 0 {
                note("\(overflowed) value(s) exceed the double range (spo_asym far below its target) and are left empty")
            }
            if let folder = out {
                try writeFiles([(format == .csv ? "losses.csv" : "losses.jsonl", w.text)], into: folder)
            } else {
                emit(w.text)
            }
        }
    }
}

/// The row formats of `report losses`.
enum RowFormat: String, ExpressibleByArgument, CaseIterable {
    case csv, json, markdown
}

/// Rows of already-formatted CSV cells, written as CSV or as JSON Lines. In JSON, `loss` is a
/// string, an empty cell is null, and every other cell is a number (an integer when it reads
/// as one), so the values are exactly those of the CSV.
struct RowWriter {
    let format: RowFormat
    let header: [String]
    private var csv: CSVWriter?
    private var json: JSONLinesWriter?

    init(format: RowFormat, header: [String]) {
        self.format = format
        self.header = header
        switch format {
        case .csv: csv = CSVWriter(header: header)
        case .json, .markdown: json = JSONLinesWriter(keys: header)
        }
    }

    mutating func appendRow(_ cells: [String]) {
        if csv != nil { csv!.appendRow(cells); return }
        json!.appendRecord(zip(header, cells).map { name, cell -> JSONValue in
            if name == "loss" { return .string(cell) }
            if cell.isEmpty { return .null }
            if let i = Int(cell) { return .integer(i) }
            return .number(Double(cell)!)
        })
    }

    var text: String { csv?.text ?? json!.text }
}
