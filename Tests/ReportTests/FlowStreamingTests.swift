import Experiments
import Foundation
import LossMath
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Issue 13, part 5: `report flow --points` streams. The rows of flow.csv are written as they
/// are computed (to `--out` through a temporary file renamed into place, and to standard
/// output), the figures keep at most 1000 points per loss, and memory does not grow with
/// `--points` (measured with `/usr/bin/time -v`, see `report flow --help`). Before, the
/// curves and the table were held whole (about 2.6 KB per point with the default losses)
/// and `--points` stopped at 100000.
@Suite(.serialized) struct FlowStreamingTests {
    typealias R = ReportCommandTests
    static let losses = "sigmoid,spo"

    /// The number of points of each series in an SVG figure (one `M`, then one `L` per point).
    static func svgSeriesPoints(_ svg: String) -> [Int] {
        svg.components(separatedBy: "<path class=\"series\"").dropFirst().map { part in
            let d = part.components(separatedBy: "d=\"").dropFirst().first?.prefix { $0 != "\"" } ?? ""
            return d.split(separator: " ").filter { $0.hasPrefix("M") || $0.hasPrefix("L") }.count
        }
    }

    static func rows(_ csv: String) -> [[String]] {
        csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    /// 5000 points (more than the 4096 rows a loss holds before it is integrated twice): the
    /// CSV has every row, in time order, and DPO's rows are its closed form; each figure
    /// series has the sampled points only: every k-th, k = ceil(4999 / 999) = 6, and the last,
    /// so 834 + 1 = 835.
    @Test func aLargeRunWritesEveryRowAndSamplesTheFigures() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let n = 5000
        let r = try R.run(["flow", "--losses", Self.losses, "--points", "\(n)", "--out", dir.path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let csv = try String(contentsOf: dir.appendingPathComponent("flow.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("loss,beta,reward_gap,t,log10_t,h,target_h\n"))
        let rows = Self.rows(csv)
        #expect(rows.count == 2 * n)
        #expect(rows.prefix(n).allSatisfy { $0.first == "sigmoid" } && rows.suffix(n).allSatisfy { $0.first == "spo" })
        let times = rows.prefix(n).compactMap { Double($0[3]) }
        #expect(times.count == n && zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
        #expect(times.first == 1e-2 && times.last == 1e6)
        // DPO's exact h(t) (the root of h + e^{beta h}/beta = 2 beta t + 1/beta), every 97th row.
        for row in rows.prefix(n).enumerated().filter({ $0.offset % 97 == 0 || $0.offset == n - 1 }).map(\.element) {
            let t = try #require(Double(row[3])), h = try #require(Double(row[5]))
            let exact = try GradientFlow.dpoClosedForm(beta: 0.5, h0: 0, time: t)
            #expect(abs(h - exact) <= 1e-8 * max(1, abs(exact)), "t = \(t): \(h) vs \(exact)")
        }
        let svg = try String(contentsOf: dir.appendingPathComponent("flow.svg"), encoding: .utf8)
        #expect(Self.svgSeriesPoints(svg) == [835, 835])
        // The same rows on standard output, as CSV and as JSON.
        let out = try R.run(["flow", "--losses", Self.losses, "--points", "\(n)", "--format", "csv"])
        #expect(out.status == 0 && out.stdout == csv)
        let json = try R.run(["flow", "--losses", Self.losses, "--points", "\(n)", "--format", "json"])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(objects.count == 2 * n)
        // The same numbers, as text (JSONSerialization may round a number differently).
        for k in [0, 1234, 2 * n - 1] {
            #expect(json.stdout.contains("\"h\": \(rows[k][5]),\n    \"log10_t\": \(rows[k][4]),\n    \"loss\": \"\(rows[k][0])\""), "row \(k)")
            #expect(json.stdout.contains("\"t\": \(rows[k][3]),\n    \"target_h\": \(rows[k][6])\n  }"), "row \(k)")
        }
    }

    /// Where a small and a large run share a time (the first and the last), they agree to the
    /// integrator's tolerance; at 1000 points or fewer every point is drawn.
    @Test func smallAndLargeRunsAgreeWhereTheyOverlap() throws {
        let small = try R.run(["flow", "--losses", Self.losses, "--points", "7", "--format", "csv"])
        let large = try R.run(["flow", "--losses", Self.losses, "--points", "4500", "--format", "csv"])
        #expect(small.status == 0 && large.status == 0)
        let s = Self.rows(small.stdout), l = Self.rows(large.stdout)
        #expect(s.count == 14 && l.count == 9000)
        for (a, b) in [(s[0], l[0]), (s[6], l[4499]), (s[7], l[4500]), (s[13], l[8999])] {
            #expect(a[0] == b[0] && a[3] == b[3], "\(a) \(b)")
            let ha = try #require(Double(a[5])), hb = try #require(Double(b[5]))
            #expect(abs(ha - hb) <= 1e-9 * max(1, abs(ha)), "\(a) \(b)")
        }
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try R.run(["flow", "--losses", Self.losses, "--points", "1000", "--out", dir.path]).status == 0)
        let svg = try String(contentsOf: dir.appendingPathComponent("flow.svg"), encoding: .utf8)
        #expect(Self.svgSeriesPoints(svg) == [1000, 1000])
    }

    /// A run killed while flow.csv streams leaves no flow.csv (only its hidden temporary),
    /// and the next run into the folder removes that temporary.
    @Test func aKilledRunLeavesNoPartialFile() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = Process()
        p.executableURL = R.binary
        p.arguments = ["flow", "--losses", "sigmoid", "--points", "400000", "--out", dir.path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        func temporaries() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix(".flow.csv.tmp-") }
        }
        func size(_ name: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path))?[.size] as? Int) ?? 0
        }
        // Wait until more than the 1 MiB buffer has reached the temporary file.
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning && Date() < deadline && !(temporaries().first.map { size($0) > 1 << 20 } ?? false) { usleep(5_000) }
        let partial = temporaries().first.map { size($0) } ?? 0
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal, "the run ended before it was killed")
        #expect(partial > 1 << 20, "the rows did not stream into the temporary file")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!left.contains("flow.csv") && !left.contains("flow.md") && !left.contains("flow.svg"), "\(left)")
        let r = try R.run(["flow", "--losses", "sigmoid", "--points", "3", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["flow-plot.txt", "flow.csv", "flow.md", "flow.svg"])
        #expect(Self.rows(try String(contentsOf: dir.appendingPathComponent("flow.csv"), encoding: .utf8)).count == 3)
    }

    /// A failure at the end (flow.csv cannot be renamed into place: a folder holds its name)
    /// is an error naming the file, with no temporary left behind and nothing else written.
    @Test func aFailedRenameLeavesNothing() throws {
        let dir = try R.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let blocker = dir.appendingPathComponent("flow.csv/keep")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
        let r = try R.run(["flow", "--losses", Self.losses, "--points", "5000", "--out", dir.path])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("flow.csv"), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal") && !r.stderr.contains("backtrace"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["flow.csv"])
        #expect(FileManager.default.fileExists(atPath: blocker.path))
    }

    @Test func pointsAboveAMillionAreAUsageError() throws {
        let r = try R.run(["flow", "--points", "1000001"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--points must be between 2 and 1000000"), "\(r.stderr)")
    }
}
