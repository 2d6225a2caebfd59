import Foundation
import _CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An input file (or standard input) read in pieces, gzip-decompressed on the fly, with the
/// ``InputLimits`` and UTF-8 validity checked as the bytes arrive: the streaming counterpart
/// of ``InputFile/read(path:limits:)``, for readers that must not hold the whole input.
///
/// The same rules and messages as ``InputFile`` and the whole-document parsers:
/// - gzip is detected by the magic bytes `1f 8b`; several members, trailing zero bytes,
///   a truncated stream (``FormatError/Kind/truncatedCompressedData``) and corrupt data
///   (``FormatError/Kind/corruptCompressedData(_:)``, zlib's message) as ``Gzip``;
/// - more than `maxInputBytes` after decompression: ``FormatError/Kind/inputTooLarge(limit:)``;
/// - a physical line over `maxLineBytes` (LF, CRLF or a lone CR ends a line):
///   ``FormatError/Kind/lineTooLong(limit:)`` naming the line;
/// - invalid UTF-8: ``FormatError/Kind/invalidUTF8`` naming `1 +` the number of LFs before
///   the bad byte, as the parsers count.
///
/// Memory: one read buffer (256 KiB) and one decompression buffer, whatever the input size.
/// Errors found later in the input can be reported before a parse error earlier in it only
/// when both are in the same piece.
///
/// See also: ``TableStreamReader``, ``InputFile``.
final class InputByteStream {
    /// The name for messages: the file's last path component, or `<stdin>`.
    let source: String
    private let path: String
    private let fd: Int32
    private let limits: InputLimits
    private var inflater: GzipInflater?
    private var raw: [UInt8]
    private var rawTotal = 0
    private var delivered = 0
    private var lines: LineLengthGuard
    private var utf8Carry: [UInt8] = []
    private var lineFeeds = 0
    private var finished = false
    /// Bytes read before the format was known (the first piece).
    private var pending: [UInt8]? = nil
    /// The raw (possibly compressed) bytes being worked through, and how far.
    private var compressed: [UInt8] = []
    private var compressedOffset = 0

    static let pieceSize = 1 << 18
    /// The bytes read at a time (``pieceSize``; tests use tiny pieces to cut every record).
    let readSize: Int

    /// Opens `path` (`-`: standard input) and reads its first bytes to detect gzip.
    init(path: String, limits: InputLimits, readSize: Int = InputByteStream.pieceSize) throws(FormatError) {
        self.readSize = readSize
        self.path = path == "-" ? "<stdin>" : path
        source = path == "-" ? "<stdin>" : URL(fileURLWithPath: path).lastPathComponent
        self.limits = limits
        lines = LineLengthGuard(limit: limits.maxLineBytes, crBreaks: true)
        raw = [UInt8](repeating: 0, count: readSize)
        if path == "-" {
            fd = 0
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw FormatError.io("open for reading", path: path, code: errno) }
        }
        // Read until two bytes (the gzip magic) or the end.
        var first: [UInt8] = []
        while first.count < 2 {
            let k = try readRaw()
            if k == 0 { break }
            first.append(contentsOf: raw[0..<k])
        }
        if first.count >= 2 && first[0] == 0x1F && first[1] == 0x8B {
            inflater = try GzipInflater(source: source)
        }
        pending = first
    }

    deinit { if fd > 0 { close(fd) } }

    /// Appends the next bytes (decompressed) to `buffer`; false once the input is used up
    /// (nothing appended).
    func read(appendingTo buffer: inout [UInt8]) throws(FormatError) -> Bool {
        if finished { return false }
        let start = buffer.count
        while buffer.count == start {
            if compressedOffset == compressed.count {
                if let p = pending {
                    pending = nil
                    compressed = p
                } else {
                    let k = try readRaw()
                    compressed = Array(raw[0..<k])
                }
                compressedOffset = 0
                if compressed.isEmpty {
                    if let inflater {
                        try inflater.drain { (out) throws(FormatError) in try self.deliver(out, to: &buffer) }
                        if buffer.count > start { return true }
                        try inflater.finish()
                    }
                    try finishUTF8()
                    finished = true
                    return buffer.count > start
                }
            }
            let offset = compressedOffset
            if let inflater {
                compressedOffset += try compressed.withUnsafeBufferPointer { (input) throws(FormatError) in
                    try inflater.inflate(UnsafeBufferPointer(rebasing: input[offset...])) { (out) throws(FormatError) in
                        try self.deliver(out, to: &buffer)
                    }
                }
            } else {
                try compressed.withUnsafeBufferPointer { (b) throws(FormatError) in try deliver(b, to: &buffer) }
                compressedOffset = compressed.count
            }
        }
        return true
    }

    /// Checks and appends one piece of (decompressed) input.
    private func deliver(_ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) throws(FormatError) {
        if bytes.count > limits.maxInputBytes - delivered {
            throw FormatError(.inputTooLarge(limit: limits.maxInputBytes), source: source)
        }
        delivered += bytes.count
        if let bad = lines.scan(bytes) {
            throw FormatError(.lineTooLong(limit: limits.maxLineBytes), source: source, line: bad)
        }
        try checkUTF8(bytes)
        buffer.append(contentsOf: bytes)
    }

    /// Validates `bytes` after the incomplete sequence carried from the previous piece;
    /// keeps a sequence cut at the end for the next piece.
    private func checkUTF8(_ bytes: UnsafeBufferPointer<UInt8>) throws(FormatError) {
        if utf8Carry.isEmpty && !bytes.contains(where: { $0 >= 0x80 }) {
            lineFeeds += Self.countLineFeeds(bytes)
            return
        }
        var all = utf8Carry
        all.append(contentsOf: bytes)
        // An incomplete sequence at the end: its lead byte within the last 3 bytes.
        var cut = all.count
        for back in 1...min(3, all.count) {
            let b = all[all.count - back]
            if b & 0xC0 == 0x80 { continue }          // a continuation byte: look further back
            let need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            if need > back { cut = all.count - back }
            break
        }
        let bad = all.withUnsafeBufferPointer { CSVDocument.firstInvalidUTF8Offset(UnsafeBufferPointer(rebasing: $0[0..<cut])) }
        if let bad {
            let before = all.withUnsafeBufferPointer { Self.countLineFeeds(UnsafeBufferPointer(rebasing: $0[0..<bad])) }
            throw FormatError(.invalidUTF8, source: source, line: 1 + lineFeeds + before)
        }
        lineFeeds += all.withUnsafeBufferPointer { Self.countLineFeeds(UnsafeBufferPointer(rebasing: $0[0..<cut])) }
        utf8Carry = Array(all[cut...])
    }

    private func finishUTF8() throws(FormatError) {
        guard !utf8Carry.isEmpty else { return }
        throw FormatError(.invalidUTF8, source: source, line: 1 + lineFeeds)
    }

    private static func countLineFeeds(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var n = 0, start = 0
        while start < bytes.count, let p = memchr(base + start, 0x0A, bytes.count - start) {
            n += 1
            start = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(p)) + 1
        }
        return n
    }

    /// One `read(2)` into `raw` (retrying EINTR); the byte count, 0 at the end.
    private func readRaw() throws(FormatError) -> Int {
        while true {
            let k = raw.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, readSize) }
            if k < 0 {
                if errno == EINTR { continue }
                throw FormatError.io("read", path: path, code: errno)
            }
            if k > limits.maxInputBytes - rawTotal {
                throw FormatError(.inputTooLarge(limit: limits.maxInputBytes), source: source)
            }
            rawTotal += k
            return k
        }
    }
}

/// `read(2)`, named apart from the stream's own `read`.
private func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, p, n)
    #elseif canImport(Musl)
    return Musl.read(fd, p, n)
    #else
    return Darwin.read(fd, p, n)
    #endif
}
