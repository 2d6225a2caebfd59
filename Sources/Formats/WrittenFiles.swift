import Foundation
import Synchronization

/// The process-wide record of the files this process wrote, in order, so that a command can
/// list them at the end (`report ... --out DIR` prints them on standard error).
///
/// ``AtomicFile/write(_:to:)`` records each file when it is renamed into place, and
/// ``AtomicFolder/build(_:owns:fill:)`` translates the paths written inside its temporary
/// sibling to the folder's final name once it is renamed into place. A writer added later
/// that commits a file some other way calls ``record(_:)`` itself.
///
/// ```swift
/// try AtomicFile.write("a,b\n", to: URL(fileURLWithPath: "out/x.csv"))
/// WrittenFiles.existing()   // ["out/x.csv"]
/// ```
///
/// See also: ``AtomicFile``, ``AtomicFolder``.
public enum WrittenFiles {
    private static let paths = Mutex<[String]>([])

    /// Records that the file at `path` was written (whole: after its rename into place).
    public static func record(_ path: String) {
        paths.withLock { $0.append(path) }
    }

    /// Replaces the prefix `from` by `to` in every recorded path (a folder renamed into place).
    static func rename(folder from: String, to: String) {
        let prefix = from.hasSuffix("/") ? from : from + "/"
        let target = to.hasSuffix("/") ? to : to + "/"
        paths.withLock { list in
            list = list.map { $0.hasPrefix(prefix) ? target + $0.dropFirst(prefix.count) : $0 }
        }
    }

    /// The recorded paths, first write order, each once, that still exist as files and are
    /// not hidden (a journal or lock removed at the end, or a hidden temporary, is left out).
    public static func existing() -> [String] {
        let all = paths.withLock { $0 }
        var seen = Set<String>()
        var out: [String] = []
        for path in all where !seen.contains(path) {
            seen.insert(path)
            let name = (path as NSString).lastPathComponent
            guard !name.hasPrefix("."), FileManager.default.fileExists(atPath: path) else { continue }
            out.append(path)
        }
        return out
    }

    /// Forgets every recorded path (for tests).
    public static func reset() { paths.withLock { $0.removeAll() } }
}
