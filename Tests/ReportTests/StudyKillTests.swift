import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `report study --out DIR` killed with SIGKILL (before its first unit, after a few
/// journalled units, near the end, with one and two jobs) and rerun with the same options
/// resumes to the bytes of an uninterrupted run, and leaves no journal, lock or temporary
/// behind. (The study's counterpart of SweepKillTests.)
@Suite(.serialized) struct StudyKillTests {
    typealias R = ReportCommandTests
    /// A tabular study of 6 units (one cell, 6 seeds), slow enough that kills land mid-study.
    static let grid = ["study", "--policy", "tabular", "--seeds", "6", "--prompts", "4", "--pairs-per-prompt", "8",
                       "--steps", "600", "--log-every", "25", "--quiet"]

    /// Journalled units (`end` lines).
    static func journalUnits(_ out: String) -> Int {
        guard let text = try? String(contentsOfFile: out + "/.study-journal.txt", encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { $0.hasPrefix("end ") }.count
    }

    static func killAfter(units: Int, jobs: Int, out: String) throws -> Bool {
        let p = Process()
        p.executableURL = R.binary
        p.arguments = grid + ["--jobs", "\(jobs)", "--out", out]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        if units == 0 { usleep(20_000) }
        while units > 0 && p.isRunning && journalUnits(out) < units && Date() < deadline { usleep(2_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        return p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL
    }

    static func files(_ dir: String) throws -> [String: Data] { try StudyCommandTests.files(URL(fileURLWithPath: dir)) }

    @Test func killedStudiesResumeToTheUninterruptedBytes() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = dir.appendingPathComponent("whole").path
        let w = try R.run(Self.grid + ["--jobs", "1", "--out", whole])
        #expect(w.status == 0, "\(w.stderr)")
        let expected = try Self.files(whole)
        #expect(expected["runs.csv"] != nil)
        var killed = 0
        for (units, jobs) in [(0, 1), (1, 1), (4, 1), (2, 2)] {
            let out = dir.appendingPathComponent("k-\(units)-\(jobs)").path
            if try Self.killAfter(units: units, jobs: jobs, out: out) { killed += 1 }
            let r = try R.run(Self.grid + ["--jobs", "\(jobs)", "--out", out])
            #expect(r.status == 0, "kill after \(units) units, \(jobs) jobs: \(r.stderr)")
            let got = try Self.files(out)
            #expect(Set(got.keys) == Set(expected.keys), "kill after \(units) units, \(jobs) jobs: \(got.keys.sorted())")
            for (name, data) in expected { #expect(got[name] == data, "kill after \(units) units, \(jobs) jobs: \(name) differs") }
            // Nothing hidden is left beside the study's files: no journal, no lock.
            let hidden = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".") }
            #expect(hidden.isEmpty, "kill after \(units) units, \(jobs) jobs: \(hidden)")
            let siblings = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
            #expect(siblings.isEmpty, "\(siblings)")
        }
        #expect(killed >= 2, "only \(killed) of 4 kills landed before the study finished")
    }
}
