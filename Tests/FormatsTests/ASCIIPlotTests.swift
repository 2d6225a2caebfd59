import Testing
@testable import Formats

/// The plotting area of a rendered plot (title and y label present), as
/// rows of Characters padded to the plot width, plus the tick labels.
private struct Parsed {
    var grid: [[Character]]
    var yTickLabels: [String]
    var lines: [String]

    init(_ text: String, plot: ASCIIPlot) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let rows = lines[2 ..< 2 + plot.height]
        let bar = rows.first!.firstIndex(of: "|")!
        let labelWidth = rows.first!.distance(from: rows.first!.startIndex, to: bar) - 1
        let plotW = plot.width - labelWidth - 2
        grid = rows.map { line in
            var cells = Array(line.dropFirst(labelWidth + 2))
            cells += Array(repeating: " ", count: plotW - cells.count)
            return cells
        }
        yTickLabels = rows.map { String($0.prefix(labelWidth)).trimmingSpaces() }
    }

    func count(of marker: Character) -> Int { grid.joined().filter { $0 == marker }.count }
}

private extension String {
    func trimmingSpaces() -> String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}

@Suite("ASCII plots")
struct ASCIIPlotTests {
    let basic = ASCIIPlot(title: "loss vs step", xLabel: "step", yLabel: "log10 loss",
                          series: [(name: "alpha", points: [(0, 0), (5, 50), (10, 100)]),
                                   (name: "beta", points: [(0, 100), (10, 0)])],
                          connectPoints: false)

    @Test func extremesLandInTheCorners() {
        let text = basic.render()
        let p = Parsed(text, plot: basic)
        #expect(p.lines[0] == "loss vs step")
        #expect(p.lines[1] == "log10 loss")
        #expect(p.grid.count == 20)
        #expect(p.grid[19].first == "*")  // alpha's minimum: bottom-left
        #expect(p.grid[0].last == "*")    // alpha's maximum: top-right
        #expect(p.grid[0].first == "+")   // beta's start: top-left
        #expect(p.grid[19].last == "+")   // beta's end: bottom-right
        // (5, 50): middle column, middle row (19 * 0.5 = 9.5 rounds away from zero → 10 from the bottom).
        let mid = Int((Double(p.grid[0].count - 1) * 0.5).rounded())
        #expect(p.grid[9][mid] == "*")
        #expect(p.count(of: "*") == 3 && p.count(of: "+") == 2)
        // Nice y ticks: 0, 20, …, 100; top and bottom rows carry the extremes.
        #expect(p.yTickLabels.first == "100")
        #expect(p.yTickLabels.last == "0")
        #expect(p.yTickLabels.filter { !$0.isEmpty } == ["100", "80", "60", "40", "20", "0"])
        #expect(text.contains("Legend: * alpha   + beta"))
        #expect(text.hasSuffix("\n"))
    }

    @Test func xAxisTicksAndLabel() {
        let lines = basic.render().split(separator: "\n").map(String.init)
        let axis = lines[22], ticks = lines[23], label = lines[24]
        #expect(axis.hasPrefix("    ++"))  // corner, then the tick at x = 0
        #expect(axis.hasSuffix("+"))       // tick at x = 10
        #expect(ticks.split(separator: " ") == ["0", "2", "4", "6", "8", "10"])
        #expect(ticks.hasSuffix("10"))
        #expect(label.trimmingSpaces() == "step")
    }

    @Test func everyLineFitsTheWidth() {
        for width in [78, 50, 24] {
            var many: [(name: String, points: [(Double, Double)])] = []
            for k in 0..<20 {
                var points: [(Double, Double)] = []
                for i in 0..<30 { points.append((Double(i), Double(k) * 1e6 + Double(i * i))) }
                many.append((name: "series number \(k) with a long descriptive name", points: points))
            }
            let plot = ASCIIPlot(title: String(repeating: "T", count: 100), xLabel: "x", yLabel: "y",
                                 series: many, width: width)
            let text = plot.render()
            for line in text.split(separator: "\n") {
                #expect(line.count <= width, "\(line.count) > \(width): \(line)")
            }
            // All 20 markers appear in the legend, and they are distinct.
            let markers = (0..<20).map(ASCIIPlot.marker(forSeriesAt:))
            #expect(Set(markers).count == 20)
            for m in markers { #expect(text.contains(String(m) + " series number")) }
        }
    }

    @Test func deterministic() {
        #expect(basic.render() == basic.render())
        let copy = basic
        #expect(copy.render() == basic.render())
    }

    @Test func nonFinitePointsAreSkipped() {
        var noisy = basic
        noisy.series[0].points += [(.nan, 1), (3, .infinity), (-.infinity, 2), (4, -.nan)]
        noisy.series.append((name: "empty", points: [(.nan, .nan)]))
        let text = noisy.render()
        var expected = basic
        expected.series.append((name: "empty", points: []))
        #expect(text == expected.render())
    }

    @Test func noDataGivesAMessage() {
        let plot = ASCIIPlot(title: "nothing", xLabel: "x", yLabel: "y",
                             series: [(name: "a", points: [(.nan, 1)]), (name: "b", points: [])])
        #expect(plot.render() == "nothing\n(no data to plot: every series is empty, non-finite or out of range)\n")
        let none = ASCIIPlot(title: "", xLabel: "x", yLabel: "y", series: [])
        #expect(none.render().contains("no data"))
    }

    @Test func constantValuesArePadded() {
        let plot = ASCIIPlot(title: "flat", xLabel: "x", yLabel: "y",
                             series: [(name: "c", points: [(1, 5), (2, 5), (3, 5)])], height: 21)
        let p = Parsed(plot.render(), plot: plot)
        #expect(p.count(of: "*") == p.grid[0].count)  // connected along the middle row
        #expect(p.grid[10].allSatisfy { $0 == "*" })
        #expect(p.yTickLabels[10] == "5")
    }

    @Test func laterSeriesWinsOverlaps() {
        let plot = ASCIIPlot(title: "t", xLabel: "x", yLabel: "y",
                             series: [(name: "first", points: [(0, 0), (1, 1)]),
                                      (name: "second", points: [(1, 1)])],
                             connectPoints: false)
        let p = Parsed(plot.render(), plot: plot)
        #expect(p.grid[0].last == "+")
        #expect(p.grid[19].first == "*")
    }

    @Test func connectingDrawsALine() {
        let plot = ASCIIPlot(title: "t", xLabel: "x", yLabel: "y",
                             series: [(name: "d", points: [(0, 0), (1, 1)])], height: 10)
        let p = Parsed(plot.render(), plot: plot)
        let plotW = p.grid[0].count
        #expect(p.count(of: "*") == plotW)  // one cell per column along the diagonal
        for r in 0..<10 { #expect(p.grid[r].contains("*"), "row \(r) empty") }
        let scatter = ASCIIPlot(title: "t", xLabel: "x", yLabel: "y",
                                series: [(name: "d", points: [(0, 0), (1, 1)])], height: 10, connectPoints: false)
        #expect(Parsed(scatter.render(), plot: scatter).count(of: "*") == 2)
    }

    @Test func explicitRangesClip() {
        let plot = ASCIIPlot(title: "t", xLabel: "x", yLabel: "y",
                             series: [(name: "d", points: [(0, 0), (5, 5), (20, 20)])],
                             xRange: 0 ... 10, yRange: 0 ... 10, connectPoints: false)
        let p = Parsed(plot.render(), plot: plot)
        #expect(p.count(of: "*") == 2)
        #expect(p.grid[19].first == "*")
        #expect(p.yTickLabels.first == "10")
    }

    @Test(arguments: [
        [(-1e308, -1.7e308), (1.7e308, 1e308)],                  // span overflows Double
        [(1_000_000.1, 1_000_000.1), (1_000_000.2, 1_000_000.2)],  // tiny span, long labels
        [(-3e-7, -300), (-1e-7, -100)],
        [(0, .leastNonzeroMagnitude), (1, 2 * .leastNonzeroMagnitude)],  // subnormal values
    ] as [[(Double, Double)]])
    func extremeRangesStayInsideTheWidth(points: [(Double, Double)]) {
        for width in [24, 40, 78] {
            let plot = ASCIIPlot(title: "t", xLabel: "x", yLabel: "y", series: [(name: "a", points: points)],
                                 width: width, height: 5)
            let text = plot.render()
            #expect(text.split(separator: "\n").allSatisfy { $0.count <= width })
            let p = Parsed(text, plot: plot)
            #expect(p.grid[4].first == "*" && p.grid[0].last == "*")
        }
    }

    @Test func tickLabelFormats() {
        #expect(ASCIIPlot.labels([-400, -300, -200], exponent: 2) == ["-400", "-300", "-200"])
        #expect(ASCIIPlot.labels([0, 0.5, 1, 1.5], exponent: -1) == ["0", "0.5", "1", "1.5"])
        #expect(ASCIIPlot.labels([0, 5e5, 1e6, 1.5e6], exponent: 5) == ["0", "5e+05", "1e+06", "1.5e+06"])
        #expect(ASCIIPlot.labels([1e-5, 2e-5], exponent: -5) == ["1e-05", "2e-05"])
        #expect(ASCIIPlot.labels([0.001, 0.002], exponent: -3) == ["0.001", "0.002"])
        let (t, e) = ASCIIPlot.ticks(0 ... 1000, count: 5)
        #expect(t == [0, 200, 400, 600, 800, 1000] && e == 2)
        let (t2, e2) = ASCIIPlot.ticks(-2.2 ... 0.3, count: 5)
        #expect(t2 == [-2, -1.5, -1, -0.5, 0] && e2 == -1)
        #expect(ASCIIPlot.labels(t2, exponent: e2) == ["-2", "-1.5", "-1", "-0.5", "0"])
    }

    /// A missing value splits the curve: no line is drawn across it (a log axis's gap).
    @Test func noLineAcrossAGap() {
        let plot = ASCIIPlot(title: "t", xLabel: "x", yLabel: "y",
                             series: [(name: "s", points: [(0, 0), (.nan, .nan), (10, 10)])], width: 40, height: 10)
        let p = Parsed(plot.render(), plot: plot)
        #expect(p.count(of: "*") == 2)
        let joined = ASCIIPlot(title: "t", xLabel: "x", yLabel: "y", series: [(name: "s", points: [(0, 0), (10, 10)])], width: 40, height: 10)
        #expect(Parsed(joined.render(), plot: joined).count(of: "*") > 2)
    }

    /// With firstSeriesOnTop, the first series wins the cells it shares with later ones.
    @Test func firstSeriesOnTop() {
        let series: [(name: String, points: [(Double, Double)])] = [("a", [(0, 0), (10, 10)]), ("b", [(0, 0), (10, 10)])]
        var plot = ASCIIPlot(title: "t", xLabel: "x", yLabel: "y", series: series, width: 40, height: 10)
        #expect(Parsed(plot.render(), plot: plot).count(of: "*") == 0)
        plot.firstSeriesOnTop = true
        let p = Parsed(plot.render(), plot: plot)
        #expect(p.count(of: "*") > 2 && p.count(of: "+") == 0)
    }
}
