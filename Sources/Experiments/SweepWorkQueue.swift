import Synchronization

/// Work queue, result slots and progress counter of a parallel sweep, behind one lock.
final class SweepWorkQueue: Sendable {
    struct Inner {
        var next = 0
        var completed = 0
        var slots: [Result<SweepRunResult, ExperimentError>?]
    }
    let total: Int
    let inner: Mutex<Inner>

    init(total: Int) {
        self.total = total
        inner = Mutex(Inner(slots: Array(repeating: nil, count: total)))
    }

    func claim() -> Int? {
        inner.withLock { s in
            guard s.next < total else { return nil }
            defer { s.next += 1 }
            return s.next
        }
    }

    func finish(_ k: Int, _ r: Result<SweepRunResult, ExperimentError>,
                _ progress: (@Sendable (Int, Int) -> Void)?, _ finished: (@Sendable (SweepRunResult) -> Void)?) {
        inner.withLock { s in
            s.slots[k] = r
            if case .success(let result) = r { finished?(result) }
            s.completed += 1
            progress?(s.completed, total)
        }
    }

    func results() throws(ExperimentError) -> [SweepRunResult] {
        let slots = inner.withLock { $0.slots }
        var out: [SweepRunResult] = []
        out.reserveCapacity(slots.count)
        for (k, s) in slots.enumerated() {
            switch s {
            case .success(let r)?: out.append(r)
            case .failure(let e)?: throw e
            case nil: throw ExperimentError.invalidParameter(name: "sweep run", value: "slot \(k)", requirement: "every run finished")
            }
        }
        return out
    }
}
