import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lock of a resumable command's `--out` folder (`report sweep`'s, and `report study`'s):
/// `.sweep.lock` (the name for both), created with `O_CREAT | O_EXCL` and holding the owner's
/// process id, so that two runs never write (or delete) each other's journal and files. Its
/// messages name the command that took it (``command``).
///
/// A lock whose process no longer exists (`kill(pid, 0)` fails with `ESRCH`: the sweep was
/// killed) is stale and taken over with a note; so is a lock that holds no process id after half
/// a second (its owner was killed between creating it and writing its id). A live owner gives a clear error, and nothing
/// in the folder is touched. Limits: a reused PID looks alive (remove the file by hand), and
/// the lock is advisory, for processes on one machine.
///
/// See also: ``SweepJournal``, ``StudyJournal``.
struct SweepLock: Sendable {
    static let fileName = ".sweep.lock"
    let path: String
    /// The command that writes into the folder, as messages name it (`report sweep`, `report study`).
    let command: String

    /// Takes the lock of `folder` (creating the folder if needed) for `command`.
    init(folder: String, command: String = "report sweep") throws {
        self.command = command
        let dir = URL(fileURLWithPath: folder)
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw ReportError("\(folder): cannot create the output folder: \(error.localizedDescription)")
        }
        path = dir.appendingPathComponent(Self.fileName).path
        for attempt in 0..<2 {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 {
                let text = Array("\(getpid())\n".utf8)
                let n = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                _ = close(fd)
                guard n == text.count else {
                    unlink(path)
                    throw ReportError("\(path): cannot write the lock of `\(command)`")
                }
                return
            }
            guard errno == EEXIST else {
                throw ReportError("\(path): cannot create the lock of `\(command)`: \(String(cString: strerror(errno)))")
            }
            let owner = Self.owner(path)
            if let pid = owner, pid > 0, kill(pid, 0) != 0, errno == ESRCH, attempt == 0 {
                note("\(path): taking over the lock of process \(pid), which no longer runs")
                unlink(path)
                continue
            }
            if owner == nil, attempt == 0, FileManager.default.fileExists(atPath: path) {
                // No process id after the grace period: its owner was killed between creating
                // the file and writing its id (a live owner writes it microseconds later).
                note("\(path): taking over a lock that holds no process id (its owner was killed while taking it)")
                unlink(path)
                continue
            }
            let who = owner.map { "process \($0)" } ?? "another process"
            throw ReportError("\(folder): another `\(command)` (\(who)) is writing into this folder (\(path)); wait for it, or give another --out. If no `\(command)` runs, remove \(path)")
        }
        throw ReportError("\(path): could not take the lock of `\(command)`")
    }

    /// Removes the lock.
    func release() { unlink(path) }

    /// The process id in the lock at `path`; nil if the file holds none. An empty file is read
    /// again for up to ``emptyLockGrace`` seconds, since its owner may be between creating it
    /// and writing its id.
    static func owner(_ path: String) -> Int32? {
        let deadline = Date().addingTimeInterval(emptyLockGrace)
        while true {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) { return pid }
            if Date() >= deadline || !FileManager.default.fileExists(atPath: path) { return nil }
            usleep(10_000)
        }
    }

    /// How long an empty lock file is given to receive its owner's process id (seconds).
    static let emptyLockGrace = 0.5
}
