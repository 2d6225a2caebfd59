import ArgumentParser
import Formats

/// The input limits of `report losses` (see ``InputLimits``): each cap has a generous
/// default and an option to raise it; exceeding one is an error that names the line and
/// the option.
struct InputLimitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The longest accepted input line, in bytes (default 1 MiB).",
                               discussion: "A longer line is an error naming it; raise this for very long JSON records."))
    var maxLineBytes: Int = InputLimits.default.maxLineBytes

    @Option(help: "The longest accepted field (a CSV cell, or a JSON value that is read), in bytes (default 64 KiB).")
    var maxFieldBytes: Int = InputLimits.default.maxFieldBytes

    @Option(help: ArgumentHelp("The largest accepted input, in bytes after decompression (default 1 GiB).",
                               discussion: "The input is streamed (memory stays constant): this bounds the work, also against gzip bombs."))
    var maxInputBytes: Int = InputLimits.default.maxInputBytes

    func validate() throws {
        for (name, value) in [("--max-line-bytes", maxLineBytes), ("--max-field-bytes", maxFieldBytes),
                              ("--max-input-bytes", maxInputBytes)] where value <= 0 {
            throw ValidationError("\(name) must be a positive number of bytes, got \(value)")
        }
    }

    /// The limits to pass to the readers.
    var limits: InputLimits {
        InputLimits(maxLineBytes: maxLineBytes, maxFieldBytes: maxFieldBytes, maxInputBytes: maxInputBytes)
    }
}
