import ArgumentParser
import Experiments
import Foundation
import Formats
import LossMath
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `--out` folder of a sequence-level `report train`, with its large per-state tables
/// streamed row by row (docs/theory.md §5.2):
///
/// - `transitions.csv`: `prompt,position,previous,token,logp_reference,reward,proxy_reward,logp_optimal`,
///   one row per state `(prompt, position, previous)` and next token, in the state order of
///   ``Experiments/SequenceSpace`` (`previous = -1` at position 0); `reward` and
///   `proxy_reward` are the per-transition terms `rho(s, a)` and `rho~(s, a)`, `logp_optimal`
///   is `log pi*(a|s)` under the true reward.
/// - `policy-<loss>.csv`: `prompt,position,previous,token,logp`, the final policy of each loss.
/// - `pairs.csv`: `prompt,chosen,rejected,preference,true_gap,proxy_gap,target_gap`, one row
///   per training pair; `chosen` and `rejected` are the `T` tokens separated by spaces,
///   `preference` the label (1 for hard labels), the gaps chosen minus rejected, and
///   `target_gap` what the reward-aware losses are told. benchmarks/sequence_torch.py reads it.
///
/// Each table has `P (1 + (T - 1) V) V` rows; more than ``maximumRows`` is refused before any
/// training (``checkSize(_:)``). The folder is built under a hidden sibling and renamed into
/// place (``Formats/AtomicFolder``): it appears whole or not at all.
///
/// See also: ``SequenceTrainReport``.
enum SequenceTables {
    /// `2^21` rows: `P = 8, V = 32, T = 256` (2,089,216 rows, about 150 MB for transitions.csv)
    /// fits; a larger table is refused with a message naming the options.
    static let maximumRows = 1 << 21

    static let transitionColumns = ["prompt", "position", "previous", "token", "logp_reference", "reward", "proxy_reward", "logp_optimal"]
    static let policyColumns = ["prompt", "position", "previous", "token", "logp"]
    static let pairColumns = ["prompt", "chosen", "rejected", "preference", "true_gap", "proxy_gap", "target_gap"]

    /// Throws a ValidationError naming the options when the tables would exceed ``maximumRows``.
    static func checkSize(_ space: SequenceSpace) throws {
        guard space.tableCount <= maximumRows else {
            throw ValidationError("--out: transitions.csv and each policy-<loss>.csv would have P(1+(T-1)V)V = "
                                      + "\(space.tableCount) rows, more than the limit of \(maximumRows); use fewer "
                                      + "--prompts, a shorter --length or a smaller --vocab, or leave out --out")
        }
    }

    /// The file name of `loss`'s policy table.
    static func policyFileName(_ loss: Loss) -> String { "policy-\(loss.rawValue).csv" }

    /// Builds `folder` whole: the small `files`, then the streamed tables.
    static func writeFolder(_ folder: String, files: [TrainReport.File], environment env: SequenceEnvironment,
                            results: [SequenceTrainingResult]) throws {
        let owned = Set(files.map(\.name) + tableNames(results))
        do {
            try AtomicFolder.build(URL(fileURLWithPath: folder), owns: owned) { dir in
                for f in files { try AtomicFile.write(f.text, to: dir.appendingPathComponent(f.name)) }
                try stream(to: dir.appendingPathComponent("transitions.csv")) { try transitionLines(env, $0) }
                for r in results {
                    try stream(to: dir.appendingPathComponent(policyFileName(r.summary.loss))) {
                        try policyLines(env.space, r.finalLogPolicy, $0)
                    }
                }
                try stream(to: dir.appendingPathComponent("pairs.csv")) { try pairLines(env, $0) }
            }
        } catch let error as ReportError { throw error } catch { throw ReportError("\(error)") }
    }

    /// The names of the tables: transitions.csv, one policy file per result, pairs.csv.
    static func tableNames(_ results: [SequenceTrainingResult]) -> [String] {
        ["transitions.csv"] + results.map { policyFileName($0.summary.loss) } + ["pairs.csv"]
    }

    /// The tables as strings, for small problems (``report all``), in ``tableNames(_:)``'s order.
    static func texts(environment env: SequenceEnvironment, results: [SequenceTrainingResult]) -> [TrainReport.File] {
        func text(_ lines: ((String) -> Void) -> Void) -> String {
            var s = ""
            lines { s += $0 }
            return s
        }
        return [TrainReport.File(name: "transitions.csv", text: text { emit in transitionLines(env, emit) })]
            + results.map { r in
                TrainReport.File(name: policyFileName(r.summary.loss), text: text { emit in policyLines(env.space, r.finalLogPolicy, emit) })
            }
            + [TrainReport.File(name: "pairs.csv", text: text { emit in pairLines(env, emit) })]
    }

    /// Writes the lines that `lines` emits to `url` through a 1 MiB buffer.
    static func stream(to url: URL, _ lines: ((String) throws -> Void) throws -> Void) throws {
        let out = try BufferedFile(url)
        try lines { line in
            out.append(line)
            try out.flushIfFull()
        }
        try out.close()
    }

    /// transitions.csv, line by line.
    static func transitionLines(_ env: SequenceEnvironment, _ emit: (String) throws -> Void) rethrows {
        let ref = env.reference.logProbabilities, opt = env.optimal.logProbabilities
        try stateLines(env.space, header: transitionColumns, emit) { e in [ref[e], env.reward[e], env.proxyReward[e], opt[e]] }
    }

    /// policy-<loss>.csv of the `log pi(a|s)` table `table`, line by line.
    static func policyLines(_ space: SequenceSpace, _ table: [Double], _ emit: (String) throws -> Void) rethrows {
        try stateLines(space, header: policyColumns, emit) { [table[$0]] }
    }

    /// The header, then one line per state and token: `prompt,position,previous,token`, then
    /// `values(entry)`.
    static func stateLines(_ space: SequenceSpace, header: [String], _ emit: (String) throws -> Void,
                           values: (Int) -> [Double]) rethrows {
        try emit(header.joined(separator: ",") + "\n")
        for s in 0..<space.stateCount {
            let (x, t, p) = space.components(ofState: s)
            let prefix = "\(x),\(t),\(p),"
            for a in 0..<space.vocabulary {
                var line = prefix + "\(a)"
                for value in values(space.entry(state: s, token: a)) { line += "," + CSVWriter.format(value) }
                try emit(line + "\n")
            }
        }
    }

    /// pairs.csv, line by line.
    static func pairLines(_ env: SequenceEnvironment, _ emit: (String) throws -> Void) rethrows {
        try emit(pairColumns.joined(separator: ",") + "\n")
        let pairs = env.pairs
        for i in 0..<pairs.count {
            let w = pairs.chosen.response(i).map(String.init).joined(separator: " ")
            let l = pairs.rejected.response(i).map(String.init).joined(separator: " ")
            let cells = ["\(pairs.chosen.prompts[i])", w, l, CSVWriter.format(pairs.preference[i]),
                         CSVWriter.format(env.trueGaps[i]), CSVWriter.format(env.proxyGaps[i]), CSVWriter.format(env.targetGaps[i])]
            try emit(cells.joined(separator: ",") + "\n")
        }
    }
}

/// `close(2)` and `write(2)`, named apart from ``BufferedFile``'s methods.
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { write(fd, p, n) }

/// A file written through a 1 MiB buffer with `write(2)`, for tables too large to hold as
/// one string. It is written inside a folder that ``Formats/AtomicFolder`` renames into
/// place, so a failure leaves no partial output.
final class BufferedFile {
    let path: String
    private var buffer: [UInt8] = []
    private let fd: Int32
    private var closed = false
    static let capacity = 1 << 20

    init(_ url: URL) throws {
        path = url.path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        guard fd >= 0 else { throw ReportError("\(FormatError.io("create", path: path, code: errno))") }
        buffer.reserveCapacity(Self.capacity + 4096)
    }

    deinit { if !closed { _ = systemClose(fd) } }

    func append(_ text: String) { buffer.append(contentsOf: text.utf8) }

    func flushIfFull() throws { if buffer.count >= Self.capacity { try flush() } }

    func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { raw in
                systemWrite(fd, raw.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReportError("\(FormatError.io("write", path: path, code: errno))")
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        closed = true
        guard systemClose(fd) == 0 else { throw ReportError("\(FormatError.io("close", path: path, code: errno))") }
    }
}
