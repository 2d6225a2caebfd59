import Testing
@testable import Formats

/// Log-axis ticks over spans of many decades (`report gradients --log10-end -1e50 --out`
/// trapped converting an exponent of 1e50 to Int; -1e150 looped over ~1e17 ticks).
@Suite struct SVGLogTicksTests {
    @Test(arguments: [-1e19, -1e50, -1e150, -3.9e307])
    func hugeLogSpansGiveFewTicks(low: Double) {
        let ticks = SVGPlot.ticks(low ... 0, log: true, count: 7)
        #expect(!ticks.isEmpty && ticks.count <= 14, "\(ticks.count) ticks")
        #expect(ticks.allSatisfy { $0.value.isFinite && $0.value >= low && $0.value <= 0 })
    }

    /// The span of the default gradient sweep keeps its powers of ten with integer exponents.
    @Test func ordinarySpanKeepsIntegerExponents() {
        let ticks = SVGPlot.ticks(-400 ... -1, log: true, count: 7)
        #expect(ticks.map(\.label) == ["\u{2212}400", "\u{2212}300", "\u{2212}200", "\u{2212}100"])
        #expect(ticks.allSatisfy { $0.power })
    }

    @Test func svgWithAHugeLogSpanRenders() throws {
        let plot = SVGPlot(title: "t", xLabel: "x", yLabel: "y",
                           series: [(name: "a", points: [(-1e50, 1), (-1, 2)])], xIsLog10: true)
        #expect(try plot.render().contains("</svg>"))
    }
}
