import Foundation
import _CZlib

/// gzip (RFC 1952) and zlib (RFC 1950) streams, through the system zlib.
///
/// ```swift
/// let packed = Gzip.compress(Data("chosen_logps,rejected_logps\n".utf8))
/// let plain = try Gzip.decompress(packed, source: "pairs.csv.gz")   // the original bytes
/// let input = try InputFile.read(path: "pairs.csv.gz")              // decompressed if gzip
/// ```
///
/// - ``decompress(_:source:)`` accepts a gzip or a zlib stream (zlib's
///   header auto-detection, `windowBits` 15 + 32), and several gzip members
///   one after another (what `cat a.gz b.gz` or `pigz` produce), returning
///   their contents concatenated, as `gzip -d` does.
/// - A stream that ends before its end-of-stream marker and checksum — a
///   download or copy cut short — is an error
///   (``FormatError/Kind/truncatedCompressedData``), never a silently shorter
///   result. Corrupt data (bad header, bad checksum, invalid codes) is
///   ``FormatError/Kind/corruptCompressedData(_:)`` with zlib's message.
/// - Bytes after the last member must be another member: trailing garbage is
///   reported as corrupt data, except trailing zero bytes (tape padding), which
///   are ignored as `gzip -d` ignores them.
///
/// See also: ``InputFile`` (reads a file and decompresses it when it starts
/// with the gzip magic bytes), ``FormatError``.
public enum Gzip {
    /// True when `data` starts with the gzip magic bytes `1f 8b`.
    public static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// The decompressed contents of a gzip or zlib stream.
    ///
    /// - Parameters:
    ///   - data: the compressed bytes (the whole file).
    ///   - source: the name used in error messages (a file name or `"<stdin>"`).
    ///   - maxOutputBytes: the largest accepted output; decompression stops with
    ///     ``FormatError/Kind/inputTooLarge(limit:)`` as soon as it would exceed it, so a
    ///     "gzip bomb" (gigabytes of zeros in a few megabytes) costs at most this much
    ///     memory. Default: ``InputLimits/default``'s `maxInputBytes` (1 GiB).
    /// - Throws: ``FormatError`` with kind ``FormatError/Kind/truncatedCompressedData``,
    ///   ``FormatError/Kind/corruptCompressedData(_:)`` or
    ///   ``FormatError/Kind/inputTooLarge(limit:)``, and ``FormatError/source`` = `source`.
    public static func decompress(_ data: Data, source: String,
                                  maxOutputBytes: Int = InputLimits.default.maxInputBytes) throws(FormatError) -> Data {
        try decompress(data, source: source, maxOutputBytes: maxOutputBytes, inspect: { _ in nil })
    }

    /// ``decompress(_:source:maxOutputBytes:)`` that shows each decompressed piece to
    /// `inspect` as it is produced; a non-nil result stops decompression with that error.
    static func decompress(_ data: Data, source: String, maxOutputBytes: Int,
                           inspect: (UnsafeBufferPointer<UInt8>) -> FormatError?) throws(FormatError) -> Data {
        if data.isEmpty { throw FormatError(.truncatedCompressedData, source: source) }
        var stream = z_stream()
        guard czlib_inflate_init2(&stream, 15 + 32) == Z_OK else {
            throw FormatError(.corruptCompressedData("zlib could not start (out of memory)"), source: source)
        }
        defer { inflateEnd(&stream) }
        var out = Data()
        let chunk = 1 << 18
        var buffer = [UInt8](repeating: 0, count: chunk)
        let failure: FormatError? = data.withUnsafeBytes { raw -> FormatError? in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else {
                return FormatError(.truncatedCompressedData, source: source)
            }
            func fail(_ kind: FormatError.Kind) -> FormatError { FormatError(kind, source: source) }
            var offset = 0          // bytes of `data` handed to zlib so far
            let total = raw.count
            func feed() {
                // avail_in is 32-bit: hand over at most 1 GiB at a time.
                let n = min(total - offset, 1 << 30)
                stream.next_in = UnsafeMutablePointer(mutating: base + offset)
                stream.avail_in = uInt(n)
                offset += n
            }
            feed()
            while true {
                let status = buffer.withUnsafeMutableBufferPointer { b -> Int32 in
                    stream.next_out = b.baseAddress
                    stream.avail_out = uInt(chunk)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk - Int(stream.avail_out)
                if produced > 0 {
                    if produced > maxOutputBytes - out.count { return fail(.inputTooLarge(limit: maxOutputBytes)) }
                    if let stop = buffer.withUnsafeBufferPointer({ inspect(UnsafeBufferPointer(rebasing: $0[0..<produced])) }) {
                        return stop
                    }
                    out.append(contentsOf: buffer[0..<produced])
                }
                switch status {
                case Z_STREAM_END:
                    // One member done; another may follow.
                    if stream.avail_in == 0 && offset < total { feed() }
                    let restStart = offset - Int(stream.avail_in)
                    if restStart >= total { return nil }
                    if raw[restStart...].allSatisfy({ $0 == 0 }) { return nil }
                    guard inflateReset(&stream) == Z_OK else { return fail(.corruptCompressedData("zlib could not restart")) }
                case Z_OK, Z_BUF_ERROR:
                    if stream.avail_out == 0 { continue }          // output buffer full: go on
                    if stream.avail_in == 0 {
                        if offset < total { feed(); continue }
                        return fail(.truncatedCompressedData)          // input used up, no end marker
                    }
                    if status == Z_BUF_ERROR { return fail(.truncatedCompressedData) }
                case Z_NEED_DICT:
                    return fail(.corruptCompressedData("the stream needs a preset dictionary"))
                case Z_MEM_ERROR:
                    return fail(.corruptCompressedData("out of memory"))
                default:  // Z_DATA_ERROR, Z_STREAM_ERROR
                    let message = stream.msg.map { String(cString: $0) } ?? "invalid compressed data"
                    return fail(.corruptCompressedData(message))
                }
            }
        }
        if let failure { throw failure }
        return out
    }

    /// `data` compressed as one gzip member (no file name, modification time 0,
    /// so the same input always gives the same bytes).
    ///
    /// - Parameter level: 0 (store) to 9 (smallest); default 6, as `gzip`.
    public static func compress(_ data: Data, level: Int32 = 6) -> Data {
        precondition((0...9).contains(level), "Gzip.compress: level must be 0...9")
        var stream = z_stream()
        guard czlib_deflate_init2(&stream, level, 15 + 16) == Z_OK else {
            fatalError("Gzip.compress: deflateInit2 failed (out of memory)")
        }
        defer { deflateEnd(&stream) }
        var out = Data()
        let chunk = 1 << 18
        var buffer = [UInt8](repeating: 0, count: chunk)
        data.withUnsafeBytes { raw in
            var offset = 0
            let total = raw.count
            while true {
                if stream.avail_in == 0 && offset < total, let base = raw.bindMemory(to: UInt8.self).baseAddress {
                    let n = min(total - offset, 1 << 30)
                    stream.next_in = UnsafeMutablePointer(mutating: base + offset)
                    stream.avail_in = uInt(n)
                    offset += n
                }
                let flush = offset == total ? Z_FINISH : Z_NO_FLUSH
                let status = buffer.withUnsafeMutableBufferPointer { b -> Int32 in
                    stream.next_out = b.baseAddress
                    stream.avail_out = uInt(chunk)
                    return deflate(&stream, flush)
                }
                out.append(contentsOf: buffer[0..<(chunk - Int(stream.avail_out))])
                if status == Z_STREAM_END { return }
                precondition(status == Z_OK || status == Z_BUF_ERROR, "Gzip.compress: deflate failed (\(status))")
            }
        }
        return out
    }
}

/// Reading an input file (or standard input) whole, decompressing it when it
/// is gzip-compressed.
///
/// Compression is detected by the magic bytes `1f 8b`, not by the name, so a
/// `.gz` file renamed to `.csv`, or a compressed stream on standard input,
/// is read correctly.
public enum InputFile {
    /// The bytes of one input, after decompression.
    public struct Contents: Sendable {
        /// The (decompressed) bytes.
        public let data: Data
        /// The name for error messages: the file's last path component, or `"<stdin>"`.
        public let source: String
        /// True when the input was gzip-compressed.
        public let wasCompressed: Bool
    }

    /// Reads `path` (or standard input for `"-"`) to its end and decompresses it
    /// if it starts with the gzip magic bytes.
    ///
    /// - Parameter limits: checked as the bytes arrive, so that an endless or huge
    ///   input (`/dev/zero`, a gzip bomb) fails after at most about one limit's worth of
    ///   memory: the input size after decompression (``InputLimits/maxInputBytes``,
    ///   which also caps the compressed size) and the physical line length
    ///   (``InputLimits/maxLineBytes``). Field lengths are the parsers' to check.
    /// - Throws: ``FormatError``: an I/O error naming the path and the OS reason,
    ///   a truncated or corrupt gzip stream naming the file, or a limit exceeded.
    public static func read(path: String, limits: InputLimits = .default) throws(FormatError) -> Contents {
        let source = path == "-" ? "<stdin>" : URL(fileURLWithPath: path).lastPathComponent
        let raw = path == "-"
            ? try POSIXFile.readAll(fd: 0, path: "<stdin>", source: source, limits: limits, checkLinesUnlessGzip: true)
            : try POSIXFile.readAll(path: path, source: source, limits: limits, checkLinesUnlessGzip: true)
        guard Gzip.isCompressed(raw) else { return Contents(data: raw, source: source, wasCompressed: false) }
        var lines = LineLengthGuard(limit: limits.maxLineBytes, crBreaks: true)
        let data = try Gzip.decompress(raw, source: source, maxOutputBytes: limits.maxInputBytes) { piece in
            lines.scan(piece).map { FormatError(.lineTooLong(limit: limits.maxLineBytes), source: source, line: $0) }
        }
        return Contents(data: data, source: source, wasCompressed: true)
    }
}
