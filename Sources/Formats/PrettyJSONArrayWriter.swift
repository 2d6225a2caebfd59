/// A pretty-printed JSON array written element by element: the pieces it returns,
/// concatenated, are `JSONValue.array(elements).rendered(pretty: true)`, bit for bit, but no
/// element is kept. For tables too long to hold (``ResultTable/json()`` of a streamed table).
///
/// ```swift
/// var w = PrettyJSONArrayWriter()
/// var text = ""
/// for v in values { text += w.element(v) }
/// text += w.end()   // text == JSONValue.array(values).rendered(pretty: true)
/// ```
///
/// See also: ``JSONValue/rendered(pretty:)``, ``JSONLinesWriter``.
public struct PrettyJSONArrayWriter: Sendable {
    private var started = false

    public init() {}

    /// The text of the next element: `[` (first) or `,`, a new line, two spaces, the value
    /// indented one level.
    public mutating func element(_ value: JSONValue) -> String {
        var out = started ? ",\n  " : "[\n  "
        started = true
        value.write(into: &out, pretty: true, indent: 1)
        return out
    }

    /// The closing text: `\n]\n`, or `[]\n` when no element was written.
    public func end() -> String { started ? "\n]\n" : "[]\n" }
}
