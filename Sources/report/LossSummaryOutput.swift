import Experiments
import Foundation
import Formats
import LossMath

/// One row of `report losses --summary` (see ``Experiments/LossDiagnostics`` for each
/// statistic's definition); TRL's metrics under TRL's names.
struct LossSummaryRow: Encodable {
    let loss: String
    let pairs: Int
    let meanLoss: Double?
    let rejectedP05: Double?, rejectedP50: Double?, rejectedP95: Double?, rejectedMax: Double?
    let chosenP05: Double?, chosenP50: Double?, chosenP95: Double?, chosenMax: Double?
    let rewardsChosen: Double?, rewardsRejected: Double?, rewardsMargins: Double?, rewardsAccuracies: Double?
    let sharePastTarget: Double?
    let meanAbsBetaHMinusDr: Double?
    let shareCollapse: Double?
    let outsideDomain: Int
    let nonFinite: Int
    let tiedScores: Int
    let reversedScores: Int

    enum CodingKeys: String, CodingKey {
        case loss, pairs, meanLoss = "mean_loss"
        case rejectedP05 = "abs_d_logp_rejected_p05", rejectedP50 = "abs_d_logp_rejected_p50"
        case rejectedP95 = "abs_d_logp_rejected_p95", rejectedMax = "abs_d_logp_rejected_max"
        case chosenP05 = "abs_d_logp_chosen_p05", chosenP50 = "abs_d_logp_chosen_p50"
        case chosenP95 = "abs_d_logp_chosen_p95", chosenMax = "abs_d_logp_chosen_max"
        case rewardsChosen = "rewards/chosen", rewardsRejected = "rewards/rejected"
        case rewardsMargins = "rewards/margins", rewardsAccuracies = "rewards/accuracies"
        case sharePastTarget = "share_past_target", meanAbsBetaHMinusDr = "mean_abs_beta_h_minus_dr"
        case shareCollapse = "share_collapse", outsideDomain = "outside_domain", nonFinite = "non_finite"
        case tiedScores = "tied_scores", reversedScores = "reversed_scores"
    }

    init(_ d: LossDiagnostics, ties: Int, reversed: Int) {
        loss = d.loss.rawValue
        pairs = d.pairs
        meanLoss = d.meanLoss
        let r = d.rejectedGradient, c = d.chosenGradient
        (rejectedP05, rejectedP50, rejectedP95) = (r.quantile(0.05), r.quantile(0.5), r.quantile(0.95))
        rejectedMax = r.count > 0 ? r.maximum : nil
        (chosenP05, chosenP50, chosenP95) = (c.quantile(0.05), c.quantile(0.5), c.quantile(0.95))
        chosenMax = c.count > 0 ? c.maximum : nil
        (rewardsChosen, rewardsRejected, rewardsMargins, rewardsAccuracies) =
            (d.rewardsChosen, d.rewardsRejected, d.rewardsMargins, d.rewardsAccuracies)
        (sharePastTarget, meanAbsBetaHMinusDr, shareCollapse) = (d.sharePastTarget, d.meanTargetDistance, d.shareCollapsing)
        (outsideDomain, nonFinite, tiedScores, reversedScores) = (d.outsideDomain, d.nonFinite, ties, reversed)
    }
}

extension PairRun {
    /// Reads every pair once, in batches, into one ``LossDiagnostics`` per loss and a
    /// ``TargetHistogram``, then writes the summary (constant memory).
    mutating func summarise(format: RowFormat, out: String?) throws {
        var diagnostics = losses.map { LossDiagnostics(loss: $0, parameters: options.parameters(for: $0, rewardGap: rewardGapOption)) }
        let gapsForLosses = rewardGapOption != nil || losses.contains(where: \.needsRewardGap)
        var histogram = TargetHistogram()
        var batch = PairBatch()
        var total = 0
        let beta = options.beta
        while let chunk = try next() {
            batch.removeAll(firstRow: chunk.firstRow)
            for item in chunk.pairs {
                let gap = rewardGap(item)
                batch.append(item.pair, rewardGap: gapsForLosses ? (gap ?? 0) : nil)
                histogram.add(betaH: beta * item.pair.logitsDifference, rewardGap: gap)
            }
            total += chunk.pairs.count
            for k in diagnostics.indices { diagnostics[k].add(batch) }
        }
        let rows = diagnostics.map { LossSummaryRow($0, ties: ties.count, reversed: reversed.count) }
        let table: ResultTable
        do { table = try ResultTable(rows, columns: try ResultTable.columns(of: LossSummaryRow(LossDiagnostics(loss: .sigmoid, parameters: LossParameters(beta: 1)), ties: 0, reversed: 0))) }
        catch { throw ReportError("\(error)") }
        for d in diagnostics {
            if let first = d.firstOutsideRow {
                note("\(d.loss.rawValue): \(d.outsideDomain) pair(s) outside its domain (it needs a nonzero reward gap), "
                     + "first at data row \(first): left out of its statistics")
            }
            if let first = d.firstNonFiniteRow {
                note("\(d.loss.rawValue): \(d.nonFinite) pair(s) with a value beyond the double range, first at data row "
                     + "\(first): left out of its statistics")
            }
        }
        noteInputCounts()
        let gapSource = rewardGapOption.map { "the constant \(shortNumber($0)) (--reward-gap)" }
            ?? (gapsForLosses ? "score_chosen - score_rejected" : "none (no scores)")
        let title = "report losses --summary: \(stream.source), \(total) pairs, beta = \(shortNumber(beta)), reward gap: \(gapSource)"
        let markdown = Self.markdown(table: table, title: title, histogram: histogram)
        let histogramTable = Self.histogramTable(histogram)
        switch (out, format) {
        case (let folder?, _):
            let svg = Self.svg(histogram, title: "beta h and dr: \(stream.source), n = \(total), beta = \(shortNumber(beta))")
            try writeFiles([("summary.md", markdown), ("summary.csv", table.csv()), ("summary.json", table.json()),
                            ("beta_h_histogram.csv", histogramTable.csv()), ("beta_h_histogram.svg", svg)], into: folder)
        case (nil, .markdown): emit(markdown)
        case (nil, .csv): emit(table.csv())
        case (nil, .json): emit(table.json())
        }
    }

    static func markdown(table: ResultTable, title: String, histogram: TargetHistogram) -> String {
        var s = "# \(title)\n\n"
        // Two tables of readable width: the gradients, then TRL's metrics and the regimes.
        let split = table.columns.firstIndex(of: "rewards/chosen") ?? table.columns.count
        for columns in [[0] + Array(1..<split), [0] + Array(split..<table.columns.count)] where columns.count > 1 {
            var part = ResultTable(columns: columns.map { table.columns[$0] })
            for row in table.rows { part.append(cells: columns.map { row[$0] }) }
            s += part.markdown(number: { String(format: "%.4g", $0) }) + "\n"
        }
        s += """

        Rules. Statistics over the pairs in each loss's domain with finite results (`pairs`). \
        `abs_d_logp_*`: |dl/d log pi_l| (rejected) and |dl/d log pi_w| (chosen); quantiles 5/50/95 \
        from a histogram with 64 bins per power of two (within 0.78% of the exact quantile), the \
        maximum exact. `rewards/*`: TRL's metrics, rewards = beta (logp - ref_logp) (ipo with token \
        counts: of the averaged log-probabilities, as TRL), `rewards/accuracies` = share of pairs \
        with chosen reward > rejected reward. `share_past_target`, `mean_abs_beta_h_minus_dr`: \
        losses with a reward target (rpo_*, spo*: minimised at beta h = dr), share with beta h > dr \
        and mean |beta h - dr|. `share_collapse`: a descent step lowers pi_l (dl/d log pi_l > 0) \
        and log pi_l is already below its reference. `tied_scores`, `reversed_scores`: pairs with \
        score_chosen = score_rejected, and with score_chosen < score_rejected.


        """
        s += "## beta h and the reward gaps dr\n\n```text\n" + ascii(histogram) + "```\n"
        return s
    }

    /// One line per bin: the range, the count of beta h (`#`) and of dr (`+`).
    static func ascii(_ histogram: TargetHistogram) -> String {
        let bins = histogram.bins
        guard !bins.isEmpty else { return "(no pairs)\n" }
        let top = max(1, bins.map { max($0.betaH, $0.rewardGap) }.max() ?? 1)
        func bar(_ n: Int, _ c: Character) -> String {
            String(repeating: c, count: n == 0 ? 0 : max(1, Int((Double(n) / Double(top) * 30).rounded())))
        }
        var s = "bin of beta h (# = pairs), + = pairs whose dr falls in the bin (their target)\n"
        // An edge beyond the double range (bins of width ~1e308 overflow) is written as the
        // largest double of its sign: the bin holds exactly the finite values up to it.
        func edge(_ x: Double) -> String {
            String(format: "%.4g", x.isFinite ? x : (x < 0 ? -Double.greatestFiniteMagnitude : Double.greatestFiniteMagnitude))
        }
        for b in bins {
            let range = "[\(edge(b.lower)), \(edge(b.upper)))"
            let left = range.padding(toLength: max(range.count, 24), withPad: " ", startingAt: 0)
            let counts = String(format: "%9d %9d", b.betaH, b.rewardGap)
            s += "\(left)\(counts)  \(bar(b.betaH, "#"))\(b.rewardGap > 0 ? " " + bar(b.rewardGap, "+") : "")\n"
        }
        return s
    }

    /// The histogram as a table: bin edges and the two counts.
    static func histogramTable(_ histogram: TargetHistogram) -> ResultTable {
        var t = ResultTable(columns: ["lower", "upper", "beta_h", "reward_gap"])
        for b in histogram.bins { t.append(cells: [.number(b.lower), .number(b.upper), .integer(b.betaH), .integer(b.rewardGap)]) }
        return t
    }

    /// The histogram as steps: beta h and the reward gaps against the bin edges.
    static func svg(_ histogram: TargetHistogram, title: String) -> String {
        func steps(_ count: (TargetHistogram.Bin) -> Int) -> [(Double, Double)] {
            histogram.bins.flatMap { [($0.lower, Double(count($0))), ($0.upper, Double(count($0)))] }
        }
        return SVGPlot(title: title, xLabel: "beta h (bins of width \(shortNumber(histogram.width)))", yLabel: "pairs",
                       series: [("beta h", steps(\.betaH)), ("dr (target of beta h)", steps(\.rewardGap))]).render()
    }
}
