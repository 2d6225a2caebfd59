import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written in pieces that appears whole or not at all: the streaming form of
/// ``AtomicFile/write(_:to:)``. The text goes to `.<name>.tmp-<pid>-<random>` next to the
/// destination; ``commit()`` `fsync`s it and renames it into place. A writer dropped
/// without ``commit()`` (an error, a thrown exception) removes its temporary file.
///
/// ```swift
/// let w = try AtomicFileWriter(url: folder.appendingPathComponent("losses.csv"))
/// try w.write("row,loss\n")
/// try w.commit()
/// ```
///
/// Errors are ``FormatError`` naming the destination and the operating system's reason.
public final class AtomicFileWriter {
    private let path: String
    private let tmp: String
    private var fd: Int32

    /// Creates the temporary file for `url` (whose folder must exist).
    public init(url: URL) throws(FormatError) {
        precondition(url.isFileURL, "AtomicFileWriter: \(url) is not a file URL")
        path = url.path
        tmp = AtomicFile.temporaryURL(for: url).path
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw FormatError.io("create temporary file", path: path, code: errno) }
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(tmp)
        }
    }

    /// Appends `text` (UTF-8).
    public func write(_ text: String) throws(FormatError) {
        guard fd >= 0 else { throw FormatError.io("write", path: path, code: EBADF) }
        do throws(FormatError) {
            try POSIXFile.writeAll(fd: fd, data: Data(text.utf8), path: path)
        } catch {
            abandon()
            throw error
        }
    }

    /// Syncs the file and renames it into place.
    public func commit() throws(FormatError) {
        guard fd >= 0 else { throw FormatError.io("write", path: path, code: EBADF) }
        let descriptor = fd
        fd = -1
        guard fsync(descriptor) == 0 else { let e = errno; close(descriptor); unlink(tmp); throw FormatError.io("sync to disk", path: path, code: e) }
        guard close(descriptor) == 0 else { let e = errno; unlink(tmp); throw FormatError.io("close", path: path, code: e) }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw FormatError.io("rename temporary file into place", path: path, code: e)
        }
        let dir = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }

    /// Removes the temporary file; the destination is left as it was.
    public func abandon() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(tmp)
    }
}
