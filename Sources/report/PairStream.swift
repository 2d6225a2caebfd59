import Formats
import LossMath

/// One piece of a streamed pair input: its pairs and, for each, the cells of the columns
/// copied through to the output (``PairStream/passThroughColumns``).
struct PairChunk {
    /// The input's data row of `pairs[0]`.
    var firstRow: Int
    var pairs: [InputPair]
    var passThrough: [[TableCell]]
}

/// The pairs of an input read piece by piece (``TableStreamReader``), in constant memory,
/// with ``PairInputReader``'s rules, and the input's other columns kept for the output.
///
/// Columns copied through: every input column other than the four log-probabilities, in
/// the input's order, under its own name (scores and token counts included). For CSV, the
/// header's columns: a cell is a number when writing the number gives back its text
/// exactly (`3`, `4.5`; so CSV output repeats it unchanged and JSON gets a number), else
/// text (`00123` stays text). For JSON Lines, the fields of the first record whose value
/// is not an array or object, typed as in the record; a later record's missing field is an
/// empty cell, and fields that the first record does not have are counted
/// (``fieldsNotCopied``) and not copied.
final class PairStream {
    let source: String
    private let reader: TableStreamReader
    /// The columns copied through, known after the first ``next()``.
    private(set) var passThroughColumns: [String] = []
    /// JSON Lines fields skipped: nested in the first record, or absent from it.
    private(set) var nestedFields: [String] = []
    private(set) var fieldsNotCopied = 0
    private(set) var firstRowWithFieldNotCopied: Int? = nil
    private var columnsKnown = false
    private var known: Set<String> = []

    /// Whether to collect the cells of the columns copied through (not for a summary).
    private let copyColumns: Bool

    init(path: String, limits: InputLimits, copyColumns: Bool = true) throws(FormatError) {
        self.copyColumns = copyColumns
        do {
            reader = try TableStreamReader(path: path, fields: PairInputReader.required + PairInputReader.optional,
                                           format: PairInputReader.format(path: path), limits: limits)
        } catch { throw PairInputReader.withLimitHint(error) }
        source = reader.source
    }

    /// The next piece of pairs, or nil at the end.
    ///
    /// - Throws: ``FormatError`` naming the file, line, row and column; a CSV header
    ///   without rows is ``FormatError/Kind/noDataRows``.
    func next() throws(FormatError) -> PairChunk? {
        do throws(FormatError) {
            guard let piece = try reader.next() else {
                if let header = reader.header, reader.rowsRead == 0 {
                    try PairInputReader.checkHeader(header, source: source, line: reader.headerLine)
                    throw FormatError(.noDataRows, source: source, line: reader.headerLine)
                }
                return nil
            }
            switch piece {
            case .csv(let doc):
                let pairs = try PairInputReader.pairs(from: doc)
                let keep = doc.header.indices.filter { !PairInputReader.required.contains(doc.header[$0]) }
                if !columnsKnown {
                    passThroughColumns = keep.map { doc.header[$0] }
                    columnsKnown = true
                }
                let cells = copyColumns ? doc.rows.map { row in keep.map { Self.cell(row[$0]) } } : []
                return PairChunk(firstRow: doc.firstDataRow, pairs: pairs, passThrough: cells)
            case .jsonLines(let doc):
                let pairs = try PairInputReader.pairs(from: doc)
                guard copyColumns else { return PairChunk(firstRow: doc.firstRecord, pairs: pairs, passThrough: []) }
                var cells: [[TableCell]] = []
                cells.reserveCapacity(doc.records.count)
                for r in doc.records.indices {
                    let members = doc.cells(record: r)
                    if !columnsKnown {
                        for m in members where !PairInputReader.required.contains(m.key) {
                            if m.cell == nil { nestedFields.append(m.key) } else { passThroughColumns.append(m.key) }
                        }
                        known = Set(passThroughColumns + nestedFields + PairInputReader.required)
                        columnsKnown = true
                    }
                    var byKey: [String: TableCell] = [:]
                    for m in members {
                        if let cell = m.cell { byKey[m.key] = cell }
                        if !known.contains(m.key) {
                            fieldsNotCopied += 1
                            if firstRowWithFieldNotCopied == nil { firstRowWithFieldNotCopied = doc.firstRecord + r }
                        }
                    }
                    cells.append(passThroughColumns.map { byKey[$0] ?? .empty })
                }
                return PairChunk(firstRow: doc.firstRecord, pairs: pairs, passThrough: cells)
            }
        } catch {
            throw PairInputReader.withLimitHint(error)
        }
    }

    /// A CSV cell as a table cell (see the type's overview).
    static func cell(_ text: String) -> TableCell {
        if let i = Int(text), String(i) == text { return .integer(i) }
        if let x = Double(text), x.isFinite, x.description == text { return .number(x) }
        return .text(text)
    }
}
