/// A JSON value for output, rendered deterministically: object keys sorted
/// by their UTF-8 bytes, numbers at round-trip precision, and every
/// non-finite number (NaN, ±infinity) written as `null`, since JSON has no
/// such numbers.
///
/// ```swift
/// let v: JSONValue = .object(["loss": .string("spo"), "slope": .number(-1.0), "flat_from": .null])
/// v.rendered()              // {"flat_from":null,"loss":"spo","slope":-1.0}
/// v.rendered(pretty: true)  // two-space indentation, one member per line, ends in "\n"
/// ```
///
/// Numbers use Swift's shortest round-trip text (`Double.description`), which
/// is always valid JSON for finite values: `0.1`, `-0.0`, `1e-05`, `5e-324`.
/// Strings are escaped per RFC 8259: `"` `\` and control characters; other
/// characters, non-ASCII included, are written as UTF-8.
///
/// See also: ``JSONLinesWriter`` for one object per line, ``JSONLinesDocument`` for reading.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A floating-point number; non-finite values render as `null`.
    case number(Double)
    /// An integer, written without a decimal point.
    case integer(Int)
    case string(String)
    case array([JSONValue])
    /// An object; keys are rendered sorted.
    case object([String: JSONValue])

    /// `.number(x)` for a present value, `.null` for nil.
    public static func number(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }

    /// The JSON text: compact on one line, or (with `pretty`) indented by two
    /// spaces with a final newline. Empty arrays and objects are `[]` and `{}`.
    public func rendered(pretty: Bool = false) -> String {
        var out = ""
        write(into: &out, pretty: pretty, indent: 0)
        if pretty { out += "\n" }
        return out
    }

    func write(into out: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let x): out += x.isFinite ? x.description : "null"
        case .integer(let i): out += String(i)
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                item.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "]"
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{"
            for (k, member) in members.sorted(by: { Self.byUTF8($0.key, $1.key) }).enumerated() {
                if k > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                Self.writeString(member.key, into: &out)
                out += pretty ? ": " : ":"
                member.value.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "}"
        }
    }

    /// Key order: by UTF-8 bytes (locale-independent, as Python's `sort_keys`
    /// for ASCII keys).
    static func byUTF8(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// `s` as a JSON string literal, quotes included.
    public static func quoted(_ s: String) -> String {
        var out = ""
        writeString(s, into: &out)
        return out
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}

/// Builds JSON Lines text: one compact JSON object per line, every line with
/// the same keys, in sorted order (see ``JSONValue``). The row-oriented
/// counterpart of ``CSVWriter``: a CSV cell that would be empty is `null` here.
///
/// ```swift
/// var w = JSONLinesWriter(keys: ["row", "loss", "value"])
/// w.appendRecord([.integer(0), .string("sigmoid"), .number(0.69)])
/// w.text   // {"loss":"sigmoid","row":0,"value":0.69}\n
/// ```
public struct JSONLinesWriter: Sendable {
    /// The keys, in the caller's order (values are given in this order).
    public let keys: [String]
    /// The text written so far, each line ended by `"\n"`.
    public private(set) var text = ""
    private let order: [Int]
    private let prefixes: [String]

    /// Starts an empty document whose records have `keys` (distinct, at least one).
    public init(keys: [String]) {
        precondition(!keys.isEmpty && Set(keys).count == keys.count, "JSONLinesWriter: keys must be distinct and non-empty")
        self.keys = keys
        order = keys.indices.sorted { JSONValue.byUTF8(keys[$0], keys[$1]) }
        prefixes = order.enumerated().map { k, i in (k == 0 ? "{" : ",") + JSONValue.quoted(keys[i]) + ":" }
    }

    /// Appends one record; `values[i]` belongs to `keys[i]`.
    public mutating func appendRecord(_ values: [JSONValue]) {
        precondition(values.count == keys.count, "JSONLinesWriter.appendRecord: \(values.count) values for \(keys.count) keys")
        for (k, i) in order.enumerated() {
            text += prefixes[k]
            values[i].write(into: &text, pretty: false, indent: 0)
        }
        text += "}\n"
    }
}
