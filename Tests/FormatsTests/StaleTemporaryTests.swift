import Foundation
import Testing
@testable import Formats
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Issue 13, part 4: temporary files `.<name>.tmp-<pid>-<hex>` left by a killed run are
/// removed by the next write into the same folder; everything else is kept.
@Suite struct StaleTemporaryTests {
    @Test func deadProcessesTemporariesOfTheNamedFilesAreRemoved() throws {
        let dir = try TempDir()
        // 999999999 is above Linux's largest pid_max (2^22): no process has it. Pid 1 (init)
        // always runs.
        let planted = [".a.csv.tmp-999999999-1f2e", ".b.csv.tmp-999999999-ff", ".a.csv.tmp-1-ab",
                       ".a.csv.tmp-\(getpid())-12", ".a.csv.tmp-999999999-xyz", ".a.csv.building-999999999", "a.csv"]
        for name in planted { try Data("x".utf8).write(to: dir.url.appendingPathComponent(name)) }
        AtomicFile.removeStaleTemporaries(in: dir.url, for: ["a.csv"])
        let left = try dir.contents()
        #expect(!left.contains(".a.csv.tmp-999999999-1f2e"))
        // Not a named file, a live process (init, this one), not a temporary's shape, the target.
        for kept in [".b.csv.tmp-999999999-ff", ".a.csv.tmp-1-ab", ".a.csv.tmp-\(getpid())-12",
                     ".a.csv.tmp-999999999-xyz", ".a.csv.building-999999999", "a.csv"] {
            #expect(left.contains(kept), "\(kept) was removed: \(left)")
        }
    }
}
