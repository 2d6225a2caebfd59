import Experiments
import Foundation
import Formats
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The resume journal of `report study --out DIR`: `.study-journal.txt` in the folder, one
/// block per finished (cell, seed) unit, appended and flushed (`fsync`) as each unit
/// finishes. It starts with the manifest (and the shard), so a journal of another study is
/// never reused; the folder is guarded by ``SweepLock`` as a sweep's is.
///
/// **Why not ``SweepJournal``.** A sweep's journal line is one run row of its own type
/// (``SweepRunResult``); a study's unit is nine runs.csv rows and their trajectories.csv
/// rows, so the study journals blocks of those rows, reusing the sweep journal's checksum
/// (``SweepJournal/checksum(_:)``, FNV-1a) and its rules: a block is kept only if it is
/// whole, its checksum matches, its rows read back (``StudyTables``) and match the grid
/// unit it names, and the unit appears once; anything else is ignored with a note and the
/// unit is recomputed.
///
/// Block: `begin <unit> <r> <t>`, then `r` runs.csv rows and `t` trajectories.csv rows,
/// then `end <unit> <checksum>`, the checksum of every byte of the block before `end`.
/// Rows read back from CSV give the same doubles (shortest round-trip text), so a resumed
/// study writes the same bytes as an uninterrupted one.
///
/// See also: ``SweepJournal``, ``SweepLock``, ``StudyFiles``.
struct StudyJournal: Sendable {
    static let fileName = ".study-journal.txt"

    let path: String
    /// The units read back from an earlier, interrupted run of the same study.
    let completed: [StudyRunner.UnitResult]
    private let fd: Int32

    /// Opens (creating `folder` if needed) the journal of the study whose manifest is
    /// `manifest`, run over `units` (the shard's units; `shard` its `i/n` text or nil).
    init(folder: String, manifest: String, shard: String?, units: [StudySpec.Unit]) throws {
        let dir = URL(fileURLWithPath: folder)
        do { try AtomicFile.createDirectory(dir) } catch { throw ReportError("\(error)") }
        let url = dir.appendingPathComponent(Self.fileName)
        path = url.path
        // A study killed while it rewrote the journal left its temporary behind.
        AtomicFile.removeStaleTemporaries(in: dir, for: [Self.fileName])
        let header = (manifest.split(separator: "\n").map { "# " + $0 } + ["# shard=\(shard ?? "none")", "# journal"]).joined(separator: "\n") + "\n"
        var completed: [StudyRunner.UnitResult] = []
        if let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8), text.hasPrefix(header) {
            completed = Self.read(body: text.dropFirst(header.count), units: units, path: path)
            let keep = header + completed.map(Self.block).joined()
            do { try AtomicFile.write(keep, to: url) } catch { throw ReportError("\(error)") }
        } else {
            do { try AtomicFile.write(header, to: url) } catch { throw ReportError("\(error)") }
        }
        self.completed = completed
        let d = open(url.path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard d >= 0 else { throw ReportError("\(url.path): cannot open the study journal for appending: \(String(cString: strerror(errno)))") }
        fd = d
    }

    /// A unit's block (see the type's documentation).
    static func block(_ r: StudyRunner.UnitResult) -> String {
        func rows(_ csv: String) -> [Substring] { Array(csv.split(separator: "\n").dropFirst()) }
        let runs = rows(StudyTables.runsCSV(r.records)), points = rows(StudyTables.trajectoriesCSV(r.trajectory))
        let body = "begin \(r.unit.id) \(runs.count) \(points.count)\n" + (runs + points).map { $0 + "\n" }.joined()
        return body + "end \(r.unit.id) \(SweepJournal.checksum(body[...]))\n"
    }

    /// The kept units of a journal's `body` (the text after its header), with a note per
    /// ignored block.
    static func read(body: Substring, units: [StudySpec.Unit], path: String) -> [StudyRunner.UnitResult] {
        let grid = Dictionary(units.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        var kept: [Int: StudyRunner.UnitResult] = [:]
        var order: [Int] = []
        var k = 0
        while k < lines.count {
            let words = lines[k].split(separator: " ")
            guard words.count == 4, words[0] == "begin", let id = Int(words[1]), let r = Int(words[2]), let t = Int(words[3]),
                  r >= 0, t >= 0 else {
                if !lines[k].isEmpty { note("\(path): a block is damaged near its line \(k + 1); ignored, its unit is recomputed") }
                k += 1
                continue
            }
            let endIndex = k + 1 + r + t
            guard endIndex < lines.count - 1 else {
                note("\(path): the block of unit \(id) is cut short; ignored, the unit is recomputed")
                break
            }
            let block = lines[k...(endIndex - 1)].map { $0 + "\n" }.joined()
            let end = lines[endIndex].split(separator: " ")
            k = endIndex + 1
            guard end.count == 3, end[0] == "end", end[1] == words[1], SweepJournal.checksum(block[...]) == end[2] else {
                note("\(path): the block of unit \(id) is damaged (its checksum does not match); ignored, the unit is recomputed")
                continue
            }
            let runRows = lines[(k - r - t - 1)..<(k - t - 1)].joined(separator: "\n")
            let pointRows = lines[(k - t - 1)..<(k - 1)].joined(separator: "\n")
            guard let unit = grid[id],
                  let records = try? StudyTables.records(StudyTables.runColumns.joined(separator: ",") + "\n" + runRows + "\n", source: path),
                  let points = try? StudyTables.trajectories(StudyTables.trajectoryColumns.joined(separator: ",") + "\n" + pointRows + (t > 0 ? "\n" : ""), source: path),
                  records.map(\.arm) == StudyArm.allCases, records.allSatisfy({ $0.unit == id && $0.cell == unit.cell && $0.seed == unit.seed }),
                  points.allSatisfy({ $0.unit == id }) else {
                note("\(path): the block of unit \(id) does not match the study's grid; ignored, the unit is recomputed")
                continue
            }
            if kept[id] != nil {
                note("\(path): unit \(id) appears twice; the repeat is ignored")
                continue
            }
            kept[id] = StudyRunner.UnitResult(unit: unit, records: records, trajectory: points)
            order.append(id)
        }
        return order.compactMap { kept[$0] }
    }

    /// Appends one finished unit and flushes it to disk.
    func append(_ result: StudyRunner.UnitResult) throws(ReportError) {
        let bytes = Array(Self.block(result).utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ReportError("\(path): cannot append to the study journal: \(String(cString: strerror(errno)))") }
            done += n
        }
        guard fsync(fd) == 0 else { throw ReportError("\(path): cannot flush the study journal: \(String(cString: strerror(errno)))") }
    }

    /// Closes the journal, and deletes it (after the final files are in place).
    func close(removing: Bool) {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
        if removing { unlink(path) }
    }
}
