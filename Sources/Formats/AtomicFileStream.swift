import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written piece by piece that appears whole or not at all: ``AtomicFile``'s rule for
/// output too large to hold in memory.
///
/// The text goes to `.<name>.tmp-<pid>-<random>` next to the destination through a 1 MiB
/// buffer; ``commit()`` flushes, `fsync`s, closes and renames it into place (and records it
/// in ``WrittenFiles``). Dropping the stream without a commit, or any failure, removes the
/// temporary file. Memory: the buffer, whatever the file's size.
///
/// ```swift
/// let file = try AtomicFileStream(URL(fileURLWithPath: "out/rows.csv"))
/// for row in rows { try file.write(row) }
/// try file.commit()
/// ```
///
/// See also: ``AtomicFile/write(_:to:)``.
public final class AtomicFileStream {
    private let path: String
    private let temporary: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var committed = false
    static let bufferLimit = 1 << 20

    /// Creates the temporary file next to `url` (whose folder must exist).
    ///
    /// - Throws: ``FormatError`` naming the destination and the system's reason.
    public init(_ url: URL) throws(FormatError) {
        precondition(url.isFileURL, "AtomicFileStream: \(url) is not a file URL")
        path = url.path
        temporary = AtomicFile.temporaryURL(for: url).path
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw FormatError.io("create temporary file", path: path, code: errno) }
        buffer.reserveCapacity(Self.bufferLimit)
    }

    /// Appends `text` (UTF-8).
    public func write(_ text: String) throws(FormatError) {
        precondition(!committed, "AtomicFileStream: write after commit")
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.bufferLimit { try flush() }
    }

    private func flush() throws(FormatError) {
        guard !buffer.isEmpty else { return }
        let data = Data(buffer)
        buffer.removeAll(keepingCapacity: true)
        do throws(FormatError) { try POSIXFile.writeAll(fd: fd, data: data, path: path) } catch {
            abandon()
            throw error
        }
    }

    /// Flushes, syncs and renames the file into place.
    public func commit() throws(FormatError) {
        guard !committed else { return }
        try flush()
        guard fsync(fd) == 0 else { let code = errno; abandon(); throw FormatError.io("sync to disk", path: path, code: code) }
        let closed = close(fd)
        fd = -1
        guard closed == 0 else { let code = errno; abandon(); throw FormatError.io("close", path: path, code: code) }
        guard rename(temporary, path) == 0 else {
            let code = errno; abandon()
            throw FormatError.io("rename temporary file into place", path: path, code: code)
        }
        committed = true
        WrittenFiles.record(path)
    }

    /// Closes and removes the temporary file without writing the destination (an error
    /// elsewhere ended the output). Idempotent; nothing to do after ``commit()``.
    public func abandon() {
        guard !committed else { return }
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporary)
    }

    deinit { if !committed { abandon() } }
}
