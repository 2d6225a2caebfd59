#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Caps on the size of what the readers accept, so that no input (a runaway file,
/// `/dev/zero`, a gzip bomb) can make them use memory or time without bound.
///
/// | limit | default | what it bounds |
/// |---|---|---|
/// | ``maxLineBytes`` | 1 MiB (1 048 576) | one physical line (bytes between line breaks, after decompression) |
/// | ``maxFieldBytes`` | 64 KiB (65 536) | one CSV cell (a quoted cell may span lines), one JSON string or number kept |
/// | ``maxInputBytes`` | 1 GiB (1 073 741 824) | the whole input after decompression |
///
/// The defaults are far above what preference data needs (four log-probabilities, two
/// scores and two counts per row; a JSON Lines record with prompt and answers is a few
/// kilobytes). ``maxInputBytes`` also bounds the decompressed size, so a gzip bomb
/// stops at the cap; the line cap stops a stream without line breaks (`/dev/zero`,
/// gzipped zeros) after 1 MiB. A reader holds the whole input in memory, so memory is
/// about ``maxInputBytes`` plus the parsed cells.
///
/// Each limit is checked as the bytes arrive (``InputFile``) and again by the parsers
/// (``CSVDocument``, ``JSONLinesDocument``), so the library API is bounded too. Exceeding
/// one is a ``FormatError`` (``FormatError/Kind/lineTooLong(limit:)``,
/// ``FormatError/Kind/fieldTooLong(limit:excerpt:)``,
/// ``FormatError/Kind/inputTooLarge(limit:)``) naming the line. `report losses` raises them
/// with `--max-line-bytes`, `--max-field-bytes` and `--max-input-bytes`.
///
/// Error messages quote at most ``excerptLength`` characters of an offending field.
///
/// See also: ``InputFile``, ``Gzip/decompress(_:source:maxOutputBytes:)``.
public struct InputLimits: Sendable, Equatable {
    /// The longest accepted physical line, in bytes (line break excluded); > 0.
    public var maxLineBytes: Int
    /// The longest accepted field, in bytes; > 0.
    public var maxFieldBytes: Int
    /// The largest accepted input, in bytes after decompression; > 0.
    public var maxInputBytes: Int

    /// The defaults: 1 MiB lines, 64 KiB fields, 1 GiB inputs.
    public static let `default` = InputLimits()

    /// No practical limit (`Int.max` each): only for inputs the program made itself.
    public static let unlimited = InputLimits(maxLineBytes: .max, maxFieldBytes: .max, maxInputBytes: .max)

    /// The most characters of a field that an error message quotes.
    public static let excerptLength = 80

    public init(maxLineBytes: Int = 1 << 20, maxFieldBytes: Int = 1 << 16, maxInputBytes: Int = 1 << 30) {
        precondition(maxLineBytes > 0 && maxFieldBytes > 0 && maxInputBytes > 0, "InputLimits: limits must be > 0")
        self.maxLineBytes = maxLineBytes
        self.maxFieldBytes = maxFieldBytes
        self.maxInputBytes = maxInputBytes
    }

    /// At most ``excerptLength`` characters of `text`, with control characters shown
    /// as escapes (`\0`, `\n`, `\u{1b}`) and `…` where it was cut.
    public static func excerpt<S: StringProtocol>(_ text: S) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= excerptLength { return out + "…" }
            switch scalar {
            case "\0": out += "\\0"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }
}

/// Tracks physical lines over bytes that arrive in pieces: their number, and the length
/// of the current one, failing as soon as a line exceeds the cap.
struct LineLengthGuard {
    let limit: Int
    /// Whether a lone CR ends a line (CSV: yes; JSON Lines: no, it is white space).
    let crBreaks: Bool
    /// The 1-based line that the next byte belongs to.
    private(set) var line = 1
    /// Bytes of the current line seen so far.
    private var current = 0
    /// Whether the last byte seen was a CR (a following LF belongs to the same break).
    private var afterCR = false

    init(limit: Int, crBreaks: Bool) {
        self.limit = limit
        self.crBreaks = crBreaks
    }

    /// Scans `bytes`; returns the 1-based line that first exceeds the cap, or nil.
    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        for b in bytes {
            if b == 0x0A {
                if !afterCR { line += 1 }
                current = 0
                afterCR = false
            } else if b == 0x0D && crBreaks {
                line += 1
                current = 0
                afterCR = true
            } else {
                afterCR = false
                current += 1
                if current > limit { return line }
            }
        }
        return nil
    }

    /// `scan` over a whole buffer: the error for the first line over the cap, or nil.
    /// Finds line feeds with `memchr`; only a stretch longer than the cap is looked at
    /// byte by byte (for lone CRs, which also end CSV lines).
    static func check(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int, crBreaks: Bool, source: String) -> FormatError? {
        guard limit < bytes.count, let base = bytes.baseAddress else { return nil }
        var start = 0
        while start < bytes.count {
            let end = memchr(base + start, 0x0A, bytes.count - start)
                .map { UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0)) } ?? bytes.count
            if end - start > limit {
                // Too long between line feeds: count exactly (CRs, CRLF) from here.
                var guardian = LineLengthGuard(limit: limit, crBreaks: crBreaks)
                guard let bad = guardian.scan(UnsafeBufferPointer(rebasing: bytes[start...])) else { return nil }
                // Lines before `start`: one per LF, plus lone CRs (CSV), which are rare:
                // recount them only now that an error is certain.
                var before = LineLengthGuard(limit: .max, crBreaks: crBreaks)
                _ = before.scan(UnsafeBufferPointer(rebasing: bytes[..<start]))
                return FormatError(.lineTooLong(limit: limit), source: source, line: before.line + bad - 1)
            }
            start = end + 1
        }
        return nil
    }
}
