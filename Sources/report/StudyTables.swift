import Experiments
import Foundation
import Formats

// The raw tables of `report study` (runs.csv, trajectories.csv) and manifest.txt: what a
// shard writes and what `report merge` reads back. Every number is written by
// CSVWriter.format (Swift's shortest round-trip text), so reading a table back gives the
// same doubles and the analysis of a merge is the analysis of one machine's run.

enum StudyTables {
    static let runColumns = ["unit", "policy", "beta", "proxy_bias", "reward_noise", "seed", "arm", "loss", "oracle", "status"]
        + StudyRunValue.allCases.map(\.rawValue) + ["rm_accuracy", "label_agreement"]
    static let trajectoryColumns = ["unit", "arm", "step", "kl_ref", "true_reward", "proxy_reward", "win_rate"]

    static func runsCSV(_ records: [StudyRunRecord]) -> String {
        var w = CSVWriter(header: runColumns)
        for r in records {
            w.appendRow([String(r.unit), r.cell.policy.rawValue, CSVWriter.format(r.cell.beta), CSVWriter.format(r.cell.proxyBias),
                         CSVWriter.format(r.cell.rewardNoise), String(r.seed), r.arm.rawValue, r.arm.loss.rawValue,
                         r.arm.isOracle ? "yes (upper bound)" : "no", r.status.description]
                         + r.values.map(CSVWriter.formatOrEmpty)
                         + [CSVWriter.formatOrEmpty(r.rewardModelAccuracy.isFinite ? r.rewardModelAccuracy : nil),
                            CSVWriter.formatOrEmpty(r.labelAgreement)])
        }
        return w.text
    }

    static func trajectoriesCSV(_ points: [StudyTrajectoryPoint]) -> String {
        var w = CSVWriter(header: trajectoryColumns)
        for p in points {
            w.appendRow([String(p.unit), p.arm.rawValue, String(p.step), CSVWriter.format(p.kl), CSVWriter.format(p.trueReward),
                         CSVWriter.format(p.proxyReward), CSVWriter.format(p.winRate)])
        }
        return w.text
    }

    /// Reads runs.csv back; every message names the file, line and column.
    static func records(_ text: String, source: String) throws -> [StudyRunRecord] {
        let doc: CSVDocument
        do { doc = try CSVDocument.parse(text, source: source) } catch { throw ReportError("\(error)") }
        guard doc.header == runColumns else {
            throw ReportError("\(source): unexpected header; expected \(runColumns.joined(separator: ","))")
        }
        var out: [StudyRunRecord] = []
        for (k, row) in doc.rows.enumerated() {
            func bad(_ column: Int, _ why: String) -> ReportError {
                ReportError("\(source): line \(doc.lineNumbers[k]), column \(runColumns[column]): \(why)")
            }
            guard row.count == runColumns.count else { throw ReportError("\(source): line \(doc.lineNumbers[k]): \(row.count) cells, expected \(runColumns.count)") }
            func number(_ c: Int) throws -> Double {
                guard let x = Double(row[c]), x.isFinite else { throw bad(c, "'\(row[c])' is not a finite number") }
                return x
            }
            func optional(_ c: Int) throws -> Double? { row[c].isEmpty ? nil : try number(c) }
            guard let unit = Int(row[0]), unit >= 0 else { throw bad(0, "'\(row[0])' is not a unit number") }
            guard let policy = StudyPolicy(rawValue: row[1]) else { throw bad(1, "unknown policy '\(row[1])'") }
            guard let seed = UInt64(row[5]) else { throw bad(5, "'\(row[5])' is not a seed") }
            guard let arm = StudyArm(rawValue: row[6]) else { throw bad(6, "unknown arm '\(row[6])'") }
            guard let status = RunStatus(row[9]) else { throw bad(9, "'\(row[9])' is not a status") }
            let first = 10, count = StudyRunValue.allCases.count
            let values = try (first..<(first + count)).map { try optional($0) }
            out.append(StudyRunRecord(unit: unit, cell: StudySpec.Cell(policy: policy, beta: try number(2), proxyBias: try number(3),
                                                                      rewardNoise: try number(4)),
                                      seed: seed, arm: arm, status: status, values: values,
                                      rewardModelAccuracy: try optional(first + count) ?? .nan,
                                      labelAgreement: try number(first + count + 1)))
        }
        return out
    }

    /// Reads trajectories.csv back.
    static func trajectories(_ text: String, source: String) throws -> [StudyTrajectoryPoint] {
        let doc: CSVDocument
        do { doc = try CSVDocument.parse(text, source: source) } catch { throw ReportError("\(error)") }
        guard doc.header == trajectoryColumns else {
            throw ReportError("\(source): unexpected header; expected \(trajectoryColumns.joined(separator: ","))")
        }
        var out: [StudyTrajectoryPoint] = []
        out.reserveCapacity(doc.rows.count)
        for (k, row) in doc.rows.enumerated() {
            func bad(_ c: Int) -> ReportError {
                ReportError("\(source): line \(doc.lineNumbers[k]), column \(trajectoryColumns[min(c, trajectoryColumns.count - 1)]): '\(c < row.count ? row[c] : "")' is not valid")
            }
            guard row.count == trajectoryColumns.count else { throw bad(row.count) }
            func number(_ c: Int) throws -> Double {
                guard let x = Double(row[c]), x.isFinite else { throw bad(c) }
                return x
            }
            guard let unit = Int(row[0]) else { throw bad(0) }
            guard let arm = StudyArm(rawValue: row[1]) else { throw bad(1) }
            guard let step = Int(row[2]), step >= 0 else { throw bad(2) }
            out.append(StudyTrajectoryPoint(unit: unit, arm: arm, step: step, kl: try number(3), trueReward: try number(4),
                                            proxyReward: try number(5), winRate: try number(6)))
        }
        return out
    }

    /// manifest.txt: the grid and every setting (not the shard), so that merge can refuse
    /// shards of different studies and rebuild the grid.
    static func manifest(_ spec: StudySpec) -> String {
        func list(_ x: [Double]) -> String { x.map(CSVWriter.format).joined(separator: ",") }
        let b = spec.base, t = spec.training
        return """
            study
            policies=\(spec.policies.map(\.rawValue).joined(separator: ","))
            betas=\(list(spec.betas))
            proxy_biases=\(list(spec.proxyBiases))
            reward_noises=\(list(spec.rewardNoises))
            seeds=\(spec.seeds)
            environment=P=\(b.prompts) V=\(b.vocabulary) T=\(b.length) n=\(b.pairsPerPrompt) s_ref=\(CSVWriter.format(b.referenceSpread)) s_r=\(CSVWriter.format(b.rewardSpread)) labels=\(b.labels.rawValue) spurious_token=\(b.spuriousToken) rm_l2=\(CSVWriter.format(b.rewardModelL2)) held_out=\(b.heldOutPairsPerPrompt) win_rate_samples=\(b.winRateSamplesPerPrompt) target=fitted
            training=\(t.optimizer.rawValue) lr=\(CSVWriter.format(t.learningRate)) steps=\(t.steps) log_every=\(t.logEvery) clip=\(t.clipNorm.map(CSVWriter.format) ?? "none")
            arms=\(StudyArm.allCases.map(\.rawValue).joined(separator: ","))

            """ + tabularLine(spec)
    }

    /// The tabular and log-linear cells' environment, only when the grid has such a policy
    /// (so a sequence-level study's manifest keeps its bytes).
    static func tabularLine(_ spec: StudySpec) -> String {
        guard spec.policies.contains(where: { !$0.hasProxy }) else { return "" }
        let t = spec.tabularBase
        return "tabular_environment=P=\(spec.base.prompts) K=\(t.responses) n=\(spec.base.pairsPerPrompt) d=\(t.features) "
            + "s_ref=\(CSVWriter.format(t.referenceSpread)) s_r=\(CSVWriter.format(t.rewardSpread)) labels=\(t.labels.rawValue) "
            + "pairs=\(t.pairSampling.rawValue) rm_l2=\(CSVWriter.format(spec.base.rewardModelL2)) proxy_bias=0 (no proxy reward)\n"
    }

    /// The grid of a manifest (the axes and the seed count; the settings are carried as text).
    static func spec(manifest: String, source: String) throws -> StudySpec {
        let lines = manifest.split(separator: "\n").map(String.init)
        guard lines.first == "study" else { throw ReportError("\(source): not the manifest of a `report study` folder") }
        func value(_ key: String) throws -> String {
            guard let line = lines.first(where: { $0.hasPrefix(key + "=") }) else { throw ReportError("\(source): no \(key)= line") }
            return String(line.dropFirst(key.count + 1))
        }
        func numbers(_ key: String) throws -> [Double] {
            try value(key).split(separator: ",").map { s in
                guard let x = Double(s), x.isFinite else { throw ReportError("\(source): \(key): '\(s)' is not a number") }
                return x
            }
        }
        let policies = try value("policies").split(separator: ",").map { s in
            guard let p = StudyPolicy(rawValue: String(s)) else { throw ReportError("\(source): unknown policy '\(s)'") }
            return p
        }
        guard let seeds = Int(try value("seeds")), seeds >= 1 else { throw ReportError("\(source): seeds= is not a count") }
        let spec = StudySpec(policies: policies, betas: try numbers("betas"), proxyBiases: try numbers("proxy_biases"),
                             rewardNoises: try numbers("reward_noises"), seeds: seeds)
        // The bounds of `report study`'s options: an edited manifest (seeds=2^63-1, betas=)
        // is an error here, never a grid without units or one too large to enumerate.
        do { try spec.validate() } catch { throw ReportError("\(source): \(error)") }
        return spec
    }
}
