import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Formats

/// An element of a parsed SVG: name, attributes, children and its own text.
final class XMLNode {
    let name: String
    let attributes: [String: String]
    var children: [XMLNode] = []
    var text = ""
    init(name: String, attributes: [String: String]) { self.name = name; self.attributes = attributes }

    /// Its text with that of all descendants, in document order.
    var allText: String { text + children.map(\.allText).joined() }
    /// Every descendant (and itself) in document order.
    var all: [XMLNode] { [self] + children.flatMap(\.all) }
    func elements(_ name: String, class cls: String? = nil) -> [XMLNode] {
        all.filter { $0.name == name && (cls == nil || ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(cls!))) }
    }
}

/// Parses XML with Foundation's XMLParser; throws if it is not well-formed.
final class XMLTree: NSObject, XMLParserDelegate {
    private var stack: [XMLNode] = [XMLNode(name: "#document", attributes: [:])]

    static func parse(_ text: String) throws -> XMLNode {
        let parser = XMLParser(data: Data(text.utf8))
        let tree = XMLTree()
        parser.delegate = tree
        guard parser.parse() else {
            throw PNGImage.DecodeError(description: "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
        }
        return tree.stack[0].children[0]
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        let node = XMLNode(name: name, attributes: attributes)
        stack.last!.children.append(node)
        stack.append(node)
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { stack.last!.text += string }
}

@Suite("SVG plots")
struct SVGPlotTests {
    static let diagonal = SVGPlot(
        title: "t", xLabel: "x (units)", yLabel: "y (units)",
        series: [(name: "diag", points: [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (.nan, 5), (6, 6), (7, 7), (8, 8), (9, 9), (10, 10)])])

    @Test func wellFormedWithOnePathPerNonEmptySeriesAndEscapedText() throws {
        let plot = SVGPlot(title: "DPO <vs> spo & \"friends\" 'quoted'", xLabel: "log10 pi_l (nats)", yLabel: "|dl/dpi| (per unit)",
                           series: [(name: "sigmoid", points: [(0, 1), (1, 2), (2, 4)]),
                                    (name: "empty", points: []),
                                    (name: "all NaN", points: [(.nan, 1), (1, .infinity)]),
                                    (name: "a<b&c", points: [(0, 3), (2, 0)])])
        let svg = plot.render()
        let root = try XMLTree.parse(svg)
        #expect(root.name == "svg")
        #expect(root.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        let paths = root.elements("path", class: "series")
        #expect(paths.count == 2)
        #expect(paths.map { $0.allText } == ["sigmoid", "a<b&c"])
        #expect(root.elements("text", class: "legend").map(\.allText) == ["sigmoid", "empty (no data)", "all NaN (no data)", "a<b&c"])
        #expect(root.elements("text", class: "title").first?.allText == "DPO <vs> spo & \"friends\" 'quoted'")
        #expect(root.elements("text", class: "label").map(\.allText) == ["log10 pi_l (nats)", "|dl/dpi| (per unit)"])
        #expect(svg.contains("&lt;vs&gt;") && svg.contains("&amp;"))
        // Control characters that XML forbids are dropped, not written.
        let bad = SVGPlot(title: "a\u{01}b", xLabel: "", yLabel: "", series: [(name: "s\u{1B}", points: [(0, 0), (1, 1)])])
        #expect(try XMLTree.parse(bad.render()).elements("text", class: "title").first?.allText == "ab")
    }

    @Test func logAxesHaveTicksAtPowersOfTen() throws {
        let plot = SVGPlot(title: "", xLabel: "pi_l", yLabel: "|g|",
                           series: [(name: "dpo", points: [(-400, 360), (-1, 0)])], xIsLog10: true, yIsLog10: true)
        let root = try XMLTree.parse(plot.render())
        let xTicks = root.elements("text", class: "x").filter { $0.attributes["class"]!.hasPrefix("tick") }
        let yTicks = root.elements("text", class: "y").filter { $0.attributes["class"]!.hasPrefix("tick") }
        // "10" with the exponent raised in a tspan; U+2212 minus signs.
        #expect(xTicks.map { $0.text } == Array(repeating: "10", count: 4))
        #expect(xTicks.map { $0.children.first?.text } == ["\u{2212}400", "\u{2212}300", "\u{2212}200", "\u{2212}100"])
        #expect(xTicks.allSatisfy { $0.children.first?.name == "tspan" && $0.children.first?.attributes["dy"] == "-0.5em" })
        #expect(yTicks.map { $0.allText } == ["100", "10100", "10200", "10300"])
        // Tick positions: 10^-400 sits on the left edge of the plot, 10^-100 at 300/399 of the width.
        let L = plot.layout()
        #expect(xTicks.first?.attributes["x"] == plot.f(L.left))
        #expect(xTicks.last?.attributes["x"] == plot.f(L.left + 300.0 / 399.0 * (L.right - L.left)))
        // A decade-spanning axis with few decades ticks every decade.
        let few = SVGPlot.ticks(-3.5 ... 0.2, log: true, count: 6)
        #expect(few.map(\.value) == [-3, -2, -1, 0] && few.allSatisfy(\.power))
        // Less than a decade: linear ticks on the exponent, still drawn as powers of ten.
        let narrow = SVGPlot.ticks(0.1 ... 0.9, log: true, count: 6)
        #expect(narrow.count >= 3 && narrow.allSatisfy(\.power) && narrow.contains { $0.label == "0.4" })
    }

    @Test func linearAxesHaveNiceTicks() throws {
        let root = try XMLTree.parse(Self.diagonal.render())
        let ticks = root.elements("text").filter { ($0.attributes["class"] ?? "").hasPrefix("tick") }
        #expect(ticks.allSatisfy { $0.children.isEmpty })
        let x = ticks.filter { $0.attributes["class"] == "tick x" }.map(\.text)
        let y = ticks.filter { $0.attributes["class"] == "tick y" }.map(\.text)
        #expect(x == ["0", "2", "4", "6", "8", "10"])
        #expect(y == ["0", "2", "4", "6", "8", "10"])
        #expect(SVGPlot.ticks(-1 ... 1, log: false, count: 5).map(\.label) == ["\u{2212}1", "\u{2212}0.5", "0", "0.5", "1"])
    }

    @Test func nonFinitePointsBreakTheLine() throws {
        let d = try #require(XMLTree.parse(Self.diagonal.render()).elements("path", class: "series").first?.attributes["d"])
        #expect(d.filter { $0 == "M" }.count == 2)
        #expect(d.filter { $0 == "L" }.count == 8)
        // Coordinates have exactly two decimals.
        let numbers = d.split(whereSeparator: { $0 == " " || $0 == "M" || $0 == "L" }).filter { !$0.isEmpty }
        #expect(numbers.count == 20 && numbers.allSatisfy { $0.wholeMatch(of: /-?\d+\.\d\d/) != nil })
        // An isolated point is drawn as a dot: a zero-length segment with round caps.
        let lone = SVGPlot(title: "", xLabel: "", yLabel: "", series: [(name: "s", points: [(0, 0), (.nan, 0), (1, 1), (.nan, 0), (2, 0), (3, 1)])])
        let dd = try #require(XMLTree.parse(lone.render()).elements("path", class: "series").first?.attributes["d"])
        #expect(dd.components(separatedBy: "h0").count == 3)  // after (0, 0) and after (1, 1)
    }

    /// Series differ in colour and dash pattern together (issue 14: sigmoid, sppo_hard and
    /// spo, series 0, 8 and 16, were all blue): the first 5 differ in both, the first 40 in
    /// the (colour, dash) pair; the legend's samples match the lines.
    @Test func coloursAndDashesDiffer() throws {
        let series = (0..<40).map { k in (name: "s\(k)", points: [(0.0, Double(k)), (1.0, Double(k) + 1)]) }
        let root = try XMLTree.parse(SVGPlot(title: "", xLabel: "", yLabel: "", series: series).render())
        let paths = root.elements("path", class: "series")
        #expect(paths.count == 40)
        func style(_ p: XMLNode) -> String { (p.attributes["stroke"] ?? "?") + " " + (p.attributes["stroke-dasharray"] ?? "solid") }
        #expect(Set(paths.map(style)).count == 40)
        #expect(Set(paths.prefix(8).map { $0.attributes["stroke"] ?? "?" }).count == 8)
        #expect(Set(paths.prefix(5).map { $0.attributes["stroke-dasharray"] ?? "solid" }).count == 5)
        #expect(style(paths[0]) != style(paths[8]) && style(paths[0]) != style(paths[16]) && style(paths[8]) != style(paths[16]))
        let samples = root.elements("line").filter { $0.attributes["stroke-width"] == "2" }
        #expect(samples.map(style) == paths.map(style))
    }

    /// A long title stays inside the picture: moved right, and shrunk when wider than it.
    @Test func longTitlesStayInside() throws {
        for n in [40, 80, 120] {
            let title = String(repeating: "m", count: n)
            let svg = SVGPlot(title: title, xLabel: "x", yLabel: "y", series: [(name: "a series name", points: [(0, 0), (1, 1)])]).render()
            let t = try #require(XMLTree.parse(svg).elements("text", class: "title").first)
            let x = try #require(Double(t.attributes["x"] ?? ""))
            let size = try #require(Double(t.attributes["font-size"] ?? ""))
            let half = SVGPlot.titleChar * Double(n) * size / 15 / 2
            #expect(x - half >= 7.5 && x + half <= 720 - 7.5, "\(n): x \(x), size \(size)")
        }
    }

    /// Bands fill mean ± half-width in the series' colour, split at a non-finite bound, and
    /// widen the y range; references and notes are drawn and listed.
    @Test func bandsReferencesNotesAndPanels() throws {
        var plot = SVGPlot(title: "t", xLabel: "x", yLabel: "y", series: [(name: "a", points: [(0, 1), (1, 2), (2, 3), (3, 4)])])
        plot.bands = [SVGPlot.Band(seriesIndex: 0, points: [(0, 0, 2), (1, 1, 3), (2, .nan, 4), (3, 3, 5)])]
        plot.references = [.init("slope one", .line(slope: 1, intercept: 1)), .init("x = 1", .vertical(x: 1))]
        plot.notes = ["values below 0 are drawn as 0"]
        let svg = plot.render()
        let root = try XMLTree.parse(svg)
        let bands = root.elements("path", class: "band")
        #expect(bands.count == 1)
        #expect(bands.first?.attributes["fill"] == SVGPlot.palette[0])
        // One polygon: the two points before the NaN bound (the last point alone is no area).
        #expect(bands.first?.attributes["d"]?.filter { $0 == "Z" }.count == 1)
        #expect(plot.layout().yr == 0...5)
        #expect(root.elements("path", class: "reference").count == 2)
        #expect(svg.contains("slope one") && svg.contains("x = 1"))
        #expect(svg.contains("<desc>values below 0 are drawn as 0</desc>"))
        // Two panels in one picture, with distinct clip paths.
        let stacked = SVGPlot.stack([plot, plot])
        let both = try XMLTree.parse(stacked)
        #expect(both.elements("path", class: "series").count == 2)
        #expect(stacked.contains("id=\"plot-area\"") && stacked.contains("id=\"plot-area-1\""))
    }

    @Test func outputIsDeterministicAndHandlesNoData() throws {
        #expect(Self.diagonal.render() == Self.diagonal.render())
        let empty = SVGPlot(title: "nothing", xLabel: "x", yLabel: "y", series: [(name: "e", points: [(.nan, .nan)])])
        let svg = empty.render()
        #expect(svg.contains("no data to plot"))
        #expect(try XMLTree.parse(svg).elements("path").isEmpty)
        // A long legend makes the picture taller rather than overflowing.
        let many = (0..<40).map { (name: "series \($0)", points: [(0.0, 0.0), (1.0, 1.0)]) }
        let tall = SVGPlot(title: "", xLabel: "", yLabel: "", series: many)
        #expect(tall.layout().height > 450)
        #expect(try XMLTree.parse(tall.render()).attributes["height"] == String(tall.layout().height))
    }

    /// Renders with rsvg-convert and checks the pixels: white background, the
    /// series' colour along the diagonal (bottom-left to top-right of the plotting
    /// area), nothing in the NaN gap or off the diagonal.
    @Test(.enabled(if: RSVG.shouldRun, "rsvg-convert not found (install librsvg2-bin: scripts/bootstrap.sh)"))
    func renderedPNGShowsTheLineWhereTheDataIs() throws {
        let plot = Self.diagonal
        let image = try RSVG.render(plot.render())
        let L = plot.layout()
        #expect(image.width == L.width && image.height == L.height)
        for (x, y) in [(1, 1), (image.width - 2, 1), (1, image.height - 2), (image.width - 2, image.height - 2),
                       (Int(L.left) + 30, Int(L.top) + 10), (Int(L.right) - 10, Int(L.bottom) - 30)] {
            #expect(image.pixel(x, y, isNear: "#FFFFFF", tolerance: 0), "pixel (\(x), \(y)) is \(image.pixel(x, y)), not white")
        }
        let colour = SVGPlot.palette[0]
        /// Rows in column `px` (inside the plotting area) that show the series' colour.
        func hits(column px: Int) -> [Int] {
            (Int(L.top) + 2 ..< Int(L.bottom) - 1).filter { image.pixel(px, $0, isNear: colour) }
        }
        var checked = 0
        for xData in stride(from: 0.3, through: 9.7, by: 0.2) {
            let px = Int(L.px(xData).rounded())
            let found = hits(column: px)
            if xData > 4.15 && xData < 5.85 {
                #expect(found.isEmpty, "the NaN gap at x = \(xData) shows the line at rows \(found)")
            } else if xData < 3.9 || xData > 6.1 {
                let expected = L.py(xData)
                #expect(!found.isEmpty, "no line at x = \(xData)")
                #expect(found.allSatisfy { abs(Double($0) - expected) <= 3 }, "x = \(xData): rows \(found), expected ~\(expected)")
                checked += 1
            }
        }
        #expect(checked > 30)
        // The maximum lands in the top-right corner of the plotting area.
        let corner = (Int(L.right) - 6 ..< Int(L.right) - 1).flatMap { x in (Int(L.top) + 1 ..< Int(L.top) + 6).map { (x, $0) } }
        #expect(corner.contains { image.pixel($0.0, $0.1, isNear: colour) })
        // Off the diagonal (more than 12 px away from it), no series pixels.
        var stray = 0
        for x in stride(from: Int(L.left) + 3, to: Int(L.right) - 3, by: 2) {
            for y in stride(from: Int(L.top) + 3, to: Int(L.bottom) - 3, by: 2) {
                let offDiagonal = abs(Double(y) - L.py((Double(x) - L.left) / (L.right - L.left) * 10)) > 12
                if offDiagonal && image.pixel(x, y, isNear: colour) { stray += 1 }
            }
        }
        #expect(stray == 0)
    }

    /// A log-log figure like `report gradients`' renders, with distinct colours for two series.
    @Test(.enabled(if: RSVG.shouldRun, "rsvg-convert not found (install librsvg2-bin: scripts/bootstrap.sh)"))
    func renderedLogLogFigureShowsBothSeries() throws {
        let grid = stride(from: -1.0, through: -400, by: -3.0).map { $0 }
        let plot = SVGPlot(title: "|dl/dpi_l|", xLabel: "pi_l", yLabel: "|dl/dpi_l|",
                           series: [(name: "sigmoid", points: grid.map { ($0, -0.9 * $0) }),
                                    (name: "spo", points: grid.map { ($0, -1.0 * $0 + 1) })],
                           xIsLog10: true, yIsLog10: true)
        let image = try RSVG.render(plot.render())
        let L = plot.layout()
        // Near the left edge (pi_l = 1e-390) both lines are present, spo above sigmoid.
        let px = Int(L.px(-390).rounded())
        let blue = (Int(L.top) ..< Int(L.bottom)).filter { image.pixel(px, $0, isNear: SVGPlot.palette[0]) }
        let red = (Int(L.top) ..< Int(L.bottom)).filter { image.pixel(px, $0, isNear: SVGPlot.palette[1]) }
        #expect(!blue.isEmpty && !red.isEmpty)
        if let b = blue.first, let r = red.first { #expect(r < b) }
        // The legend shows both colours to the right of the plotting area.
        let legendRed = (Int(L.right) + 12 ..< Int(L.right) + 38).contains { x in
            (Int(L.top) ..< Int(L.top) + 40).contains { image.pixel(x, $0, isNear: SVGPlot.palette[1]) }
        }
        #expect(legendRed)
    }
}
