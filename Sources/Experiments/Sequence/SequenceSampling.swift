import GSLKit
import LossMath

/// Sampling responses from a ``MarkovPolicy`` by the inverse CDF, one uniform per token.
///
/// The token drawn in state `s` with uniform `u` in [0, 1) is the first `a` with
/// `u < c(s, a)`, where `c(s, a) = sum_{b <= a} pi(b|s)` is added left to right. When
/// rounding leaves `c(s, V - 1) <= u`, it is the last token of positive probability.
/// ``MarkovPolicy/sampleToken(state:generator:)`` scans a row; ``SequenceSampler`` keeps the
/// table of `c` and bisects it (`O(log V)` per token after an `O(P S V)` set-up). Both give
/// the same token for the same `u`, so the choice between them never changes a result.
///
/// See also: ``MarkovPolicy``, ``ResponseBatch``, ``WinRate``.
public struct SequenceSampler: Sendable {
    /// The state space.
    public let space: SequenceSpace
    /// `c(s, a)`, table layout of ``SequenceSpace``.
    public let cumulative: [Double]
    /// Per state, the last token of positive probability (the fallback).
    public let lastPositive: [Int]

    /// The cumulative table of `policy`.
    public init(policy: MarkovPolicy) {
        let space = policy.space
        let v = space.vocabulary
        var c = [Double](repeating: 0, count: space.tableCount)
        var last = [Int](repeating: 0, count: space.stateCount)
        for s in 0..<space.stateCount {
            var total = 0.0
            for a in 0..<v {
                let p = Elementary.exp(policy.logProbabilities[s * v + a])
                if p > 0 { last[s] = a }
                total += p
                c[s * v + a] = total
            }
        }
        self.space = space
        cumulative = c
        lastPositive = last
    }

    /// A token from `pi(.|s)`; consumes one uniform.
    @inline(__always)
    public func sampleToken(state s: Int, generator: RandomGenerator) -> Int {
        let u = generator.uniform()
        let row = s * space.vocabulary
        if !(u < cumulative[row + space.vocabulary - 1]) { return lastPositive[s] }
        var lo = 0                       // invariant: the answer is in lo...hi
        var hi = space.vocabulary - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if u < cumulative[row + mid] { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// One response per entry of `prompts`: response 0's tokens `t = 0 ... T - 1`, then
    /// response 1's, and so on; exactly `T` uniforms per response.
    public func sample(prompts: [Int], generator: RandomGenerator) -> ResponseBatch {
        space.sample(prompts: prompts) { sampleToken(state: $0, generator: generator) }
    }
}

extension MarkovPolicy {
    /// A token from `pi(.|s)` by scanning the row (see ``SequenceSampler``); one uniform.
    public func sampleToken(state s: Int, generator: RandomGenerator) -> Int {
        let u = generator.uniform()
        let row = s * space.vocabulary
        var cumulative = 0.0
        var last = 0
        for a in 0..<space.vocabulary {
            let p = Elementary.exp(logProbabilities[row + a])
            if p > 0 { last = a }
            cumulative += p
            if u < cumulative { return a }
        }
        return last
    }

    /// One response per entry of `prompts`, in order, `T` uniforms each, so the same seed
    /// gives the same batch. Uses a ``SequenceSampler`` when the batch has more tokens than
    /// the policy has states (the same responses either way).
    public func sample(prompts: [Int], generator: RandomGenerator) -> ResponseBatch {
        if prompts.count * space.length > space.stateCount {
            return SequenceSampler(policy: self).sample(prompts: prompts, generator: generator)
        }
        return space.sample(prompts: prompts) { sampleToken(state: $0, generator: generator) }
    }
}

extension SequenceSpace {
    /// A batch built token by token with `draw(state)`, response after response.
    func sample(prompts: [Int], draw: (Int) -> Int) -> ResponseBatch {
        var tokens = [Int](repeating: 0, count: prompts.count * length)
        for (i, x) in prompts.enumerated() {
            precondition(x >= 0 && x < self.prompts, "prompt out of range")
            var s = state(prompt: x, position: 0, previous: Self.noPrevious)
            for t in 0..<length {
                let a = draw(s)
                tokens[i * length + t] = a
                if t + 1 < length { s = state(prompt: x, position: t + 1, previous: a) }
            }
        }
        return ResponseBatch(length: length, prompts: prompts, tokens: tokens)
    }
}
