import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Issue 13, part 8: a `report sweep` killed with SIGKILL at several moments (before its first
/// run, after a few journalled runs, near the end, with one and two jobs) resumes to the bytes
/// of an uninterrupted run, and leaves no temporary file or lock behind.
@Suite(.serialized) struct SweepKillTests {
    typealias R = ReportCommandTests
    /// The test grid of TrainSweepTests (24 runs), slowed a little so that kills land mid-sweep.
    static let grid = ["sweep", "--losses", "sigmoid,spo", "--betas", "0.25,0.5", "--reward-noises", "0,1", "--seeds", "3",
                       "--steps", "600", "--log-every", "200"]
    static let outputs = ["aggregate.csv", "manifest.txt", "runs.csv", "sweep.md"]
    /// The figures folder of a sweep with --out (one SVG per metric and axis).
    static let figures = "figures"

    /// Journalled data lines (not comments, not the header).
    static func journalLines(_ out: String) -> Int {
        guard let text = try? String(contentsOfFile: out + "/.sweep-journal.csv", encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("run_id") }.count
    }

    /// Starts the sweep, waits until `runs` runs are journalled (0: a few milliseconds after the
    /// start), then sends SIGKILL. Returns true if the process died by the signal.
    static func killAfter(runs: Int, jobs: Int, out: String) throws -> Bool {
        let p = Process()
        p.executableURL = R.binary
        p.arguments = grid + ["--jobs", "\(jobs)", "--out", out]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        if runs == 0 { usleep(20_000) }
        while runs > 0 && p.isRunning && journalLines(out) < runs && Date() < deadline { usleep(2_000) }
        let pid = p.processIdentifier
        if p.isRunning { kill(pid, SIGKILL) }
        p.waitUntilExit()
        return p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL
    }

    @Test func killedSweepsResumeToTheUninterruptedBytes() throws {
        let dir = try R.tempDir()
        let whole = dir.appendingPathComponent("whole").path
        let w = try R.run(Self.grid + ["--jobs", "1", "--out", whole])
        #expect(w.status == 0, "\(w.stderr)")
        var killed = 0
        for (runs, jobs) in [(0, 1), (1, 1), (7, 1), (22, 1), (5, 2), (15, 2)] {
            let out = dir.appendingPathComponent("k-\(runs)-\(jobs)").path
            if try Self.killAfter(runs: runs, jobs: jobs, out: out) { killed += 1 }
            // The final files appear whole or not at all: no runs.csv without its journal gone.
            if FileManager.default.fileExists(atPath: out + "/runs.csv") && Self.journalLines(out) > 0 {
                #expect(FileManager.default.fileExists(atPath: out + "/.sweep-journal.csv"))
            }
            let r = try R.run(Self.grid + ["--jobs", "\(jobs)", "--out", out])
            #expect(r.status == 0, "kill after \(runs) runs, \(jobs) jobs: \(r.stderr)")
            for name in Self.outputs {
                let a = try Data(contentsOf: URL(fileURLWithPath: whole + "/" + name))
                let b = try Data(contentsOf: URL(fileURLWithPath: out + "/" + name))
                #expect(a == b, "kill after \(runs) runs, \(jobs) jobs: \(name) differs")
            }
            // The figures are the uninterrupted run's, file for file.
            let wholeFigures = try FileManager.default.contentsOfDirectory(atPath: whole + "/" + Self.figures).sorted()
            let resumedFigures = try FileManager.default.contentsOfDirectory(atPath: out + "/" + Self.figures).sorted()
            #expect(resumedFigures == wholeFigures, "kill after \(runs) runs, \(jobs) jobs: \(resumedFigures)")
            for name in wholeFigures where resumedFigures.contains(name) {
                let a = try Data(contentsOf: URL(fileURLWithPath: whole + "/" + Self.figures + "/" + name))
                let b = try Data(contentsOf: URL(fileURLWithPath: out + "/" + Self.figures + "/" + name))
                #expect(a == b, "kill after \(runs) runs, \(jobs) jobs: figures/\(name) differs")
            }
            // Nothing else is left: no journal, no lock, no hidden temporary file.
            let left = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
            #expect(left == (Self.outputs + [Self.figures]).sorted(), "kill after \(runs) runs, \(jobs) jobs: \(left)")
        }
        // Most kills land while the sweep runs (a loaded machine may finish one first).
        #expect(killed >= 3, "only \(killed) of 6 kills landed before the sweep finished")
    }
}
