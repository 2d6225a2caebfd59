import ArgumentParser
import Experiments
import Foundation
import Formats

extension Report {
    /// `report merge`: joins the folders of sweep shards into the single-machine output.
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join the output folders of `report sweep --shard i/n` runs.",
            discussion: """
            Checks that every folder comes from the same sweep (same manifest.txt), that no \
            run appears twice and that every run of the grid is present, then writes \
            manifest.txt, runs.csv, aggregate.csv and sweep.md: byte for byte what one machine \
            running the whole sweep writes.

            Example:
              report merge sweep-0 sweep-1 sweep-2 sweep-3 --out sweep
            """
        )

        @Argument(help: "Shard output folders.")
        var folders: [String]

        @Option(help: "Folder for the merged output (created if missing).")
        var out: String

        func validate() throws {
            guard !folders.isEmpty else { throw ValidationError("give at least one shard folder") }
        }

        func run() throws {
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
                let runsURL = dir.appendingPathComponent("runs.csv")
                let doc: CSVDocument
                do { doc = try CSVDocument.read(contentsOf: runsURL, source: runsURL.path) } catch { throw ReportError("\(error)") }
                guard doc.header == SweepRunResult.columnNames else {
                    throw ReportError("\(runsURL.path): unexpected header; expected \(SweepRunResult.columnNames.joined(separator: ","))")
                }
                for k in doc.rows.indices {
                    let r: SweepRunResult
                    do { r = try doc.decodeRow(SweepRunResult.self, at: k) } catch {
                        throw ReportError("\(runsURL.path): line \(doc.lineNumbers[k]) (data row \(k)): not a valid run row: \(error)")
                    }
                    if let other = seen[r.run.id] {
                        throw ReportError("\(runsURL.path): run \(r.run.id) also appears in \(other); shards must not overlap")
                    }
                    seen[r.run.id] = folder
                    results.append(r)
                }
            }
            let expected = SweepMerge.runCount(manifest: manifest!)
            let missing = (0..<expected).filter { seen[$0] == nil }
            if !missing.isEmpty {
                throw ReportError("incomplete sweep: \(missing.count) of \(expected) runs missing (first: run \(missing[0])); merge all n shards")
            }
            if results.count != expected {
                throw ReportError("the shards hold \(results.count) runs but the sweep has \(expected)")
            }
            results.sort { $0.run.id < $1.run.id }
            let files = SweepFiles.files(manifest: manifest!, results: results)
            try writeFiles(files.map { ($0.name, $0.text) }, into: out)
        }
    }
}

enum SweepMerge {
    /// The number of runs of the grid recorded in a manifest: the product of its axes' lengths.
    static func runCount(manifest: String) -> Int {
        var n = 1
        for key in SweepAxis.allCases.map({ $0.manifestKey + "=" }) {
            if let line = manifest.split(separator: "\n").first(where: { $0.hasPrefix(key) }) {
                n *= line.dropFirst(key.count).split(separator: ",").count
            }
        }
        return n
    }
}
