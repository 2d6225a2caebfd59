import LossMath
import Testing
@testable import Experiments

/// The fused metrics' `max log10 |dl/dpi_l|` (libm's log10 only for the candidates of the
/// maximum) against every pair through libm: the same bits, near ties and special values
/// included.
@Suite struct RejectedGradientMaximumTests {
    /// SplitMix64, so the cases are the same on every run.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
    }

    /// The fast maximum (estimates over two ranges, as two threads would split them) and the
    /// exact one, as bit patterns.
    static func both(_ d: [Double], _ l: [Double]) -> (fast: UInt64, exact: UInt64) {
        let n = d.count
        var lower = [Double](repeating: 0, count: n), upper = [Double](repeating: 0, count: n)
        let cut = n / 3
        RejectedGradientMaximum.estimate(derivatives: d, logProbabilities: l, range: 0 ..< cut, lower: &lower, upper: &upper)
        RejectedGradientMaximum.estimate(derivatives: d, logProbabilities: l, range: cut ..< n, lower: &lower, upper: &upper)
        let fast = RejectedGradientMaximum.maximum(derivatives: d, logProbabilities: l, count: n, lower: lower, upper: upper)
        let exact = RejectedGradientMaximum.exactMaximum(derivatives: d, logProbabilities: l, count: n)
        return (fast.bitPattern, exact.bitPattern)
    }

    @Test func randomPairsGiveTheExactMaximum() {
        var rng = Generator(state: 17)
        for trial in 0..<400 {
            let n = 1 + Int(rng.next() % 70)
            var d: [Double] = [], l: [Double] = []
            for _ in 0..<n {
                // |d| log-uniform over most of the double range, either sign; log pi in [-700, 0].
                let magnitude = Double(sign: .plus, exponent: Int(rng.next() % 1990) - 995, significand: 1 + rng.uniform())
                d.append(rng.next() & 1 == 0 ? magnitude : -magnitude)
                l.append(-700 * rng.uniform())
            }
            let r = Self.both(d, l)
            #expect(r.fast == r.exact, "trial \(trial)")
        }
    }

    /// Pairs whose values tie exactly (repeated pairs) or differ in the last bits (`d` scaled
    /// by 10 and `log pi` raised by ln 10, or `d` one ulp away): the first of the largest must
    /// survive the estimates' filter.
    @Test func nearTiesGiveTheExactMaximum() {
        var rng = Generator(state: 3)
        for trial in 0..<400 {
            let d0 = Double(sign: .plus, exponent: Int(rng.next() % 130) - 65, significand: 1 + rng.uniform()), l0 = -30 * rng.uniform()
            var d: [Double] = [], l: [Double] = []
            for _ in 0..<(2 + Int(rng.next() % 20)) {
                switch rng.next() % 4 {
                case 0: d.append(d0); l.append(l0)
                case 1: d.append(-10 * d0); l.append(l0 + 2.302_585_092_994_045_7)
                case 2: d.append(d0.nextUp); l.append(l0)
                default: d.append(d0 * rng.uniform()); l.append(l0)
                }
            }
            let r = Self.both(d, l)
            #expect(r.fast == r.exact, "trial \(trial)")
        }
    }

    /// Zero derivatives (value -inf), infinite and NaN ones, and log pi = -inf.
    @Test func specialValuesGiveTheExactMaximum() {
        let cases: [([Double], [Double])] = [
            ([0, 0, 0], [-1, -2, -3]),                        // every value -inf
            ([0, 1e-3, 0, 2e-3], [-1, -5, -2, -5]),
            ([1e-3, .infinity, 2e-3], [-1, -1, -1]),
            ([1e-3, .nan, 2e-3], [-1, -1, -1]),
            ([1e-3, 2e-3, 5], [-1, -.infinity, -1]),
            ([1e-3, 2e-3, 5], [-1, .nan, -1]),
            ([-0.0, 0x1p-1030, -0x1.8p-1062], [-3, -700, -745]),   // subnormal derivatives
            ([1], [0]),                                      // the value 0
        ]
        for (i, c) in cases.enumerated() {
            let r = Self.both(c.0, c.1)
            #expect(r.fast == r.exact, "case \(i)")
        }
    }

    /// The bounds hold each pair's exact value (libm's log10), over the whole normal range
    /// of `|d|`, significands next to `1/ln 2` (the chord's worst case) and next to 1 and 2,
    /// and `log pi` from 0 to -1e6; through the eight lanes and the scalar tail.
    @Test func boundsHoldTheExactValue() {
        var rng = Generator(state: 99)
        var d: [Double] = [], l: [Double] = []
        for k in 0..<4000 {
            let significand: Double
            switch k % 4 {
            case 0: significand = 1 + rng.uniform()
            case 1: significand = 1.442_695_040_888_963_4 * (1 + 1e-6 * (rng.uniform() - 0.5))
            case 2: significand = 1 + 1e-12 * rng.uniform()
            default: significand = 2 - 1e-12 * rng.uniform() - 0x1p-52
            }
            let magnitude = Double(sign: .plus, exponent: Int(rng.next() % 2046) - 1022, significand: significand)
            d.append(rng.next() & 1 == 0 ? magnitude : -magnitude)
            l.append(k % 7 == 0 ? -1e6 * rng.uniform() : -50 * rng.uniform())
        }
        let n = d.count
        var lower = [Double](repeating: 0, count: n), upper = [Double](repeating: 0, count: n)
        RejectedGradientMaximum.estimate(derivatives: d, logProbabilities: l, range: 0 ..< n - 5, lower: &lower, upper: &upper)
        RejectedGradientMaximum.estimate(derivatives: d, logProbabilities: l, range: n - 5 ..< n, lower: &lower, upper: &upper)
        var failures = 0
        for i in 0..<n {
            let g = RejectedGradientMaximum.exact(d[i], l[i])
            if !(lower[i] <= g && g <= upper[i]) { failures += 1 }
        }
        #expect(failures == 0)
    }
}
