/// The number rules shared by ``CSVDocument`` and ``JSONLinesDocument``, so that a value
/// means the same in both formats.
///
/// A number is accepted when its text (CSV: a cell after trimming spaces and tabs; JSON:
/// a number token) is well formed and its value, correctly rounded to a `Double`, is
/// finite and not a nonzero value rounded to zero:
///
/// - `1e400` (overflow) and `1e-400` (underflow to zero) are
///   ``FormatError/Kind/numberOutOfRange(_:)``; subnormals such as `4.9e-324` are accepted;
/// - `nan`, `inf`, `infinity` (CSV spellings) are ``FormatError/Kind/nonFiniteNumber(_:)``
///   (JSON has no such tokens);
/// - a NUL or any other control, space or non-ASCII character inside the text is
///   ``FormatError/Kind/notANumber(_:)`` (`Double(String)` would stop at a NUL and
///   accept `"-1\0garbage"` as -1).
///
/// CSV cells use Swift's `Double(String)` syntax (decimal or hexadecimal, as before);
/// JSON tokens must follow RFC 8259's grammar, which ``JSONLineScanner`` checks.
/// Ranges that depend on meaning (log-probabilities <= 0, counts >= 1) are the caller's.
///
/// See also: ``CSVDocument/double(row:column:)``, ``JSONLinesDocument/double(record:field:)``.
enum NumberText {
    /// A CSV cell as a finite `Double`, or why not.
    static func csv<S: StringProtocol>(_ cell: S) -> Parsed<Double> {
        let t = trimmed(cell)
        if t.isEmpty { return .failure(.emptyNumber) }
        guard t.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return .failure(.notANumber(String(t))) }
        guard let x = Double(t) else { return .failure(.notANumber(String(t))) }
        // The spellings nan, inf and infinity (the only ones with an n) are not numbers
        // that overflowed.
        if x.isNaN || (x.isInfinite && t.utf8.contains(where: { $0 == 0x6E || $0 == 0x4E })) {
            return .failure(.nonFiniteNumber(String(t)))
        }
        return checked(x, text: t, hex: x == 0 && t.utf8.contains(where: { $0 == 0x78 || $0 == 0x58 }))
    }

    /// A JSON number token (already checked against the grammar) as a finite `Double`.
    static func json<S: StringProtocol>(_ token: S) -> Parsed<Double> {
        guard let x = Double(token) else { return .failure(.malformedJSON("invalid number")) }
        return checked(x, text: token, hex: false)
    }

    /// Rejects overflow (±infinity from finite text) and underflow (a nonzero
    /// significand rounded to zero).
    private static func checked<S: StringProtocol>(_ x: Double, text: S, hex: Bool) -> Parsed<Double> {
        if !x.isFinite { return .failure(.numberOutOfRange(String(text))) }
        if x == 0 {
            var digits = Substring(text)
            if hex, let x = digits.firstIndex(where: { $0 == "x" || $0 == "X" }) { digits = digits[digits.index(after: x)...] }
            let end = digits.firstIndex(where: { hex ? ($0 == "p" || $0 == "P") : ($0 == "e" || $0 == "E") }) ?? digits.endIndex
            let significand = digits[..<end]
            let nonzero = significand.contains { c in
                hex ? (c.isHexDigit && c != "0") : ("1"..."9").contains(c)
            }
            if nonzero { return .failure(.numberOutOfRange(String(text))) }
        }
        return .value(x)
    }

    static func trimmed<S: StringProtocol>(_ s: S) -> Substring {
        var sub = Substring(s)
        while let c = sub.first, c == " " || c == "\t" { sub.removeFirst() }
        while let c = sub.last, c == " " || c == "\t" { sub.removeLast() }
        return sub
    }
}

/// A reader's result: a value, or the kind of ``FormatError`` to raise (the caller adds
/// the location).
enum Parsed<T> {
    case value(T)
    case failure(FormatError.Kind)

    /// The value, or nil.
    var value: T? {
        if case .value(let v) = self { return v }
        return nil
    }
}
