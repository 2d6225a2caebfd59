import Foundation
import Testing

/// End-to-end tests of the `report` executable: run it as a user would and read its output.
@Suite struct ReportCommandTests {
    struct Output { let status: Int32; let stdout: String; let stderr: String }

    /// The `report` binary next to the test bundle (SwiftPM builds it for this target).
    static var binary: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("report")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/report")
    }

    static func run(_ args: [String], stdin: String? = nil) throws -> Output {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inp.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("report-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Parses simple CSV (no quoted fields, as our numeric CSV has none) into dictionaries.
    static func table(_ csv: String) -> [[String: String]] {
        let lines = csv.split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, cells))
        }
    }

    @Test func gradientsDefaultPrintsSummaryAndPlot() throws {
        let r = try Self.run(["gradients"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("| sigmoid"))
        #expect(r.stdout.contains("- T7: DPO's |dl/dpi_l| grows with log-log slope beta - 1 as pi_l -> 0: **reproduced**. fitted slope = -0.9, beta - 1 = -0.9"))
        #expect(r.stdout.contains("- gradients (spo): spo avoids the large gradients DPO shows as pi_l -> 0: **qualified**."))
        #expect(r.stdout.contains("Rule: "))
        #expect(r.stdout.contains("Collapse: dl/dpi_l > 0 (beta=0.1 dr=1"))
        #expect(r.stdout.contains("Restoring: dl/dpi_l < 0 (beta=0.1 dr=1"))
        // spo restores pi_l at the far end.
        let spoLine = r.stdout.split(separator: "\n").first { $0.hasPrefix("| spo ") }
        #expect(spoLine?.contains("restoring") == true)
        #expect(!r.stdout.lowercased().contains("nan"))
        // The plot fits an 80-column terminal.
        for line in r.stdout.split(separator: "\n") where !line.hasPrefix("|") && !line.hasPrefix("-") && !line.hasPrefix("beta =") {
            #expect(line.count <= 80, "line too wide: \(line)")
        }
    }

    @Test func gradientsCSVHasTheColumnsAndTheory() throws {
        let r = try Self.run(["gradients", "--format", "csv", "--losses", "sigmoid,spo", "--beta", "0.25", "--points", "50"])
        #expect(r.status == 0, "\(r.stderr)")
        let header = r.stdout.prefix(while: { $0 != "\n" })
        for col in ["loss", "beta", "reward_gap", "logp_chosen", "logp_rejected", "ref_logp_chosen", "ref_logp_rejected",
                    "h", "value", "d_logp_chosen", "d_logp_rejected", "log10_abs_d_p_rejected", "sign_d_p_rejected",
                    "log10_ratio_rejected_to_chosen"] {
            #expect(header.split(separator: ",").contains(Substring(col)), "missing column \(col)")
        }
        let rows = Self.table(r.stdout)
        #expect(rows.count == 100)
        // Independent check of DPO's rows: dl/dpi_l = beta sigma(-beta h)/pi_l in log10.
        for row in rows where row["loss"] == "sigmoid" {
            let h = Double(row["h"]!)!, lp = Double(row["logp_rejected"]!)!
            let x = 0.25 * h
            let log10Expected = (Foundation.log(0.25) - (x > 0 ? x + Foundation.log1p(Foundation.exp(-x)) : Foundation.log1p(Foundation.exp(x))) - lp) / Foundation.log(10)
            #expect(abs(Double(row["log10_abs_d_p_rejected"]!)! - log10Expected) < 1e-9 * max(1, abs(log10Expected)))
            #expect(row["sign_d_p_rejected"] == "1")
            // T6: the ratio is log10(pi_w/pi_l).
            let ratio = Double(row["log10_ratio_rejected_to_chosen"]!)!
            let lw = Double(row["logp_chosen"]!)!
            #expect(abs(ratio - (lw - lp) / Foundation.log(10)) < 1e-9 * max(1, abs(ratio)))
        }
        // spo restores at the far end: the sign of dl/dpi_l is -1 once h > dr/beta = 4.
        for row in rows where row["loss"] == "spo" && Double(row["h"]!)! > 4.001 {
            #expect(row["sign_d_p_rejected"] == "-1")
        }
    }

    @Test func gradientsOutWritesThreeFilesAndIsDeterministic() throws {
        let dir = try Self.tempDir()
        let r = try Self.run(["gradients", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["gradients-plot.txt", "gradients.csv", "gradients.json", "gradients.md", "gradients.svg"])
        let again = try Self.run(["gradients", "--format", "csv"])
        #expect(try String(contentsOf: dir.appendingPathComponent("gradients.csv"), encoding: .utf8) == again.stdout)
    }

    @Test(arguments: [
        (["gradients", "--beta", "0"], "--beta"),
        (["gradients", "--beta", "-1"], "--beta"),
        (["gradients", "--losses", "sigmoid,dpo2"], "unknown loss 'dpo2'"),
        (["gradients", "--losses", "robust", "--label-smoothing", "0.6"], "--label-smoothing"),
        (["gradients", "--losses", "exo_pair", "--label-smoothing", "0"], "exo_pair"),
        (["gradients", "--points", "1"], "--points"),
        (["gradients", "--format", "pdf"], "--format"),
    ])
    func badOptionsFailClearly(args: [String], mentions: String) throws {
        let r = try Self.run(args)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mentions), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    static let pairsCSV = """
    chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps,score_chosen,score_rejected
    -10.5,-12.25,-11,-11.5,3,1
    -800,-850.5,-805,-820,0.5,0.25
    -1e5,-2,-99990,-3,7,-2
    """

    /// The catalogue as `report losses --catalogue` prints it (one row per loss), so that counts
    /// follow the registry instead of restating it.
    static func catalogue() throws -> [[String: Any]] {
        let r = try run(["losses", "--catalogue", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    @Test func catalogueListsEveryLossWithItsParameters() throws {
        let rows = try Self.catalogue()
        #expect(rows.count >= 21)
        #expect(Set(rows.compactMap { $0["name"] as? String }).isSuperset(of: ["sigmoid", "spo", "bdpo", "dpop", "chipo"]))
        let bdpo = rows.first { $0["name"] as? String == "bdpo" }
        let parameter = (bdpo?["parameters"] as? [[String: Any]])?.first
        #expect(parameter?["name"] as? String == "bdpo_lambda" && parameter?["default"] as? Double == 0.5)
        #expect(parameter?["requirement"] as? String == "0 < lambda <= 1")
        #expect(rows.first { $0["name"] as? String == "spo_asym" }?["reward_gap"] as? String == "required_nonzero")
        let csv = try Self.run(["losses", "--catalogue", "--format", "csv"])
        #expect(csv.status == 0 && csv.stdout.contains("bdpo_lambda=0.5 (0 < lambda <= 1)"))
        #expect(try Self.run(["losses", "--catalogue", "--input", "x.csv"]).status != 0)
    }

    @Test func lossParamReachesTheLossAndIsChecked() throws {
        let csv = "chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps\n-1,-2,-1.5,-1.5\n"
        let a = try Self.run(["losses", "--input", "-", "--losses", "bdpo"], stdin: csv)
        let b = try Self.run(["losses", "--input", "-", "--losses", "bdpo", "--loss-param", "bdpo_lambda=0.2"], stdin: csv)
        #expect(a.status == 0 && b.status == 0)
        #expect(Self.table(a.stdout).first?["value"] != Self.table(b.stdout).first?["value"])
        let bad = try Self.run(["losses", "--input", "-", "--loss-param", "bdpo_lambda=2"], stdin: csv)
        #expect(bad.status != 0 && bad.stderr.contains("--loss-param bdpo_lambda"))
        let unknown = try Self.run(["losses", "--input", "-", "--loss-param", "bdpo_lam=0.3"], stdin: csv)
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown loss parameter"))
    }

    /// Every declared loss parameter reaches train and sweep through TrainingConfig, with no
    /// per-parameter code: dpop's lambda changes the training, and a bad value names the option.
    @Test func lossParamReachesTrainAndSweep() throws {
        func train(_ lambda: String) throws -> Output {
            try Self.run(["train", "--losses", "dpop", "--loss-param", "dpop_lambda=" + lambda, "--steps", "40", "--format", "csv"])
        }
        let small = try train("5"), large = try train("50")
        #expect(small.status == 0 && large.status == 0, "\(small.stderr)\(large.stderr)")
        #expect(!small.stdout.isEmpty && small.stdout != large.stdout)
        let bad = try train("-1")
        #expect(bad.status != 0 && bad.stderr.contains("--loss-param dpop_lambda"))
        let dir = try Self.tempDir()
        let sweep = try Self.run(["sweep", "--losses", "dpop", "--loss-param", "dpop_lambda=5", "--betas", "0.1",
                                  "--reward-noises", "0", "--seeds", "1", "--steps", "10", "--out", dir.path])
        #expect(sweep.status == 0, "\(sweep.stderr)")
        let manifest = try String(contentsOf: dir.appendingPathComponent("manifest.txt"), encoding: .utf8)
        #expect(manifest.hasSuffix("loss_params=dpop_lambda=5.0\n"))
    }

    @Test func lossesEvaluatesEveryRowAndLoss() throws {
        let dir = try Self.tempDir()
        let input = dir.appendingPathComponent("pairs.csv")
        try Self.pairsCSV.write(to: input, atomically: true, encoding: .utf8)
        let r = try Self.run(["losses", "--input", input.path, "--beta", "0.1"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = Self.table(r.stdout)
        #expect(rows.count == 3 * (try Self.catalogue().count))
        #expect(Set(rows.map { $0["row"]! }) == ["0", "1", "2"])
        // Row 1, sigmoid: -log sigma(beta h), h = (-800 + 805) - (-850.5 + 820) = 35.5.
        let dpo = rows.first { $0["row"] == "1" && $0["loss"] == "sigmoid" }!
        #expect(Double(dpo["h"]!)! == 35.5)
        let x = 3.55
        #expect(abs(Double(dpo["value"]!)! - Foundation.log1p(Foundation.exp(-x))) < 1e-15)
        // Row 0, spo: (beta h - dr)^2 with dr = 2, h = 0.5 - (-0.75) = 1.25.
        let spo = rows.first { $0["row"] == "0" && $0["loss"] == "spo" }!
        let spoValue: Double = Double(spo["value"]!)!
        let spoExpected: Double = (0.125 - 2.0) * (0.125 - 2.0)
        #expect(abs(spoValue - spoExpected) < 1e-14)
        #expect(!r.stdout.lowercased().contains("nan") && !r.stdout.contains("inf"))
    }

    @Test func lossesWithoutScoresSkipsRewardAwareLossesWithANote() throws {
        let csv = "chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps\n-1,-2,-1.5,-1.5\n"
        let r = try Self.run(["losses", "--input", "-"], stdin: csv)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("skipping rpo_sq"))
        let catalogue = try Self.catalogue()
        #expect(Self.table(r.stdout).count == catalogue.filter { $0["needs_reward_gap"] as? Bool == false }.count)
        let named = try Self.run(["losses", "--input", "-", "--losses", "sigmoid,spo"], stdin: csv)
        #expect(named.status != 0)
        #expect(named.stderr.contains("spo needs a reward gap"))
        let constant = try Self.run(["losses", "--input", "-", "--losses", "spo", "--reward-gap", "1"], stdin: csv)
        #expect(constant.status == 0)
        #expect(Self.table(constant.stdout).count == 1)
    }

    @Test func lossesBadInputNamesFileRowAndColumn() throws {
        let dir = try Self.tempDir()
        var lines = ["chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps"]
        for i in 0..<20 { lines.append(i == 17 ? "-1,abc,-1,-1" : "-1,-2,-1,-1") }
        let input = dir.appendingPathComponent("pairs.csv")
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        let r = try Self.run(["losses", "--input", input.path, "--out", dir.appendingPathComponent("out").path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("pairs.csv"))
        #expect(r.stderr.contains("data row 17"))
        #expect(r.stderr.contains("rejected_logps"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/losses.csv").path))

        lines[18] = "-1,nan,-1,-1"
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        let n = try Self.run(["losses", "--input", input.path])
        #expect(n.status != 0 && n.stderr.contains("data row 17"))

        let missing = try Self.run(["losses", "--input", "-"], stdin: "chosen_logps,rejected_logps,ref_chosen_logps\n-1,-2,-1\n")
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("ref_rejected_logps"))

        let nofile = try Self.run(["losses", "--input", dir.appendingPathComponent("nope.csv").path])
        #expect(nofile.status != 0 && nofile.stderr.contains("nope.csv"))
    }

    @Test func outputIntoAFileInsteadOfAFolderFailsWithoutDebris() throws {
        let dir = try Self.tempDir()
        let blocker = dir.appendingPathComponent("blocker")
        try "x".write(to: blocker, atomically: true, encoding: .utf8)
        let r = try Self.run(["gradients", "--out", blocker.appendingPathComponent("sub").path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("blocker"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["blocker"])
    }

    /// `report theory` prints each verdict with its rule, cites docs/theory.md, and its JSON
    /// holds the same rows as its CSV.
    @Test func theoryPrintsRulesAndCitesTheProjectsDoc() throws {
        let md = try Self.run(["theory", "--instances", "20"])
        #expect(md.status == 0, "\(md.stderr)")
        #expect(md.stdout.hasPrefix("# Theory checks (docs/theory.md, T1-T11)"))
        for line in md.stdout.split(separator: "\n") where line.hasPrefix("- **T") { #expect(line.contains(" Rule: "), "\(line)") }
        #expect(md.stdout.contains("- **T5** (reproduced)") && md.stdout.contains("- **T10** (qualified)"))
        let csv = try Self.run(["theory", "--instances", "20", "--format", "csv"])
        #expect(csv.stdout.hasPrefix("result,verdict,value,tolerance,claim,rule,measurement,exception,note\n"))
        let json = try Self.run(["theory", "--instances", "20", "--format", "json"])
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 11)
        #expect(rows?.first?["verdict"] as? String == "reproduced")
        #expect(rows?.first?["exception"] is NSNull)
    }

    /// With one logged step (--steps 0) the trend of DPO's min log pi_l cannot be told, and
    /// the final-regret claim is not comparable (both policies are the reference), not
    /// "contradicted" as it was when the equal regrets were read as DPO's not being larger.
    @Test func trainWithNoStepsCannotTellATrend() throws {
        let r = try Self.run(["train", "--losses", "sigmoid,spo", "--steps", "0", "--format", "markdown"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("at the end: cannot tell ("))
        #expect(r.stdout.contains("DPO ends with a larger regret than spo: **not comparable** (no training step was run"))
    }
}
