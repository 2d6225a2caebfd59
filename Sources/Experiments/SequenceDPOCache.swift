import Synchronization

/// DPO's (`sigmoid`'s) runs of a sequence-level sweep, kept within one process so that the
/// runs of one (cell, seed) that need DPO's policy for `win_rate_vs_dpo` (and the `sigmoid`
/// run itself) train it once (``Sweep/sequenceRun(_:of:threads:dpoCache:)``).
///
/// The key is the whole run configuration with the loss set to `sigmoid`, so an entry is
/// exactly what training that configuration gives (training is deterministic): a hit and a
/// miss give the same bits, and results never depend on the cache. It holds at most
/// ``budget`` doubles of final policies (the oldest entries leave first); a policy larger
/// than the budget is not kept. Two workers that miss at the same time both train (the
/// same result).
///
/// See also: ``Sweep/run(_:runs:workers:progress:finished:)``.
final class SequenceDPOCache: Sendable {
    struct Key: Hashable, Sendable {
        var sequence: SequenceConfig
        var training: TrainingConfig
    }

    /// A finished DPO run: its summary and final `log pi` table.
    struct Entry: Sendable {
        var summary: SequenceRunSummary
        var finalLogPolicy: [Double]
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var order: [Key] = []
        var held = 0
    }

    /// The most policy values (doubles) held at once: 2^25, 256 MiB.
    let budget: Int
    private let state = Mutex(State())

    init(budget: Int = 1 << 25) { self.budget = budget }

    func entry(_ key: Key) -> Entry? { state.withLock { $0.entries[key] } }

    func insert(_ entry: Entry, for key: Key) {
        let size = entry.finalLogPolicy.count
        guard size <= budget else { return }
        state.withLock { s in
            guard s.entries[key] == nil else { return }
            while s.held + size > budget, !s.order.isEmpty {
                let old = s.order.removeFirst()
                s.held -= s.entries.removeValue(forKey: old)?.finalLogPolicy.count ?? 0
            }
            s.entries[key] = entry
            s.order.append(key)
            s.held += size
        }
    }
}
