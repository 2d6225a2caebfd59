import Foundation

/// A standalone SVG forest plot: one labelled row per comparison with its interval
/// `[lower, upper]` as a horizontal bar, its estimate as a dot, and a vertical zero line —
/// the usual picture of paired differences.
///
/// Rules (as ``SVGPlot``'s): the x range covers every finite end and 0; nice linear ticks;
/// a row whose interval is not finite shows its estimate only, and a row without a finite
/// estimate shows "n/a"; a row's colour is ``SVGPlot/palette``[``Row/group`` mod 8];
/// deterministic bytes (two decimals, no ids or time stamps); XML-escaped text.
///
/// See also: ``SVGPlot``.
public struct SVGForestPlot: Sendable {
    /// One row: its label, estimate, interval and colour group.
    public struct Row: Sendable {
        public var label: String
        public var estimate: Double
        public var lower: Double
        public var upper: Double
        public var group: Int

        public init(label: String, estimate: Double, lower: Double, upper: Double, group: Int = 0) {
            self.label = label
            self.estimate = estimate
            self.lower = lower
            self.upper = upper
            self.group = group
        }
    }

    public var title: String
    public var xLabel: String
    public var rows: [Row]
    public var width: Int

    public init(title: String, xLabel: String, rows: [Row], width: Int = 860) {
        precondition(width >= 300, "SVGForestPlot: at least 300 pixels wide")
        self.title = title
        self.xLabel = xLabel
        self.rows = rows
        self.width = width
    }

    /// The picture as SVG text (UTF-8, ends with a newline).
    public func render() -> String {
        let rowHeight = 18.0, top = 44.0
        let labelChars = min(60, rows.map(\.label.count).max() ?? 0)
        let left = 12 + SVGPlot.char * Double(labelChars) + 12, right = Double(width) - 20
        let bottom = top + rowHeight * Double(max(1, rows.count)) + 6
        let height = Int(bottom + 50)
        var values: [Double] = [0]
        for r in rows { values += [r.estimate, r.lower, r.upper].filter(\.isFinite) }
        let xr = ASCIIPlot.padded((values.min() ?? 0)...(values.max() ?? 0)) ?? (-1.0...1.0)
        func px(_ x: Double) -> Double { left + ASCIIPlot.fraction(x, xr) * (right - left) }
        func f(_ x: Double) -> String {
            let s = String(format: "%.2f", x)
            return s == "-0.00" ? "0.00" : s
        }
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
        s += "viewBox=\"0 0 \(width) \(height)\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        if !title.isEmpty {
            s += "<text class=\"title\" x=\"\(f(Double(width) / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">\(SVGPlot.escape(title))</text>\n"
        }
        for t in SVGPlot.ticks(xr, log: false, count: 7) {
            let x = px(t.value)
            s += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(bottom + 5))\" stroke=\"#e0e0e0\"/>\n"
            s += "<text class=\"tick x\" x=\"\(f(x))\" y=\"\(f(bottom + 19))\" text-anchor=\"middle\">\(SVGPlot.tickMarkup(t))</text>\n"
        }
        s += "<line class=\"zero\" x1=\"\(f(px(0)))\" y1=\"\(f(top))\" x2=\"\(f(px(0)))\" y2=\"\(f(bottom))\" stroke=\"#000000\"/>\n"
        for (i, r) in rows.enumerated() {
            let y = top + rowHeight * (Double(i) + 0.5)
            let color = SVGPlot.palette[((r.group % SVGPlot.palette.count) + SVGPlot.palette.count) % SVGPlot.palette.count]
            let label = r.label.count > 60 ? String(r.label.prefix(59)) + "…" : r.label
            s += "<text class=\"row\" x=\"12\" y=\"\(f(y + 4))\">\(SVGPlot.escape(label))</text>\n"
            if r.lower.isFinite && r.upper.isFinite {
                s += "<line class=\"interval\" x1=\"\(f(px(r.lower)))\" y1=\"\(f(y))\" x2=\"\(f(px(r.upper)))\" y2=\"\(f(y))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            }
            if r.estimate.isFinite {
                s += "<circle class=\"estimate\" cx=\"\(f(px(r.estimate)))\" cy=\"\(f(y))\" r=\"3\" fill=\"\(color)\"/>\n"
            } else {
                s += "<text class=\"missing\" x=\"\(f(px(0) + 6))\" y=\"\(f(y + 4))\">n/a</text>\n"
            }
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\" fill=\"none\" stroke=\"#000000\"/>\n"
        if !xLabel.isEmpty {
            s += "<text class=\"label x\" x=\"\(f((left + right) / 2))\" y=\"\(f(bottom + 40))\" text-anchor=\"middle\">\(SVGPlot.escape(xLabel))</text>\n"
        }
        s += "</svg>\n"
        return s
    }
}
