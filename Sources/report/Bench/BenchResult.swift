import Dispatch
import Experiments
import Foundation
import LossMath

// The records `report bench` measures and prints, the machine description, and the timing
// helpers the runners share. Rendering: BenchRendering.swift; the roofline model: Roofline.swift.

// MARK: - Machine

struct BenchMachine {
    var cpu: String
    var processors: Int
    var date: String
    var binary: String

    static var current: BenchMachine {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return BenchMachine(cpu: model, processors: Sweep.processorCount, date: f.string(from: Date()), binary: selfExecutable())
    }
}

/// The running binary (for the subprocess timings).
func selfExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

// MARK: - Timing

/// Monotonic seconds.
@inline(never)
func benchNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
}

/// Sums the finite entries (a checksum printed so that no work can be optimised away).
func finiteSum(_ b: UnsafeMutableBufferPointer<Double>) -> Double {
    var s = 0.0
    for x in b where x.isFinite { s += x }
    return s
}


// MARK: - Results

struct PeakRow { var name: String; var rate: Double; var unit: String; var note: String }

struct KernelRow {
    var loss: Loss
    var batchRate: Double, scalarRate: Double
    var checksum: Double
    var ops: OpCount?
    var modelRate: Double?
    var modelRateWithoutOverlap: Double?
}

struct TrainerRow {
    var problem: String, loss: Loss
    var P: Int, K: Int, n: Int, steps: Int, threads: Int
    var seconds: Double, rate: Double
    var finalRegret: Double
    var ops: OpCount?, modelRate: Double?, modelRateWithoutOverlap: Double? = nil
    /// The max model with exp, division and square root at their explicit eight-lane peaks.
    var modelRateEightLanes: Double? = nil
}

struct SweepRow { var workers: Int; var runs: Int; var steps: Int; var seconds: Double; var rate: Double }

struct ScalingRow { var study: String; var P: Int, K: Int, n: Int, steps: Int; var seconds: Double }

struct ScalingFit { var study: String; var variable: String; var exponent: Double; var standardError: Double }

struct CommandRow { var command: String; var seconds: Double; var status: Int32 }

struct BenchResult {
    var machine: BenchMachine
    var arguments: [String]
    var peaks: [PeakRow] = []
    var kernels: [KernelRow] = []
    var trainer: [TrainerRow] = []
    var sweep: [SweepRow] = []
    var scaling: (rows: [ScalingRow], fits: [ScalingFit]) = ([], [])
    var commands: [CommandRow] = []
    var sequence: [SequenceBenchRow] = []
}

func g3(_ x: Double) -> String { x.isFinite ? String(format: "%.3g", x) : "-" }
func f2(_ x: Double) -> String { x.isFinite ? String(format: "%.2f", x) : "-" }
func mega(_ x: Double) -> String { x.isFinite ? String(format: "%.1f", x / 1e6) : "-" }
