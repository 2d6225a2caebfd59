import Experiments
import Foundation
import Formats

/// `report merge` on the folders of `report study --shard i/n`: checks that they come from
/// the same study (same manifest.txt), that no unit appears twice, that every unit of the
/// grid is present with every arm, then builds the study folder with the same function as
/// an unsharded run (``StudyFiles/files(manifest:runs:trajectories:)``): the same bytes.
enum StudyMerge {
    /// Whether `folder` holds a study's manifest (its first line is `study`).
    static func isStudy(_ folder: String) -> Bool {
        let path = URL(fileURLWithPath: folder).appendingPathComponent("manifest.txt").path
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return false }
        return text.split(separator: "\n").first == "study"
    }

    static func read(_ url: URL) throws -> String {
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
            throw ReportError("\(url.path): missing or not UTF-8; is its folder the --out folder of a finished `report study --shard`?")
        }
        return text
    }

    static func merge(_ folders: [String], out: String) throws {
        var manifest: String?
        var firstFolder = ""
        var records: [StudyRunRecord] = []
        var points: [StudyTrajectoryPoint] = []
        var seen: [Int: String] = [:]
        for folder in folders {
            let dir = URL(fileURLWithPath: folder)
            let m = try read(dir.appendingPathComponent("manifest.txt"))
            if let manifest, manifest != m {
                throw ReportError("\(folder)/manifest.txt: this shard belongs to a different study than \(firstFolder) (manifest.txt differs)")
            }
            if manifest == nil { manifest = m; firstFolder = folder }
            let runsURL = dir.appendingPathComponent("runs.csv"), trajURL = dir.appendingPathComponent("trajectories.csv")
            let rs = try StudyTables.records(try read(runsURL), source: runsURL.path)
            var units = Set<Int>()
            for r in rs {
                if let other = seen[r.unit], other != folder {
                    throw ReportError("\(runsURL.path): unit \(r.unit) also appears in \(other); shards must not overlap")
                }
                units.insert(r.unit)
            }
            for u in units { seen[u] = folder }
            records += rs
            // Every trajectory point belongs to a run of this folder's runs.csv, so a point
            // of another study, shard or unit cannot enter the frontiers unnoticed.
            let runKeys = Set(rs.map { "\($0.unit) \($0.arm.rawValue)" })
            let ps = try StudyTables.trajectories(try read(trajURL), source: trajURL.path)
            if let k = ps.firstIndex(where: { !runKeys.contains("\($0.unit) \($0.arm.rawValue)") }) {
                throw ReportError("\(trajURL.path): data row \(k): unit \(ps[k].unit), arm \(ps[k].arm.rawValue) is not a run of \(runsURL.path); the shard is stale or was edited")
            }
            points += ps
        }
        guard let manifest else { throw ReportError("give at least one shard folder") }
        let spec = try StudyTables.spec(manifest: manifest, source: "\(firstFolder)/manifest.txt")
        let units = spec.units
        let missing = units.filter { seen[$0.id] == nil }
        if let first = missing.first {
            throw ReportError("incomplete study: \(missing.count) of \(units.count) units missing (first: unit \(first.id)); merge all n shards")
        }
        let armIndex = Dictionary(uniqueKeysWithValues: StudyArm.allCases.enumerated().map { ($0.element, $0.offset) })
        for u in units {
            let arms = records.filter { $0.unit == u.id }
            guard arms.count == StudyArm.allCases.count, Set(arms.map(\.arm)).count == arms.count,
                  arms.allSatisfy({ $0.cell == u.cell && $0.seed == u.seed }) else {
                throw ReportError("unit \(u.id) (in \(seen[u.id] ?? "?")): its rows do not match the grid (one row per arm at its cell and seed); the shard is stale or was edited")
            }
        }
        records.sort { ($0.unit, armIndex[$0.arm] ?? 0) < ($1.unit, armIndex[$1.arm] ?? 0) }
        points.sort { ($0.unit, armIndex[$0.arm] ?? 0, $0.step) < ($1.unit, armIndex[$1.arm] ?? 0, $1.step) }
        for (p, q) in zip(points, points.dropFirst()) where (p.unit, p.arm, p.step) == (q.unit, q.arm, q.step) {
            throw ReportError("trajectories.csv (in \(seen[p.unit] ?? "?")): unit \(p.unit), arm \(p.arm.rawValue), step \(p.step) appears twice; the shard is stale or was edited")
        }
        let files = try StudyFiles.files(manifest: manifest, runs: StudyTables.runsCSV(records),
                                         trajectories: StudyTables.trajectoriesCSV(points))
        try Report.Study.writeFolder(out, files: files)
    }
}
