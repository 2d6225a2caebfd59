import Foundation
import Testing

/// Issue 13 (reliability), the input readers and the output channel, end to end: the
/// `report` binary never dies by a signal on bad input or a broken standard output, and
/// CSV and JSON Lines inputs follow one set of rules. Each case below crashed (exit 132 or
/// 141) or was silently accepted before.
@Suite struct ReliabilityTests {
    typealias R = ReportCommandTests

    static let header = "chosen_logps,rejected_logps,ref_chosen_logps,ref_rejected_logps"

    /// Runs `report` through bash (for redirections such as `>&-`); `script` sees the
    /// binary as `$REPORT`. Returns bash's status and standard error.
    static func shell(_ script: String) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        var env = ProcessInfo.processInfo.environment
        env["REPORT"] = R.binary.path
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    static func write(_ text: String, _ name: String) throws -> URL {
        let url = try R.tempDir().appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    // MARK: Standard output

    @Test func fullStandardOutputExits74WithOneLine() throws {
        let r = try Self.shell(#""$REPORT" gradients --format csv > /dev/full"#)
        #expect(r.status == 74)
        #expect(r.stderr == "report: cannot write to standard output: No space left on device\n")
    }

    @Test func closedStandardOutputExits74WithOneLine() throws {
        let r = try Self.shell(#""$REPORT" gradients --format csv >&-"#)
        #expect(r.status == 74)
        #expect(r.stderr == "report: cannot write to standard output: Bad file descriptor\n")
    }

    /// A reader that goes away (`| head -c1`): exit 74 quietly, not killed by SIGPIPE (141).
    @Test func brokenPipeExitsQuietly() throws {
        let r = try Self.shell(#""$REPORT" gradients --format csv --points 20000 | head -c1 > /dev/null; exit "${PIPESTATUS[0]}""#)
        #expect(r.status == 74)
        #expect(r.stderr.isEmpty, "\(r.stderr)")
    }

    /// Notes on a full or closed standard error are dropped; the program goes on (a
    /// note used to go through FileHandle, which traps).
    @Test func fullStandardErrorNeverKills() throws {
        let input = try Self.write("\(Self.header)\n-1,-2,-1,-1\n", "pairs.csv")
        for redirect in ["2>/dev/full", "2>&-"] {
            // Without scores the rpo_* and spo* losses are skipped with a note.
            let r = try Self.shell("\"$REPORT\" losses --input '\(input.path)' \(redirect) > /dev/null")
            #expect(r.status == 0, "\(redirect)")
        }
    }

    // MARK: Numbers that used to overflow into the CSV writer

    /// Log-probabilities of -1e308 made h = u_w - u_l overflow (exit 132); token counts of
    /// 1e-300 made ipo's averaged log-ratios overflow. Both are now errors naming the cell.
    @Test(arguments: [
        ("", "0,-1e308,-1e308,0", "line 2 (data row 0), column 'rejected_logps'", "smallest log-probability"),
        (",chosen_length,rejected_length", "-1,-2,-1,-1,3,1e-300", "line 2 (data row 0), column 'rejected_length'",
         "a token count must be >= 1"),
        (",score_chosen,score_rejected", "-1,-2,-1,-1,1e308,-1e308", "line 2 (data row 0), column 'score_chosen'",
         "largest score"),
    ])
    func overflowingInputsAreErrorsNamingTheCell(extra: String, row: String, location: String, message: String) throws {
        let input = try Self.write("\(Self.header)\(extra)\n\(row)\n", "pairs.csv")
        let r = try R.run(["losses", "--input", input.path, "--losses", "sigmoid,ipo"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("pairs.csv: \(location)"), "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    /// Option values whose results overflow used to trip the CSV writer's precondition
    /// (exit 132); a non-finite value is now an empty cell with a counted note. Whatever
    /// the option checks decide (0, or 64 for a rejected value), never a signal.
    @Test(arguments: [(["--ref-rejected=-1e308"], true), (["--beta", "1e200"], false)])
    func overflowingOptionsNeverTrapTheWriter(options: [String], overflows: Bool) throws {
        let r = try R.run(["gradients", "--format", "csv", "--losses", "sigmoid,ipo", "--points", "40"] + options)
        #expect([0, 1, 64].contains(r.status), "\(options): status \(r.status): \(r.stderr.prefix(300))")
        if r.status == 0 && overflows { #expect(r.stderr.contains("were not finite (they overflowed) and were written as empty cells")) }
    }

    /// At the edge of the accepted range every loss still runs: no trap, exit 0.
    @Test func extremeButAcceptedValuesRunEveryLoss() throws {
        let m = "-8.988465674311579e307"   // the accepted minimum, -greatestFiniteMagnitude / 2
        let rows = ["0,\(m),\(m),0,1e300,-1e300,1,1e15", "\(m),0,0,\(m),-1e300,1e300,1e15,1",
                    "-5e-324,-0,-0,-5e-324,5e-324,0,1,1", "\(m),\(m),\(m),\(m),1,0,1,1"]
        let input = try Self.write("\(Self.header),score_chosen,score_rejected,chosen_length,rejected_length\n"
                                   + rows.joined(separator: "\n") + "\n", "edge.csv")
        for beta in ["0.1", "1e-3", "50"] {
            let r = try R.run(["losses", "--input", input.path, "--beta", beta])
            #expect(r.status == 0, "beta \(beta): \(r.stderr.prefix(500))")
            #expect(!r.stdout.lowercased().contains("nan") && !r.stdout.contains("inf"))
        }
    }

    // MARK: One behaviour for CSV and JSON Lines

    static let good = #"{"chosen_logps": -1, "rejected_logps": -2, "ref_chosen_logps": -1, "ref_rejected_logps": -1"#

    @Test(arguments: [
        // Empty input: an error in both (an empty .jsonl used to exit 0).
        ("empty.jsonl", "", "empty.jsonl: line 1: the input is empty"),
        ("empty.csv", "", "empty.csv: line 1: the input is empty"),
        ("blank.jsonl", "\n \n", "the input is empty"),
        ("header.csv", header + "\n", "header.csv: line 1: no data rows"),
        // A repeated key: an error in both (JSON Lines used to take the first value).
        ("dup.jsonl", good + #", "chosen_logps": -5}"# + "\n", "dup.jsonl: line 1 (data row 0), field 'chosen_logps': the record names field 'chosen_logps' twice"),
        ("dup.csv", header + ",chosen_logps\n-1,-2,-1,-1,-5\n", "dup.csv: line 1: duplicate column name 'chosen_logps'"),
        // A NUL inside a number: rejected in both (CSV used to read "-1\0garbage" as -1).
        ("nul.csv", header + "\n-1\u{0}garbage,-2,-1,-1\n", #"nul.csv: line 2 (data row 0), column 'chosen_logps': "-1\0garbage" is not a number"#),
        ("nul.jsonl", #"{"chosen_logps": -1"# + "\u{0}" + #", "rejected_logps": -2, "ref_chosen_logps": -1, "ref_rejected_logps": -1}"# + "\n", "nul.jsonl: line 1 (data row 0): malformed JSON: expected ',' or '}', found '\\0' at column 20"),
        // Underflow: the same error in both (CSV used to read 1e-400 as 0).
        ("under.csv", header + "\n-1e-400,-2,-1,-1\n", "column 'chosen_logps': -1e-400 does not fit in a double"),
        ("under.jsonl", good.replacingOccurrences(of: "-2", with: "-1e-400") + "}\n", "field 'rejected_logps': -1e-400 does not fit in a double"),
        // Partial pairs of columns: both or neither, naming the row (lengths used to be ignored).
        ("len.csv", header + ",chosen_length\n-1,-2,-1,-1,3\n", "len.csv: line 1, column 'chosen_length': 'chosen_length' is given without 'rejected_length' (give both or neither)"),
        ("len.jsonl", good + "}\n" + good + #", "rejected_length": 4}"# + "\n", "len.jsonl: line 2 (data row 1), field 'chosen_length': 'rejected_length' is given without 'chosen_length'"),
        ("score.csv", header + ",score_rejected\n-1,-2,-1,-1,3\n", "score.csv: line 1, column 'score_rejected': 'score_rejected' is given without 'score_chosen' (give both or neither); a reward gap needs both"),
    ])
    func csvAndJSONLinesFollowOneRule(name: String, text: String, message: String) throws {
        let input = try Self.write(text, name)
        let r = try R.run(["losses", "--input", input.path, "--losses", "sigmoid,ipo"])
        #expect(r.status == 1, "\(name): \(r.stderr)")
        #expect(r.stderr.contains(message), "\(name): \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    // MARK: Input limits

    @Test func lineLimitNamesTheOptionThatRaisesIt() throws {
        let long = String(repeating: "1", count: 5000)
        let input = try Self.write("\(Self.header)\n-1,-2,-1,-1\n-1,-0.\(long),-1,-1\n", "long.csv")
        let r = try R.run(["losses", "--input", input.path, "--losses", "sigmoid", "--max-line-bytes", "4096"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("long.csv: line 3: line longer than 4 KiB (4096 bytes), the limit on line length; raise the limit with --max-line-bytes"), "\(r.stderr)")
        let raised = try R.run(["losses", "--input", input.path, "--losses", "sigmoid", "--max-line-bytes", "8192"])
        #expect(raised.status == 0, "\(raised.stderr)")
        let field = try R.run(["losses", "--input", input.path, "--losses", "sigmoid", "--max-field-bytes", "1000"])
        #expect(field.status == 1)
        #expect(field.stderr.contains("line 3 (data row 1): field longer than 1000 bytes"), "\(field.stderr)")
        #expect(field.stderr.contains("raise the limit with --max-field-bytes"))
        #expect(field.stderr.count < 300, "the message quotes at most ~80 characters: \(field.stderr)")
        let bad = try R.run(["losses", "--input", input.path, "--max-input-bytes", "0"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--max-input-bytes must be a positive number of bytes"))
    }

    /// `/dev/zero` and a gzip bomb end with an error after about one limit of input.
    @Test func endlessInputsStop() throws {
        let zero = try R.run(["losses", "--input", "/dev/zero"])
        #expect(zero.status == 1)
        #expect(zero.stderr.contains("zero: line 1: line longer than 1 MiB"), "\(zero.stderr)")
        // 64 MiB of line breaks in about 64 KB of gzip, against a 16 MiB cap.
        let dir = try R.tempDir()
        let plain = dir.appendingPathComponent("bomb.jsonl")
        try Data(repeating: 0x0A, count: 64 << 20).write(to: plain)
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/bash")
        gz.arguments = ["-c", "gzip -9 '\(plain.path)'"]
        try gz.run()
        gz.waitUntilExit()
        let r = try R.run(["losses", "--input", plain.path + ".gz", "--max-input-bytes", "\(16 << 20)"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("bomb.jsonl.gz: input larger than 16 MiB (16777216 bytes) (after decompression)"), "\(r.stderr)")
        #expect(r.stderr.contains("--max-input-bytes"))
    }

    /// Mutated inputs through the whole command: exit 0 or 1, never a signal.
    @Test func mutatedInputsNeverKillTheCommand() throws {
        var rng = SplitMix64(seed: 13)
        let csv = "\(Self.header),score_chosen,score_rejected,chosen_length,rejected_length\n"
            + "-1,-2,-1.5,-1,1,0,3,4\n-1e3,-7e2,-9e2,-8e2,0.5,-0.5,10,12\n"
        let jsonl = Self.good + #", "score_chosen": 1, "score_rejected": 0, "chosen_length": 3, "rejected_length": 4}"# + "\n"
            + Self.good + "}\n"
        let specials = Array(",\"\n{}:-e0.9\\".utf8) + [0, 0xFF]
        let dir = try R.tempDir()
        for k in 0..<24 {
            var bytes = Array((k % 2 == 0 ? csv : jsonl).utf8)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[at] = specials.randomElement(using: &rng) ?? 0
                case 1: bytes.remove(at: at)
                default: bytes.insert(specials.randomElement(using: &rng) ?? 0, at: at)
                }
            }
            let url = dir.appendingPathComponent("m\(k).\(k % 2 == 0 ? "csv" : "jsonl")")
            try Data(bytes).write(to: url)
            let r = try R.run(["losses", "--input", url.path])
            #expect(r.status == 0 || r.status == 1, "\(url.lastPathComponent): status \(r.status): \(r.stderr.prefix(300))")
            if r.status == 1 { #expect(r.stderr.hasPrefix("Error: m\(k)."), "\(r.stderr.prefix(300))") }
        }
    }
}

/// A tiny deterministic generator for tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
