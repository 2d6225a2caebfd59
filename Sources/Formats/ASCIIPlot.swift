import Foundation

/// Several named series of (x, y) points drawn as characters, for a quick
/// look at curves in an 80-column terminal.
///
/// ```
/// log10 loss vs step                      ← title
/// log10 loss                              ← y-axis label
///    0 |*
///      | **  ++++
///   -1 |   **    ++
///      |     ***   +
///   -2 |        ****++++
///      +-+------+------+-
///       0      50    100
///               step                      ← x-axis label
/// Legend: * DPO   + IPO                   ← wrapped to the width
/// ```
///
/// Rules:
/// - Axes are linear in whatever values are given (pass log10 values and say
///   so in the labels). Ranges come from the data unless given explicitly;
///   points outside an explicit range are not drawn. A degenerate range (all
///   values equal) is widened by 10% of the value (or ±1 around zero).
/// - The data range maps exactly onto the grid: the minimum lands in the
///   bottom row / left column and the maximum in the top row / right column.
///   Tick labels sit at nicely rounded values (steps of 1, 2 or 5 × 10ᵏ).
/// - NaN and infinite coordinates are skipped, and a line is never drawn across
///   them: a missing value (a non-positive value on a log axis, passed as NaN)
///   splits the curve.
/// - Series *i* is drawn with ``marker(forSeriesAt:)``; where series overlap
///   in a cell, the later series (higher index) is shown, or the earlier one
///   with ``firstSeriesOnTop`` (so that a reference curve listed first, such as
///   DPO's, stays visible under many others).
/// - With ``connectPoints`` (default true), consecutive points of a series
///   (in the order given) are joined by the series' own marker along a
///   straight line, so curves read as curves. Turn it off for scatter data.
/// - Every line, including the wrapped legend, is at most ``width`` columns
///   (the title and labels are truncated if necessary); trailing spaces are
///   trimmed. The output is deterministic.
/// - With no finite point at all, the plot is replaced by a one-line message.
///
/// See also: ``MarkdownTable`` for exact numbers.
public struct ASCIIPlot: Sendable {
    /// Printed on the first line.
    public var title: String
    /// Printed centered below the x tick labels.
    public var xLabel: String
    /// Printed on its own line above the plot.
    public var yLabel: String
    /// The series, drawn in order (later ones on top).
    public var series: [(name: String, points: [(Double, Double)])]
    /// Total width in columns, y tick labels included (at least 24).
    public var width: Int
    /// Height of the plotting area in rows (at least 3).
    public var height: Int
    /// The x range to show, or nil for the data's range.
    public var xRange: ClosedRange<Double>?
    /// The y range to show, or nil for the data's range.
    public var yRange: ClosedRange<Double>?
    /// Whether to join consecutive points of a series with its marker.
    public var connectPoints: Bool
    /// Whether the first series wins overlapping cells (drawn last) instead of the last.
    public var firstSeriesOnTop = false

    /// Creates a plot description; nothing is drawn until ``render()``.
    ///
    /// - Parameters:
    ///   - width: total columns, ≥ 24 (default 78, fits an 80-column terminal).
    ///   - height: plot rows, ≥ 3 (default 20).
    ///   - xRange, yRange: finite ranges, or nil for automatic.
    public init(title: String, xLabel: String, yLabel: String,
                series: [(name: String, points: [(Double, Double)])],
                width: Int = 78, height: Int = 20,
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil,
                connectPoints: Bool = true) {
        precondition(width >= 24, "ASCIIPlot: width must be at least 24")
        precondition(height >= 3, "ASCIIPlot: height must be at least 3")
        precondition(xRange.map { $0.lowerBound.isFinite && $0.upperBound.isFinite } ?? true, "ASCIIPlot: non-finite xRange")
        precondition(yRange.map { $0.lowerBound.isFinite && $0.upperBound.isFinite } ?? true, "ASCIIPlot: non-finite yRange")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.width = width
        self.height = height
        self.xRange = xRange
        self.yRange = yRange
        self.connectPoints = connectPoints
    }

    /// The marker alphabet: `*+ox#@%&=~`, then letters (without `o`, `x`),
    /// then digits — 70 distinct characters; series beyond that reuse them.
    public static let markers: [Character] =
        Array("*+ox#@%&=~abcdefghijklmnpqrstuvwyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// The marker for the series at `index` (≥ 0).
    public static func marker(forSeriesAt index: Int) -> Character {
        markers[index % markers.count]
    }

    /// The plot as text, lines ended by `"\n"`.
    public func render() -> String {
        var lines: [String] = []
        if !title.isEmpty { lines.append(Self.fit(title, width)) }
        let finite = series.map { s in s.points.filter { $0.0.isFinite && $0.1.isFinite } }
        let all = finite.joined()
        let xr = Self.padded(xRange ?? Self.extent(all.lazy.map(\.0)))
        let yr = Self.padded(yRange ?? Self.extent(all.lazy.map(\.1)))
        guard let xr, let yr,
              finite.contains(where: { $0.contains { xr.contains($0.0) && yr.contains($0.1) } }) else {
            lines.append("(no data to plot: every series is empty, non-finite or out of range)")
            return lines.map { Self.fit($0, width) }.joined(separator: "\n") + "\n"
        }

        // Y ticks and the label column.
        let (yTicks, yExp) = Self.ticks(yr, count: 5)
        // (Labels of tiny ranges far from zero can be long; keep ≥ 10 plot columns.)
        let yLabels = Self.labels(yTicks, exponent: yExp).map { Self.fit($0, width - 12) }
        let labelWidth = yLabels.map(\.count).max() ?? 1
        let plotW = width - labelWidth - 2
        let h = height
        func col(_ x: Double) -> Int { Int((Self.fraction(x, xr) * Double(plotW - 1)).rounded()) }
        func row(_ y: Double) -> Int { (h - 1) - Int((Self.fraction(y, yr) * Double(h - 1)).rounded()) }

        // Draw the series.
        var grid = [[Character]](repeating: [Character](repeating: " ", count: plotW), count: h)
        let order = firstSeriesOnTop ? Array(series.indices.reversed()) : Array(series.indices)
        for k in order {
            let s = series[k]
            let m = Self.marker(forSeriesAt: k)
            let cells = s.points.map { p -> (c: Int, r: Int, inside: Bool) in
                guard p.0.isFinite && p.1.isFinite else { return (0, 0, false) }
                return (c: col(p.0), r: row(p.1), inside: xr.contains(p.0) && yr.contains(p.1))
            }
            for (j, p) in cells.enumerated() where p.inside {
                grid[p.r][p.c] = m
                guard connectPoints, j + 1 < cells.count, cells[j + 1].inside else { continue }
                let q = cells[j + 1]
                let steps = max(abs(q.c - p.c), abs(q.r - p.r))
                for s in stride(from: 1, to: steps, by: 1) {
                    let t = Double(s) / Double(steps)
                    let c = Int((Double(p.c) + t * Double(q.c - p.c)).rounded())
                    let r = Int((Double(p.r) + t * Double(q.r - p.r)).rounded())
                    grid[r][c] = m
                }
            }
        }

        // Assemble: y label, rows with tick labels, x axis, x tick labels, x label.
        var labelAt = [String?](repeating: nil, count: h)
        for (v, s) in zip(yTicks, yLabels) where labelAt[row(v)] == nil { labelAt[row(v)] = s }
        if !yLabel.isEmpty { lines.append(Self.fit(yLabel, width)) }
        for r in 0..<h {
            let label = labelAt[r] ?? ""
            lines.append(String(repeating: " ", count: labelWidth - label.count) + label + " |" + String(grid[r]))
        }
        let (xTicks, xExp) = Self.ticks(xr, count: max(3, min(6, plotW / 10)))
        var axis = [Character](repeating: "-", count: plotW)
        var tickLine = [Character](repeating: " ", count: width)
        var nextFree = 0
        for (v, s) in zip(xTicks, Self.labels(xTicks, exponent: xExp)) {
            let c = col(v)
            axis[c] = "+"
            let start = min(max(labelWidth + 2 + c - s.count / 2, 0), width - s.count)
            guard start >= nextFree else { continue }
            tickLine.replaceSubrange(start ..< start + s.count, with: Array(s))
            nextFree = start + s.count + 1
        }
        lines.append(String(repeating: " ", count: labelWidth) + " +" + String(axis))
        lines.append(String(tickLine))
        if !xLabel.isEmpty {
            let label = Self.fit(xLabel, plotW)
            lines.append(String(repeating: " ", count: labelWidth + 2 + (plotW - label.count) / 2) + label)
        }

        // Legend, wrapped; continuation lines are indented under the first entry.
        let prefix = "Legend:"
        var legend = prefix
        for (k, s) in series.enumerated() {
            let entry = Self.fit("\(Self.marker(forSeriesAt: k)) \(s.name)", width - prefix.count - 1)
            if legend.count > prefix.count && legend.count + 3 + entry.count > width {
                lines.append(legend)
                legend = String(repeating: " ", count: prefix.count)
            }
            legend += (legend.count > prefix.count ? "   " : " ") + entry
        }
        lines.append(legend)
        return lines.map { Self.trimTrailing($0) }.joined(separator: "\n") + "\n"
    }

    // MARK: Helpers (internal for tests)

    /// `range`, widened when its ends are equal; nil stays nil.
    /// `min ... max` of `values` (nil when empty), the first of equal values as `min()` and
    /// `max()` pick them; `values` must not hold NaN (callers pass finite values).
    static func extent<S: Sequence<Double>>(_ values: S) -> ClosedRange<Double>? {
        var it = values.makeIterator()
        guard let first = it.next() else { return nil }
        var (lo, hi) = (first, first)
        while let v = it.next() {
            if v < lo { lo = v }
            if hi < v { hi = v }
        }
        return lo ... hi
    }

    static func padded(_ range: ClosedRange<Double>?) -> ClosedRange<Double>? {
        guard let r = range else { return nil }
        guard r.lowerBound == r.upperBound else { return r }
        let d = r.lowerBound == 0 ? 1 : abs(r.lowerBound) * 0.1
        return (r.lowerBound - d) ... (r.upperBound + d)
    }

    /// Where `v` lies in `r`, as a fraction in [0, 1] (for `v` in `r`).
    static func fraction(_ v: Double, _ r: ClosedRange<Double>) -> Double {
        let span = r.upperBound - r.lowerBound
        if span.isFinite { return (v - r.lowerBound) / span }
        return (v / 2 - r.lowerBound / 2) / (r.upperBound / 2 - r.lowerBound / 2)  // avoid overflow
    }

    /// About `count` round tick values inside `r` (multiples of a step of
    /// 1, 2 or 5 × 10ᵏ), and the decimal exponent of the step's last digit.
    static func ticks(_ r: ClosedRange<Double>, count: Int) -> ([Double], Int) {
        let raw = (r.upperBound / 2 - r.lowerBound / 2) / Double(max(count - 1, 1)) * 2  // no overflow
        guard raw.isFinite, raw > 0 else { return ([], 0) }
        var exponent = Int(floor(log10(raw)))
        let magnitude = pow(10, Double(exponent))
        let norm = raw / magnitude
        let nice: Double
        if norm < 1.5 { nice = 1 } else if norm < 3 { nice = 2 } else if norm < 7 { nice = 5 } else { nice = 1; exponent += 1 }
        let step = nice * pow(10, Double(exponent))
        guard step.isFinite, step > 0 else { return ([], exponent) }
        let first = (r.lowerBound / step).rounded(.up)
        let last = (r.upperBound / step).rounded(.down)
        guard first <= last, last - first < 1000 else { return ([], exponent) }
        let values = stride(from: first, through: last, by: 1).map { k -> Double in
            let v = k * step
            return abs(v) < step * 1e-9 ? 0 : v
        }
        return (values, exponent)
    }

    /// Compact labels for tick values whose step ends at 10^`exponent`:
    /// plain decimals such as `-300` or `1.5` when all fit in 6 characters,
    /// otherwise exponent notation such as `1e+03` or `2.5e-07` for all.
    static func labels(_ values: [Double], exponent: Int) -> [String] {
        let decimals = max(0, -exponent)
        let plain = values.map { v -> String in
            v == 0 ? "0" : trimZeros(String(format: "%.\(decimals)f", v))
        }
        if plain.allSatisfy({ $0.count <= 6 }) { return plain }
        return values.map { v -> String in
            if v == 0 { return "0" }
            let digits = max(0, Int(floor(log10(abs(v)))) - exponent)
            let s = String(format: "%.\(digits)e", v)
            guard let e = s.firstIndex(of: "e") else { return s }
            return trimZeros(String(s[..<e])) + s[e...]
        }
    }

    /// Drops trailing zeros after a decimal point, and the point if bare.
    private static func trimZeros(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = Substring(s)
        while t.last == "0" { t.removeLast() }
        if t.last == "." { t.removeLast() }
        return String(t)
    }

    private static func fit(_ s: String, _ width: Int) -> String {
        s.count <= width ? s : String(s.prefix(max(0, width - 1))) + "…"
    }

    private static func trimTrailing(_ s: String) -> String {
        var t = Substring(s)
        while t.last == " " { t.removeLast() }
        return String(t)
    }
}
