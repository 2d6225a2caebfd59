import Foundation
import Testing

/// Issue 13, parts 3 and 8: a table of extreme option values, run through every subcommand.
/// Whatever the value, `report` ends with 0 (done), 1 (a clear error) or 64 (a usage
/// error, ArgumentParser's validation code), never by a signal (a trap was 132/133 in a
/// shell, a crash dump). A sample, kept small: each case runs a few steps or points.
@Suite struct ExtremeOptionsTests {
    typealias R = ReportCommandTests

    /// Before: `--beta 1e200`, `--beta 1e-310`, `--reward-gap 1e308` and
    /// `--ref-rejected=-1e308` passed the checks and overflowed inside the losses;
    /// `sweep --losses ,` indexed an empty list; `--losses ''` meant every loss, `--losses ,`
    /// printed nothing; `--out ''` wrote into the current folder; `--reference-spread 1e300`
    /// reported regret 0 for every loss. Each is now a usage error naming the option.
    @Test(arguments: [
        (["gradients", "--beta", "1e200"], "--beta"),
        (["gradients", "--beta", "1e-310"], "--beta"),
        (["gradients", "--reward-gap", "1e308"], "--reward-gap"),
        (["gradients", "--ref-rejected=-1e308"], "--ref-rejected"),
        (["gradients", "--losses", ""], "--losses"),
        (["gradients", "--losses", ","], "--losses"),
        (["gradients", "--out", ""], "--out"),
        (["losses", "--reward-gap", "1e308", "--input", "/dev/null"], "--reward-gap"),
        (["sweep", "--losses", ",", "--steps", "1", "--seeds", "1"], "--losses"),
        (["sweep", "--losses", "", "--steps", "1", "--seeds", "1"], "--losses"),
        (["train", "--losses", ",", "--steps", "1"], "--losses"),
        (["train", "--beta", "1e200", "--steps", "1"], "--beta"),
        (["train", "--reference-spread", "1e300", "--steps", "1"], "--reference-spread"),
        (["train", "--constant-gap", "1e308", "--target", "constant", "--steps", "1"], "--constant-gap"),
        (["optimum", "--beta", "1e300"], "--beta"),
        (["flow", "--beta", "1e300"], "--beta"),
    ])
    func overflowingValuesAreUsageErrors(args: [String], option: String) throws {
        let r = try R.run(args)
        #expect(r.status == 64, "\(args): status \(r.status), stderr \(r.stderr)")
        #expect(r.stderr.contains(option), "\(args): \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    /// Values at and past the edges of every range, zeros of both signs, huge counts and
    /// empty lists: the exit code is 0, 1 or 64, never a signal.
    @Test(arguments: [
        ["gradients", "--beta", "1e150", "--points", "3", "--format", "csv"],
        ["gradients", "--beta", "1e-150", "--points", "3", "--format", "csv"],
        ["gradients", "--beta", "-0", "--points", "3"],
        ["gradients", "--beta", "1e-320", "--points", "3"],
        ["gradients", "--beta", "1e308", "--points", "3"],
        ["gradients", "--reward-gap", "-0", "--points", "3", "--format", "csv"],
        ["gradients", "--reward-gap", "8.98e307", "--points", "3", "--format", "csv"],
        ["gradients", "--reward-gap", "-8.98e307", "--beta", "1e-150", "--points", "3", "--format", "csv"],
        ["gradients", "--log10-end", "-3.9e307", "--points", "3", "--format", "csv"],
        ["gradients", "--log10-end", "-1e308", "--points", "3"],
        ["gradients", "--log10-start", "-0", "--points", "3", "--format", "csv"],
        ["gradients", "--ref-rejected=-8.98e307", "--ref-chosen=-8.98e307", "--logp-chosen=-8.98e307", "--points", "3", "--format", "csv"],
        ["gradients", "--ref-rejected=-0", "--points", "3", "--format", "csv"],
        ["gradients", "--points", "9223372036854775807"],
        ["gradients", "--points", "-9223372036854775808"],
        ["gradients", "--label-smoothing", "1e-320", "--points", "3", "--format", "csv"],
        ["gradients", "--losses", ",,sigmoid,,", "--points", "3", "--format", "csv"],
        ["train", "--steps", "0", "--format", "csv"],
        ["train", "--steps", "3", "--lr", "1e308", "--format", "csv"],
        ["train", "--steps", "3", "--lr", "1e-320", "--format", "csv"],
        ["train", "--steps", "3", "--lr", "-0", "--format", "csv"],
        ["train", "--steps", "3", "--clip", "1e-320", "--format", "csv"],
        ["train", "--steps", "3", "--beta", "1e150", "--format", "csv"],
        ["train", "--steps", "3", "--beta", "1e-150", "--format", "csv"],
        ["train", "--steps", "3", "--reference-spread", "1e150", "--reward-spread", "1e150", "--format", "csv"],
        ["train", "--steps", "3", "--reward-noise", "1e150", "--format", "csv"],
        ["train", "--steps", "3", "--batch-size", "1", "--optimizer", "sgd", "--lr", "1e300", "--format", "csv"],
        ["train", "--steps", "3", "--seed", "18446744073709551615", "--format", "csv"],
        ["train", "--steps", "-9223372036854775808"],
        ["train", "--steps", "3", "--log-every", "9223372036854775807", "--format", "csv"],
        ["train", "--prompts", "9223372036854775807", "--steps", "1"],
        ["train", "--responses", "9223372036854775807", "--steps", "1"],
        ["train", "--steps", "3", "--policy", "loglinear", "--features", "1", "--lr", "1e300", "--optimizer", "sgd", "--format", "csv"],
        ["sweep", "--betas", "", "--steps", "1", "--seeds", "1"],
        ["sweep", "--seeds", "0", "--steps", "1"],
        ["optimum", "--beta", "1e-150", "--losses", "sigmoid", "--format", "csv"],
        ["optimum", "--prompts", "9223372036854775807"],
        ["flow", "--points", "2", "--t-end", "1e-1", "--losses", "sigmoid", "--format", "csv"],
        ["flow", "--t-start", "1e-320", "--t-end", "1e-319", "--points", "2", "--losses", "sigmoid", "--format", "csv"],
        ["losses", "--input", "/dev/null"],
        ["theory", "--format", "csv"],
    ])
    func extremeValuesNeverKill(args: [String]) throws {
        let r = try R.run(args)
        #expect([0, 1, 64].contains(r.status), "\(args): status \(r.status), stderr \(r.stderr.prefix(400))")
    }
}
