import Foundation
import Testing

/// `report losses` as a streaming diagnostic (issues 13 part 5 and 14 part 1): identifiers
/// copied through, the input's column names kept, per-row domain problems, row-level
/// messages, the same rows whatever the piece boundaries, and `--summary` against a
/// recomputation from the pair rows.
@Suite struct LossesStreamingTests {
    typealias R = ReportCommandTests

    static func write(_ text: String, _ name: String) throws -> URL {
        let url = try R.tempDir().appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// Splits a CSV line without quoted fields.
    static func fields(_ line: Substring) -> [String] { line.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }

    @Test func identifiersAreCopiedThroughAndNamesKept() throws {
        let csv = try Self.write("""
            prompt_id,chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps,note
            p-001,-10.5,-12.25,-11,-11.5,"a, b"
            00123,-800,-850.5,-805,-820,x

            """, "pairs.csv")
        let r = try R.run(["losses", "--input", csv.path, "--losses", "sigmoid"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        let header = Self.fields(lines[0])
        #expect(header.prefix(9) == ["row", "loss", "beta", "label_smoothing", "reward_gap",
                                      "chosen_logps", "rejected_logps", "ref_chosen_logps", "ref_rejected_logps"])
        #expect(header.suffix(2) == ["prompt_id", "note"])
        #expect(lines[1].hasSuffix(",p-001,\"a, b\""))
        #expect(lines[2].hasSuffix(",00123,x"))

        let jsonl = try Self.write("""
            {"prompt_id": 7, "prompt": "Why?", "chosen_logps": -10.5, "rejected_logps": -12.25, "ref_chosen_logps": -11, "ref_rejected_logps": -11.5, "messages": [1]}
            {"prompt_id": 8, "chosen_logps": -800, "rejected_logps": -850.5, "ref_chosen_logps": -805, "ref_rejected_logps": -820, "extra": 1}

            """, "pairs.jsonl")
        let j = try R.run(["losses", "--input", jsonl.path, "--losses", "sigmoid", "--format", "json"])
        #expect(j.status == 0, "\(j.stderr)")
        let records = try j.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(records.count == 2)
        #expect(records[0]?["prompt_id"] as? Int == 7 && records[0]?["prompt"] as? String == "Why?")
        #expect(records[1]?["prompt_id"] as? Int == 8 && records[1]?["prompt"] is NSNull)
        #expect(records[0]?["chosen_logps"] as? Double == -10.5 && records[0]?["logp_chosen"] == nil)
        #expect(j.stderr.contains("messages") && j.stderr.contains("data row 1"), "\(j.stderr)")
    }

    /// A tie (dr = 0) is outside spo_asym's domain: its cells are empty, counted, one note
    /// names the row; the other losses and rows are written and the exit status is 0.
    /// Pairs at the ends of the input ranges spread the beta h histogram over the whole
    /// double range: its outer bin edges overflow. The ASCII histogram wrote them as
    /// `[-inf, -1.742e+308)`; now as the largest double of their sign (no inf in any output).
    @Test func histogramEdgesBeyondTheDoubleRangeAreFinite() throws {
        let csv = try Self.write("""
            chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps,score_chosen,score_rejected
            -8.98e307,0,0,-8.98e307,8.98e307,-8.98e307
            0,-8.98e307,-8.98e307,0,-8.98e307,8.98e307
            -1,-2,-1,-2,1,1

            """, "extreme.csv")
        let r = try R.run(["losses", "--input", csv.path, "--losses", "sigmoid,spo", "--summary", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("[-1.798e+308, "), "\(r.stdout)")
        #expect(!r.stdout.lowercased().contains("inf") && !r.stdout.lowercased().contains("nan"), "\(r.stdout)")
    }

    @Test func aTieForSpoAsymIsCountedNotFatal() throws {
        let csv = try Self.write("""
            chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps,score_chosen,score_rejected
            -10.5,-12.25,-11,-11.5,3,1
            -800,-850.5,-805,-820,2,2
            -5,-6,-5.5,-5,1,4

            """, "ties.csv")
        let r = try R.run(["losses", "--input", csv.path, "--losses", "spo,spo_asym"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = R.table(r.stdout)
        #expect(rows.count == 6)
        let tie = rows.filter { $0["row"] == "1" && $0["loss"] == "spo_asym" }
        #expect(tie.count == 1 && tie[0]["value"] == "" && tie[0]["d_logp_rejected"] == "" && tie[0]["sign_d_p_rejected"] == "")
        #expect(tie[0]["chosen_logps"] == "-800.0")
        #expect(rows.first { $0["row"] == "1" && $0["loss"] == "spo" }?["value"]?.isEmpty == false)
        #expect(r.stderr.contains("spo_asym: 1 pair(s) outside its domain") && r.stderr.contains("first at data row 1"), "\(r.stderr)")
        #expect(r.stderr.contains("1 pair(s) have tied scores") && r.stderr.contains("1 pair(s) have score_chosen < score_rejected"))
        #expect(r.stderr.contains("first at data row 2"))
        // The summary counts them too.
        let s = try R.run(["losses", "--input", csv.path, "--losses", "spo,spo_asym", "--summary", "--format", "csv"])
        #expect(s.status == 0, "\(s.stderr)")
        let summary = R.table(s.stdout)
        #expect(summary.map { $0["pairs"] } == ["3", "2"])
        #expect(summary.map { $0["outside_domain"] } == ["0", "1"])
        #expect(summary.allSatisfy { $0["tied_scores"] == "1" && $0["reversed_scores"] == "1" })
    }

    /// Row-level messages (issue 13 part 6): a mixed JSON Lines file names the first row
    /// without scores; a partial pair of length fields names the row and the field, and a
    /// CSV header with one of them names the column.
    @Test func rowLevelMessagesNameTheRow() throws {
        let row = #""chosen_logps": -1, "rejected_logps": -2, "ref_chosen_logps": -1, "ref_rejected_logps": -1"#
        let mixed = try Self.write("{\(row), \"score_chosen\": 1, \"score_rejected\": 0}\n{\(row), \"score_chosen\": 1, \"score_rejected\": 0}\n{\(row)}\n", "mixed.jsonl")
        let m = try R.run(["losses", "--input", mixed.path, "--losses", "spo"])
        #expect(m.status != 0)
        #expect(m.stderr.contains("mixed.jsonl: line 3 (data row 2)") && m.stderr.contains("no score_chosen/score_rejected"), "\(m.stderr)")
        let noneFirst = try Self.write("{\(row)}\n{\(row), \"score_chosen\": 1, \"score_rejected\": 0}\n", "first.jsonl")
        let f = try R.run(["losses", "--input", noneFirst.path, "--losses", "spo"])
        #expect(f.status != 0 && f.stderr.contains("first.jsonl: line 1 (data row 0) has no score_chosen/score_rejected"), "\(f.stderr)")
        let partial = try Self.write("{\(row)}\n{\(row), \"chosen_length\": 3}\n", "partial.jsonl")
        let p = try R.run(["losses", "--input", partial.path, "--losses", "ipo"])
        #expect(p.status != 0 && p.stderr.contains("line 2 (data row 1)") && p.stderr.contains("rejected_length"), "\(p.stderr)")
        let csv = try Self.write("chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps,chosen_length\n-1,-2,-1,-1,3\n", "partial.csv")
        let c = try R.run(["losses", "--input", csv.path, "--losses", "ipo"])
        #expect(c.status != 0 && c.stderr.contains("column 'chosen_length'") && c.stderr.contains("rejected_length"), "\(c.stderr)")
    }

    /// More rows than one piece: the output is that of the rows read in two halves (the
    /// second half's rows renumbered), through standard output and through --out, CSV and gzip.
    @Test func piecesDoNotChangeTheRows() throws {
        var rows: [String] = []
        for i in 0..<9000 {
            rows.append("q\(i),-\(Double(i % 700) + 30.25),-\(Double(i % 500) + 40.5),-\(Double(i % 700) + 31),-\(Double(i % 500) + 39),\(i % 5),\(i % 3)")
        }
        let header = "id,chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps,score_chosen,score_rejected"
        let whole = try Self.write(([header] + rows).joined(separator: "\n") + "\n", "whole.csv")
        let first = try Self.write(([header] + rows.prefix(4000)).joined(separator: "\n") + "\n", "first.csv")
        let second = try Self.write(([header] + rows.dropFirst(4000)).joined(separator: "\n") + "\n", "second.csv")
        let args = ["--losses", "sigmoid,spo,apo_down", "--quiet"]
        let a = try R.run(["losses", "--input", whole.path] + args)
        #expect(a.status == 0, "\(a.stderr)")
        let b = try R.run(["losses", "--input", first.path] + args)
        let c = try R.run(["losses", "--input", second.path] + args)
        let renumbered = c.stdout.split(separator: "\n").dropFirst().map { line -> String in
            var f = Self.fields(line)
            f[0] = String(Int(f[0])! + 4000)
            return f.joined(separator: ",")
        }
        #expect(a.stdout == b.stdout + renumbered.joined(separator: "\n") + "\n")
        let out = try R.tempDir().appendingPathComponent("out")
        #expect(try R.run(["losses", "--input", whole.path, "--out", out.path] + args).status == 0)
        #expect(try String(contentsOf: out.appendingPathComponent("losses.csv"), encoding: .utf8) == a.stdout)
    }

    /// `--summary`'s CSV against the same statistics computed here from the pair rows.
    @Test func summaryAgreesWithThePairRows() throws {
        var lines = ["chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps,score_chosen,score_rejected"]
        for i in 0..<400 {
            let c = -30 - Double((i * 37) % 500), r = -30 - Double((i * 53) % 500)
            lines.append("\(c),\(r),\(c + Double(i % 9) - 4),\(r + Double(i % 7) - 3),\(Double(i % 10) / 2),\(Double(i % 4))")
        }
        let input = try Self.write(lines.joined(separator: "\n") + "\n", "s.csv")
        let losses = "sigmoid,ipo,spo"
        let pairs = R.table(try R.run(["losses", "--input", input.path, "--losses", losses, "--beta", "0.2", "--quiet"]).stdout)
        let s = try R.run(["losses", "--input", input.path, "--losses", losses, "--beta", "0.2", "--summary", "--format", "csv", "--quiet"])
        #expect(s.status == 0, "\(s.stderr)")
        for row in R.table(s.stdout) {
            let mine = pairs.filter { $0["loss"] == row["loss"] }
            let n = Double(mine.count)
            func mean(_ f: ([String: String]) -> Double) -> Double { mine.map(f).reduce(0, +) / n }
            func d(_ r: [String: String], _ k: String) -> Double { Double(r[k]!)! }
            func close(_ k: String, _ x: Double) {
                let y = Double(row[k]!)!
                #expect(abs(x - y) <= 1e-9 * max(1, abs(x)), "\(row["loss"]!) \(k): \(y) vs \(x)")
            }
            #expect(row["pairs"] == String(mine.count))
            close("mean_loss", mean { d($0, "value") })
            close("rewards/chosen", mean { 0.2 * (d($0, "chosen_logps") - d($0, "ref_chosen_logps")) })
            close("rewards/rejected", mean { 0.2 * (d($0, "rejected_logps") - d($0, "ref_rejected_logps")) })
            close("rewards/accuracies", mean { 0.2 * (d($0, "chosen_logps") - d($0, "ref_chosen_logps"))
                                              > 0.2 * (d($0, "rejected_logps") - d($0, "ref_rejected_logps")) ? 1 : 0 })
            close("share_collapse", mean { d($0, "d_logp_rejected") > 0 && d($0, "rejected_logps") < d($0, "ref_rejected_logps") ? 1 : 0 })
            let maxRejected = mine.map { abs(d($0, "d_logp_rejected")) }.max()!
            close("abs_d_logp_rejected_max", maxRejected)
            let sorted = mine.map { abs(d($0, "d_logp_rejected")) }.sorted()
            let median = sorted[Int((0.5 * n).rounded(.up)) - 1]
            #expect(abs(Double(row["abs_d_logp_rejected_p50"]!)! - median) <= 0x1p-7 * median)
            if row["loss"] == "spo" {
                close("share_past_target", mean { 0.2 * d($0, "h") > d($0, "reward_gap") ? 1 : 0 })
                close("mean_abs_beta_h_minus_dr", mean { abs(0.2 * d($0, "h") - d($0, "reward_gap")) })
            } else {
                #expect(row["share_past_target"] == "")
            }
        }
        // Markdown (the default) with the histogram; --out writes every file.
        let md = try R.run(["losses", "--input", input.path, "--summary", "--quiet"])
        #expect(md.stdout.contains("| loss") && md.stdout.contains("rewards/accuracies") && md.stdout.contains("```text"))
        let out = try R.tempDir().appendingPathComponent("summary")
        #expect(try R.run(["losses", "--input", input.path, "--summary", "--out", out.path, "--quiet"]).status == 0)
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out.path))
        #expect(files == ["summary.md", "summary.csv", "summary.json", "beta_h_histogram.csv", "beta_h_histogram.svg"])
    }
}
