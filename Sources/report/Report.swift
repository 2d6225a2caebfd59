import ArgumentParser
import Foundation
import Formats

/// The `report` command: every subcommand parses its options, calls LossMath or
/// Experiments, and formats the result (CSV, Markdown, ASCII plots). No math lives here.
@main
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Checks the theory of stable alignment losses (arXiv 2508.07137) in numbers.",
        discussion: """
        DPO's loss rewards pushing the logits difference h to infinity; the principled loss \
        (spo) aims at the finite target h* = dr/beta. Start with `report gradients`.

        A negative number is written as usual, with or without `=`: `--log10-end -300` or \
        `--log10-end=-300`.

        Exit status: 0 done (also when a configuration diverged: the output says which); \
        1 error (unreadable input, a loss that could not be computed, including a loss that \
        `report flow` could not integrate); 2 `report theory` found a result contradicted; \
        64 bad option; 74 output error (standard output could not be written; an --out file \
        or folder that could not be written is an error, 1).
        """,
        subcommands: [Gradients.self, EvaluateLosses.self, Train.self, SweepCommand.self, Study.self, Merge.self, Flow.self, Optimum.self, TheoryCommand.self, All.self, Bench.self]
    )

    /// Runs the command. `SIGPIPE` is ignored first, so that a closed pipe is an `EPIPE`
    /// that ``StandardOutput`` handles (exit 74) rather than a kill by signal. After a
    /// successful run, a note counts the values that could not be written as numbers.
    ///
    /// The files the command wrote (``Formats/WrittenFiles``: every `--out` file, written
    /// through the atomic writers) are listed on standard error, one `wrote PATH` line each,
    /// unless `--quiet`; also when the command then fails, so that a user sees what was
    /// written before the error.
    static func main() {
        StandardOutput.ignoreBrokenPipeSignal()
        do {
            var command = try parseAsRoot(nil)
            try command.run()
        } catch {
            listWrittenFiles()
            exit(withError: error)
        }
        listWrittenFiles()
        let unrepresentable = CSVWriter.unrepresentableCount
        if unrepresentable > 0 {
            note("\(unrepresentable) value(s) were not finite (they overflowed) and were written as empty cells")
        }
    }

    /// One `wrote PATH` line per written file on standard error (paths under the current
    /// folder relative to it), unless `--quiet`.
    static func listWrittenFiles() {
        guard !Verbosity.isQuiet else { return }
        let cwd = FileManager.default.currentDirectoryPath
        for path in WrittenFiles.existing() {
            let shown = path.hasPrefix(cwd + "/") ? String(path.dropFirst(cwd.count + 1)) : path
            StandardOutput.writeError("wrote \(shown)\n")
        }
    }
}
