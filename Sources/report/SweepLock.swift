import Foundation
import Formats
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lock of a resumable command's `--out` folder (`report sweep`'s, and `report study`'s):
/// `.sweep.lock` (the name for both), holding the owner's process id, so that two runs never
/// write (or delete) each other's journal and files. Its messages name the command that took
/// it (``command``).
///
/// **The lock appears with its owner's id in it.** The id is written to a temporary file
/// first (`..sweep.lock.tmp-<pid>-<hex>`, AtomicFile's naming), which is then hard-linked to
/// `.sweep.lock`: `link(2)` creates the name only if it does not exist (`EEXIST` otherwise),
/// atomically, so no process ever sees a lock without an id. A temporary left by a killed run
/// is removed by the next one (``AtomicFile/removeStaleTemporaries(in:for:)``).
///
/// A lock whose process no longer exists (`kill(pid, 0)` fails with `ESRCH`: the sweep was
/// killed) is stale and taken over with a note; so is a lock file that holds no process id,
/// which this program never writes (an older version could leave one; so can a hand-made
/// file). A live owner gives a clear error, and nothing in the folder is touched. Limits: a
/// reused PID looks alive (remove the file by hand), and the lock is advisory, for processes
/// on one machine, on a file system with hard links.
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
        AtomicFile.removeStaleTemporaries(in: dir, for: [Self.fileName])
        let staged = AtomicFile.temporaryURL(for: URL(fileURLWithPath: path)).path
        try Self.writeOwner(to: staged, lock: path, command: command)
        defer { unlink(staged) }
        for attempt in 0..<2 {
            if link(staged, path) == 0 { return }
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
                note("\(path): taking over a lock that holds no process id (not one this program wrote: its locks appear with the id in them)")
                unlink(path)
                continue
            }
            let who = owner.map { "process \($0)" } ?? "another process"
            throw ReportError("\(folder): another `\(command)` (\(who)) is writing into this folder (\(path)); wait for it, or give another --out. If no `\(command)` runs, remove \(path)")
        }
        throw ReportError("\(path): could not take the lock of `\(command)`")
    }

    /// Writes this process's id to the new file `staged` (removed again if the write fails).
    private static func writeOwner(to staged: String, lock: String, command: String) throws {
        let fd = open(staged, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ReportError("\(lock): cannot create the lock of `\(command)`: \(String(cString: strerror(errno)))")
        }
        let text = Array("\(getpid())\n".utf8)
        let n = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        _ = close(fd)
        guard n == text.count else {
            unlink(staged)
            throw ReportError("\(lock): cannot write the lock of `\(command)`")
        }
    }

    /// Removes the lock.
    func release() { unlink(path) }

    /// The process id in the lock at `path`; nil if the file holds none (or is gone).
    static func owner(_ path: String) -> Int32? {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
