import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a folder of files under a temporary sibling name and renames it into place at the
/// end, so that the folder at its final name is never half-written: a kill or a full disk
/// leaves the previous folder (or none) and a hidden `.<name>.building-<pid>` sibling, which
/// the next build removes.
///
/// ```swift
/// try AtomicFolder.build(URL(fileURLWithPath: "results"), owns: ["README.md", "theory"]) { dir in
///     try AtomicFile.write("# Index\n", to: dir.appendingPathComponent("README.md"))
/// }
/// ```
///
/// Replacing an existing folder takes two renames (the old folder to
/// `.<name>.old-<pid>`, the new one into place) and then removes the old one; between the two
/// renames the name is briefly absent, never half-written. An existing folder is replaced
/// only if every entry in it is one the new folder `owns` (or a hidden temporary of ours):
/// a folder holding anything else is refused, so a user's files are never deleted.
///
/// See also: ``AtomicFile``.
public enum AtomicFolder {
    /// Builds the folder `url` by calling `fill` on a fresh temporary sibling, then renames
    /// it into place. `owns` lists the top-level entries the folder may hold (the refusal
    /// rule above). Stale `.<name>.building-<pid>` and `.<name>.old-<pid>` siblings of
    /// processes that no longer run are removed first.
    ///
    /// - Throws: ``FormatError`` naming the path (and the foreign entry, if refused); or
    ///   what `fill` throws. On a failure the temporary folder is removed.
    public static func build(_ url: URL, owns: Set<String>, fill: (URL) throws -> Void) throws {
        let target = url.standardizedFileURL
        let name = target.lastPathComponent
        let path = target.path
        guard !name.isEmpty, name != ".", name != "..", name != "/" else {
            throw FormatError(.io(operation: "build folder", code: EINVAL, reason: "name a new or earlier output folder, not '\(name)'"), source: path)
        }
        let parent = target.deletingLastPathComponent()
        try AtomicFile.createDirectory(parent)
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw FormatError(.io(operation: "build folder", code: ENOTDIR, reason: "'\(path)' exists and is not a directory"), source: path)
            }
            let entries = (try? fm.contentsOfDirectory(atPath: path)) ?? []
            if let foreign = entries.sorted().first(where: { !owns.contains($0) && !$0.hasPrefix(".") }) {
                throw FormatError(.io(operation: "replace folder", code: EEXIST,
                                      reason: "it holds '\(foreign)', which this command did not write; choose a new or empty folder"),
                                  source: path)
            }
        }
        removeStale(in: parent, name: name)
        let pid = getpid()
        let building = parent.appendingPathComponent(".\(name).building-\(pid)")
        try? fm.removeItem(at: building)
        do {
            try AtomicFile.createDirectory(building)
            try fill(building)
        } catch {
            try? fm.removeItem(at: building)
            throw error
        }
        let old = parent.appendingPathComponent(".\(name).old-\(pid)")
        var moved = false
        if fm.fileExists(atPath: path) {
            guard rename(path, old.path) == 0 else {
                let code = errno
                try? fm.removeItem(at: building)
                throw FormatError.io("move the previous folder aside", path: path, code: code)
            }
            moved = true
        }
        guard rename(building.path, path) == 0 else {
            let code = errno
            if moved { _ = rename(old.path, path) }
            try? fm.removeItem(at: building)
            throw FormatError.io("rename the new folder into place", path: path, code: code)
        }
        if moved { try? fm.removeItem(at: old) }
        WrittenFiles.rename(folder: building.path, to: path)
    }

    /// Removes `.<name>.building-<pid>` and `.<name>.old-<pid>` in `parent` whose process is
    /// gone (a killed earlier run).
    static func removeStale(in parent: URL, name: String) {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: parent.path) else { return }
        for entry in entries {
            for marker in [".\(name).building-", ".\(name).old-"] where entry.hasPrefix(marker) {
                guard let pid = Int32(entry.dropFirst(marker.count)) else { continue }
                if pid == getpid() || kill(pid, 0) != 0 && errno == ESRCH {
                    try? fm.removeItem(at: parent.appendingPathComponent(entry))
                }
            }
        }
    }
}
