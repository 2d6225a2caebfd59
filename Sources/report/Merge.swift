import ArgumentParser
import Experiments
import Foundation
import Formats

extension Report {
    /// `report merge`: joins the folders of sweep shards into the single-machine output.
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join the output folders of `report sweep --shard i/n` (or `report study --shard i/n`) runs.",
            discussion: """
            Checks that every folder comes from the same sweep (same manifest.txt), that each \
            folder is finished (no leftover .sweep-journal.csv or .sweep.lock), that each \
            row's run_id names the grid coordinates it carries, that no run appears twice \
            and that every run of the grid is present, then writes \
            manifest.txt, runs.csv, aggregate.csv and sweep.md: byte for byte what one machine \
            running the whole sweep writes. If some runs failed (rows with status \
            "failed: ..."), the files are written and the merge exits 4, as the sweep does.

            Example:
              report merge sweep-0 sweep-1 sweep-2 sweep-3 --out sweep
            """
        )

        @Argument(help: "Shard output folders.", completion: .directory)
        var folders: [String]

        @Option(help: "Folder for the merged output (created if missing).", completion: .directory)
        var out: String

        @Flag(help: "Silence notes on standard error, including the list of files written.") var quiet = false

        func validate() throws {
            Verbosity.setQuiet(quiet)
            guard !folders.isEmpty else { throw ValidationError("give at least one shard folder") }
            // An empty name would mean the current folder (issue 13: `--out ''`).
            guard !out.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--out: the folder name is empty") }
            if folders.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                throw ValidationError("<folders>: a shard folder name is empty")
            }
        }

        func run() throws {
            if let first = folders.first, StudyMerge.isStudy(first) { return try StudyMerge.merge(folders, out: out) }
            var manifest: String? = nil
            var firstFolder = ""
            var results: [SweepRunResult] = []
            var seen: [Int: String] = [:]
            for folder in folders {
                let dir = URL(fileURLWithPath: folder)
                let mPath = dir.appendingPathComponent("manifest.txt").path
                guard let mData = FileManager.default.contents(atPath: mPath), let m = String(data: mData, encoding: .utf8) else {
                    throw ReportError("\(mPath): missing; is \(folder) the --out folder of a finished `report sweep`?")
                }
                if let manifest, manifest != m {
                    throw ReportError("\(mPath): this shard belongs to a different sweep than \(firstFolder) (manifest.txt differs)")
                }
                if manifest == nil { manifest = m; firstFolder = folder }
                try SweepMerge.requireFinished(folder)
                let level = SweepFiles.level(manifest: m)
                let columns = SweepRunResult.columnNames(level)
                let grid = SweepMerge.grid(manifest: m)
                let runsURL = dir.appendingPathComponent("runs.csv")
                let doc: CSVDocument
                do { doc = try CSVDocument.read(contentsOf: runsURL, source: runsURL.path) } catch { throw ReportError("\(error)") }
                guard doc.header == columns else {
                    throw ReportError("\(runsURL.path): unexpected header; expected \(columns.joined(separator: ","))")
                }
                for k in doc.rows.indices {
                    let r: SweepRunResult
                    do { r = try doc.decodeRow(SweepRunResult.self, at: k) } catch {
                        throw ReportError("\(runsURL.path): line \(doc.lineNumbers[k]) (data row \(k)): not a valid run row: \(error)")
                    }
                    if let why = SweepMerge.mismatch(r.run, grid: grid) {
                        throw ReportError("\(runsURL.path): line \(doc.lineNumbers[k]): run_id \(r.run.id) \(why); the shard \(folder) is stale or was edited (rerun it)")
                    }
                    if let other = seen[r.run.id] {
                        throw ReportError("\(runsURL.path): run \(r.run.id) also appears in \(other); shards must not overlap")
                    }
                    seen[r.run.id] = folder
                    results.append(r)
                }
            }
            guard let manifest else { throw ReportError("give at least one shard folder") }
            let expected = SweepMerge.runCount(manifest: manifest)
            let missing = (0..<expected).filter { seen[$0] == nil }
            if !missing.isEmpty {
                throw ReportError("incomplete sweep: \(missing.count) of \(expected) runs missing (first: run \(missing[0])); merge all n shards")
            }
            if results.count != expected {
                throw ReportError("the shards hold \(results.count) runs but the sweep has \(expected)")
            }
            results.sort { $0.run.id < $1.run.id }
            let files = SweepFiles.files(manifest: manifest, results: results)
            try writeFiles(files.map { ($0.name, $0.text) }, into: out)
            // Failed runs in the shards: the merged files are whole, and the exit status is the
            // one the unsharded sweep would have given.
            try SweepCommand.reportFailures(results)
        }
    }
}

enum SweepMerge {
    /// Throws unless `folder` holds a finished sweep: a leftover journal means the sweep was
    /// interrupted (possibly between writing manifest.txt and runs.csv, so the files may be
    /// from two different runs), and a lock means a sweep is still writing into it.
    static func requireFinished(_ folder: String) throws {
        let dir = URL(fileURLWithPath: folder)
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent(SweepLock.fileName).path) {
            throw ReportError("\(folder): unfinished shard: a sweep is writing into it, or was killed (\(SweepLock.fileName) is present); rerun its `report sweep` command to finish it")
        }
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent(SweepJournal.fileName).path) {
            throw ReportError("\(folder): unfinished shard: its sweep was interrupted (\(SweepJournal.fileName) is present), so its files may mix two runs; rerun its `report sweep` command to finish it")
        }
    }

    /// The value texts of each axis (``SweepAxis/allCases`` order) recorded in a manifest.
    static func grid(manifest: String) -> [[String]] {
        let lines = manifest.split(separator: "\n")
        return SweepFiles.level(manifest: manifest).axes.map { axis in
            let key = axis.manifestKey + "="
            guard let line = lines.first(where: { $0.hasPrefix(key) }) else { return [] }
            return line.dropFirst(key.count).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Why `run`'s id does not name its coordinates in `grid` (nil when it does). Ids count
    /// the grid in mixed radix, the last axis fastest (``SweepSpec/runs()``).
    static func mismatch(_ run: SweepRun, grid: [[String]]) -> String? {
        guard run.id >= 0 else { return "is outside the grid" }
        var rest = run.id
        var expected = [String](repeating: "", count: grid.count)
        for a in grid.indices.reversed() {
            guard !grid[a].isEmpty else { return "cannot be checked (the manifest lists no \(run.level.axes[a].manifestKey))" }
            expected[a] = grid[a][rest % grid[a].count]
            rest /= grid[a].count
        }
        guard rest == 0 else { return "is outside the grid" }
        let actual = run.values.map(SweepFiles.text)
        guard actual == expected else {
            return "names (\(expected.joined(separator: ", "))) but the row holds (\(actual.joined(separator: ", ")))"
        }
        return nil
    }

    /// The number of runs of the grid recorded in a manifest: the product of its axes' lengths.
    static func runCount(manifest: String) -> Int {
        var n = 1
        for key in SweepFiles.level(manifest: manifest).axes.map({ $0.manifestKey + "=" }) {
            if let line = manifest.split(separator: "\n").first(where: { $0.hasPrefix(key) }) {
                n *= line.dropFirst(key.count).split(separator: ",").count
            }
        }
        return n
    }
}
