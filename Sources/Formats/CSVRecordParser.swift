/// What a CSV parse carries from one piece of input to the next (see
/// ``CSVDocument/parseRecords(_:source:limits:state:isFinal:)``).
struct CSVParseState {
    /// The 1-based line of the next byte.
    var line = 1
    /// The header, once read.
    var header: [String]? = nil
    /// The 1-based line of the header.
    var headerLine = 1
    /// Data rows in the pieces before.
    var rowsBefore = 0
    /// Whether the start of the input (and a byte-order mark there) is behind.
    var started = false
}

extension CSVDocument {
    /// Parses the complete records of `buf`, a piece of a CSV input that `state` says where it
    /// starts: the header if not yet read, then data rows. With `isFinal`, `buf` is the rest
    /// of the input; otherwise parsing stops before a record that `buf` may end inside (a
    /// record is complete only once its line break is seen; a CR at the very end waits for a
    /// possible LF), and that record is parsed again with the next piece.
    ///
    /// Errors and row numbers are those of a whole-input parse (see the type's overview); a
    /// quoted field still open after more than `maxFieldBytes` is reported as too long
    /// without waiting for its end.
    ///
    /// - Returns: the data rows found (nil while no header has been read) and the number of
    ///   bytes of `buf` consumed.
    static func parseRecords(_ buf: UnsafeBufferPointer<UInt8>, source: String, limits: InputLimits,
                             state: inout CSVParseState, isFinal: Bool) -> Result<(CSVDocument?, Int), FormatError> {
        let n = buf.count
        let maxField = limits.maxFieldBytes
        var i = 0
        if !state.started {
            if n < 3 && !isFinal { return .success((nil, 0)) }
            if n >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF { i = 3 }
            state.started = true
        }
        var line = state.line
        var header = state.header
        var headerLine = state.headerLine
        var rows: [[String]] = []
        var lineNumbers: [Int] = []
        var record: [String] = []
        var scratch: [UInt8] = []
        let rowsBefore = state.rowsBefore

        func fail(_ kind: FormatError.Kind, line: Int, row: Int? = nil) -> Result<(CSVDocument?, Int), FormatError> {
            .failure(FormatError(kind, source: source, line: line, dataRow: row))
        }
        func dataRow() -> Int? { header == nil ? nil : rowsBefore + rows.count }
        /// Whether the piece may end inside what follows `i` (more input to come).
        func waitsForMore(_ i: Int) -> Bool { !isFinal && (i >= n || (buf[i] == cr && i + 1 == n)) }
        /// Consumes one line break (LF, CRLF or CR) at `i`.
        func skipLineBreak() {
            if buf[i] == cr, i + 1 < n, buf[i + 1] == lf { i += 2 } else { i += 1 }
            line += 1
        }
        var consumed = i

        records: while i < n {
            let recordLine = line
            let recordStart = i
            if waitsForMore(i) { break records }
            if buf[i] == lf || buf[i] == cr { skipLineBreak(); consumed = i; continue }  // blank line
            record.removeAll(keepingCapacity: true)
            fields: while true {
                if i < n && buf[i] == quote {
                    let openLine = line
                    i += 1
                    let start = i
                    var hasDoubled = false
                    scratch.removeAll(keepingCapacity: true)
                    var segment = i
                    while true {
                        guard i < n else {
                            if !isFinal {
                                if i - start > maxField {
                                    return fail(.fieldTooLong(limit: maxField, excerpt: excerpt(buf, from: start)),
                                                line: openLine, row: dataRow())
                                }
                                line = recordLine; i = recordStart; break records
                            }
                            return fail(.unterminatedQuote, line: openLine)
                        }
                        let b = buf[i]
                        if b == quote {
                            if i + 1 >= n && !isFinal { line = recordLine; i = recordStart; break records }
                            if i + 1 < n && buf[i + 1] == quote {
                                hasDoubled = true
                                scratch.append(contentsOf: buf[segment...i])
                                i += 2
                                segment = i
                                continue
                            }
                            break
                        }
                        if b == lf || (b == cr && !(i + 1 < n && buf[i + 1] == lf)) { line += 1 }
                        i += 1
                    }
                    if i - start > maxField {
                        return fail(.fieldTooLong(limit: maxField, excerpt: excerpt(buf, from: start)), line: openLine,
                                    row: dataRow())
                    }
                    if hasDoubled {
                        scratch.append(contentsOf: buf[segment..<i])
                        record.append(String(decoding: scratch, as: UTF8.self))
                    } else {
                        record.append(String(decoding: UnsafeBufferPointer(rebasing: buf[start..<i]), as: UTF8.self))
                    }
                    i += 1  // closing quote
                    if waitsForMore(i) { line = recordLine; i = recordStart; break records }
                    if i >= n { break fields }
                    let b = buf[i]
                    if b == comma { i += 1; continue fields }
                    if b == lf || b == cr { skipLineBreak(); break fields }
                    return fail(.textAfterClosingQuote(describeByte(at: i, in: buf)), line: line, row: dataRow())
                } else {
                    let start = i
                    while i < n {
                        let b = buf[i]
                        if b == comma || b == lf || b == cr { break }
                        if b == quote { return fail(.quoteInUnquotedField, line: line, row: dataRow()) }
                        i += 1
                    }
                    if waitsForMore(i) { line = recordLine; i = recordStart; break records }
                    if i - start > maxField {
                        return fail(.fieldTooLong(limit: maxField, excerpt: excerpt(buf, from: start)), line: line,
                                    row: dataRow())
                    }
                    record.append(String(decoding: UnsafeBufferPointer(rebasing: buf[start..<i]), as: UTF8.self))
                    if i >= n { break fields }
                    if buf[i] == comma { i += 1; continue fields }
                    skipLineBreak()
                    break fields
                }
            }
            if let header {
                guard record.count == header.count else {
                    return fail(.fieldCountMismatch(expected: header.count, found: record.count),
                                line: recordLine, row: rowsBefore + rows.count)
                }
                rows.append(record)
                lineNumbers.append(recordLine)
            } else {
                var seen: [String: Int] = [:]
                for (k, name) in record.enumerated() {
                    if let first = seen[name] {
                        return fail(.duplicateColumn(name: name, first: first, second: k), line: recordLine)
                    }
                    seen[name] = k
                }
                header = record
                headerLine = recordLine
                record = []
            }
            consumed = i
        }
        state.line = line
        state.header = header
        state.headerLine = headerLine
        state.rowsBefore += rows.count
        guard let header else { return .success((nil, consumed)) }
        return .success((CSVDocument(uncheckedSource: source, header: header, rows: rows, lineNumbers: lineNumbers,
                                     headerLine: headerLine, firstDataRow: rowsBefore), consumed))
    }
}
