import Foundation
import Testing

/// Issue 14 parts 2 and 3, issue 13's `--points`: shell completion, the list of files that
/// `--out` wrote, exit codes in the help, `--format plot` on every command, the gradient
/// figure's direction panels and styles, and the sweep figures. Each test failed on the code
/// before these changes (completion had no loss names, `--out` printed nothing, `--format
/// plot` printed Markdown, the gradient figure had one magnitude panel of 19 losses).
@Suite struct WorkflowTests {
    typealias R = ReportCommandTests

    // MARK: Completion

    /// The generated scripts complete loss names, the input file's extensions and folders.
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScripts(shell: String) throws {
        let r = try R.run(["--generate-completion-script", shell])
        #expect(r.status == 0, "\(r.stderr)")
        for name in ["sigmoid", "spo_bt", "spo_asym", "chipo"] { #expect(r.stdout.contains(name), "\(shell): \(name)") }
        for ext in ["csv", "jsonl", "gz"] { #expect(r.stdout.contains(ext), "\(shell): .\(ext) for --input") }
        switch shell {
        case "bash":
            #expect(r.stdout.contains("-fX '!*.@(csv|jsonl|json|gz)'"))
            #expect(r.stdout.contains("__report_add_completions -d"))
        case "zsh": #expect(r.stdout.contains("_files -/"))
        default: #expect(r.stdout.contains("__fish_complete_directories"))
        }
        // Enumerations complete from their cases.
        #expect(r.stdout.contains("loglinear") && r.stdout.contains("markdown"))
    }

    // MARK: --out lists the files it wrote

    /// Every file in the folder is listed once on standard error, and nothing else; --quiet
    /// lists nothing.
    @Test(arguments: [
        ["gradients", "--points", "4"],
        ["train", "--steps", "2", "--losses", "sigmoid,spo"],
        ["theory", "--instances", "2"],
        ["optimum", "--prompts", "2", "--responses", "3", "--losses", "sigmoid"],
        ["flow", "--points", "3", "--losses", "spo"],
        ["sweep", "--losses", "sigmoid", "--betas", "0.1,0.5", "--reward-noises", "0", "--seeds", "2", "--steps", "2"],
    ])
    func outListsWrittenFiles(args: [String]) throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let r = try R.run(args + ["--out", out])
        #expect(r.status == 0, "\(args): \(r.stderr)")
        let files = try Self.files(in: out)
        #expect(!files.isEmpty)
        let listed = r.stderr.split(separator: "\n").filter { $0.hasPrefix("wrote ") }.map { String($0.dropFirst(6)) }
        #expect(listed.sorted() == files.map { out + "/" + $0 }.sorted(), "\(args): \(r.stderr)")
        let quiet = try R.run(args + ["--out", dir.appendingPathComponent("q").path, "--quiet"])
        #expect(quiet.status == 0)
        #expect(!quiet.stderr.contains("wrote "), "\(quiet.stderr)")
    }

    @Test func mergeListsWrittenFiles() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["sweep", "--losses", "sigmoid", "--betas", "0.1,0.5", "--reward-noises", "0", "--seeds", "1", "--steps", "2", "--quiet"]
        for i in 0..<2 { #expect(try R.run(base + ["--shard", "\(i)/2", "--out", dir.appendingPathComponent("s\(i)").path]).status == 0) }
        let out = dir.appendingPathComponent("m").path
        let r = try R.run(["merge", dir.appendingPathComponent("s0").path, dir.appendingPathComponent("s1").path, "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let listed = r.stderr.split(separator: "\n").filter { $0.hasPrefix("wrote ") }.map { String($0.dropFirst(6)) }
        #expect(listed.sorted() == (try Self.files(in: out)).map { out + "/" + $0 }.sorted(), "\(r.stderr)")
        #expect(listed.contains(out + "/figures/final_regret-vs-beta-reward_noise=0.0.svg"))
    }

    /// Non-hidden regular files under `folder`, as relative paths.
    static func files(in folder: String) throws -> [String] {
        let all = FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []
        return all.filter { path in
            var isDir: ObjCBool = false
            return !path.split(separator: "/").contains { $0.hasPrefix(".") }
                && FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isDir) && !isDir.boolValue
        }
    }

    // MARK: Exit codes and --format plot

    @Test func exitCodesInHelp() throws {
        let root = try R.run(["--help"])
        for code in ["0 done", "1 error", "2 `report theory`", "64 bad option", "74 output error"] {
            #expect(root.stdout.contains(code), "\(code)")
        }
        let theory = try R.run(["theory", "--help"])
        #expect(theory.stdout.contains("2 a result contradicted"), "\(theory.stdout)")
    }

    /// An `--out` folder that cannot be made is an error (1) naming it, as `report --help` and
    /// the README say; 74 is for standard output only (they used to promise 74 for a file).
    @Test func unwritableOutFolderExitsOne() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let r = try R.run(["gradients", "--points", "3", "--out", file.path])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains(file.path), "\(r.stderr)")
        let help = try R.run(["--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("74 output error (standard output could not be written; an --out file or folder that could not be written is an error, 1)"), "\(help)")
    }

    /// `--format plot` draws a plot, or is refused with a message naming the option (64).
    @Test(arguments: [
        (["sweep", "--seeds", "1", "--steps", "1"], false), (["optimum"], false), (["theory", "--instances", "2"], false),
        (["gradients", "--points", "5"], true), (["train", "--steps", "2", "--losses", "sigmoid"], true),
        (["flow", "--points", "3", "--losses", "spo"], true),
    ])
    func formatPlot(args: [String], draws: Bool) throws {
        let r = try R.run(args + ["--format", "plot"])
        if draws {
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("Legend:"), "\(r.stdout)")
        } else {
            #expect(r.status == 64, "\(args): \(r.stdout)")
            #expect(r.stderr.contains("--format plot"), "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    // MARK: Titles name the configuration

    /// Two runs that differ in one setting write figures whose titles differ (before, train's
    /// regret.svg was "Regret beta KL(pi || pi*) during training" for every setting, and
    /// flow's title named h* only, the same for beta 0.1, dr 1 and beta 0.2, dr 2).
    @Test(arguments: [
        (["train", "--steps", "2", "--losses", "sigmoid"], ["--beta", "0.5"], ["--beta", "0.25"], ["regret.svg", "min-logp-rejected.svg"]),
        (["train", "--steps", "2", "--losses", "sigmoid"], ["--seed", "1"], ["--seed", "2"], ["regret.svg"]),
        (["flow", "--points", "3", "--losses", "spo"], ["--beta", "0.1", "--reward-gap", "1"], ["--beta", "0.2", "--reward-gap", "2"], ["flow.svg"]),
        (["gradients", "--points", "5"], ["--beta", "0.1"], ["--beta", "0.2"], ["gradients.svg"]),
    ])
    func titlesNameTheConfiguration(base: [String], a: [String], b: [String], files: [String]) throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, extra) in [("a", a), ("b", b)] {
            let r = try R.run(base + extra + ["--out", dir.appendingPathComponent(name).path, "--quiet"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        func titles(_ folder: String, _ file: String) throws -> [String] {
            let svg = try String(contentsOf: dir.appendingPathComponent(folder).appendingPathComponent(file), encoding: .utf8)
            return svg.components(separatedBy: "<text class=\"title\"").dropFirst().map { $0.components(separatedBy: "</text>")[0] }
        }
        for file in files {
            let ta = try titles("a", file), tb = try titles("b", file)
            #expect(!ta.isEmpty)
            #expect(Set(ta).isDisjoint(with: Set(tb)), "\(file): \(ta) and \(tb)")
        }
    }

    // MARK: Sweep figures

    /// The numbers of an SVG path's `d`.
    static func numbers(_ d: String) -> [Double] {
        d.split(whereSeparator: { $0 == " " || $0 == "M" || $0 == "L" || $0 == "Z" }).compactMap { Double($0) }
    }

    /// Each metric against each numeric axis with two or more values; the band is mean ±
    /// ci95 of aggregate.csv (on the linear axis: the mean midway, the widths in the ratio of
    /// the half-widths); a regret below 0 is drawn as 0, which the notes say, and sweep.md
    /// forms no ratio with a regret that is 0 to rounding.
    @Test func sweepFiguresWithBandsAndTheRegretClamp() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a")
        let r = try R.run(["sweep", "--losses", "sigmoid,spo", "--betas", "0.1,0.5", "--reward-noises", "0", "--seeds", "2",
                           "--steps", "5", "--out", a.path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let names = try Self.files(in: a.appendingPathComponent("figures").path)
        #expect(names.count == 9, "\(names)")  // 9 metrics x 1 numeric axis with 2 values
        let figure = try String(contentsOf: a.appendingPathComponent("figures/final_regret-vs-beta-reward_noise=0.0.svg"), encoding: .utf8)
        #expect(figure.contains("final_regret against beta (noise 0.0), tabular"))
        #expect(figure.contains("a mean below 0 is rounding noise, drawn as 0 (0 here)"))
        #expect(figure.contains("simulation=tabular"))
        let agg = R.table(try String(contentsOf: a.appendingPathComponent("aggregate.csv"), encoding: .utf8))
        let sigmoid = agg.filter { $0["loss"] == "sigmoid" }.sorted { Double($0["beta"]!)! < Double($1["beta"]!)! }
        // The band of final_kl_ref (never clamped).
        let kl = try String(contentsOf: a.appendingPathComponent("figures/final_kl_ref-vs-beta-reward_noise=0.0.svg"), encoding: .utf8)
        let hw = sigmoid.compactMap { $0["final_kl_ref_ci95"].flatMap(Double.init) }
        #expect(hw.count == 2)
        let band = kl.components(separatedBy: "<path class=\"band\"").dropFirst().first?.components(separatedBy: " d=\"").dropFirst().first?
            .components(separatedBy: "\"").first ?? ""
        let line = kl.components(separatedBy: "<path class=\"series\"").dropFirst().first?.components(separatedBy: " d=\"").dropFirst().first?
            .components(separatedBy: "\"").first ?? ""
        // Band: upper at beta 0.1, 0.5, then lower at 0.5, 0.1 (x, y pairs); line: mean at 0.1, 0.5.
        let b = Self.numbers(band), m = Self.numbers(line)
        #expect(b.count == 8 && m.count == 4)
        if b.count == 8 && m.count == 4 && hw.count == 2 {
            #expect(abs((b[1] + b[7]) / 2 - m[1]) < 0.02 && abs((b[3] + b[5]) / 2 - m[3]) < 0.02)
            let ratio = (b[7] - b[1]) / (b[5] - b[3])
            #expect(abs(ratio / (hw[0] / hw[1]) - 1) < 0.01, "\(ratio) against \(hw[0] / hw[1])")
        }
        // spo's regrets edited to -2e-17 (rounding noise): the merged figure clamps, says so.
        let runs = a.appendingPathComponent("runs.csv")
        let edited = try String(contentsOf: runs, encoding: .utf8).split(separator: "\n").map { line -> String in
            var cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if cells.count > 5 && cells[1] == "spo" { cells[5] = "-2e-17" }
            return cells.joined(separator: ",")
        }.joined(separator: "\n") + "\n"
        try Data(edited.utf8).write(to: runs)
        let m2 = dir.appendingPathComponent("m")
        let merged = try R.run(["merge", a.path, "--out", m2.path, "--quiet"])
        #expect(merged.status == 0, "\(merged.stderr)")
        let clamped = try String(contentsOf: m2.appendingPathComponent("figures/final_regret-vs-beta-reward_noise=0.0.svg"), encoding: .utf8)
        #expect(clamped.contains("a mean below 0 is rounding noise, drawn as 0 (2 here)"))
        let md = try String(contentsOf: m2.appendingPathComponent("sweep.md"), encoding: .utf8)
        #expect(md.contains("(spo's is 0 to rounding: no ratio)") && !md.contains("(ratio "), "\(md)")
    }
}
