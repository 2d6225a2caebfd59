import ArgumentParser
import LossMath

/// Shell completion kinds shared by the subcommands. ArgumentParser writes the scripts
/// (`report --generate-completion-script bash|zsh|fish`); enumerations (`--format`,
/// `--policy`, `--labels`, ...) complete from their cases through ``ExpressibleByArgument``.
///
/// See also: README, "Shell completion".
extension CompletionKind {
    /// The loss names of the registry (``LossMath/Loss/allCases``) and `all`, for `--losses`.
    /// A shell completes the first name of a comma list.
    static var lossNames: CompletionKind { .list(["all"] + Loss.allCases.map(\.rawValue)) }

    /// A file of preference pairs: CSV or JSON Lines, optionally gzipped.
    static var pairFile: CompletionKind { .file(extensions: ["csv", "jsonl", "json", "gz"]) }
}
