import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// End-to-end tests of the input and output formats: JSON Lines and gzip input,
/// `--format json`, SVG figures, `--quiet`, help examples and shell completion.
@Suite struct ReportFormatsTests {
    typealias R = ReportCommandTests

    /// A JSON scalar, decoded exactly.
    enum Cell: Decodable, Equatable {
        case number(Double), text(String), null
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null } else if let x = try? c.decode(Double.self) { self = .number(x) } else { self = .text(try c.decode(String.self)) }
        }
    }

    /// The rows of `ReportCommandTests.pairsCSV` as JSON Lines, the way `datasets.Dataset.to_json`
    /// writes them (plus extra fields, integers, a blank line and CRLF).
    static let pairsJSONL = """
    {"prompt": "Why?", "chosen": "Because.", "chosen_logps": -10.5, "rejected_logps": -12.25, "ref_chosen_logps": -11, "ref_rejected_logps": -11.5, "score_chosen": 3, "score_rejected": 1}\r
    {"chosen_logps": -800, "rejected_logps": -850.5, "ref_chosen_logps": -805, "ref_rejected_logps": -820, "score_chosen": 0.5, "score_rejected": 0.25, "meta": {"id": [1, 2]}}

    {"chosen_logps": -1e5, "rejected_logps": -2, "ref_chosen_logps": -99990, "ref_rejected_logps": -3.0, "score_chosen": 7, "score_rejected": -2}

    """

    /// gzip-compresses `file` with the system's gzip (kept), returning the .gz URL.
    static func gzip(_ file: URL) throws -> URL {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/bin/gzip") ? "/bin/gzip" : "/usr/bin/gzip")
        p.arguments = ["-k", "-f", "-n", file.path]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return file.appendingPathExtension("gz")
    }

    static func write(_ text: String, _ name: String, in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// The first 19 columns of each line (the loss rows' own columns, before the input's
    /// columns copied through, which differ between the CSV and the JSON Lines input).
    static func lossColumns(_ csv: String) -> [String] {
        csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(19).joined(separator: ",") }
    }

    @Test func jsonLinesAndGzipInputsGiveTheSameRowsAsCSV() throws {
        let dir = try R.tempDir()
        let csv = try Self.write(R.pairsCSV, "pairs.csv", in: dir)
        let jsonl = try Self.write(Self.pairsJSONL, "pairs.jsonl", in: dir)
        let reference = try R.run(["losses", "--input", csv.path])
        #expect(reference.status == 0, "\(reference.stderr)")
        #expect(R.table(reference.stdout).count == 3 * (try R.catalogue().count))
        let jsonReference = try R.run(["losses", "--input", jsonl.path])
        #expect(Self.lossColumns(jsonReference.stdout) == Self.lossColumns(reference.stdout))
        for (input, expected) in [(try Self.gzip(csv), reference), (try Self.gzip(jsonl), jsonReference)] {
            let r = try R.run(["losses", "--input", input.path])
            #expect(r.status == 0, "\(input.lastPathComponent): \(r.stderr)")
            #expect(r.stdout == expected.stdout, "\(input.lastPathComponent) differs from the uncompressed file")
        }
        // Standard input: the format is sniffed from the first character, gzip from the magic bytes.
        let piped = try R.run(["losses", "--input", "-"], stdin: Self.pairsJSONL)
        #expect(piped.stdout == jsonReference.stdout, "\(piped.stderr)")
        // A gzipped JSON Lines file whose name says nothing (magic bytes, then content sniffing).
        let anonymous = dir.appendingPathComponent("upload.bin")
        try FileManager.default.copyItem(at: try Self.gzip(jsonl), to: anonymous)
        #expect(try R.run(["losses", "--input", anonymous.path]).stdout == jsonReference.stdout)
    }

    @Test func jsonLinesErrorsNameTheFileAndLine() throws {
        let dir = try R.tempDir()
        let out = dir.appendingPathComponent("out")
        let good = #"{"chosen_logps": -1, "rejected_logps": -2, "ref_chosen_logps": -1, "ref_rejected_logps": -1}"#
        let cases: [(String, [String])] = [
            (#"{"chosen_logps": -1, "ref_chosen_logps": -1, "ref_rejected_logps": -1}"#,
             ["pairs.jsonl: line 4 (data row 2)", "no field 'rejected_logps'"]),
            (#"{"chosen_logps": -1, "rejected_logps": "abc", "ref_chosen_logps": -1, "ref_rejected_logps": -1}"#,
             ["pairs.jsonl: line 4 (data row 2), field 'rejected_logps'", #"expected a number, found a string "abc""#]),
            (#"{"chosen_logps": -1, "rejected_logps": null, "ref_chosen_logps": -1, "ref_rejected_logps": -1}"#,
             ["line 4 (data row 2), field 'rejected_logps'", "found null"]),
            (#"{"chosen_logps": -1, "rejected_logps": "NaN", "ref_chosen_logps": -1, "ref_rejected_logps": -1}"#,
             ["line 4", #"a string "NaN""#]),
            (#"{"chosen_logps": -1, "rejected_logps": -1e999, "ref_chosen_logps": -1, "ref_rejected_logps": -1}"#,
             ["line 4", "-1e999 does not fit in a double"]),
            (#"{"chosen_logps": -1, "rejected_logps": NaN, "ref_chosen_logps": -1, "ref_rejected_logps": -1}"#,
             ["line 4", "malformed JSON", "bare NaN"]),
            (#"{"chosen_logps": -1, "rejected_logps": -2, "ref_chosen_logps": -1"#, ["line 4", "malformed JSON"]),
            (#"{"chosen_logps": 0.5, "rejected_logps": -2, "ref_chosen_logps": -1, "ref_rejected_logps": -1}"#,
             ["line 4 (data row 2), field 'chosen_logps'", "not a log-probability"]),
            (#"{"chosen_logps": -1, "rejected_logps": -2, "ref_chosen_logps": -1, "ref_rejected_logps": -1, "score_chosen": 1}"#,
             ["line 4 (data row 2), field 'score_rejected'", "a reward gap needs both"]),
        ]
        for (bad, mentions) in cases {
            let input = try Self.write([good, good, "", bad, good].joined(separator: "\n") + "\n", "pairs.jsonl", in: dir)
            let r = try R.run(["losses", "--input", input.path, "--out", out.path])
            #expect(r.status != 0, "accepted: \(bad)")
            for m in mentions { #expect(r.stderr.contains(m), "stderr for \(bad): \(r.stderr)") }
            #expect(r.stdout.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("losses.csv").path))
        }
    }

    @Test func truncatedGzipFailsClearlyWithNoOutput() throws {
        let dir = try R.tempDir()
        var lines = ["chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps"]
        for i in 0..<500 { lines.append("-\(i).5,-\(i + 2).25,-\(i + 1),-\(i + 1).5") }
        let csv = try Self.write(lines.joined(separator: "\n") + "\n", "pairs.csv", in: dir)
        let gz = try Self.gzip(csv)
        let whole = try Data(contentsOf: gz)
        let out = dir.appendingPathComponent("out")
        for keep in [whole.count - 9, whole.count / 2, 12] {
            try whole.prefix(keep).write(to: gz)
            for args in [["--out", out.path], []] {
                let r = try R.run(["losses", "--input", gz.path] + args)
                #expect(r.status != 0)
                #expect(r.stderr.contains("pairs.csv.gz: truncated gzip stream"), "\(r.stderr)")
                // Standard output streams: the rows before the error may be there; the exit
                // status says the output is incomplete. A --out folder gets nothing.
                if !args.isEmpty { #expect(r.stdout.isEmpty) }
            }
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
        // Corrupt (not truncated) data is a different, equally clear error.
        var corrupt = whole
        corrupt[corrupt.count - 7] ^= 0x55
        try corrupt.write(to: gz)
        let r = try R.run(["losses", "--input", gz.path])
        #expect(r.status != 0 && r.stderr.contains("pairs.csv.gz: corrupt gzip data"), "\(r.stderr)")
    }

    @Test func outputFolderThatIsAFileFailsWithoutDebris() throws {
        let dir = try R.tempDir()
        let input = try Self.write(R.pairsCSV, "pairs.csv", in: dir)
        let blocker = try Self.write("x", "blocker", in: dir)
        for args in [["losses", "--input", input.path, "--out", blocker.path],
                     ["losses", "--input", input.path, "--format", "json", "--out", blocker.path],
                     ["gradients", "--points", "10", "--out", blocker.path]] {
            let r = try R.run(args)
            #expect(r.status != 0)
            #expect(r.stderr.contains("blocker") && r.stderr.contains("not a directory"), "\(r.stderr)")
            #expect(try String(contentsOf: blocker, encoding: .utf8) == "x")
        }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == ["pairs.csv", "blocker"])
    }

    @Test func lossesJSONLinesOutputHasTheCSVValues() throws {
        let dir = try R.tempDir()
        let input = try Self.write(R.pairsCSV, "pairs.csv", in: dir)
        let csv = try R.run(["losses", "--input", input.path])
        let json = try R.run(["losses", "--input", input.path, "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let rows = R.table(csv.stdout)
        let lines = json.stdout.split(separator: "\n")
        #expect(lines.count == rows.count)
        let header = csv.stdout.prefix { $0 != "\n" }.split(separator: ",").map(String.init)
        for (line, row) in zip(lines, rows) {
            // JSONDecoder, not JSONSerialization: on Linux the latter rounds long decimals.
            let object = try JSONDecoder().decode([String: Cell].self, from: Data(line.utf8))
            #expect(Set(object.keys) == Set(header))
            #expect(object["loss"] == .text(row["loss"]!))
            for name in header where name != "loss" {
                let expected: Cell = row[name]!.isEmpty ? .null : .number(Double(row[name]!)!)
                #expect(object[name] == expected, "\(name): \(String(describing: object[name])) vs \(row[name]!)")
            }
        }
        #expect(json.stdout.hasPrefix("{\"beta\":0.1,\"chosen_logps\":"))  // sorted keys
        let out = dir.appendingPathComponent("out")
        let written = try R.run(["losses", "--input", input.path, "--format", "json", "--out", out.path])
        #expect(written.status == 0 && written.stdout.isEmpty)
        #expect(try String(contentsOf: out.appendingPathComponent("losses.jsonl"), encoding: .utf8) == json.stdout)
        let bad = try R.run(["losses", "--input", input.path, "--format", "markdown"])
        #expect(bad.status != 0 && bad.stderr.contains("--format"))
    }

    @Test func gradientsOutWritesJSONAndSVG() throws {
        let dir = try R.tempDir()
        let r = try R.run(["gradients", "--losses", "sigmoid,spo,spo_bt", "--beta", "0.25", "--points", "60", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
                == ["gradients.csv", "gradients.md", "gradients.json", "gradients-plot.txt", "gradients.svg"])
        let json = try Data(contentsOf: dir.appendingPathComponent("gradients.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let config = try #require(root["configuration"] as? [String: Any])
        #expect(config["beta"] as? Double == 0.25 && config["points"] as? Int == 60)
        #expect(config["target_h"] as? Double == 4)
        #expect(config["losses"] as? [String] == ["sigmoid", "spo", "spo_bt"])
        let summaries = try #require(root["summaries"] as? [[String: Any]])
        #expect(summaries.map { $0["loss"] as? String } == ["sigmoid", "spo", "spo_bt"])
        let dpo = summaries[0], spo = summaries[1]
        // T7: DPO's slope is beta - 1, and it collapses.
        #expect(abs((dpo["slope"] as? Double ?? 0) - (-0.75)) < 1e-6)
        #expect(dpo["far_end_direction"] as? String == "collapse")
        #expect(dpo["stationary_points"] as? [Any] != nil && (dpo["stationary_points"] as! [Any]).isEmpty)
        #expect(dpo["flat_from"] is NSNull)
        // spo restores, with its minimum at h* = dr/beta = 4 and no collapse force at the end.
        #expect(spo["far_end_direction"] as? String == "restoring")
        let points = try #require(spo["stationary_points"] as? [[String: Any]])
        #expect(points.contains { abs(($0["h"] as? Double ?? 0) - 4) < 1e-6 && $0["kind"] as? String == "minimum" })
        #expect(spo["log10_collapse_force_at_end"] is NSNull)
        for key in ["slope_standard_error", "log10_dpo_over_loss_at_end", "log10_max_collapse_force", "beta", "label_smoothing", "reward_gap"] {
            #expect(spo.keys.contains(key), "missing \(key)")
        }
        // The SVG: well-formed, each loss drawn (in the panel of its direction), both axes in
        // powers of ten, axis labels with units.
        let svg = try String(contentsOf: dir.appendingPathComponent("gradients.svg"), encoding: .utf8)
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "gradients.svg is not well-formed XML")
        let titles = svg.components(separatedBy: "<path class=\"series\"").dropFirst().compactMap {
            $0.components(separatedBy: "<title>").dropFirst().first?.components(separatedBy: "</title>").first }
        #expect(Set(titles) == ["sigmoid", "spo", "spo_bt"])
        #expect(svg.contains("10<tspan dy=\"-0.5em\" font-size=\"9\">\u{2212}300</tspan>"))
        #expect(svg.contains("descent lowers pi_l") && svg.contains("probability of the rejected response"))
        // Deterministic: the same run writes the same bytes.
        let again = try R.tempDir()
        _ = try R.run(["gradients", "--losses", "sigmoid,spo,spo_bt", "--beta", "0.25", "--points", "60", "--out", again.path])
        for name in ["gradients.json", "gradients.svg"] {
            #expect(try Data(contentsOf: again.appendingPathComponent(name)) == Data(contentsOf: dir.appendingPathComponent(name)))
        }
    }

    @Test func gradientsFormatJSONPrintsTheSummary() throws {
        let dir = try R.tempDir()
        let r = try R.run(["gradients", "--format", "json", "--losses", "sigmoid,ipo", "--points", "20", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == (try String(contentsOf: dir.appendingPathComponent("gradients.json"), encoding: .utf8)))
        let root = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((root["summaries"] as? [Any])?.count == 2)
        #expect(abs((root["expected_dpo_slope"] as? Double ?? 0) - (0.1 - 1)) < 1e-12)
        #expect(!r.stdout.contains("nan") && !r.stdout.contains("inf"))
    }

    @Test func quietSilencesNotes() throws {
        let csv = "chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps\n-1,-2,-1.5,-1.5\n"
        let loud = try R.run(["losses", "--input", "-"], stdin: csv)
        #expect(loud.status == 0 && loud.stderr.contains("note: skipping"))
        let quiet = try R.run(["losses", "--input", "-", "--quiet"], stdin: csv)
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect(quiet.stdout == loud.stdout)
        // Errors are still printed.
        let failing = try R.run(["losses", "--input", "-", "--quiet"], stdin: "chosen_logps\n-1\n")
        #expect(failing.status != 0 && failing.stderr.contains("rejected_logps"))
        let gradients = try R.run(["gradients", "--quiet", "--points", "10", "--format", "csv"])
        #expect(gradients.status == 0 && gradients.stderr.isEmpty)
    }

    /// Every subcommand listed by `report --help` documents an example in its own --help.
    @Test func everySubcommandHelpHasAnExample() throws {
        let top = try R.run(["--help"])
        #expect(top.status == 0)
        let section = top.stdout.components(separatedBy: "SUBCOMMANDS:").last ?? ""
        let names = section.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }.filter { $0 != "See" && $0 != "help" }
        #expect(names.contains("gradients") && names.contains("losses"), "parsed \(names) from \(top.stdout)")
        for name in names {
            let help = try R.run([name, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("Example"), "`report \(name) --help` has no example")
            #expect(help.stdout.contains("report \(name) "), "`report \(name) --help`'s example does not show the command")
        }
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsComeFromArgumentParser(shell: String) throws {
        let r = try R.run(["--generate-completion-script", shell])
        #expect(r.status == 0, "\(r.stderr)")
        for word in ["gradients", "losses", "reward-gap"] {
            #expect(r.stdout.contains(word), "\(shell) completion lacks \(word)")
        }
    }

    /// `report optimum` and `report flow`: JSON holds the CSV's values (both come from one
    /// table), and optimum.md states T5's finding for DPO with its rule.
    @Test func optimumAndFlowJSONMatchTheirCSV() throws {
        for args in [["optimum", "--losses", "sigmoid,spo"], ["flow", "--losses", "sigmoid,spo", "--points", "5"]] {
            let csv = try R.run(args + ["--format", "csv"]), json = try R.run(args + ["--format", "json"])
            #expect(csv.status == 0 && json.status == 0, "\(csv.stderr)\(json.stderr)")
            let rows = R.table(csv.stdout)
            // JSONDecoder, not JSONSerialization: on Linux the latter rounds long decimals.
            let objects = try JSONDecoder().decode([[String: Cell]].self, from: Data(json.stdout.utf8))
            #expect(objects.count == rows.count && !rows.isEmpty)
            for (row, object) in zip(rows, objects) {
                #expect(Set(object.keys) == Set(row.keys))
                for (key, cell) in row {
                    let expected: Cell = cell.isEmpty ? .null : (Double(cell).map(Cell.number) ?? .text(cell))
                    #expect(object[key] == expected, "\(key): \(String(describing: object[key])) vs \(cell)")
                }
            }
        }
        let hard = try R.run(["optimum", "--labels", "hard"])
        #expect(hard.stdout.contains("- T5 (DPO, hard labels): on hard labels DPO's population loss has no finite minimiser: **reproduced**."))
        #expect(hard.stdout.contains("Rule: reproduced if the solver reports the objective diverging"))
        let bt = try R.run(["optimum", "--labels", "bt"])
        #expect(bt.stdout.contains("- T5 (DPO, bt labels): under Bradley-Terry labels DPO's population minimiser is pi*: **reproduced**."))
    }
}
