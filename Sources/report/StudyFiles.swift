import Experiments
import Foundation
import Formats

/// The files of a finished study folder, built by ONE function from the manifest and the
/// two raw tables' text, which it reads back first: a single run and a merge of shards
/// therefore write the same bytes.
///
/// See also: ``StudyTables``, ``StudyReport``, ``StudyFigures``.
enum StudyFiles {
    /// Every file of the folder (name relative to it, text).
    static func files(manifest: String, runs: String, trajectories: String) throws -> [(String, String)] {
        let spec = try StudyTables.spec(manifest: manifest, source: "manifest.txt")
        let records = try StudyTables.records(runs, source: "runs.csv")
        let points = try StudyTables.trajectories(trajectories, source: "trajectories.csv")
        let analysis = StudyAnalysis(spec: spec, records: records, trajectories: points)
        var files: [(String, String)] = [("manifest.txt", manifest), ("runs.csv", runs), ("trajectories.csv", trajectories),
                                         ("comparisons.csv", comparisonsCSV(analysis)), ("frontiers.csv", frontiersCSV(analysis)),
                                         ("arms.csv", armsCSV(analysis))]
        let figures = StudyFigures.figures(analysis)
        files += figures.map { ("figures/" + $0.0, $0.1) }
        files.append(("README.md", StudyReport.readme(analysis, manifest: manifest, figures: figures.map(\.0))))
        return files
    }

    /// The top-level entries a study folder holds (for ``AtomicFolder``).
    static let owned: Set<String> = ["manifest.txt", "runs.csv", "trajectories.csv", "comparisons.csv", "frontiers.csv",
                                     "arms.csv", "figures", "README.md", "shard.txt",
                                     StudyJournal.fileName, SweepLock.fileName]

    static func cellColumns(_ c: StudySpec.Cell) -> [String] {
        [c.policy.rawValue, CSVWriter.format(c.beta), CSVWriter.format(c.proxyBias), CSVWriter.format(c.rewardNoise)]
    }

    static func comparisonsCSV(_ a: StudyAnalysis) -> String {
        var w = CSVWriter(header: ["policy", "beta", "proxy_bias", "reward_noise", "claim", "measure", "arm", "oracle", "baseline",
                                   "direction", "n", "not_comparable_diverged", "not_reached_kl", "mean_difference", "sd",
                                   "ci95_low", "ci95_high", "verdict", "matched_kl"])
        for c in a.comparisons {
            w.appendRow(cellColumns(c.cell) + [c.measure.claim, c.measure.rawValue, c.arm.rawValue, c.arm.isOracle ? "yes (upper bound)" : "no",
                         c.baseline.rawValue, c.measure.direction == .positive ? "principled > baseline" : "principled < baseline",
                         String(c.n), String(c.notComparable), String(c.notReached), finite(c.mean), finite(c.standardDeviation),
                         finite(c.lower), finite(c.upper), c.verdict.rawValue, CSVWriter.formatOrEmpty(c.matchedKL)])
        }
        return w.text
    }

    static func frontiersCSV(_ a: StudyAnalysis) -> String {
        var w = CSVWriter(header: ["policy", "beta", "proxy_bias", "reward_noise", "arm", "kl_ref", "sqrt_kl_ref", "seeds_reached",
                                   "mean_true_reward", "ci95_low", "ci95_high"])
        for p in a.frontiers {
            w.appendRow(cellColumns(p.cell) + [p.arm.rawValue, CSVWriter.format(p.kl), CSVWriter.format(p.kl.squareRoot()), String(p.n),
                                               finite(p.mean), finite(p.lower), finite(p.upper)])
        }
        return w.text
    }

    static let armColumns: [StudyRunValue] = [.finalTrueReward, .finalProxyReward, .hacked, .finalWinRate, .winVersusDPO,
                                              .finalKL, .finalRegret, .finalSpuriousCount, .maxH, .absFitted, .maxGradNorm]

    static func armsCSV(_ a: StudyAnalysis) -> String {
        var header = ["policy", "beta", "proxy_bias", "reward_noise", "arm", "oracle", "runs_ok", "runs_diverged"]
        for k in armColumns { header += ["mean_" + k.rawValue, "ci95_half_" + k.rawValue] }
        var w = CSVWriter(header: header)
        for cell in a.spec.cells {
            for arm in StudyArm.allCases {
                let first = a.armMean(cell, arm, .finalTrueReward)
                var row = cellColumns(cell) + [arm.rawValue, arm.isOracle ? "yes (upper bound)" : "no", String(first.n), String(first.diverged)]
                for k in armColumns {
                    let m = a.armMean(cell, arm, k)
                    row += [finite(m.mean), finite(m.half)]
                }
                w.appendRow(row)
            }
        }
        return w.text
    }

    /// A number, or the empty cell when it is missing (NaN: too few seeds).
    static func finite(_ x: Double) -> String { CSVWriter.formatOrEmpty(x.isFinite ? x : nil) }
}
