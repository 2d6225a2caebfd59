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
///   ``dashes``[(i / 8) mod 4]: solid for the first 8 series, then dashed, …
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
    public static let dashes: [String?] = [nil, "8 4", "2 3", "9 3 2 3"]

    /// The colour and dash pattern of series `index`.
    public static func style(forSeriesAt index: Int) -> (color: String, dash: String?) {
        (palette[index % palette.count], dashes[(index / palette.count) % dashes.count])
    }

    /// The plotting area in pixels, and the data ranges mapped onto it.
    struct Layout {
        var left, top, right, bottom: Double
        var width, height: Int
        var xr, yr: ClosedRange<Double>?
        func px(_ x: Double) -> Double { left + ASCIIPlot.fraction(x, xr!) * (right - left) }
        func py(_ y: Double) -> Double { bottom - ASCIIPlot.fraction(y, yr!) * (bottom - top) }
    }

    static let char = 7.0, lineHeight = 18.0  // approximate glyph width and legend row height at 12 px

    /// Legend names are cut to this many characters, so the legend takes at most ~35% of the width.
    var maxLegendChars: Int { max(8, Int((Double(width) * 0.35 - 44) / Self.char)) }

    func layout() -> Layout {
        let finite = series.flatMap { $0.points.filter { $0.0.isFinite && $0.1.isFinite } }
        let xr = ASCIIPlot.padded(xRange ?? finite.lazy.map(\.0).min().map { $0 ... finite.lazy.map(\.0).max()! })
        let yr = ASCIIPlot.padded(yRange ?? finite.lazy.map(\.1).min().map { $0 ... finite.lazy.map(\.1).max()! })
        let yLabelWidth = yr.map { Self.ticks($0, log: yIsLog10, count: 6).map { Self.textWidth($0.label) }.max() ?? 0 } ?? 0
        let legendWidth = 44 + Self.char * Double(min(maxLegendChars, series.map { $0.name.count + 10 }.max() ?? 0))
        let top = title.isEmpty ? 16.0 : 40.0
        let h = max(height, Int(top + Double(series.count) * Self.lineHeight + 60))
        return Layout(left: (yLabel.isEmpty ? 12 : 34) + yLabelWidth + 10, top: top,
                      right: Double(width) - 12 - (series.isEmpty ? 0 : legendWidth),
                      bottom: Double(h) - (xLabel.isEmpty ? 30 : 50), width: width, height: h, xr: xr, yr: yr)
    }

    /// The picture as SVG text (UTF-8, ends with a newline).
    public func render() -> String {
        let L = layout()
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(L.width)\" height=\"\(L.height)\" "
        s += "viewBox=\"0 0 \(L.width) \(L.height)\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"\(L.width)\" height=\"\(L.height)\" fill=\"#ffffff\"/>\n"
        let (x0, x1, y0, y1) = (L.left, L.right, L.top, L.bottom)
        s += "<defs><clipPath id=\"plot-area\"><rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(x1 - x0))\" height=\"\(f(y1 - y0))\"/></clipPath></defs>\n"
        if !title.isEmpty {
            s += "<text class=\"title\" x=\"\(f((x0 + x1) / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">\(Self.escape(title))</text>\n"
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
            s += "<g clip-path=\"url(#plot-area)\" fill=\"none\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n"
            for (k, sr) in series.enumerated() {
                var d = "", open = false, run = 0
                func clamp(_ v: Double) -> Double { min(max(v, -1e5), 1e5) }
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
        s += "</svg>\n"
        return s
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
            if last > first && step.isFinite {
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
