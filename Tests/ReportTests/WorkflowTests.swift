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
}
