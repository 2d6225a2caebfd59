// The `Encoder` behind ``ResultTable``: it accepts one keyed container of flat values and
// records (key, cell) pairs in encoding order. `encodeIfPresent` is implemented so that a
// nil optional still produces its column, as an empty cell (the synthesised conformance would
// otherwise skip the key and shift every later column).

final class CellSink {
    var cells: [(key: String, cell: TableCell)] = []
    /// Set when the row asked for a container a flat table cannot hold (those calls cannot throw).
    var error: FormatError?
    func reject(_ path: [any CodingKey], _ what: String) {
        if error == nil { error = notFlat(path, what) }
    }
}

struct RowEncoder: Encoder {
    let sink: CellSink
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(RowContainer<Key>(sink: sink))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        sink.reject(codingPath, "an unkeyed value")
        return NestedContainerRejected(sink: sink, codingPath: codingPath)
    }
    func singleValueContainer() -> any SingleValueEncodingContainer {
        sink.reject(codingPath, "a single value instead of a row")
        return NestedContainerRejected(sink: sink, codingPath: codingPath)
    }
}

func notFlat(_ path: [any CodingKey], _ what: String) -> FormatError {
    FormatError(.invalidValue("table rows must be flat; \(what) at '\(path.map(\.stringValue).joined(separator: "."))'"),
                source: "ResultTable")
}

struct RowContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let sink: CellSink
    var codingPath: [any CodingKey] = []

    private func put(_ key: Key, _ cell: TableCell) { sink.cells.append((key.stringValue, cell)) }

    mutating func encodeNil(forKey key: Key) throws { put(key, .empty) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(key, .text(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(key, .number(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(key, .number(Double(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(key, .integer(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(key, .integer(Int(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(key, .integer(Int(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(key, .integer(Int(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(key, .integer(Int(value))) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(key, .text(String(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(key, .integer(Int(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(key, .integer(Int(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(key, .integer(Int(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(key, .text(String(value))) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let single = SingleValueCapture(codingPath: codingPath + [key])
        try value.encode(to: single)
        guard let cell = single.box.cell else { throw notFlat(codingPath + [key], "a value that encodes nothing") }
        put(key, cell)
    }

    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { put(key, value.map(TableCell.bool) ?? .empty) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { put(key, value.map(TableCell.text) ?? .empty) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { put(key, value.map(TableCell.number) ?? .empty) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { put(key, value.map(TableCell.integer) ?? .empty) }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { put(key, .empty) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        sink.reject(codingPath + [key], "a nested object")
        return KeyedEncodingContainer(RowContainer<NestedKey>(sink: CellSink(), codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        sink.reject(codingPath + [key], "a nested array")
        return NestedContainerRejected(sink: sink, codingPath: codingPath + [key])
    }
    mutating func superEncoder() -> any Encoder {
        sink.reject(codingPath, "a super encoder")
        return RowEncoder(sink: CellSink(), codingPath: codingPath)
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        sink.reject(codingPath + [key], "a super encoder")
        return RowEncoder(sink: CellSink(), codingPath: codingPath + [key])
    }
}

/// Captures a value that encodes itself as one single value (a raw-valued enum, a wrapper).
struct SingleValueCapture: Encoder {
    final class Box { var cell: TableCell?; var nested = false }
    let box = Box()
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        box.nested = true
        return KeyedEncodingContainer(RowContainer<Key>(sink: CellSink(), codingPath: codingPath))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        box.nested = true
        return NestedContainerRejected(sink: CellSink(), codingPath: codingPath)
    }
    func singleValueContainer() -> any SingleValueEncodingContainer { SingleCell(box: box, codingPath: codingPath) }
}

struct SingleCell: SingleValueEncodingContainer {
    let box: SingleValueCapture.Box
    var codingPath: [any CodingKey]
    mutating func encodeNil() throws { box.cell = .empty }
    mutating func encode(_ value: Bool) throws { box.cell = .bool(value) }
    mutating func encode(_ value: String) throws { box.cell = .text(value) }
    mutating func encode(_ value: Double) throws { box.cell = .number(value) }
    mutating func encode(_ value: Float) throws { box.cell = .number(Double(value)) }
    mutating func encode(_ value: Int) throws { box.cell = .integer(value) }
    mutating func encode(_ value: Int8) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: Int16) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: Int32) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: Int64) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: UInt) throws { box.cell = .text(String(value)) }
    mutating func encode(_ value: UInt8) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: UInt16) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: UInt32) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: UInt64) throws { box.cell = .text(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let inner = SingleValueCapture(codingPath: codingPath)
        try value.encode(to: inner)
        guard let cell = inner.box.cell, !inner.box.nested else { throw notFlat(codingPath, "a nested value") }
        box.cell = cell
    }
}

/// Containers a flat table cannot hold: every use throws.
struct NestedContainerRejected: UnkeyedEncodingContainer, SingleValueEncodingContainer {
    let sink: CellSink
    var codingPath: [any CodingKey]
    var count: Int { 0 }
    private func fail() -> FormatError { notFlat(codingPath, "a nested or unkeyed value") }
    mutating func encodeNil() throws { throw fail() }
    mutating func encode<T: Encodable>(_ value: T) throws { throw fail() }
    mutating func encode(_ value: Bool) throws { throw fail() }
    mutating func encode(_ value: String) throws { throw fail() }
    mutating func encode(_ value: Double) throws { throw fail() }
    mutating func encode(_ value: Int) throws { throw fail() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        sink.reject(codingPath, "a nested object")
        return KeyedEncodingContainer(RowContainer<NestedKey>(sink: CellSink(), codingPath: codingPath))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        sink.reject(codingPath, "a nested array")
        return self
    }
    mutating func superEncoder() -> any Encoder {
        sink.reject(codingPath, "a super encoder")
        return RowEncoder(sink: CellSink(), codingPath: codingPath)
    }
}
