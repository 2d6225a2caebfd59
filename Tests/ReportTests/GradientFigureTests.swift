import Foundation
import Testing

/// Issue 14 part 3, the gradient figure: direction panels (collapse above, restoring below),
/// the readable default set of losses, reference lines for DPO's slope beta - 1 (T7) and for
/// h*, a distinct (colour, dash) per loss; issue 13: `--points` streams.
@Suite struct GradientFigureTests {
    typealias R = ReportCommandTests

    /// The plot rows of an ASCII figure (those with the y axis `|`), without the legend.
    static func gridLines(_ text: String) -> [Substring] {
        text.split(separator: "\n").filter { $0.contains("|") && !$0.hasPrefix("Legend") }
    }

    /// Default: sigmoid, ipo, spo and spo_bt, and DPO's marker `*` is visible in the grid
    /// (with all 19 losses it appeared in 0 cells).
    @Test func asciiDefaultShowsDPO() throws {
        let r = try R.run(["gradients", "--format", "plot"])
        #expect(r.status == 0, "\(r.stderr)")
        let legends = r.stdout.split(separator: "\n").filter { $0.hasPrefix("Legend") }
        #expect(legends.count == 2)
        #expect(legends.allSatisfy { $0 == "Legend: * sigmoid   + ipo   o spo   x spo_bt" }, "\(legends)")
        let stars = Self.gridLines(r.stdout).reduce(0) { $0 + $1.filter { $0 == "*" }.count }
        #expect(stars >= 20, "\(r.stdout)")
        // DPO never restores: no `*` in the restoring panel.
        let parts = r.stdout.components(separatedBy: "Restoring:")
        #expect(parts.count == 2)
        #expect(Self.gridLines(parts[1]).allSatisfy { !$0.contains("*") })
    }

    /// With all the losses, DPO's curve still shows (it is drawn on top).
    @Test func asciiAllLossesShowsDPO() throws {
        let r = try R.run(["gradients", "--losses", "all", "--points", "60", "--format", "plot"])
        #expect(r.status == 0, "\(r.stderr)")
        let collapse = r.stdout.components(separatedBy: "Restoring:")[0]
        #expect(Self.gridLines(collapse).reduce(0) { $0 + $1.filter { $0 == "*" }.count } >= 20, "\(r.stdout)")
    }

    /// `report all` studies every loss, but its gradient figures draw the default four
    /// (19 curves hid DPO's); its CSV keeps every loss.
    @Test func allDrawsTheDefaultLosses() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let r = try R.run(["all", "--quick", "--out", out.path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let plot = try String(contentsOf: out.appendingPathComponent("gradients/gradients-plot.txt"), encoding: .utf8)
        #expect(plot.split(separator: "\n").filter { $0.hasPrefix("Legend") }.allSatisfy { $0 == "Legend: * sigmoid   + ipo   o spo   x spo_bt" })
        let csv = try String(contentsOf: out.appendingPathComponent("gradients/gradients.csv"), encoding: .utf8)
        #expect(Set(R.table(csv).compactMap { $0["loss"] }).count >= 19)
    }

    /// The SVG's panels: the title names the configuration; DPO (sigmoid) is drawn in the
    /// collapse panel only, spo past h* in the restoring panel; reference lines for T7's
    /// slope and for h = h*.
    @Test func svgPanelsAndReferences() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try R.run(["gradients", "--beta", "0.2", "--reward-gap", "2", "--out", dir.path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let svg = try String(contentsOf: dir.appendingPathComponent("gradients.svg"), encoding: .utf8)
        let panels = svg.components(separatedBy: "<g transform=\"translate(0 ")
        #expect(panels.count == 3)
        guard panels.count == 3 else { return }
        let (top, bottom) = (panels[1], panels[2])
        #expect(top.contains("Collapse: dl/dpi_l &gt; 0 (beta=0.2 dr=2 pi_w=0.1 pi_ref=0.1/0.1)"))
        #expect(bottom.contains("Restoring: dl/dpi_l &lt; 0 (beta=0.2 dr=2"))
        func drawn(_ panel: String, _ loss: String) -> Bool { panel.contains("<title>\(loss)</title></path>") }
        #expect(drawn(top, "sigmoid"))
        #expect(!drawn(bottom, "sigmoid"))
        #expect(drawn(bottom, "spo"))
        #expect(top.contains("T7: DPO slope beta-1 = -0.8"))
        #expect(top.contains("h = h* = dr/beta = 10") && bottom.contains("h = h* = dr/beta = 10"))
        #expect(svg.components(separatedBy: "class=\"reference\"").count - 1 == 3)
        // The T7 line (log10 beta - beta (u_w + log pi_ref(y_l)) / ln 10 + (beta - 1) log10 pi_l,
        // derived by hand from dl/dlog pi_l = beta sigma(-beta h)) meets DPO's computed curve
        // at pi_l = 1e-400, the left edge: the same pixel row within one pixel.
        func numbers(_ d: String) -> [Double] {
            d.split(whereSeparator: { $0 == " " || $0 == "M" || $0 == "L" }).compactMap { Double($0) }
        }
        let dpo = top.components(separatedBy: "\n").first { $0.contains("<title>sigmoid</title></path>") } ?? ""
        let t7 = top.components(separatedBy: "\n").first { $0.contains("<title>T7: DPO slope") } ?? ""
        let dpoPoints = numbers(dpo.components(separatedBy: " d=\"").dropFirst().first?.components(separatedBy: "\"").first ?? "")
        let t7Points = numbers(t7.components(separatedBy: " d=\"").dropFirst().first?.components(separatedBy: "\"").first ?? "")
        #expect(dpoPoints.count >= 4 && t7Points.count == 4)
        if dpoPoints.count >= 4 && t7Points.count == 4 {
            #expect(abs(dpoPoints[dpoPoints.count - 2] - t7Points[0]) < 0.01)  // same x: the left edge
            #expect(abs(dpoPoints[dpoPoints.count - 1] - t7Points[1]) < 1)
        }
    }

    /// The asymptote drawn as T7's reference, log10 beta - beta (u_w + log pi_ref(y_l)) / ln 10
    /// + (beta - 1) log10 pi_l (by hand: dl/dpi_l = beta sigma(-beta h) / pi_l with
    /// sigma(-beta h) ~ exp(-beta h), h = u_w - log pi_l + log pi_ref(y_l)), against the
    /// computed gradient at pi_l = 1e-400: beta = 0.2, u_w = 0, pi_ref(y_l) = 0.1 give
    /// log10(0.2) + 0.2 + 320.
    @Test func asymptoteMatchesTheComputedGradient() throws {
        let r = try R.run(["gradients", "--beta", "0.2", "--losses", "sigmoid", "--points", "5", "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = R.table(r.stdout)
        let far = try #require(rows.first { $0["log10_p_rejected"].flatMap(Double.init) == -400 })
        let value = try #require(far["log10_abs_d_p_rejected"].flatMap(Double.init))
        #expect(abs(value - (log10(0.2) + 0.2 + 320)) < 1e-9)
    }

    /// `--losses all`: every loss has its own (colour, dash) pair; sigmoid, sppo_hard and spo
    /// (all blue and solid-or-alike before) differ.
    @Test func everyLossHasItsOwnStyle() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try R.run(["gradients", "--losses", "all", "--points", "30", "--out", dir.path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let svg = try String(contentsOf: dir.appendingPathComponent("gradients.svg"), encoding: .utf8)
        guard let top = svg.components(separatedBy: "<g transform=\"translate(0 ").dropFirst().first else { Issue.record("no panel"); return }
        // Legend lines: stroke and optional dash, in series order, then the references.
        var styles: [String: String] = [:]
        let lines = top.components(separatedBy: "\n")
        for (k, line) in lines.enumerated() where line.hasPrefix("<line x1=") && line.contains("stroke-width=\"2\"") && k + 1 < lines.count {
            guard let name = lines[k + 1].components(separatedBy: ">").dropFirst().first?.components(separatedBy: "<").first else { continue }
            let stroke = line.components(separatedBy: "stroke=\"")[1].prefix(7)
            let dash = line.components(separatedBy: "stroke-dasharray=\"").dropFirst().first?.components(separatedBy: "\"").first ?? "solid"
            styles[name.replacingOccurrences(of: " (no data)", with: "")] = "\(stroke) \(dash)"
        }
        let catalogue = try R.run(["losses", "--catalogue", "--format", "csv"])
        let names = catalogue.stdout.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) }
        #expect(names.count >= 19)
        #expect(Set(names).isSubset(of: Set(styles.keys)), "\(styles.keys.sorted())")
        #expect(Set(names.compactMap { styles[$0] }).count == names.count, "\(styles)")
        #expect(Set(["sigmoid", "sppo_hard", "spo"].compactMap { styles[$0] }).count == 3)
    }

    /// `--points` streams: the CSV has every row, the figures sample at most 1000 points per
    /// loss, and the summary equals that of the same sweep written whole (slope in JSON).
    @Test func manyPointsStream() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try R.run(["gradients", "--points", "20001", "--losses", "sigmoid,spo", "--out", dir.path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let csv = try String(contentsOf: dir.appendingPathComponent("gradients.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 2 * 20001 + 1)
        let svg = try String(contentsOf: dir.appendingPathComponent("gradients.svg"), encoding: .utf8)
        for path in svg.components(separatedBy: "<path class=\"series\"").dropFirst() {
            let d = path.components(separatedBy: " d=\"")[1].components(separatedBy: "\"")[0]
            #expect(d.filter { $0 == "L" || $0 == "M" }.count <= 1000)
        }
        let help = try R.run(["gradients", "--help"])
        #expect(help.stdout.contains("Memory does not grow with the rows"))
    }
}
