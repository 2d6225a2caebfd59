import Synchronization
import Testing
@testable import Formats

/// Collects everything a progress bar writes.
private final class Sink: Sendable {
    let chunks = Mutex<[String]>([])
    var all: [String] { chunks.withLock { $0 } }
    var write: @Sendable (String) -> Void { { text in self.chunks.withLock { $0.append(text) } } }
}

@Suite("Progress bar")
struct ProgressBarTests {
    @Test func drawsExpectedLines() {
        let sink = Sink()
        let bar = ProgressBar(total: 4, label: "runs", enabled: true, output: sink.write)
        bar.advance()
        bar.advance(by: 2)
        bar.advance()
        bar.finish()
        bar.finish()  // idempotent
        let hashes = { (n: Int) in String(repeating: "#", count: n) + String(repeating: ".", count: 30 - n) }
        #expect(sink.all == [
            "\r[\(hashes(7))] 1/4 runs",
            "\r[\(hashes(22))] 3/4 runs",
            "\r[\(hashes(30))] 4/4 runs",
            "\r[\(hashes(30))] 4/4 runs\n",
        ])
        #expect(bar.count == 4)
    }

    @Test func disabledDrawsNothingButCounts() {
        let sink = Sink()
        let bar = ProgressBar(total: 3, label: "quiet", enabled: false, output: sink.write)
        bar.advance()
        bar.advance()
        bar.finish()
        #expect(sink.all.isEmpty)
        #expect(bar.count == 2)
    }

    @Test func redrawsAreThrottledForLargeTotals() {
        let sink = Sink()
        let bar = ProgressBar(total: 1_000_000, label: "", enabled: true, output: sink.write)
        for _ in 0..<1_000_000 { bar.advance() }
        #expect(sink.all.count == 1001)  // once per 0.1 % (0.0 % … 100.0 %)
        #expect(sink.all.last == "\r[" + String(repeating: "#", count: 30) + "] 1000000/1000000")
    }

    @Test func longLabelsAreTruncatedAndZeroTotalIsFull() {
        let bar = ProgressBar(total: 0, label: String(repeating: "L", count: 200), enabled: true)
        let line = bar.line(count: 0)
        #expect(line.count - 1 == 78)  // excluding the leading "\r"
        #expect(line.hasPrefix("\r[" + String(repeating: "#", count: 30) + "] 0/0 LLL"))
        #expect(line.hasSuffix("…"))
    }

    @Test func concurrentAdvancesAreAllCounted() async {
        let sink = Sink()
        let bar = ProgressBar(total: 8 * 500, label: "workers", enabled: true, output: sink.write)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for _ in 0..<500 { bar.advance() } }
            }
        }
        bar.finish()
        #expect(bar.count == 4000)
        #expect(sink.all.last == "\r[" + String(repeating: "#", count: 30) + "] 4000/4000 workers\n")
        // Drawing happens under the lock, so the displayed counts never go backwards.
        let counts = sink.all.map { line in Int(line.split(separator: " ")[1].split(separator: "/")[0])! }
        #expect(counts == counts.sorted())
        #expect(sink.all.allSatisfy { $0.hasPrefix("\r[") && $0.contains("/4000 workers") })
    }
}
