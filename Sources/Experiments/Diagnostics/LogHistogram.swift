/// Streaming quantiles of non-negative numbers in constant memory: a histogram whose bins
/// split every power of two into ``binsPerOctave`` (64) equal parts, read from the bits of
/// the double (exponent and the top 6 bits of the significand), so a bin `[lo, hi)` has
/// `hi - lo = lo / 64` or less.
///
/// Accuracy: ``quantile(_:)`` returns the midpoint of the bin that holds the exact quantile
/// (clamped to the exact minimum and maximum), so for a normal double the relative error is
/// at most `2^-7` (0.78%). Subnormal values (below 2.2e-308) have wider relative bins.
/// ``maximum`` and ``minimum`` are exact.
///
/// The quantile is the inverse empirical CDF (Hyndman and Fan's type 1): the `k`-th
/// smallest value with `k = max(1, ceil(q n))`.
///
/// Memory: one empty array per binary exponent (2047) and 64 counters for each exponent
/// that occurs. The result does not depend on the order of the values.
///
/// See also: ``LossDiagnostics``.
public struct LogHistogram: Sendable {
    /// Bins per power of two.
    public static let binsPerOctave = 64
    private static let shift: UInt64 = 46          // 52 significand bits - 6
    private var blocks = [[Int]](repeating: [], count: 2047)
    /// How many values were added.
    public private(set) var count = 0
    /// How many of them were exactly zero.
    public private(set) var zeros = 0
    /// The largest value added (0 when none).
    public private(set) var maximum = 0.0
    /// The smallest value added (+infinity when none).
    public private(set) var minimum = Double.infinity

    public init() {}

    /// Adds `x`, which must be finite and `>= 0` (others are ignored).
    public mutating func add(_ x: Double) {
        guard x.isFinite, x >= 0 else { return }
        addChecked(x)
    }

    mutating func addChecked(_ x: Double) {
        count += 1
        if x > maximum { maximum = x }
        if x < minimum { minimum = x }
        if x == 0 { zeros += 1; return }
        let key = x.bitPattern >> Self.shift
        let e = Int(key >> 6), b = Int(key & 63)
        if blocks[e].isEmpty { blocks[e] = [Int](repeating: 0, count: Self.binsPerOctave) }
        blocks[e][b] += 1
    }

    /// Adds every value of `other`.
    public mutating func merge(_ other: LogHistogram) {
        count += other.count
        zeros += other.zeros
        maximum = Swift.max(maximum, other.maximum)
        minimum = Swift.min(minimum, other.minimum)
        for e in other.blocks.indices where !other.blocks[e].isEmpty {
            if blocks[e].isEmpty { blocks[e] = [Int](repeating: 0, count: Self.binsPerOctave) }
            for b in 0..<Self.binsPerOctave { blocks[e][b] += other.blocks[e][b] }
        }
    }

    /// The `q`-quantile (`0 <= q <= 1`), within the stated accuracy; nil when empty.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0, q >= 0, q <= 1 else { return nil }
        let k = Swift.max(1, Int((q * Double(count)).rounded(.up)))
        if k >= count { return maximum }
        var seen = zeros
        if k <= seen { return 0 }
        for e in blocks.indices where !blocks[e].isEmpty {
            for b in 0..<Self.binsPerOctave where blocks[e][b] > 0 {
                seen += blocks[e][b]
                if seen >= k {
                    let lowBits = (UInt64(e) << 6 | UInt64(b)) << Self.shift
                    let lo = Double(bitPattern: lowBits), hi = Double(bitPattern: lowBits + (1 << Self.shift))
                    let mid = lo + (hi - lo) / 2
                    return Swift.min(Swift.max(mid, minimum), maximum)
                }
            }
        }
        return maximum
    }
}
