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
        // Added with the table's extension to every subcommand: `bench --pairs 2^63-1`
        // trapped (exit 132) allocating its buffers; `bench --sections ''` meant every
        // section (minutes); `merge --out ''` and an empty shard name meant the current folder.
        (["bench", "--pairs", "9223372036854775807", "--sections", "kernels"], "--pairs"),
        (["bench", "--repeats", "9223372036854775807", "--sections", "peaks"], "--repeats"),
        (["bench", "--sections", ""], "--sections"),
        (["merge", "some-shard", "--out", ""], "--out"),
        (["merge", "", "--out", "merged"], "folder name is empty"),
        (["all", "--out", ""], "--out"),
        // Audit: `train` and `sweep` accepted a label smoothing of nan or -5 for losses that
        // do not use it (and wrote `eps=` into the sweep's manifest); `gradients` refused it.
        (["train", "--label-smoothing", "nan", "--steps", "1"], "--label-smoothing"),
        (["train", "--policy", "markov", "--label-smoothing", "-5", "--steps", "1"], "--label-smoothing"),
        (["sweep", "--label-smoothing", "1", "--steps", "1", "--seeds", "1"], "--label-smoothing"),
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
        // Every subcommand and option class: counts at 0, -1 and 2^63-1, magnitudes at
        // 1e308, 1e-320 and -0, empty lists.
        ["losses", "--input", "/dev/null", "--max-line-bytes", "0"],
        ["losses", "--input", "/dev/null", "--max-line-bytes", "9223372036854775807"],
        ["losses", "--input", "/dev/null", "--max-field-bytes", "-1"],
        ["losses", "--input", "/dev/null", "--max-input-bytes", "9223372036854775807"],
        ["losses", "--input", "/dev/null", "--beta", "1e-320"],
        ["losses", "--input", "/dev/null", "--label-smoothing", "-0"],
        ["losses", "--input", "/dev/null", "--loss-param", "discopop_tau=1e-320"],
        ["losses", "--input", "/dev/null", "--loss-param", "discopop_tau=1e308"],
        ["losses", "--input", "/dev/null", "--loss-param", "dpop_lambda=-0"],
        ["losses", "--input", "/dev/null", "--reward-gap", "-8.98e307"],
        ["losses", "--input", "/dev/null", "--losses", ""],
        ["theory", "--instances", "0"],
        ["theory", "--instances", "9223372036854775807"],
        ["theory", "--instances", "2", "--seed", "18446744073709551615", "--format", "csv"],
        ["flow", "--beta", "1e150", "--points", "3", "--format", "csv"],
        ["flow", "--beta", "1e-150", "--h0", "-1e308", "--points", "3", "--format", "csv"],
        ["flow", "--h0", "1e308", "--points", "3", "--format", "csv"],
        ["flow", "--h0", "-0", "--reward-gap", "-0", "--losses", "spo", "--points", "3", "--format", "csv"],
        ["flow", "--reward-gap", "8.98e307", "--points", "3", "--format", "csv"],
        ["flow", "--max-steps", "9223372036854775807", "--losses", "sigmoid", "--points", "3", "--format", "csv"],
        ["flow", "--max-steps", "-9223372036854775808"],
        ["flow", "--t-end", "1e308", "--losses", "sigmoid,spo", "--points", "3", "--format", "csv"],
        ["flow", "--points", "9223372036854775807"],
        ["flow", "--losses", ""],
        ["optimum", "--beta", "1e150", "--format", "csv"],
        ["optimum", "--responses", "1"],
        ["optimum", "--prompts", "0"],
        ["optimum", "--responses", "9223372036854775807"],
        ["optimum", "--seed", "18446744073709551615", "--losses", "sigmoid", "--format", "csv"],
        ["optimum", "--losses", ","],
        ["sweep", "--jobs", "0", "--steps", "1", "--seeds", "1"],
        ["sweep", "--shard", "0/0", "--steps", "1", "--seeds", "1"],
        ["sweep", "--shard", "5/3", "--steps", "1", "--seeds", "1"],
        ["sweep", "--seeds", "9223372036854775807", "--steps", "1"],
        ["sweep", "--betas", "1e150,1e-150", "--steps", "2", "--seeds", "1", "--losses", "sigmoid", "--reward-noises", "0", "--format", "csv"],
        ["sweep", "--betas", "-0", "--steps", "1", "--seeds", "1"],
        ["sweep", "--reward-noises", "1e308", "--steps", "1", "--seeds", "1", "--losses", "sigmoid", "--betas", "0.5", "--format", "csv"],
        ["sweep", "--reward-noises", ",", "--steps", "1", "--seeds", "1"],
        ["train", "--steps", "3", "--batch-size", "9223372036854775807"],
        ["train", "--steps", "3", "--pairs-per-prompt", "0"],
        ["train", "--steps", "3", "--losses", "discopop", "--loss-param", "discopop_tau=1e-320", "--format", "csv"],
        ["gradients", "--points", "2", "--format", "csv"],
        ["gradients", "--points", "100000000"],
        ["merge", "/nonexistent-shard-folder", "--out", "/nonexistent-parent/merged"],
        ["all", "--jobs", "0"],
        ["all", "--jobs", "-9223372036854775808"],
        ["bench", "--pairs", "0"],
        ["bench", "--pairs", "-1"],
        ["bench", "--repeats", "0"],
        ["bench", "--losses", ",", "--sections", "kernels"],
    ])
    func extremeValuesNeverKill(args: [String]) throws {
        let r = try R.run(args)
        #expect([0, 1, 64].contains(r.status), "\(args): status \(r.status), stderr \(r.stderr.prefix(400))")
    }
}
