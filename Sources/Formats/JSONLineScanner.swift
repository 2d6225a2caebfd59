#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict, validating scanner for one line of JSON Lines (RFC 8259): it checks the whole
/// line and returns the members of the top-level object as raw byte ranges, so that
/// ``JSONLinesDocument`` decides what a value means (with ``NumberText``'s rules, the same
/// as CSV's) and sees every key (a key named twice is an error, as a repeated CSV column is).
///
/// Iterative, with an explicit stack bounded by ``maxDepth`` (512, as Foundation's
/// decoder), so a line of a million `[` fails cleanly instead of overflowing the call
/// stack. Time is linear in the line's length. The input must already be valid UTF-8.
///
/// See also: ``JSONLinesDocument``, ``NumberText``.
struct JSONLineScanner {
    /// One member of the top-level object.
    struct Member {
        /// The key, with its escapes decoded.
        let key: String
        /// The raw value text (a string keeps its quotes), as offsets into the line.
        let value: Range<Int>
    }

    /// The deepest nesting accepted.
    static let maxDepth = 512

    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { b = bytes }

    /// The members of the object on `line`, or why the line is not one JSON object:
    /// ``FormatError/Kind/malformedJSON(_:)`` (with the 1-based byte column) or
    /// ``FormatError/Kind/notAnObject(found:)`` for valid JSON of another type.
    static func members(of line: UnsafeBufferPointer<UInt8>) -> Parsed<[Member]> {
        var s = JSONLineScanner(line)
        return s.run()
    }

    private enum State { case value, arrayValueOrClose, key, keyOrClose, afterValue }

    private mutating func run() -> Parsed<[Member]> {
        var stack: [UInt8] = []
        var members: [Member] = []
        var pendingKey: String? = nil
        var valueStart = 0
        var state = State.value
        skipSpace()
        let first = i < b.count ? b[i] : 0
        func malformed(_ what: String, at position: Int) -> Parsed<[Member]> {
            .failure(.malformedJSON("\(what) at column \(position + 1)"))
        }
        while true {
            skipSpace()
            switch state {
            case .value, .arrayValueOrClose:
                guard i < b.count else { return malformed("the line ends where a value is expected", at: i) }
                if state == .arrayValueOrClose && b[i] == UInt8(ascii: "]") {
                    i += 1
                    stack.removeLast()
                    state = .afterValue
                    break
                }
                if stack.count == 1 && stack[0] == UInt8(ascii: "{") { valueStart = i }
                let c = b[i]
                switch c {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard stack.count < Self.maxDepth else {
                        return malformed("nested deeper than \(Self.maxDepth) levels", at: i)
                    }
                    stack.append(c)
                    i += 1
                    state = c == UInt8(ascii: "{") ? .keyOrClose : .arrayValueOrClose
                    continue
                case UInt8(ascii: "\""):
                    if let problem = skipString() { return malformed(problem.0, at: problem.1) }
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    let start = i
                    guard skipNumber() else { return malformed("invalid number", at: start) }
                case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                    let word: [UInt8] = c == UInt8(ascii: "t") ? Array("true".utf8)
                        : c == UInt8(ascii: "f") ? Array("false".utf8) : Array("null".utf8)
                    guard b.count - i >= word.count, word.indices.allSatisfy({ b[i + $0] == word[$0] }) else {
                        return malformed("unexpected \(Self.describe(b, at: i))", at: i)
                    }
                    i += word.count
                default:
                    return malformed("unexpected \(Self.describe(b, at: i))", at: i)
                }
                state = .afterValue
            case .key, .keyOrClose:
                guard i < b.count else { return malformed("the line ends inside an object", at: i) }
                if state == .keyOrClose && b[i] == UInt8(ascii: "}") {
                    i += 1
                    stack.removeLast()
                    state = .afterValue
                    break
                }
                guard b[i] == UInt8(ascii: "\"") else {
                    return malformed("expected a string key, found \(Self.describe(b, at: i))", at: i)
                }
                let keyStart = i
                if let problem = skipString() { return malformed(problem.0, at: problem.1) }
                if stack.count == 1 { pendingKey = Self.decodeString(b, keyStart..<i) }
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else {
                    return malformed(i < b.count ? "expected ':' after a key, found \(Self.describe(b, at: i))"
                                                 : "the line ends after a key", at: i)
                }
                i += 1
                state = .value
                continue
            case .afterValue:
                break
            }
            // A value has just ended at i.
            if stack.count == 1, let key = pendingKey {
                members.append(Member(key: key, value: valueStart..<i))
                pendingKey = nil
            }
            skipSpace()
            guard let top = stack.last else {
                guard i == b.count else { return malformed("unexpected \(Self.describe(b, at: i)) after the value", at: i) }
                break
            }
            guard i < b.count else { return malformed("the line ends inside \(top == UInt8(ascii: "{") ? "an object" : "an array")", at: i) }
            let c = b[i]
            let close = top == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            if c == UInt8(ascii: ",") {
                i += 1
                state = top == UInt8(ascii: "{") ? .key : .value
            } else if c == close {
                i += 1
                stack.removeLast()
                state = .afterValue
            } else {
                return malformed("expected ',' or '\(Character(Unicode.Scalar(close)))', found \(Self.describe(b, at: i))", at: i)
            }
        }
        switch first {
        case UInt8(ascii: "{"): return .value(members)
        case UInt8(ascii: "["): return .failure(.notAnObject(found: "an array"))
        case UInt8(ascii: "\""): return .failure(.notAnObject(found: "a string"))
        case UInt8(ascii: "n"): return .failure(.notAnObject(found: "null"))
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .failure(.notAnObject(found: "a boolean"))
        default: return .failure(.notAnObject(found: "a number"))
        }
    }

    private mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
    }

    /// Skips the string starting at the quote at `i`; on failure, what and where.
    private mutating func skipString() -> (String, Int)? {
        let open = i
        i += 1
        // Fast path: find the next quote with memchr; if no backslash or control
        // character precedes it, the string ends there.
        if let base = b.baseAddress, i < b.count,
           let q = memchr(base + i, 0x22, b.count - i).map({ UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0)) }),
           !UnsafeBufferPointer(rebasing: b[i..<q]).contains(where: { $0 < 0x20 || $0 == 0x5C }) {
            i = q + 1
            return nil
        }
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return nil }
            if c < 0x20 { return ("control character \(Self.describe(b, at: i)) inside a string (escape it)", i) }
            if c == UInt8(ascii: "\\") {
                guard i + 1 < b.count else { break }
                switch b[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 6 <= b.count, (i + 2..<i + 6).allSatisfy({ Self.hexValue(b[$0]) != nil }) else {
                        return ("invalid \\u escape (four hex digits expected)", i)
                    }
                    i += 6
                default:
                    return ("invalid escape \\\(Self.describe(b, at: i + 1))", i)
                }
                continue
            }
            i += 1
        }
        return ("string opened here is never closed", open)
    }

    /// Skips a number token (RFC 8259 grammar); false if it is malformed.
    private mutating func skipNumber() -> Bool {
        func digits() -> Int {
            let start = i
            while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1 }
            return i - start
        }
        if b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count else { return false }
        if b[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits() == 0 {
            return false
        }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return false }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return false }
        }
        // A digit right after the token (as in `01`) is not a separate token.
        if i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { return false }
        return true
    }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// The text of a string token (quotes included in `range`, already validated by
    /// the scanner), escapes decoded; a lone surrogate becomes U+FFFD.
    static func decodeString(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        let inner = (range.lowerBound + 1)..<max(range.lowerBound + 1, range.upperBound - 1)
        guard inner.contains(where: { b[$0] == UInt8(ascii: "\\") }) else {
            return String(decoding: UnsafeBufferPointer(rebasing: b[inner]), as: UTF8.self)
        }
        var bytes: [UInt8] = []
        var k = inner.lowerBound
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= inner.upperBound else { return nil }
            var v: UInt32 = 0
            for j in at..<at + 4 {
                guard let d = hexValue(b[j]) else { return nil }
                v = v << 4 | d
            }
            return v
        }
        func append(_ scalar: UInt32) {
            let s = Unicode.Scalar(scalar) ?? "\u{FFFD}"
            bytes.append(contentsOf: Array(String(Character(s)).utf8))
        }
        while k < inner.upperBound {
            let c = b[k]
            guard c == UInt8(ascii: "\\"), k + 1 < inner.upperBound else { bytes.append(c); k += 1; continue }
            let e = b[k + 1]
            k += 2
            switch e {
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                guard let v = hex4(k) else { append(0xFFFD); continue }
                k += 4
                if (0xD800..<0xDC00).contains(v), k + 6 <= inner.upperBound, b[k] == UInt8(ascii: "\\"),
                   b[k + 1] == UInt8(ascii: "u"), let low = hex4(k + 2), (0xDC00..<0xE000).contains(low) {
                    k += 6
                    append(0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00))
                } else {
                    append(v)   // a lone surrogate is not a scalar: U+FFFD
                }
            default: bytes.append(e)   // \" \\ \/
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// How an error message names the byte at `i` (a whole UTF-8 character, or an escape).
    static func describe(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> String {
        guard i < b.count else { return "the end of the line" }
        var end = i + 1
        while end < b.count && end < i + 4 && b[end] & 0xC0 == 0x80 { end += 1 }
        return "'" + InputLimits.excerpt(String(decoding: UnsafeBufferPointer(rebasing: b[i..<end]), as: UTF8.self)) + "'"
    }
}
