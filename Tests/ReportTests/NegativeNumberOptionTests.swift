import Foundation
import Testing

/// Issue 14, part 2: every option that takes a number accepts a negative value written the
/// usual way (`--log10-end -300`), not only as `--log10-end=-300`. Before, ArgumentParser took
/// `-300` for an option and stopped with "Missing value for '--log10-end <log10-end>'" (exit
/// 64): each case below failed on the old code (checked on b5c279c).
@Suite struct NegativeNumberOptionTests {
    typealias R = ReportCommandTests

    /// The spaced form and the `=` form give the same bytes on standard output, exit 0.
    @Test(arguments: [
        (["gradients", "--points", "3", "--format", "csv"], ["--log10-end", "-300"]),
        (["gradients", "--points", "3", "--format", "csv"], ["--logp-chosen", "-50"]),
        (["gradients", "--points", "3", "--format", "csv"], ["--ref-rejected", "-2"]),
        (["gradients", "--points", "3", "--format", "csv"], ["--ref-chosen", "-3"]),
        (["gradients", "--points", "3", "--format", "csv"], ["--log10-start", "-2"]),
        (["gradients", "--points", "3", "--format", "csv"], ["--reward-gap", "-1.5"]),
        (["train", "--steps", "2", "--losses", "spo", "--target", "constant", "--format", "csv"], ["--constant-gap", "-1"]),
        (["flow", "--points", "3", "--losses", "spo", "--format", "csv"], ["--reward-gap", "-1"]),
        (["flow", "--points", "3", "--losses", "spo", "--format", "csv"], ["--h0", "-2"]),
    ])
    func negativeValueWithoutEquals(base: [String], option: [String]) throws {
        let spaced = try R.run(base + option)
        let joined = try R.run(base + ["\(option[0])=\(option[1])"])
        #expect(spaced.status == 0, "\(base + option): \(spaced.stderr)")
        #expect(!spaced.stderr.contains("Missing value"), "\(spaced.stderr)")
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(!spaced.stdout.isEmpty)
        #expect(spaced.stdout == joined.stdout)
    }

    /// `report losses --reward-gap -2`: the rows' gap is -2 (a gap below 0 flips the target).
    @Test func lossesTakesANegativeRewardGap() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("pairs.csv")
        try Data("chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps\n-1,-2,-1,-1\n".utf8).write(to: input)
        let spaced = try R.run(["losses", "--input", input.path, "--losses", "spo", "--reward-gap", "-2"])
        let joined = try R.run(["losses", "--input", input.path, "--losses", "spo", "--reward-gap=-2"])
        #expect(spaced.status == 0, "\(spaced.stderr)")
        #expect(!spaced.stdout.isEmpty)
        #expect(spaced.stdout == joined.stdout)
    }

    /// Options whose range excludes negative numbers now reach their own check, which names
    /// the option, rather than "Missing value": a usage error (64) that says why.
    @Test(arguments: [
        (["optimum", "--beta", "-1"], "--beta"),
        (["train", "--beta", "-1", "--steps", "1"], "--beta"),
        (["train", "--reference-spread", "-1", "--steps", "1"], "--reference-spread"),
        (["gradients", "--beta", "-0.5"], "--beta"),
        (["flow", "--beta", "-1"], "--beta"),
    ])
    func negativeValueOutOfRangeNamesTheOption(args: [String], option: String) throws {
        let r = try R.run(args)
        #expect(r.status == 64, "\(args): \(r.stderr)")
        #expect(r.stderr.contains(option), "\(r.stderr)")
        #expect(!r.stderr.contains("Missing value"), "\(r.stderr)")
    }

    /// The root command's help documents the exit codes and the negative-number form.
    @Test func helpDocumentsExitCodes() throws {
        let r = try R.run(["--help"])
        #expect(r.status == 0)
        // Help text wraps at the terminal's width: compare with runs of white space as one.
        let text = r.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        for code in ["0 done", "1 error", "2 `report theory`", "64 bad option", "74 output error"] {
            #expect(text.contains(code), "\(code) missing from: \(text)")
        }
        #expect(text.contains("--log10-end -300"))
    }
}
