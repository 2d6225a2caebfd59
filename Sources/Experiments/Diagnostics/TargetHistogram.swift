/// A histogram of `beta h` with the reward gaps `dr` (the targets, docs/theory.md, T4) in the
/// same bins, in constant memory and one pass: bins `[k w, (k+1) w)` of a common width `w`,
/// a power of two, spanning at most ``maxBins`` bins. When a value would widen the span
/// beyond that, `w` doubles and neighbouring bins merge (exactly: `floor(x/2w) =
/// floor(floor(x/w)/2)`), so the result is the histogram of all values at the final width,
/// whatever their order. The width starts at 2^-10.
///
/// See also: ``LossDiagnostics``.
public struct TargetHistogram: Sendable {
    /// The most bins between the smallest and the largest value.
    public static let maxBins = 64
    /// The bin width.
    public private(set) var width = 1.0 / 1024
    private var origin = 0                 // the index of counts[0]
    private var betaH: [Int] = []
    private var gaps: [Int] = []
    /// How many `beta h` and `dr` values were added.
    public private(set) var betaHCount = 0
    public private(set) var gapCount = 0

    public init() {}

    /// One bin: `[lower, upper)` and its counts.
    public struct Bin: Sendable, Equatable {
        public let lower: Double, upper: Double
        public let betaH: Int, rewardGap: Int
    }

    /// The bins from the smallest to the largest value (empty bins included).
    public var bins: [Bin] {
        betaH.indices.map { k in
            Bin(lower: Double(origin + k) * width, upper: Double(origin + k + 1) * width, betaH: betaH[k], rewardGap: gaps[k])
        }
    }

    /// Adds `beta h` and, when known, the pair's reward gap (finite values only).
    public mutating func add(betaH x: Double, rewardGap dr: Double?) {
        if x.isFinite { insert(x, gap: false); betaHCount += 1 }
        if let dr, dr.isFinite { insert(dr, gap: true); gapCount += 1 }
    }

    private mutating func insert(_ x: Double, gap: Bool) {
        // Keep x / w within Int's range.
        while Swift.abs(x) / width >= 0x1p60 { widen() }
        var k = Int((x / width).rounded(.down))
        if betaH.isEmpty {
            origin = k
            betaH = [0]
            gaps = [0]
        }
        while k < origin || k >= origin + betaH.count {
            let low = Swift.min(k, origin), high = Swift.max(k, origin + betaH.count - 1)
            if high - low + 1 > Self.maxBins {
                widen()
                k = Int((x / width).rounded(.down))
                continue
            }
            if k < origin {
                let extra = origin - k
                betaH.insert(contentsOf: repeatElement(0, count: extra), at: 0)
                gaps.insert(contentsOf: repeatElement(0, count: extra), at: 0)
                origin = k
            } else {
                let extra = k - (origin + betaH.count) + 1
                betaH.append(contentsOf: repeatElement(0, count: extra))
                gaps.append(contentsOf: repeatElement(0, count: extra))
            }
        }
        if gap { gaps[k - origin] += 1 } else { betaH[k - origin] += 1 }
    }

    /// Doubles the width, merging bin pairs.
    private mutating func widen() {
        width *= 2
        guard !betaH.isEmpty else { return }
        let newOrigin = origin >> 1
        let newEnd = (origin + betaH.count - 1) >> 1
        var b = [Int](repeating: 0, count: newEnd - newOrigin + 1), g = b
        for k in betaH.indices {
            let j = ((origin + k) >> 1) - newOrigin
            b[j] += betaH[k]
            g[j] += gaps[k]
        }
        (origin, betaH, gaps) = (newOrigin, b, g)
    }
}
