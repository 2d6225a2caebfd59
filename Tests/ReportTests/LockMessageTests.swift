import Foundation
import Testing

/// The `--out` lock (`.sweep.lock`) names the command that holds the folder: a study's lock
/// says `report study`, a sweep's `report sweep`.
@Suite struct LockMessageTests {
    typealias R = ReportCommandTests

    @Test func aLockedStudyFolderNamesTheStudy() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("study").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try "\(getpid())\n".write(toFile: out + "/.sweep.lock", atomically: true, encoding: .utf8)
        let r = try R.run(StudyCommandTests.tinyTabular + ["--out", out])
        #expect(r.status != 0)
        #expect(r.stderr.contains("another `report study` (process \(getpid())) is writing into this folder"), "\(r.stderr)")
        #expect(r.stderr.contains("If no `report study` runs") && !r.stderr.contains("sweep ("), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == [".sweep.lock"])
    }
}
