import Foundation

/// A standalone SVG line chart of several named series of (x, y) points —
/// the same data as ``ASCIIPlot`` — for a browser, GitHub or a paper.
///
/// Rules:
/// - **Log axes.** Pass values already as log10 and set ``xIsLog10`` /
///   ``yIsLog10``: that axis then has ticks at powers of ten (every decade, or
///   every 2, 5, 10, 20, 50, … decades when the data spans hundreds), labelled
///   `10` with a raised exponent (`<text>10<tspan dy="-0.5em" …>−300</tspan></text>`:
///   `dy` rather than `baseline-shift`, which not every viewer supports). When a
///   log axis spans less than one decade it gets linear ticks on the exponent
///   (`10^0.25`, …). Linear axes get nice ticks (1, 2 or 5 × 10ᵏ) as ASCIIPlot's.
/// - Ranges come from the data (exactly: the extreme points touch the frame)
///   unless given; a degenerate range is widened as ASCIIPlot does. Lines are
///   clipped to the plotting area.
/// - Series *i* is drawn in ``palette``[i mod 8] (Okabe–Ito's colour-blind-safe
///   colours, yellow last since it is faint on white) with dash pattern
///   ``dashes``[i mod 5]: 8 and 5 are coprime, so the first 40 series differ in
///   (colour, dash) pairs and the first 5 in both colour and dash, also in print.
/// - ``bands`` (a mean's interval, say) are filled in their series' colour at
///   18% opacity under the lines; a non-finite bound splits the band.
/// - ``references`` (an asymptote, a threshold) are thin grey lines with their
///   own dash patterns, listed in the legend after the series.
/// - ``stack(_:)`` puts several plots (panels) one above the other in one picture.
/// - Each non-empty series is one `<path class="series">` (with a `<title>`
///   for hover); a non-finite point breaks the line there (a new `M` subpath);
///   an isolated point is drawn as a dot.
/// - The legend, right of the plot, lists every series (an empty one is marked
///   "(no data)"); the picture grows taller if the legend needs it.
/// - Deterministic bytes: coordinates with two decimals, no time stamps or
///   random ids. Text is XML-escaped; characters XML 1.0 forbids are dropped.
///
/// See also: ``ASCIIPlot`` (the terminal version).
public struct SVGPlot: Sendable {
    public var title: String
    /// Axis labels; give the units, e.g. `"pi_l (probability)"`.
    public var xLabel: String
    public var yLabel: String
    public var series: [(name: String, points: [(Double, Double)])]
    /// Whether x (y) values are log10 of the quantity, to be shown as powers of ten.
    public var xIsLog10: Bool
    public var yIsLog10: Bool
    /// Picture size in pixels (the height may grow for a long legend).
    public var width: Int
    public var height: Int
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// Filled intervals, each drawn in the colour of the series it belongs to.
    public var bands: [Band] = []
    /// Reference lines, drawn over the data and listed in the legend.
    public var references: [Reference] = []
    /// The legend is at least this many characters wide (panels of a ``stack(_:)`` share it,
    /// so that their plotting areas line up).
    public var minimumLegendCharacters = 0
    /// Lines of small print under the x label (how the data were treated, e.g. a clamp);
    /// each line is also kept whole in a `<desc>` element.
    public var notes: [String] = []

    /// A filled interval `low...high` along x, in the colour of series ``seriesIndex``.
    public struct Band: Sendable {
        public var seriesIndex: Int
        public var points: [(x: Double, low: Double, high: Double)]
        public init(seriesIndex: Int, points: [(x: Double, low: Double, high: Double)]) {
            self.seriesIndex = seriesIndex; self.points = points
        }
    }

    /// A reference line, in the axis' own units (log10 values on a log axis).
    public struct Reference: Sendable {
        public enum Shape: Sendable {
            /// x = constant.
            case vertical(x: Double)
            /// y = constant.
            case horizontal(y: Double)
            /// y = intercept + slope * x.
            case line(slope: Double, intercept: Double)
        }
        public var label: String
        public var shape: Shape
        public init(_ label: String, _ shape: Shape) { self.label = label; self.shape = shape }
    }

    /// The grey of reference lines and their dash patterns (cycled).
    public static let referenceColor = "#555555"
    public static let referenceDashes = ["6 4", "2 3", "10 3 2 3"]

    public init(title: String, xLabel: String, yLabel: String,
                series: [(name: String, points: [(Double, Double)])],
                xIsLog10: Bool = false, yIsLog10: Bool = false, width: Int = 720, height: Int = 450,
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil) {
        precondition(width >= 200 && height >= 150, "SVGPlot: at least 200 x 150 pixels")
        precondition(xRange.map { $0.lowerBound.isFinite && $0.upperBound.isFinite } ?? true, "SVGPlot: non-finite xRange")
        precondition(yRange.map { $0.lowerBound.isFinite && $0.upperBound.isFinite } ?? true, "SVGPlot: non-finite yRange")
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series
        self.xIsLog10 = xIsLog10; self.yIsLog10 = yIsLog10; self.width = width; self.height = height
        self.xRange = xRange; self.yRange = yRange
    }

    /// Okabe & Ito's colour-blind-safe palette (blue, vermillion, green, purple,
    /// orange, sky blue, black, yellow).
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
    /// `stroke-dasharray` values cycled once the colours run out; nil is solid.
    public static let dashes: [String?] = [nil, "8 4", "2 3", "9 3 2 3", "14 4"]

    /// The colour and dash pattern of series `index`: ``palette``[index mod 8] and
    /// ``dashes``[index mod 5].
    public static func style(forSeriesAt index: Int) -> (color: String, dash: String?) {
        (palette[index % palette.count], dashes[index % dashes.count])
    }

    /// The plotting area in pixels, and the data ranges mapped onto it.
    struct Layout {
        var left, top, right, bottom: Double
        var width, height: Int
        var xr, yr: ClosedRange<Double>?
        // Called only once both ranges are known (render draws nothing without data).
        func px(_ x: Double) -> Double { left + (xr.map { ASCIIPlot.fraction(x, $0) } ?? 0) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (yr.map { ASCIIPlot.fraction(y, $0) } ?? 0) * (bottom - top) }
    }

    static let char = 7.0, lineHeight = 18.0  // approximate glyph width and legend row height at 12 px
    static let titleChar = 8.4  // approximate glyph width at 15 px

    /// Legend names are cut to this many characters, so the legend takes at most ~35% of the width.
    var maxLegendChars: Int { max(8, Int((Double(width) * 0.35 - 44) / Self.char)) }

    func layout() -> Layout {
        let bounds = bands.flatMap { $0.points.flatMap { [($0.x, $0.low), ($0.x, $0.high)] } }
        let finite = (series.flatMap(\.points) + bounds).filter { $0.0.isFinite && $0.1.isFinite }
        let xr = ASCIIPlot.padded(xRange ?? ASCIIPlot.extent(finite.lazy.map(\.0)))
        let yr = ASCIIPlot.padded(yRange ?? ASCIIPlot.extent(finite.lazy.map(\.1)))
        let yLabelWidth = yr.map { Self.ticks($0, log: yIsLog10, count: 6).map { Self.textWidth($0.label) }.max() ?? 0 } ?? 0
        let names = series.map { $0.name.count + 10 } + references.map(\.label.count)
        let legendWidth = 44 + Self.char * Double(min(maxLegendChars, max(minimumLegendCharacters, names.max() ?? 0)))
        let top = title.isEmpty ? 16.0 : 40.0
        let h = max(height, Int(top + Double(series.count + references.count) * Self.lineHeight + 60))
        let notesHeight = Double(notes.count) * 15
        return Layout(left: (yLabel.isEmpty ? 12 : 34) + yLabelWidth + 10, top: top,
                      right: Double(width) - 12 - (names.isEmpty ? 0 : legendWidth),
                      bottom: Double(h) - (xLabel.isEmpty ? 30 : 50), width: width, height: h + Int(notesHeight), xr: xr, yr: yr)
    }

    /// The picture as SVG text (UTF-8, ends with a newline).
    public func render() -> String {
        let (L, body) = self.body(clipID: "plot-area")
        return Self.header(width: L.width, height: L.height) + body + "</svg>\n"
    }

    /// Several plots one above the other in one SVG picture (panels sharing a story, e.g.
    /// collapse above, restoring below); each keeps its own title, axes and legend.
    public static func stack(_ panels: [SVGPlot]) -> String {
        let legend = panels.map { p in (p.series.map { $0.name.count + 10 } + p.references.map(\.label.count)).max() ?? 0 }.max() ?? 0
        let panels = panels.map { p in var p = p; p.minimumLegendCharacters = legend; return p }
        var parts: [String] = []
        var y = 0, width = 0
        for (k, panel) in panels.enumerated() {
            let (L, body) = panel.body(clipID: k == 0 ? "plot-area" : "plot-area-\(k)")
            parts.append("<g transform=\"translate(0 \(y))\">\n" + body + "</g>\n")
            y += L.height
            width = max(width, L.width)
        }
        return header(width: width, height: max(y, 1)) + parts.joined() + "</svg>\n"
    }

    static func header(width: Int, height: Int) -> String {
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
        s += "viewBox=\"0 0 \(width) \(height)\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        return s
    }

    /// Everything inside `<svg>`: background, axes, data, legend.
    func body(clipID: String) -> (Layout, String) {
        let L = layout()
        var s = "<rect width=\"\(L.width)\" height=\"\(L.height)\" fill=\"#ffffff\"/>\n"
        let (x0, x1, y0, y1) = (L.left, L.right, L.top, L.bottom)
        s += "<defs><clipPath id=\"\(clipID)\"><rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(x1 - x0))\" height=\"\(f(y1 - y0))\"/></clipPath></defs>\n"
        if !title.isEmpty {
            // A long title (one that names its configuration) moves right to stay inside the
            // picture, and shrinks (down to 9 px) if it is wider than the picture.
            let estimate = Self.titleChar * Double(title.count)
            let room = Double(L.width) - 16
            let size = estimate > room ? max(9, 15 * room / estimate) : 15
            let half = estimate * size / 15 / 2
            let cx = min(max((x0 + x1) / 2, 8 + half), Double(L.width) - 8 - half)
            s += "<text class=\"title\" x=\"\(f(cx))\" y=\"24\" text-anchor=\"middle\" font-size=\"\(size == 15 ? "15" : f(size))\">\(Self.escape(title))</text>\n"
        }
        if let xr = L.xr, let yr = L.yr {
            for t in Self.ticks(xr, log: xIsLog10, count: 7) {
                let x = L.px(t.value)
                s += "<line x1=\"\(f(x))\" y1=\"\(f(y0))\" x2=\"\(f(x))\" y2=\"\(f(y1 + 5))\" stroke=\"#e0e0e0\"/>\n"
                s += "<text class=\"tick x\" x=\"\(f(x))\" y=\"\(f(y1 + 19))\" text-anchor=\"middle\">\(Self.tickMarkup(t))</text>\n"
            }
            for t in Self.ticks(yr, log: yIsLog10, count: 6) {
                let y = L.py(t.value)
                s += "<line x1=\"\(f(x0 - 5))\" y1=\"\(f(y))\" x2=\"\(f(x1))\" y2=\"\(f(y))\" stroke=\"#e0e0e0\"/>\n"
                s += "<text class=\"tick y\" x=\"\(f(x0 - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.tickMarkup(t))</text>\n"
            }
            func clamp(_ v: Double) -> Double { min(max(v, -1e5), 1e5) }
            s += bandsMarkup(L, clipID: clipID)
            s += "<g clip-path=\"url(#\(clipID))\" fill=\"none\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n"
            for (k, sr) in series.enumerated() {
                var d = "", open = false, run = 0
                for (x, y) in sr.points {
                    guard x.isFinite && y.isFinite else { if run == 1 { d += " h0" }; open = false; run = 0; continue }
                    d += (d.isEmpty ? "" : " ") + (open ? "L" : "M") + "\(f(clamp(L.px(x)))) \(f(clamp(L.py(y))))"
                    open = true; run += 1
                }
                if run == 1 { d += " h0" }
                guard !d.isEmpty else { continue }
                let st = Self.style(forSeriesAt: k)
                s += "<path class=\"series\" stroke=\"\(st.color)\"" + (st.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")
                s += " d=\"\(d)\"><title>\(Self.escape(sr.name))</title></path>\n"
            }
            s += "</g>\n"
            s += referencesMarkup(L, clipID: clipID)
        } else {
            s += "<text x=\"\(f((x0 + x1) / 2))\" y=\"\(f((y0 + y1) / 2))\" text-anchor=\"middle\">"
            s += "(no data to plot: every series is empty or non-finite)</text>\n"
        }
        s += "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(x1 - x0))\" height=\"\(f(y1 - y0))\" fill=\"none\" stroke=\"#333333\"/>\n"
        if !xLabel.isEmpty {
            s += "<text class=\"label x\" x=\"\(f((x0 + x1) / 2))\" y=\"\(f(y1 + 40))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        }
        if !yLabel.isEmpty {
            let cy = (y0 + y1) / 2
            s += "<text class=\"label y\" x=\"16\" y=\"\(f(cy))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(cy)))\">\(Self.escape(yLabel))</text>\n"
        }
        for (k, sr) in series.enumerated() {
            let st = Self.style(forSeriesAt: k)
            let y = y0 + 10 + Double(k) * Self.lineHeight
            s += "<line x1=\"\(f(x1 + 12))\" y1=\"\(f(y))\" x2=\"\(f(x1 + 38))\" y2=\"\(f(y))\" stroke=\"\(st.color)\" stroke-width=\"2\""
            s += (st.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>\n"
            var name = sr.name + (sr.points.contains { $0.0.isFinite && $0.1.isFinite } ? "" : " (no data)")
            if name.count > maxLegendChars { name = String(name.prefix(maxLegendChars - 1)) + "…" }
            s += "<text class=\"legend\" x=\"\(f(x1 + 44))\" y=\"\(f(y + 4))\">\(Self.escape(name))</text>\n"
        }
        for (k, line) in notes.enumerated() {
            s += "<desc>\(Self.escape(line))</desc>\n"
            s += "<text class=\"note\" x=\"12\" y=\"\(f(y1 + (xLabel.isEmpty ? 30 : 50) + 12 + Double(k) * 15))\" font-size=\"10\" fill=\"#444444\">\(Self.escape(line))</text>\n"
        }
        for (k, r) in references.enumerated() {
            let y = y0 + 10 + Double(series.count + k) * Self.lineHeight
            s += "<line x1=\"\(f(x1 + 12))\" y1=\"\(f(y))\" x2=\"\(f(x1 + 38))\" y2=\"\(f(y))\" stroke=\"\(Self.referenceColor)\" stroke-width=\"1.5\""
            s += " stroke-dasharray=\"\(Self.referenceDashes[k % Self.referenceDashes.count])\"/>\n"
            var name = r.label
            if name.count > maxLegendChars { name = String(name.prefix(maxLegendChars - 1)) + "…" }
            s += "<text class=\"legend reference\" x=\"\(f(x1 + 44))\" y=\"\(f(y + 4))\">\(Self.escape(name))</text>\n"
        }
        return (L, s)
    }

    /// The bands as filled paths (upper bound left to right, lower bound back), split where
    /// a bound is not finite.
    func bandsMarkup(_ L: Layout, clipID: String) -> String {
        guard !bands.isEmpty else { return "" }
        func clamp(_ v: Double) -> Double { min(max(v, -1e5), 1e5) }
        var s = "<g clip-path=\"url(#\(clipID))\" stroke=\"none\" fill-opacity=\"0.18\">\n"
        for band in bands {
            var runs: [[(x: Double, low: Double, high: Double)]] = [[]]
            for p in band.points {
                if p.x.isFinite && p.low.isFinite && p.high.isFinite { runs[runs.count - 1].append(p) }
                else if !(runs.last?.isEmpty ?? true) { runs.append([]) }
            }
            var d = ""
            for run in runs where run.count >= 2 {
                let upper = run.map { "\(f(clamp(L.px($0.x)))) \(f(clamp(L.py($0.high))))" }
                let lower = run.reversed().map { "\(f(clamp(L.px($0.x)))) \(f(clamp(L.py($0.low))))" }
                d += (d.isEmpty ? "" : " ") + "M" + upper.joined(separator: " L") + " L" + lower.joined(separator: " L") + " Z"
            }
            guard !d.isEmpty else { continue }
            let color = Self.style(forSeriesAt: max(0, band.seriesIndex)).color
            s += "<path class=\"band\" fill=\"\(color)\" d=\"\(d)\"/>\n"
        }
        return s + "</g>\n"
    }

    /// The reference lines across the plotting area (clipped).
    func referencesMarkup(_ L: Layout, clipID: String) -> String {
        guard !references.isEmpty, let xr = L.xr, let yr = L.yr else { return "" }
        var s = "<g clip-path=\"url(#\(clipID))\" fill=\"none\" stroke=\"\(Self.referenceColor)\" stroke-width=\"1.5\">\n"
        for (k, r) in references.enumerated() {
            let a: (Double, Double), b: (Double, Double)
            switch r.shape {
            case .vertical(let x): a = (x, yr.lowerBound); b = (x, yr.upperBound)
            case .horizontal(let y): a = (xr.lowerBound, y); b = (xr.upperBound, y)
            case .line(let slope, let intercept):
                a = (xr.lowerBound, intercept + slope * xr.lowerBound); b = (xr.upperBound, intercept + slope * xr.upperBound)
            }
            guard a.0.isFinite, a.1.isFinite, b.0.isFinite, b.1.isFinite else { continue }
            func clamp(_ v: Double) -> Double { min(max(v, -1e5), 1e5) }
            s += "<path class=\"reference\" stroke-dasharray=\"\(Self.referenceDashes[k % Self.referenceDashes.count])\" "
            s += "d=\"M\(f(clamp(L.px(a.0)))) \(f(clamp(L.py(a.1)))) L\(f(clamp(L.px(b.0)))) \(f(clamp(L.py(b.1))))\">"
            s += "<title>\(Self.escape(r.label))</title></path>\n"
        }
        return s + "</g>\n"
    }

    // MARK: Helpers (internal for tests)

    /// A tick: where it goes (in the axis' own units) and its label; `power` marks
    /// a label drawn as 10 with `label` as exponent.
    struct Tick: Equatable { var value: Double; var label: String; var power: Bool }

    /// Ticks for `r`: powers of ten for a log axis spanning at least one decade,
    /// nice linear values otherwise (about `count` of them).
    static func ticks(_ r: ClosedRange<Double>, log: Bool, count: Int) -> [Tick] {
        if log {
            var step = 1.0
            for m in 0..<400 {
                step = [1.0, 2, 5][m % 3] * Foundation.pow(10, Double(m / 3))
                if ((r.upperBound / step).rounded(.down) - (r.lowerBound / step).rounded(.up)) < Double(count) { break }
            }
            let first = (r.lowerBound / step).rounded(.up), last = (r.upperBound / step).rounded(.down)
            // Powers of ten with integer exponents only while they are few (a span beyond
            // 10^133 decades left the loop with ~1e17 ticks: a hang) and the exponents fit
            // an Int (`Int(k * step)` trapped from 1e19 decades); else the linear ticks below.
            if last > first && step.isFinite && last - first < Double(count)
                && Swift.max(Swift.abs(first * step), Swift.abs(last * step)) < 1e15 {
                return stride(from: first, through: last, by: 1).map { k in
                    Tick(value: k * step, label: minus(String(Int(k * step))), power: true)
                }
            }
        }
        let (values, exponent) = ASCIIPlot.ticks(r, count: count)
        return zip(values, ASCIIPlot.labels(values, exponent: exponent)).map { Tick(value: $0, label: minus($1), power: log) }
    }

    static func tickMarkup(_ t: Tick) -> String {
        t.power ? "10<tspan dy=\"-0.5em\" font-size=\"9\">\(escape(t.label))</tspan>" : escape(t.label)
    }

    static func textWidth(_ label: String) -> Double { char * Double(label.count) + 14 }

    /// Hyphen-minus → U+2212 minus sign, as typeset.
    static func minus(_ s: String) -> String { s.replacingOccurrences(of: "-", with: "\u{2212}") }

    /// Two decimals, without a negative zero.
    func f(_ x: Double) -> String {
        let s = String(format: "%.2f", x)
        return s == "-0.00" ? "0.00" : s
    }

    /// `s` with `& < > " '` escaped and characters XML 1.0 forbids removed.
    static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                let v = u.value
                if v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D { continue }
                if v == 0xFFFE || v == 0xFFFF { continue }
                out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
