// Reading a results table back into `Decodable` rows, by column NAME: the inverse of
// ``ResultTable``. A row type's coding keys name its columns; their order in the file does
// not matter, an empty cell decodes as nil (`decodeIfPresent`, `decodeNil`), and every
// number is parsed strictly (a malformed cell is an error naming its line and column).

extension CSVDocument {
    /// Every data row decoded as `Row`, matching the row's coding keys to ``header`` by name.
    ///
    /// - Throws: ``FormatError`` naming the line and column of the first cell that does not
    ///   decode, or the row whose column is missing.
    public func decodeRows<Row: Decodable>(_ type: Row.Type) throws(FormatError) -> [Row] {
        var out: [Row] = []
        out.reserveCapacity(rows.count)
        for k in rows.indices { out.append(try decodeRow(type, at: k)) }
        return out
    }

    /// Data row `k` decoded as `Row` (see ``decodeRows(_:)``).
    public func decodeRow<Row: Decodable>(_ type: Row.Type, at k: Int) throws(FormatError) -> Row {
        var index: [String: Int] = [:]
        for (c, name) in header.enumerated() where index[name] == nil { index[name] = c }
        let decoder = CSVRowDecoder(cells: rows[k], columns: index, document: self, row: k)
        do {
            return try Row(from: decoder)
        } catch let error as FormatError {
            throw error
        } catch {
            throw self.error("cannot read the row as \(Row.self): \(error)", row: k)
        }
    }
}

/// A `Decoder` over one CSV row: a keyed container whose keys are column names.
struct CSVRowDecoder: Decoder {
    let cells: [String]
    let columns: [String: Int]
    let document: CSVDocument
    let row: Int
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(CSVRowContainer<Key>(decoder: self))
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw document.error("a table row holds named columns, not a list", row: row)
    }
    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw document.error("a table row holds named columns, not one value", row: row)
    }

    /// The cell of column `name` (nil when the table has no such column).
    func cell(_ name: String) -> (text: String, column: Int)? {
        guard let c = columns[name], c < cells.count else { return nil }
        return (cells[c], c)
    }
}

struct CSVRowContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: CSVRowDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { decoder.columns.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { decoder.cell(key.stringValue) != nil }

    private func cell(_ key: Key) throws -> (text: String, column: Int) {
        guard let c = decoder.cell(key.stringValue) else {
            throw decoder.document.error("no column '\(key.stringValue)'", row: decoder.row)
        }
        return c
    }

    private func parse<T>(_ key: Key, _ what: String, _ read: (String) -> T?) throws -> T {
        let (text, column) = try cell(key)
        let t = String(NumberText.trimmed(text))
        guard let v = read(t) else {
            throw decoder.document.error("'\(text)' is not \(what)", row: decoder.row, column: column)
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let c = decoder.cell(key.stringValue) else { return true }
        return NumberText.trimmed(c.text).isEmpty
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try parse(key, "true or false") { $0 == "true" ? true : $0 == "false" ? false : nil }
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try cell(key).text }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try parse(key, "a finite number") { CSVDocument.strictDouble($0) }
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        Float(try decode(Double.self, forKey: key))
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try parse(key, "an integer") { Int($0) } }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try parse(key, "an integer") { Int8($0) } }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try parse(key, "an integer") { Int16($0) } }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try parse(key, "an integer") { Int32($0) } }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try parse(key, "an integer") { Int64($0) } }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try parse(key, "an integer >= 0") { UInt($0) } }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try parse(key, "an integer >= 0") { UInt8($0) } }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try parse(key, "an integer >= 0") { UInt16($0) } }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try parse(key, "an integer >= 0") { UInt32($0) } }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try parse(key, "an integer >= 0") { UInt64($0) } }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let (text, column) = try cell(key)
        do {
            return try T(from: CSVCellDecoder(text: text, codingPath: codingPath + [key]))
        } catch let error as FormatError {
            throw error
        } catch {
            throw decoder.document.error("'\(text)' is not a valid \(T.self)", row: decoder.row, column: column)
        }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw decoder.document.error("table rows are flat; no nested value at '\(key.stringValue)'", row: decoder.row)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw decoder.document.error("table rows are flat; no nested list at '\(key.stringValue)'", row: decoder.row)
    }
    /// The same row: a type may decode its columns and hand the rest to another type.
    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { decoder }
}

/// One cell as a single value (a raw-valued enum such as a loss name, a wrapper type).
struct CSVCellDecoder: Decoder, SingleValueDecodingContainer {
    let text: String
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    struct NotFlat: Error {}

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw NotFlat() }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw NotFlat() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    private func read<T>(_ f: (String) -> T?) throws -> T {
        guard let v = f(String(NumberText.trimmed(text))) else { throw NotFlat() }
        return v
    }
    func decodeNil() -> Bool { NumberText.trimmed(text).isEmpty }
    func decode(_ type: Bool.Type) throws -> Bool { try read { $0 == "true" ? true : $0 == "false" ? false : nil } }
    func decode(_ type: String.Type) throws -> String { text }
    func decode(_ type: Double.Type) throws -> Double { try read { CSVDocument.strictDouble($0) } }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try read { Int($0) } }
    func decode(_ type: Int8.Type) throws -> Int8 { try read { Int8($0) } }
    func decode(_ type: Int16.Type) throws -> Int16 { try read { Int16($0) } }
    func decode(_ type: Int32.Type) throws -> Int32 { try read { Int32($0) } }
    func decode(_ type: Int64.Type) throws -> Int64 { try read { Int64($0) } }
    func decode(_ type: UInt.Type) throws -> UInt { try read { UInt($0) } }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try read { UInt8($0) } }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try read { UInt16($0) } }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try read { UInt32($0) } }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try read { UInt64($0) } }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }
}
