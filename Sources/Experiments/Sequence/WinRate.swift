import GSLKit
import LossMath

/// The win rate of `pi` against `pi'` under an additive reward `r`:
/// `W = (1/P) sum_x [P(r(x, y) > r(x, y')) + P(r(x, y) = r(x, y')) / 2]`,
/// with `y ~ pi(.|x)` and `y' ~ pi'(.|x)` independent (`docs/theory.md §5.2`).
///
/// `W` is in `[0, 1]`, and `W = 1/2` when `pi = pi'`. Rewards are summed by
/// ``SequenceSpace/pathSum(_:prompt:tokens:)`` (left to right in `t`), so two responses
/// with the same transitions tie exactly, and so do integer-valued rewards with equal sums;
/// other ties are decided by exact floating-point equality of those sums.
///
/// - **Exact** (``exact(policy:against:reward:)``) when `V^T <= 2^20`: all responses of a
///   prompt are enumerated and sorted by reward; ties (exact equality) form groups, and
///   `W` is computed as `1/2 + (P(>) - P(<))/2`, both sums over the groups in the same
///   order (equal to the direct form since `P(>) + P(=) + P(<) = 1`; for `pi = pi'` the two
///   sums are the same bits, so `W = 1/2` exactly): `O(P V^T (T + log V^T))`.
/// - **Monte Carlo** (``monteCarlo(policy:against:reward:samplesPerPrompt:generator:)``)
///   otherwise: `m` independent pairs per prompt, with the standard error of the estimate.
///
/// See also: ``SequenceOccupancy``, ``MarkovPolicy/sample(prompts:generator:)``.
public struct WinRate: Sendable, Hashable {
    /// The estimate of `W`.
    public let value: Double
    /// Its standard error: 0 when exact, else
    /// `sqrt(sum_x s_x^2 / m) / P` with `s_x^2` the sample variance of prompt `x`'s outcomes.
    public let standardError: Double
    /// Whether `value` is exact (by enumeration).
    public let isExact: Bool

    /// The largest `V^T` that ``exact(policy:against:reward:)`` enumerates.
    public static let enumerationLimit = 1 << 20

    /// The exact win rate by enumeration, or Monte Carlo with `samplesPerPrompt` pairs per
    /// prompt from a generator seeded with `seed` when `V^T > 2^20`.
    public static func compute(policy: MarkovPolicy, against other: MarkovPolicy, reward rho: [Double],
                               samplesPerPrompt: Int = 4096, seed: UInt64) -> WinRate {
        if let w = exact(policy: policy, against: other, reward: rho) { return w }
        return monteCarlo(policy: policy, against: other, reward: rho, samplesPerPrompt: samplesPerPrompt,
                          generator: RandomGenerator(seed: seed))
    }

    /// The exact win rate, or `nil` when `V^T > 2^20`.
    ///
    /// Accuracy: running sums over up to `2^20` probabilities, so about `1e-10` absolute
    /// at the limit and a few ulps on small spaces.
    public static func exact(policy: MarkovPolicy, against other: MarkovPolicy, reward rho: [Double]) -> WinRate? {
        let space = policy.space
        precondition(other.space == space && rho.count == space.tableCount, "tables on the same space")
        guard space.responseCount(atMost: enumerationLimit) != nil else { return nil }
        var total = 0.0
        for x in 0..<space.prompts {
            let sums = space.enumeratePathSums([rho, policy.logProbabilities, other.logProbabilities], prompt: x)
            let (rewards, lp, lq) = (sums[0], sums[1], sums[2])
            // By reward, then index: a fully determined order, so the sums are the same bits.
            let order = rewards.indices.sorted { (rewards[$0], $0) < (rewards[$1], $1) }
            // Groups of equal reward in increasing order, masses p_g (pi) and q_g (pi'):
            // wins = P(>) = sum_g p_g Q_g and losses = P(<) = sum_g q_g Pm_g, with Q_g, Pm_g
            // the masses strictly below g; the same operations on (p, q) and on (q, p), so
            // equal policies give equal bits and W = 1/2 exactly.
            var theirsBelow = 0.0, mineBelow = 0.0, wins = 0.0, losses = 0.0, k = 0
            while k < order.count {
                let r = rewards[order[k]]
                var mine = 0.0, theirs = 0.0
                while k < order.count && rewards[order[k]] == r {
                    mine += Elementary.exp(lp[order[k]])
                    theirs += Elementary.exp(lq[order[k]])
                    k += 1
                }
                wins += mine * theirsBelow
                losses += theirs * mineBelow
                theirsBelow += theirs
                mineBelow += mine
            }
            total += 0.5 + (wins - losses) / 2
        }
        return WinRate(value: total / Double(space.prompts), standardError: 0, isExact: true)
    }

    /// The Monte Carlo estimate from `m = samplesPerPrompt >= 2` pairs per prompt. For each
    /// prompt in turn it samples `m` responses from `pi`, then `m` from `pi'` (by
    /// ``SequenceSampler``, the same responses as ``MarkovPolicy/sample(prompts:generator:)``)
    /// and pairs them in order. Cost `O(P S V + P m T log V)`.
    public static func monteCarlo(policy: MarkovPolicy, against other: MarkovPolicy, reward rho: [Double],
                                  samplesPerPrompt m: Int, generator: RandomGenerator) -> WinRate {
        let space = policy.space
        precondition(other.space == space && rho.count == space.tableCount, "tables on the same space")
        precondition(m >= 2, "Monte Carlo needs at least 2 samples per prompt")
        let (sampler, otherSampler) = (SequenceSampler(policy: policy), SequenceSampler(policy: other))
        var total = 0.0
        var variance = 0.0
        for x in 0..<space.prompts {
            let prompts = [Int](repeating: x, count: m)
            let ys = space.pathSums(rho, of: sampler.sample(prompts: prompts, generator: generator))
            let zs = space.pathSums(rho, of: otherSampler.sample(prompts: prompts, generator: generator))
            let outcomes = zip(ys, zs).map { $0 > $1 ? 1.0 : ($0 == $1 ? 0.5 : 0.0) }
            let mean = outcomes.reduce(0, +) / Double(m)
            let ss = outcomes.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            total += mean
            variance += ss / Double(m - 1) / Double(m)
        }
        let p = Double(space.prompts)
        return WinRate(value: total / p, standardError: variance.squareRoot() / p, isExact: false)
    }
}

extension SequenceSpace {
    /// For each table, ``pathSum(_:prompt:tokens:)`` of every response of prompt `x`, in
    /// lexicographic order (response index `sum_t y_t V^(T-1-t)`). The sums are the same bits
    /// as ``pathSum(_:prompt:tokens:)``'s: prefixes are kept and extended left to right.
    ///
    /// Valid when `V^T <= 2^20` (``WinRate/enumerationLimit``); `O(V^T)` amortised per table.
    public func enumeratePathSums(_ tables: [[Double]], prompt x: Int) -> [[Double]] {
        guard let n = responseCount(atMost: WinRate.enumerationLimit) else {
            preconditionFailure("enumeration needs V^T <= 2^20")
        }
        let k = tables.count
        var out = [[Double]](repeating: [Double](repeating: 0, count: n), count: k)
        var y = [Int](repeating: 0, count: length)
        // prefix[j * (T + 1) + t] = sum of table j over tokens 0..<t.
        var prefix = [Double](repeating: 0, count: k * (length + 1))
        var from = 0                                  // first position whose prefix is stale
        for i in 0..<n {
            for t in from..<length {
                let e = entry(state: state(prompt: x, position: t, of: y), token: y[t])
                for j in 0..<k { prefix[j * (length + 1) + t + 1] = prefix[j * (length + 1) + t] + tables[j][e] }
            }
            for j in 0..<k { out[j][i] = prefix[j * (length + 1) + length] }
            var t = length - 1                        // odometer: the last token varies fastest
            while t >= 0 {
                y[t] += 1
                if y[t] < vocabulary { break }
                y[t] = 0
                t -= 1
            }
            from = Swift.max(t, 0)
        }
        return out
    }
}
