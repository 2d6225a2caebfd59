import Dispatch

/// A static partition of `0..<count` into `chunks` contiguous ranges, run on up to `chunks`
/// threads. `body` gets the range and the chunk index.
func forEachChunk(_ count: Int, chunks: Int, _ body: @Sendable (Range<Int>, Int) -> Void) {
    if chunks <= 1 { body(0..<count, 0); return }
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        body(count * c / chunks ..< count * (c + 1) / chunks, c)
    }
}

/// Wraps a value that is safe to share for the duration of one pass (pointers to disjoint rows).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
