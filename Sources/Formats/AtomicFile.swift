import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that readers (and a crashed run) never see a half-written
/// result.
///
/// ``write(_:to:)`` creates `.<name>.tmp-<pid>-<random>` in the
/// destination's directory, writes all bytes, `fsync`s it, closes it and
/// `rename(2)`s it over the destination — an atomic replacement on POSIX
/// file systems. On any failure the temporary file is removed and a
/// ``FormatError`` is thrown whose message names the path and the operating
/// system's reason (`strerror(errno)`), for example:
///
/// ```
/// /out/run1/loss.csv: cannot create temporary file: No such file or directory
/// /out/run1/loss.csv: cannot write: No space left on device
/// ```
///
/// New files get mode `0666` minus the process umask, like any newly created
/// file; the old file's mode is not carried over. If the destination is a
/// symbolic link, the link itself is replaced by a regular file.
///
/// See also: ``CSVWriter``, ``FormatError``.
public enum AtomicFile {
    /// Atomically replaces (or creates) the file at `url` with `data`.
    ///
    /// - Parameters:
    ///   - data: the complete new contents.
    ///   - url: a file URL whose parent directory exists and is writable.
    /// - Throws: ``FormatError`` with kind ``FormatError/Kind/io(operation:code:reason:)``
    ///   and ``FormatError/source`` = the destination path. No temporary file is left behind.
    public static func write(_ data: Data, to url: URL) throws(FormatError) {
        try write(data, to: url, writeSyscall: { fd, p, n in systemWrite(fd, p, n) })
    }

    /// Atomically replaces (or creates) the file at `url` with `string`
    /// encoded as UTF-8. See the `Data` overload.
    public static func write(_ string: String, to url: URL) throws(FormatError) {
        try write(Data(string.utf8), to: url)
    }

    /// Creates the directory at `url` and any missing parents (like `mkdir -p`,
    /// mode `0777` minus umask). Succeeds if it already exists as a directory.
    ///
    /// - Throws: ``FormatError`` whose ``FormatError/source`` is the requested
    ///   path and whose message names the component that failed and why, e.g.
    ///   `/data/run/out: cannot create directory '/data/run': '/data/run' exists and is not a directory`
    ///   or `/ro/out: cannot create directory: Read-only file system`.
    public static func createDirectory(_ url: URL) throws(FormatError) {
        let path = url.standardizedFileURL.path
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, 0o777) == 0 { continue }
            let code = errno
            let operation = prefix == path ? "create directory" : "create directory '\(prefix)'"
            if code == EEXIST {
                var st = stat()
                if stat(prefix, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { continue }
                throw FormatError(.io(operation: operation, code: code,
                                      reason: "'\(prefix)' exists and is not a directory"), source: path)
            }
            throw FormatError.io(operation, path: path, code: code)
        }
    }

    // MARK: Implementation (internal for tests)

    typealias WriteSyscall = (Int32, UnsafeRawPointer, Int) -> Int

    static func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, p, n)
        #elseif canImport(Musl)
        return Musl.write(fd, p, n)
        #else
        return Darwin.write(fd, p, n)
        #endif
    }

    /// Removes the temporary files `.<name>.tmp-<pid>-<hex>` of `names` in `directory` whose
    /// process is gone: what a run killed while writing left behind (issue 13: up to 100 MB
    /// each, never removed). Temporaries of a live process, and every other file, are kept.
    /// Errors are ignored (a file that cannot be removed stays; nothing else depends on it).
    public static func removeStaleTemporaries(in directory: URL, for names: [String]) {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: directory.path) else { return }
        for entry in entries {
            for name in names where entry.hasPrefix(".\(name).tmp-") {
                let rest = entry.dropFirst(name.count + 6).split(separator: "-", omittingEmptySubsequences: false)
                guard rest.count == 2, let pid = Int32(rest[0]), pid > 0, !rest[1].isEmpty,
                      rest[1].allSatisfy(\.isHexDigit) else { continue }
                if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
                    try? fm.removeItem(at: directory.appendingPathComponent(entry))
                }
            }
        }
    }

    /// The temporary-file name used for `url`: `.<name>.tmp-<pid>-<16 hex digits>` (the name
    /// ``removeStaleTemporaries(in:for:)`` recognises).
    public static func temporaryURL(for url: URL) -> URL {
        let random = String(UInt64.random(in: .min ... .max), radix: 16)
        let name = ".\(url.lastPathComponent).tmp-\(getpid())-\(random)"
        return url.deletingLastPathComponent().appendingPathComponent(name)
    }

    /// `write(_:to:)` with an injectable `write(2)`, so tests can simulate
    /// ENOSPC and check that the temporary file is cleaned up.
    static func write(_ data: Data, to url: URL, writeSyscall: WriteSyscall) throws(FormatError) {
        precondition(url.isFileURL, "AtomicFile.write: \(url) is not a file URL")
        let path = url.path
        let tmp = temporaryURL(for: url).path
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw FormatError.io("create temporary file", path: path, code: errno) }
        var isOpen = true
        func cleanUp() {
            if isOpen { close(fd); isOpen = false }
            unlink(tmp)
        }
        do throws(FormatError) {
            try POSIXFile.writeAll(fd: fd, data: data, path: path, writeSyscall: writeSyscall)
            guard fsync(fd) == 0 else { throw FormatError.io("sync to disk", path: path, code: errno) }
            isOpen = false
            guard close(fd) == 0 else { throw FormatError.io("close", path: path, code: errno) }
            guard rename(tmp, path) == 0 else {
                throw FormatError.io("rename temporary file into place", path: path, code: errno)
            }
        } catch {
            cleanUp()
            throw error
        }
        // Make the rename itself durable; failure here is not worth reporting.
        let dir = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); close(dir) }
        WrittenFiles.record(path)
    }
}

/// Small POSIX helpers that turn `errno` into ``FormatError``.
enum POSIXFile {
    /// Writes every byte of `data` to `fd`, retrying on EINTR and short writes.
    static func writeAll(fd: Int32, data: Data, path: String,
                         writeSyscall: AtomicFile.WriteSyscall = { fd, p, n in AtomicFile.systemWrite(fd, p, n) })
        throws(FormatError) {
        let failure: FormatError? = data.withUnsafeBytes { raw -> FormatError? in
            guard let base = raw.baseAddress else { return nil }
            var done = 0
            while done < raw.count {
                let k = writeSyscall(fd, base + done, raw.count - done)
                if k < 0 {
                    if errno == EINTR { continue }
                    return FormatError.io("write", path: path, code: errno)
                }
                if k == 0 { return FormatError.io("write", path: path, code: EIO) }
                done += k
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// Reads the whole file at `path` (see ``readAll(fd:path:source:limits:checkLinesUnlessGzip:)``).
    static func readAll(path: String, source: String? = nil, limits: InputLimits = .unlimited,
                        checkLinesUnlessGzip: Bool = false) throws(FormatError) -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FormatError.io("open for reading", path: path, code: errno) }
        defer { close(fd) }
        return try readAll(fd: fd, path: path, source: source, limits: limits, checkLinesUnlessGzip: checkLinesUnlessGzip)
    }

    /// Reads `fd` until end of file, failing as soon as the input exceeds
    /// `limits.maxInputBytes` (``FormatError/Kind/inputTooLarge(limit:)``) or, when
    /// `checkLinesUnlessGzip` is set and the input does not start with the gzip magic
    /// bytes, as soon as a line exceeds `limits.maxLineBytes`
    /// (``FormatError/Kind/lineTooLong(limit:)``). Limit errors name `source`
    /// (default: `path`); I/O errors name `path`.
    static func readAll(fd: Int32, path: String, source: String? = nil, limits: InputLimits = .unlimited,
                        checkLinesUnlessGzip: Bool = false) throws(FormatError) -> Data {
        var out = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var lines: LineLengthGuard? = nil
        var decided = !checkLinesUnlessGzip
        while true {
            let k = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunk) }
            if k < 0 {
                if errno == EINTR { continue }
                throw FormatError.io("read", path: path, code: errno)
            }
            if k == 0 { return out }
            if k > limits.maxInputBytes - out.count {
                throw FormatError(.inputTooLarge(limit: limits.maxInputBytes), source: source ?? path)
            }
            out.append(contentsOf: buffer[0..<k])
            if !decided && out.count >= 2 {
                decided = true
                if !Gzip.isCompressed(out) {
                    var g = LineLengthGuard(limit: limits.maxLineBytes, crBreaks: true)
                    let bad = out.withUnsafeBytes { g.scan($0.bindMemory(to: UInt8.self)) }
                    if let bad { throw FormatError(.lineTooLong(limit: limits.maxLineBytes), source: source ?? path, line: bad) }
                    lines = g
                }
            } else if lines != nil {
                let bad = buffer.withUnsafeBufferPointer { lines?.scan(UnsafeBufferPointer(rebasing: $0[0..<k])) }
                if let bad { throw FormatError(.lineTooLong(limit: limits.maxLineBytes), source: source ?? path, line: bad) }
            }
        }
    }
}
