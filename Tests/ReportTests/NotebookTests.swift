import Foundation
import Testing

/// Every notebook (a jupytext percent-format `.py` file) runs headless in quick mode with the
/// Python of `NOTEBOOK_PYTHON` (scripts/test.sh creates `.venv-notebooks` and sets it), writes
/// its figures and data files, and converts to an `.ipynb` with jupytext.
///
/// Without `NOTEBOOK_PYTHON` the tests fail with a message instead of skipping, so that CI can
/// never pass without having run the notebooks.
@Suite struct NotebookTests {
    static var root: URL {
        // Tests/ReportTests/NotebookTests.swift -> repository root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Each notebook's figures (PNG) and data files, relative to its `$OUT`.
    static let expected: [String: (figures: [String], data: [String])] = [
        "01-optimal-policy-and-target-gap": (["optimum-regret.png"], ["theory/theory.csv", "optimum-bt/optimum.csv", "optimum-hard/optimum.csv", "optimum-both.csv"]),
        "02-gradient-blow-up": (["signed-collapse.png", "dpo-slope.png"], ["beta-0.1/gradients.csv", "gradients-all.csv", "dpo-slopes.csv"]),
        "03-training-dynamics": (["tabular-dynamics.png", "loglinear-dynamics.png", "clipped-dynamics.png"], ["tabular/metrics.csv", "tabular/summary.csv", "loglinear/metrics.csv", "clipped/summary.csv"]),
        "04-reward-model-noise": (["regret-vs-noise.png", "paired-difference.png"], ["sweep/runs.csv", "sweep/aggregate.csv", "paired-spo-minus-dpo.csv"]),
        "05-gradient-flow": (["flow.png"], ["beta-0.5/flow.csv", "flow-all.csv", "flow-ends.csv"]),
        "06-diagnose-your-logprobs": (["diagnostics.png"], ["pairs.jsonl", "losses/losses.csv", "summary.csv"]),
    ]

    static var python: String? {
        guard let path = ProcessInfo.processInfo.environment["NOTEBOOK_PYTHON"], !path.isEmpty else { return nil }
        return path
    }

    static let missingPython = "NOTEBOOK_PYTHON is not set: run `bash scripts/test.sh`, or create a venv with notebooks/requirements.txt and set NOTEBOOK_PYTHON to its python"

    /// Runs `executable arguments` with extra environment variables; returns (status, stdout, stderr).
    /// Standard error goes to a temporary file, so that neither stream can fill a pipe and block.
    static func run(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> (Int32, String, String) {
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("notebook-stderr-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: errURL.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown)
        }
        defer { try? FileManager.default.removeItem(at: errURL) }
        let errHandle = try FileHandle(forWritingTo: errURL)
        defer { try? errHandle.close() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.currentDirectoryURL = root
        p.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = errHandle
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let errText = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return (p.terminationStatus, text, errText)
    }

    static func size(_ url: URL) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
    }

    @Test func everyNotebookIsListed() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("notebooks").path)
        let notebooks = files.filter { $0.hasSuffix(".py") && $0.first?.isNumber == true }.map { String($0.dropLast(3)) }
        #expect(Set(notebooks) == Set(Self.expected.keys), "notebooks/*.py and NotebookTests.expected must list the same notebooks")
    }

    @Test(arguments: expected.keys.sorted())
    func notebookRunsInQuickMode(name: String) throws {
        guard let python = Self.python else {
            Issue.record(Comment(rawValue: Self.missingPython))
            return
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("notebook-\(name)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let (status, text, errText) = try Self.run(python, ["notebooks/\(name).py"], environment: [
            "QUICK": "1", "OUT": out.path, "REPORT": ReportCommandTests.binary.path, "MPLBACKEND": "Agg",
        ])
        #expect(status == 0, "\(name) failed: \(errText)")
        #expect(text.contains("figure:"), "\(name) must save its figures")
        let files = Self.expected[name] ?? (figures: [], data: [])
        #expect(!files.figures.isEmpty)
        for figure in files.figures {
            let url = out.appendingPathComponent(figure)
            #expect(Self.size(url) > 0, "\(name) did not write the figure \(figure)")
            // A PNG starts with its 8-byte signature.
            let head = (try? FileHandle(forReadingFrom: url).readData(ofLength: 8)) ?? Data()
            #expect(head == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "\(figure) is not a PNG")
        }
        for file in files.data {
            #expect(Self.size(out.appendingPathComponent(file)) > 0, "\(name) did not write \(file)")
        }
    }

    @Test(arguments: expected.keys.sorted())
    func notebookConvertsToIpynb(name: String) throws {
        guard let python = Self.python else {
            Issue.record(Comment(rawValue: Self.missingPython))
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ipynb-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("\(name).ipynb")
        let (status, _, errText) = try Self.run(python, ["-m", "jupytext", "--to", "ipynb", "--output", target.path, "notebooks/\(name).py"])
        #expect(status == 0, "jupytext failed on \(name): \(errText)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: target)) as? [String: Any]
        let cells = json?["cells"] as? [[String: Any]] ?? []
        let kinds = Set(cells.compactMap { $0["cell_type"] as? String })
        #expect(kinds == ["code", "markdown"], "\(name).ipynb must have code and Markdown cells, has \(kinds)")
        #expect(cells.count >= 4)
    }
}
