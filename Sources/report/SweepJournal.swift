import Experiments
import Foundation
import Formats
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The resume journal: `.sweep-journal.csv` in the output folder, one line per finished run,
/// appended and flushed (`fsync`) as each run finishes. It starts with the manifest, so a
/// journal from a different sweep is never reused.
///
/// Each line is the run's runs.csv row, then a `checksum` field: the 32-bit FNV-1a hash of
/// the row's text (every byte before the last comma), as 8 lowercase hex digits. On resume a
/// line is kept only if it is whole (ends in a newline), its checksum matches, it reads back
/// as a run row, its run_id names the grid coordinates it carries, and its run appears once;
/// any other line is ignored with a note and its run is recomputed.
///
/// See also: ``SweepFiles``, ``SweepLock``.
struct SweepJournal: Sendable {
    static let fileName = ".sweep-journal.csv"

    let path: String
    /// The runs read back from an earlier, interrupted run of the same sweep.
    let completed: [SweepRunResult]
    private let fd: Int32

    /// Opens (creating `folder` if needed) the journal of the sweep described by `manifest`,
    /// whose runs in id order are `grid` (``SweepSpec/runs()``, unsharded).
    init(folder: String, manifest: String, grid: [SweepRun]) throws {
        let dir = URL(fileURLWithPath: folder)
        do { try AtomicFile.createDirectory(dir) } catch { throw ReportError("\(error)") }
        let url = dir.appendingPathComponent(Self.fileName)
        path = url.path
        // A sweep killed while it rewrote the journal left its temporary behind.
        AtomicFile.removeStaleTemporaries(in: dir, for: [Self.fileName])
        let level = SweepFiles.level(manifest: manifest)
        let headerLines = manifest.split(separator: "\n").map { "# " + $0 } + [(SweepRunResult.columnNames(level) + ["checksum"]).joined(separator: ",")]
        let header = headerLines.joined(separator: "\n") + "\n"
        var completed: [SweepRunResult] = []
        if let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8),
           text.hasPrefix(header) {
            completed = Self.read(body: text.dropFirst(header.count), firstLine: headerLines.count + 1, grid: grid, path: path, level: level)
            let keep = header + completed.map { Self.line($0) }.joined()
            do { try AtomicFile.write(keep, to: url) } catch { throw ReportError("\(error)") }
        } else {
            do { try AtomicFile.write(header, to: url) } catch { throw ReportError("\(error)") }
        }
        self.completed = completed
        let d = open(url.path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard d >= 0 else { throw ReportError("\(url.path): cannot open the sweep journal for appending: \(String(cString: strerror(errno)))") }
        fd = d
    }

    /// The kept runs of a journal's `body` (the text after its header), with a note per
    /// ignored line; `firstLine` is the file line number of the body's first line.
    static func read(body: Substring, firstLine: Int, grid: [SweepRun], path: String,
                     level: SweepLevel = .tabular) -> [SweepRunResult] {
        var kept: [Int: (line: Int, result: SweepRunResult)] = [:]
        var dropped = Set<Int>()
        var order: [Int] = []
        let pieces = body.split(separator: "\n", omittingEmptySubsequences: false)
        for (k, piece) in pieces.enumerated() where !piece.isEmpty {
            let n = firstLine + k
            guard k < pieces.count - 1 else {
                note("\(path): line \(n) is cut short (no newline at its end); ignored, its run is recomputed")
                continue
            }
            guard let comma = piece.lastIndex(of: ","), checksum(piece[..<comma]) == piece[piece.index(after: comma)...] else {
                note("\(path): line \(n) is damaged (its checksum does not match); ignored, its run is recomputed")
                continue
            }
            guard let r = row(String(piece[..<comma]), level: level) else {
                note("\(path): line \(n) does not read as a run row; ignored, its run is recomputed")
                continue
            }
            guard r.run.id >= 0, r.run.id < grid.count, grid[r.run.id] == r.run else {
                note("\(path): line \(n): run_id \(r.run.id) does not match the grid coordinates it carries; ignored")
                continue
            }
            if let earlier = kept[r.run.id] {
                if earlier.result == r {
                    note("\(path): line \(n) repeats line \(earlier.line) (run \(r.run.id)); the repeat is ignored")
                } else {
                    note("\(path): lines \(earlier.line) and \(n) give different results for run \(r.run.id); both ignored, the run is recomputed")
                    dropped.insert(r.run.id)
                }
                continue
            }
            kept[r.run.id] = (n, r)
            order.append(r.run.id)
        }
        return order.filter { !dropped.contains($0) }.compactMap { kept[$0]?.result }
    }

    /// A run's journal line: its runs.csv row, a comma, its checksum and a newline.
    static func line(_ result: SweepRunResult) -> String {
        let csv = tableCSV([result], columns: SweepRunResult.columnNames(result.run.level))
        let rows = csv.split(separator: "\n", omittingEmptySubsequences: false)
        let row = rows.count > 1 ? String(rows[1]) : ""
        return row + "," + checksum(row[...]) + "\n"
    }

    /// The 32-bit FNV-1a hash of `text`'s UTF-8 bytes (offset basis 0x811c9dc5, prime
    /// 0x01000193) as 8 lowercase hex digits. It detects any change of one byte, and most
    /// others; it is a guard against torn or damaged lines, not against tampering.
    static func checksum(_ text: Substring) -> String {
        var h: UInt32 = 0x811c_9dc5
        for b in text.utf8 {
            h ^= UInt32(b)
            h = h &* 0x0100_0193
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// One row text read back into a run row by column name (nil if it does not read).
    static func row(_ text: String, level: SweepLevel = .tabular) -> SweepRunResult? {
        let csv = SweepRunResult.columnNames(level).joined(separator: ",") + "\n" + text + "\n"
        guard let doc = try? CSVDocument.parse(csv, source: fileName), doc.rows.count == 1,
              doc.rows[0].count == doc.header.count else { return nil }
        return try? doc.decodeRow(SweepRunResult.self, at: 0)
    }

    /// Appends one finished run and flushes it to disk.
    func append(_ result: SweepRunResult) throws(ReportError) {
        let bytes = Array(Self.line(result).utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ReportError("\(path): cannot append to the sweep journal: \(String(cString: strerror(errno)))") }
            done += n
        }
        guard fsync(fd) == 0 else { throw ReportError("\(path): cannot flush the sweep journal: \(String(cString: strerror(errno)))") }
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
