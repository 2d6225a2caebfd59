import ArgumentParser
import Experiments
import Formats
import LossMath

/// One `report losses` run over a streamed input: which losses run (a reward gap from
/// scores, from `--reward-gap`, or none), the per-row checks, and the counts that end in
/// notes. ``writePairs(format:out:)`` writes the pair rows piece by piece;
/// ``summarise(format:out:)`` (in `LossSummaryOutput.swift`) writes one row per loss.
///
/// Rules:
/// - The first row decides whether the scores give the reward gap. Without `--reward-gap`,
///   a loss that needs the gap runs only if the first row has scores; then every row must
///   have them (else an error naming the first row without them). Without scores in the
///   first row, such losses are skipped with a note naming that row (an error if named in
///   `--losses`).
/// - A pair outside a loss's domain (a tie dr = 0 for spo_asym) leaves that loss's
///   computed cells empty and is counted; one note per loss names the count and the first
///   row.
/// - Scores that tie or disagree with the chosen/rejected order (score_chosen <
///   score_rejected) are counted; a note names the count and the first row.
struct PairRun {
    let options: LossOptions
    let rewardGapOption: Double?
    let stream: PairStream
    private(set) var losses: [Loss]
    private var pending: PairChunk?
    /// Whether the reward gaps come from the scores and some loss reads them.
    private var gapsRequired = false
    private(set) var ties = Counter()
    private(set) var reversed = Counter()

    /// A count with the first row it concerns.
    struct Counter {
        private(set) var count = 0
        private(set) var firstRow: Int? = nil
        mutating func add(_ row: Int) {
            count += 1
            if firstRow == nil { firstRow = row }
        }
    }

    /// - Parameter copyColumns: whether the pieces carry the input's other columns (pair rows).
    init(input: String, options: LossOptions, limits: InputLimits, rewardGap: Double?, copyColumns: Bool) throws {
        self.options = options
        rewardGapOption = rewardGap
        do { stream = try PairStream(path: input, limits: limits, copyColumns: copyColumns) } catch { throw ReportError("\(error)") }
        losses = try options.selectedLosses()
        pending = try read()
        guard let first = pending?.pairs.first else { return }
        let needing = losses.filter(\.needsRewardGap)
        guard rewardGap == nil, !needing.isEmpty else { return }
        if first.rewardGap != nil {
            gapsRequired = true
            return
        }
        let names = needing.map(\.rawValue).joined(separator: ", ")
        let location = "\(stream.source): \(first.line.map { "line \($0) (data row 0)" } ?? "data row 0")"
        if options.lossesGiven {
            throw ValidationError("\(names) \(Self.need(needing.count)) a reward gap, but \(location) has no score_chosen/score_rejected: "
                                  + "add score columns (to every row), or pass --reward-gap")
        }
        note("skipping \(names): \(needing.count == 1 ? "it" : "they") \(Self.need(needing.count)) a reward gap, and \(location) has no score_chosen/score_rejected "
             + "(add score columns to every row, or pass --reward-gap)")
        losses.removeAll(where: \.needsRewardGap)
    }

    /// "needs" for one loss, "need" for several.
    static func need(_ count: Int) -> String { count == 1 ? "needs" : "need" }

    private func read() throws -> PairChunk? {
        do { return try stream.next() } catch { throw ReportError("\(error)") }
    }

    /// The next piece, checked (see the type's rules).
    mutating func next() throws -> PairChunk? {
        let chunk: PairChunk?
        if let p = pending { chunk = p; pending = nil } else { chunk = try read() }
        guard let chunk else { return nil }
        for (k, item) in chunk.pairs.enumerated() {
            let row = chunk.firstRow + k
            if gapsRequired && item.rewardGap == nil {
                let needing = losses.filter(\.needsRewardGap)
                let names = needing.map(\.rawValue).joined(separator: ", ")
                throw ReportError("\(stream.source): \(item.line.map { "line \($0) (data row \(row))" } ?? "data row \(row)"): "
                                  + "no score_chosen/score_rejected, but data row 0 has them; \(names) \(Self.need(needing.count)) a reward gap "
                                  + "for every row (add the scores, or pass --reward-gap)")
            }
            if rewardGapOption == nil, let gap = item.rewardGap {
                if gap == 0 { ties.add(row) } else if gap < 0 { reversed.add(row) }
            }
        }
        return chunk
    }

    /// The reward gap of `item` for the losses.
    func rewardGap(_ item: InputPair) -> Double? { rewardGapOption ?? item.rewardGap }

    /// Notes on tied and reversed scores and on the JSON Lines fields not copied.
    func noteInputCounts() {
        if let first = ties.firstRow {
            note("\(ties.count) pair(s) have tied scores (score_chosen = score_rejected, dr = 0), first at data row \(first)")
        }
        if let first = reversed.firstRow {
            note("\(reversed.count) pair(s) have score_chosen < score_rejected: the scores disagree with the "
                 + "chosen/rejected order (dr < 0), first at data row \(first)")
        }
    }

    /// Output rows held before they are written.
    static let rowsPerWrite = 4096

    /// Writes one row per pair and loss, piece by piece (constant memory).
    mutating func writePairs(format: RowFormat, out: String?) throws {
        guard let first = try next() else { return }
        var extra = stream.passThroughColumns
        var renamed: [String] = []
        for k in extra.indices where LossRow.columns.contains(extra[k]) || extra[..<k].contains(extra[k]) {
            var name = "input_" + extra[k]
            while LossRow.columns.contains(name) || extra.contains(name) { name = "input_" + name }
            renamed.append("\(extra[k]) → \(name)")
            extra[k] = name
        }
        if !renamed.isEmpty { note("input columns renamed where an output column has the name: \(renamed.joined(separator: ", "))") }
        if !stream.nestedFields.isEmpty {
            note("fields holding arrays or objects are not copied: \(stream.nestedFields.joined(separator: ", "))")
        }
        var table = ResultTable(columns: LossRow.columns + extra)
        let sink = try TextSink(folder: out, name: format == .json ? "losses.jsonl" : "losses.csv")
        var outside = [Counter](repeating: Counter(), count: losses.count)
        var domainMessage = [String](repeating: "", count: losses.count)
        var overflowed = 0
        var chunk = first
        var header = true
        /// Writes the rows so far and drops them: memory stays at about rowsPerWrite rows.
        func flush() throws {
            guard !table.rows.isEmpty || header else { return }
            try sink.write(format == .json ? table.jsonLines() : table.csv(includeHeader: header))
            header = false
            table.removeAllRows()
        }
        while true {
            for (k, item) in chunk.pairs.enumerated() {
                let row = chunk.firstRow + k
                let gap = rewardGap(item)
                for (j, loss) in losses.enumerated() {
                    let p = options.parameters(for: loss, rewardGap: gap)
                    var evaluation: LossEvaluation? = nil
                    do throws(LossMathError) {
                        try loss.validate(p)
                        evaluation = loss.evaluate(item.pair, p)
                    } catch {
                        outside[j].add(row)
                        domainMessage[j] = "\(error)"
                    }
                    if let e = evaluation, !e.value.isFinite { overflowed += 1 }
                    let lossRow = evaluation.map { LossRow(row: row, loss: loss, pair: item.pair, parameters: p, evaluation: $0) }
                        ?? LossRow(row: row, loss: loss, pair: item.pair, parameters: p)
                    let cells: [TableCell]
                    do { cells = try ResultTable.cells(of: lossRow) } catch { throw ReportError("\(error)") }
                    table.append(cells: cells + chunk.passThrough[k])
                }
                if table.rows.count >= Self.rowsPerWrite { try flush() }
            }
            try flush()
            guard let next = try next() else { break }
            chunk = next
        }
        try sink.commit()
        if overflowed > 0 {
            note("\(overflowed) value(s) exceed the double range (spo_asym far below its target) and are left empty")
        }
        for (j, loss) in losses.enumerated() {
            if let first = outside[j].firstRow {
                note("\(loss.rawValue): \(outside[j].count) pair(s) outside its domain (\(domainMessage[j])), first at data row "
                     + "\(first): their \(loss.rawValue) cells are left empty")
            }
        }
        noteInputCounts()
        if let first = stream.firstRowWithFieldNotCopied {
            note("\(stream.fieldsNotCopied) field(s) absent from the first record are not copied, first at data row \(first)")
        }
    }
}
