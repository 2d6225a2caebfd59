import Foundation
import Testing

/// Every notebook runs end to end in quick mode and writes its files.
@Suite struct NotebookTests {
    static var root: URL {
        // Tests/ReportTests/NotebookTests.swift -> repository root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static let expected: [String: [String]] = [
        "01-optimal-policy-and-target-gap": ["theory/theory.md", "theory/theory.csv", "optimum-bt/optimum.csv", "optimum-hard/optimum.md"],
        "02-gradient-blow-up": ["beta-0.1/gradients.csv", "beta-0.1/gradients.md", "beta-0.1/gradients-plot.txt", "headline-plot.txt"],
        "03-training-dynamics": ["tabular/metrics.csv", "tabular/summary.csv", "loglinear/summary.md", "clipped/plots.txt"],
        "04-reward-model-noise": ["sweep/runs.csv", "sweep/aggregate.csv", "sweep/sweep.md"],
        "05-gradient-flow": ["beta-0.5/flow.csv", "beta-0.5/flow.md", "beta-0.5/flow-plot.txt"],
    ]

    @Test(arguments: expected.keys.sorted())
    func notebookRunsInQuickMode(name: String) throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("notebook-\(name)-\(UUID().uuidString)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Self.root.appendingPathComponent("notebooks/\(name).sh").path]
        var env = ProcessInfo.processInfo.environment
        env["QUICK"] = "1"
        env["OUT"] = out.path
        env["REPORT"] = ReportCommandTests.binary.path
        p.environment = env
        let pipe = Pipe(), err = Pipe()
        p.standardOutput = pipe
        p.standardError = err
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(name) failed: \(errText)")
        #expect(text.contains("Files:"), "the notebook must run to its end")
        for file in Self.expected[name]! {
            let path = out.appendingPathComponent(file).path
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            #expect(size > 0, "\(name) did not write \(file)")
        }
    }
}
