import ArgumentParser
import Foundation
import Formats
import LossMath
import Synchronization

/// Output formats a subcommand can print to standard output.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case csv, markdown, plot, json
}

/// The largest magnitude of beta, of 1/beta and of a spread of logits or rewards: 1e150.
///
/// Why: the losses square `beta*h` (spo's and ipo's squared errors, with `h` a log-ratio
/// difference of order 1) and `1/(2 beta)` (ipo's target), and the simulation divides
/// rewards of size `s_r` by beta. With beta and the spreads within `[1e-150, 1e150]`, a
/// square is at most 1e300 and `s_r/beta` at most about 1e300 times the largest normal
/// draw, inside the double range (1.8e308). `--beta 1e200` (its square overflows) and
/// `--beta 1e-310` (1/beta overflows: a subnormal) were past it.
let optionMagnitudeBound = 1e150

/// The largest magnitude of a log-probability or reward-gap option: half the largest
/// double (about 8.99e307), the same limit as the input files' fields
/// (`PairInputReader.magnitudeLimit`), so that a log-ratio `u = logp - logp_ref` and the
/// logits difference `h = u_w - u_l` stay finite. `--ref-rejected=-1e308` and
/// `--reward-gap 1e308` were past it.
let optionFieldMagnitudeBound = PairInputReader.magnitudeLimit

/// Throws a ValidationError naming `option` unless `value` is in `range` (NaN never is).
func checkRange(_ option: String, _ value: Double, _ range: ClosedRange<Double>, _ what: String) throws {
    guard range.contains(value) else {
        throw ValidationError("\(option) must be \(what) in [\(shortText(range.lowerBound)), \(shortText(range.upperBound))] "
                              + "(beyond, the arithmetic overflows), got \(value)")
    }
}

/// `1e+150` as `1e150`, `0.0` as `0`: the bounds as a user would type them.
func shortText(_ x: Double) -> String {
    if x == 0 { return "0" }
    let s = String(format: "%g", x)
    return s.replacingOccurrences(of: "e+", with: "e")
}

/// Options shared by every subcommand that evaluates losses, named as in TRL's DPOConfig.
struct LossOptions: ParsableArguments {
    /// beta's range: `[1/optionMagnitudeBound, optionMagnitudeBound]` (see there): beta
    /// and 1/beta, and their squares, stay finite.
    static let betaRange: ClosedRange<Double> = (1 / optionMagnitudeBound)...optionMagnitudeBound
    /// A reward gap's range: `|dr| <= optionFieldMagnitudeBound` (see there), as a score's.
    static let rewardGapRange: ClosedRange<Double> = -optionFieldMagnitudeBound...optionFieldMagnitudeBound

    @Option(parsing: .unconditional, help: "KL strength beta in [1e-150, 1e150] (TRL `beta`).")
    var beta: Double = 0.1

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "TRL `label_smoothing` for cdpo, robust and exo_pair.",
        discussion: "Default: 0, except exo_pair, which gets 1e-3 as TRL substitutes for 0."))
    var labelSmoothing: Double?

    @Option(help: ArgumentHelp(
        "Comma-separated loss names (TRL loss_type), or `all` (default: all; report gradients: sigmoid,ipo,spo,spo_bt).",
        discussion: "Known: \(Loss.allCases.map(\.rawValue).joined(separator: ", "))."), completion: .lossNames)
    var losses: String?

    @OptionGroup var lossParameters: LossParameterOptions

    /// True when the user named the losses explicitly.
    var lossesGiven: Bool { losses != nil && losses != "all" }

    func validate() throws {
        try checkRange("--beta", beta, Self.betaRange, "a number")
        if let eps = labelSmoothing, !(eps.isFinite && eps >= 0 && eps < 1) {
            throw ValidationError("--label-smoothing must be in [0, 1), got \(eps)")
        }
        if let losses {
            do { _ = try Loss.parseList(losses) } catch {
                throw ValidationError("--losses: \(error)")
            }
        }
    }

    /// The named losses, or `defaults` when --losses is not given.
    func selectedLosses(defaults: [Loss] = Loss.allCases) throws -> [Loss] {
        guard let losses else { return defaults }
        do { return try Loss.parseList(losses) } catch { throw ValidationError("--losses: \(error)") }
    }

    /// The parameters for `loss`, with exo_pair's TRL default for an unset label smoothing.
    func parameters(for loss: Loss, rewardGap: Double?) -> LossParameters {
        LossParameters(beta: beta, labelSmoothing: labelSmoothing ?? loss.defaultLabelSmoothing, rewardGap: rewardGap,
                       values: lossParameters.values)
    }

    /// Validates every selected loss with its parameters; the message names the option.
    func validateLosses(_ losses: [Loss], rewardGap: Double?) throws {
        for loss in losses {
            do { try loss.validate(parameters(for: loss, rewardGap: rewardGap)) } catch {
                switch error {
                case .labelSmoothingOutOfRange: throw ValidationError("--label-smoothing: \(error)")
                case .invalidBeta: throw ValidationError("--beta: \(error)")
                case .missingRewardGap, .rewardGapZero: throw ValidationError("--reward-gap: \(error)")
                case .invalidParameter(let name, _, _) where Loss.parameter(named: name) != nil:
                    throw ValidationError("--loss-param \(name): \(error)")
                default: throw ValidationError("\(error)")
                }
            }
        }
    }
}

/// `--loss-param name=value` (repeatable): the losses' own parameters, as each loss type
/// declares them (name, default, range; see ``LossMath/LossDescriptor``). Names and ranges are
/// checked against the catalogue, so an option is never ignored silently.
struct LossParameterOptions: ParsableArguments {
    @Option(name: .customLong("loss-param"), help: ArgumentHelp(
        "A loss's own parameter as name=value (repeatable).",
        discussion: "Known: " + Loss.allCases.flatMap { loss in
            loss.descriptor.parameters.map { "\($0.name) (\(loss.rawValue), default \(shortNumber($0.defaultValue)), \($0.range.requirement(symbol: $0.symbol)))" }
        }.joined(separator: "; ") + "."))
    var lossParam: [String] = []

    func validate() throws { _ = try parsed() }

    /// The given values by parameter name (unset parameters take the loss's default).
    var values: [String: Double] { (try? parsed()) ?? [:] }

    func parsed() throws -> [String: Double] {
        var out: [String: Double] = [:]
        for item in lossParam {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let value = Double(parts[1]) else {
                throw ValidationError("--loss-param: expected name=value, e.g. bdpo_lambda=0.3; got '\(item)'")
            }
            let name = parts[0]
            guard let (loss, parameter) = Loss.parameter(named: name) else {
                throw ValidationError("--loss-param: \(LossMathError.unknownParameter(name))")
            }
            guard parameter.range.contains(value) else {
                throw ValidationError("--loss-param \(name): \(LossMathError.invalidParameter(name: "\(loss.rawValue) \(parameter.symbol)", value: value, requirement: parameter.range.requirement(symbol: parameter.symbol)))")
            }
            guard out[name] == nil else { throw ValidationError("--loss-param: \(name) is given twice") }
            out[name] = value
        }
        return out
    }
}

/// Where output goes.
struct OutputOptions: ParsableArguments {
    @Option(help: "Print one format to standard output: csv, markdown, plot or json (a summary for scripts).")
    var format: OutputFormat?

    @Option(help: ArgumentHelp("Write every format as files into this folder (created if missing).",
                               discussion: "The files written are listed on standard error (`wrote PATH`), unless --quiet."),
            completion: .directory)
    var out: String?

    @Flag(help: "Silence notes, progress and the list of files written on standard error (errors are still printed).")
    var quiet = false

    func validate() throws {
        // An empty folder name would write into the current folder.
        if let out, out.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--out: the folder name is empty")
        }
        Verbosity.setQuiet(quiet)
    }

    /// Rejects `--format plot` for a command that draws no terminal plot (a usage error,
    /// exit 64), saying what to use instead, rather than printing another format silently.
    func rejectPlot(_ command: String, instead: String) throws {
        if format == .plot { throw ValidationError("--format plot: \(command) draws no plot; \(instead)") }
    }

    /// Whether to draw progress bars: standard error is a terminal and not --quiet.
    var showsProgress: Bool { !quiet && isatty(2) != 0 }
}

/// The process-wide `--quiet` switch that ``note(_:)`` obeys. Set while the options are
/// validated (ArgumentParser validates every option group before `run()`).
enum Verbosity {
    private static let quietFlag = Atomic<Bool>(false)
    static var isQuiet: Bool { quietFlag.load(ordering: .relaxed) }
    static func setQuiet(_ quiet: Bool) { if quiet { quietFlag.store(true, ordering: .relaxed) } }
}

/// A run-time failure with a clear message and exit code 1.
struct ReportError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Writes `files` (name → contents) into `folder` atomically: each file goes to a
/// temporary name and is renamed into place, so a failure leaves no partial file.
func writeFiles(_ files: [(String, String)], into folder: String) throws {
    // An empty name would mean the current folder (issue 13); the commands refuse it when
    // they validate their options, and this is the last guard for any that does not.
    guard !folder.trimmingCharacters(in: .whitespaces).isEmpty else { throw ReportError("--out: the folder name is empty") }
    let dir = URL(fileURLWithPath: folder)
    do {
        try AtomicFile.createDirectory(dir)
        AtomicFile.removeStaleTemporaries(in: dir, for: files.map(\.0).filter { !$0.contains("/") })
        for (name, text) in files {
            let url = dir.appendingPathComponent(name)
            if name.contains("/") { try AtomicFile.createDirectory(url.deletingLastPathComponent()) }
            try AtomicFile.write(text, to: url)
        }
    } catch {
        throw ReportError("\(error)")
    }
}

/// Prints to standard output without a trailing extra newline; a write error ends the
/// program with status 74 (see ``StandardOutput``).
func emit(_ text: String) { StandardOutput.write(text) }

/// Prints a note to standard error, unless `--quiet` was given.
func note(_ text: String) {
    guard !Verbosity.isQuiet else { return }
    StandardOutput.writeError("note: " + text + "\n")
}

/// The gradient columns shared by `report gradients` and `report losses`.
enum GradientColumns {
    static let header = [
        "beta", "label_smoothing", "reward_gap",
        "logp_chosen", "logp_rejected", "ref_logp_chosen", "ref_logp_rejected",
        "h", "value", "d_logp_chosen", "d_logp_rejected", "d_h",
        "log10_abs_d_p_chosen", "sign_d_p_chosen",
        "log10_abs_d_p_rejected", "sign_d_p_rejected", "log10_ratio_rejected_to_chosen",
    ]

    static func cells(loss: Loss, pair: PairLogProbs, parameters p: LossParameters, evaluation e: LossEvaluation) -> [String] {
        let g = ProbabilityGradients(loss: loss, pair: pair, parameters: p, evaluation: e)
        func mag(_ m: SignedLogMagnitude) -> String { m.isZero ? "" : CSVWriter.format(m.log10Magnitude) }
        func finite(_ x: Double?) -> String { x.map { $0.isFinite ? CSVWriter.format($0) : "" } ?? "" }
        return [
            CSVWriter.format(p.beta), CSVWriter.format(p.labelSmoothing), finite(p.rewardGap),
            CSVWriter.format(pair.chosen), CSVWriter.format(pair.rejected),
            CSVWriter.format(pair.refChosen), CSVWriter.format(pair.refRejected),
            CSVWriter.format(pair.logitsDifference), finite(e.value),
            finite(e.dChosen), finite(e.dRejected), finite(e.dH),
            mag(g.chosen), String(g.chosen.sign),
            mag(g.rejected), String(g.rejected.sign), finite(g.log10RatioRejectedToChosen),
        ]
    }
}

/// A summary CSV as a JSON array of objects, for `--format json`: numeric cells become
/// numbers (round-trip), empty cells null, the rest strings. Keys are the CSV's columns.
func jsonRecords(fromCSV text: String) -> String {
    guard let doc = try? CSVDocument.parse(text, source: "summary") else { return "[]\n" }
    let records: [JSONValue] = doc.rows.map { row in
        var object: [String: JSONValue] = [:]
        for (k, name) in doc.header.enumerated() {
            let cell = row[k]
            if cell.isEmpty { object[name] = .null }
            else if let x = Double(cell), x.isFinite, cell.first.map({ $0.isNumber || $0 == "-" || $0 == "." }) == true { object[name] = .number(x) }
            else { object[name] = .string(cell) }
        }
        return .object(object)
    }
    return JSONValue.array(records).rendered(pretty: true)
}
