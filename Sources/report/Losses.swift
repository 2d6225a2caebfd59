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
            them, as TRL does). Gzip-compressed input (pairs.jsonl.gz) is read directly. The \
            format comes from the name (.csv, .jsonl, .json) or, for standard input, from the \
            first character. The input is read and the output written piece by piece: memory \
            stays constant whatever the number of pairs.

            Output: CSV (or JSON Lines with --format json, same names, null for empty cells), \
            one row per input row per loss; `row` is the input's 0-based data row (JSON Lines: \
            record). The input's columns keep their names; every column other than the four \
            log-probabilities (prompt_id, scores, ...) is copied through after the loss columns. \
            The rpo_* and spo* losses need a reward gap: without scores in the first row or \
            --reward-gap they are skipped with a note (or rejected, if you named them in \
            --losses); with scores there, every row needs them. A pair outside a loss's domain \
            (a tie dr = 0 for spo_asym) leaves that loss's cells empty, with a note giving the \
            count and the first row; tied or reversed scores are counted in a note.

            With --summary, one row per loss instead (see --summary below), in Markdown (or csv, \
            json); --out writes summary.md, summary.csv, summary.json and a histogram of beta h \
            with the reward gaps (beta_h_histogram.csv and .svg).

            With --catalogue (and no --input), prints the catalogue itself instead: every loss's \
            name, flags and parameters with defaults and ranges, as each loss type declares them \
            (--format csv, json or markdown).

            Example:
              report losses --input pairs.csv --beta 0.1 --losses sigmoid,ipo,spo > out.csv
              report losses --input pairs.csv --losses bdpo --loss-param bdpo_lambda=0.3
              report losses --catalogue --format json
              report losses --input pairs.jsonl.gz --format json > out.jsonl
              report losses --input pairs.jsonl.gz --summary
              report losses --input pairs.csv --reward-gap 1 --out results/
            """
        )

        @Option(name: .long, help: "Input file (CSV or JSON Lines, optionally gzipped), or - for standard input.", completion: .pairFile)
        var input: String?

        @Flag(help: "Print the loss catalogue (names, flags, parameters) instead of evaluating pairs.")
        var catalogue = false

        @OptionGroup var lossOptions: LossOptions
        @OptionGroup(title: "Input limits") var inputLimits: InputLimitOptions

        @Option(parsing: .unconditional, help: "A constant reward gap for every row (overrides score columns).")
        var rewardGap: Double?

        @Option(help: "Write losses.csv (losses.jsonl with --format json; the summary files with --summary) into this folder (created if missing) instead of standard output.", completion: .directory)
        var out: String?

        @Option(help: ArgumentHelp(
            "Output format: csv or json (JSON Lines for pair rows); markdown for --summary and --catalogue.",
            discussion: "Default: csv, and markdown with --summary."))
        var format: RowFormat?

        @Flag(help: ArgumentHelp(
            "Print one row per loss instead of the pair rows, computed as the input streams (constant memory).",
            discussion: """
            Columns: pairs, mean loss, quantiles 5/50/95 and the maximum of |dl/d log pi_l| and \
            |dl/d log pi_w| (from a histogram with 64 bins per power of two: within 0.78% of the \
            exact quantile; the maximum is exact), TRL's rewards/chosen, rewards/rejected, \
            rewards/margins and rewards/accuracies (TRL's definitions), for losses with a reward \
            target the share of pairs past it (beta h > dr) and the mean |beta h - dr|, and the \
            share of pairs in the collapse regime (a descent step lowers pi_l: dl/d log pi_l > 0, \
            and log pi_l is already below its reference). Markdown adds a histogram of beta h with \
            the reward gaps dr marked; --out also writes it as SVG and CSV.
            """))
        var summary = false

        @Flag(help: "Silence notes on standard error (errors are still printed).")
        var quiet = false

        func validate() throws {
            Verbosity.setQuiet(quiet)
            if let out, out.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--out: the folder name is empty")
            }
            if catalogue {
                if input != nil { throw ValidationError("--catalogue prints the catalogue: it takes no --input") }
                if summary { throw ValidationError("--summary summarises pairs: it takes --input, not --catalogue") }
                return
            }
            guard input != nil else { throw ValidationError("--input is required (or pass --catalogue)") }
            if format == .markdown && !summary {
                throw ValidationError("--format markdown is for --summary and --catalogue; pair rows are csv or json")
            }
            if let g = rewardGap { try checkRange("--reward-gap", g, LossOptions.rewardGapRange, "a number") }
            let losses = try lossOptions.selectedLosses()
            // Check parameters that do not depend on the data now, before reading anything.
            try lossOptions.validateLosses(losses.filter { !$0.needsRewardGap }, rewardGap: nil)
            if let g = rewardGap { try lossOptions.validateLosses(losses.filter(\.needsRewardGap), rewardGap: g) }
        }

        func run() throws {
            if catalogue {
                let format = self.format ?? .csv
                let text = LossCatalogue.render(Loss.allCases, format: format)
                if let folder = out {
                    try writeFiles([("catalogue." + (format == .markdown ? "md" : format.rawValue), text)], into: folder)
                } else {
                    emit(text)
                }
                return
            }
            guard let input else { throw ValidationError("--input is required (or pass --catalogue)") }
            var run = try PairRun(input: input, options: lossOptions, limits: inputLimits.limits, rewardGap: rewardGap,
                                  copyColumns: !summary)
            if summary {
                try run.summarise(format: format ?? .markdown, out: out)
            } else {
                try run.writePairs(format: format ?? .csv, out: out)
            }
        }
    }
}

/// The row formats of `report losses`.
enum RowFormat: String, ExpressibleByArgument, CaseIterable {
    case csv, json, markdown
}

