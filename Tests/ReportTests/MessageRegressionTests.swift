import Foundation
import Testing

/// Issue 13, part 6: messages that said something false. The other cases of the issue's
/// list have their tests next to their code: empty input, duplicate keys and NUL bytes in
/// FormatConsistencyTests and ReliabilityTests, `--steps 0` in ReportCommandTests
/// (trainWithNoStepsCannotTellATrend), `--out ''` for the other commands in ExtremeOptionsTests.
@Suite struct MessageRegressionTests {
    typealias R = ReportCommandTests

    /// `--points 2` leaves one point in the fitted tail: no fit is possible, and the slope
    /// column said "(zero)" for every loss, as if the gradient vanished.
    @Test func twoPointsSayNoFitInsteadOfZero() throws {
        let r = try R.run(["gradients", "--points", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("(zero)"), "\(r.stdout)")
        #expect(r.stdout.contains("| sigmoid    | (no fit: 1 point) |") || r.stdout.contains("(no fit: 1 point)"), "\(r.stdout)")
        // With enough points a vanishing gradient is still called zero: hinge is flat past
        // its margin (h >= 10 at the default beta 0.1 and dr 1).
        let many = try R.run(["gradients", "--points", "40", "--losses", "hinge,sigmoid"])
        #expect(many.stdout.contains("| hinge   | (zero)"), "\(many.stdout)")
    }

    /// `report losses --out ''` wrote losses.csv into the current folder.
    @Test func lossesRefusesAnEmptyOutFolder() throws {
        let dir = try R.tempDir()
        let input = dir.appendingPathComponent("p.csv")
        try "chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps\n-1,-2,-1.5,-1.5\n".write(to: input, atomically: true, encoding: .utf8)
        let before = FileManager.default.fileExists(atPath: "losses.csv")
        let r = try R.run(["losses", "--input", input.path, "--losses", "sigmoid", "--out", ""])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--out: the folder name is empty"), "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: "losses.csv") == before)
    }
}

/// Issue 13, part 4: a temporary file left by a killed `report optimum --out` is removed by
/// the next run into the same folder.
@Suite struct StaleTemporaryCLITests {
    @Test func theNextRunRemovesAKilledRunsTemporary() throws {
        let dir = try ReportCommandTests.tempDir()
        let stale = dir.appendingPathComponent(".optimum.csv.tmp-999999999-0123abcd")
        try Data(repeating: 0x41, count: 1000).write(to: stale)
        let r = try ReportCommandTests.run(["optimum", "--losses", "sigmoid", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("optimum.csv").path))
    }
}
