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
            The input is CSV with TRL's column names: chosen_logps, rejected_logps, \
            ref_chosen_logps, ref_rejected_logps (sequence log-probabilities, summed over \
            tokens). Optional: score_chosen and score_rejected (the reward gap is their \
            difference, as in UltraFeedback), and chosen_length / rejected_length (token \
            counts; ipo averages its log-ratios over them, as TRL does).

            Output: CSV, one row per input row per loss; `row` is the input's 0-based data row.
            The rpo_* and spo* losses need a reward gap: without scores or --reward-gap they are \
            skipped with a note (or rejected, if you named them in --losses).

            Example:
              report losses --input pairs.csv --beta 0.1 --losses sigmoid,ipo,spo > out.csv
              report losses --input pairs.csv --reward-gap 1 --out results/
            """
        )

        @Option(name: .long, help: "Input CSV file, or - for standard input.")
        var input: String

        @OptionGroup var lossOptions: LossOptions

        @Option(help: "A constant reward gap for every row (overrides score columns).")
        var rewardGap: Double?

        @Option(help: "Write losses.csv into this folder (created if missing) instead of standard output.")
        var out: String?

        func validate() throws {
            if let g = rewardGap, !g.isFinite { throw ValidationError("--reward-gap must be finite, got \(g)") }
            let losses = try lossOptions.selectedLosses()
            // Check parameters that do not depend on the data now, before reading anything.
            try lossOptions.validateLosses(losses.filter { !$0.needsRewardGap }, rewardGap: nil)
            if let g = rewardGap { try lossOptions.validateLosses(losses.filter(\.needsRewardGap), rewardGap: g) }
        }

        func run() throws {
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
            var w = CSVWriter(header: ["row", "loss"] + GradientColumns.header)
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
                try writeFiles([("losses.csv", w.text)], into: folder)
            } else {
                emit(w.text)
            }
        }
    }
}
