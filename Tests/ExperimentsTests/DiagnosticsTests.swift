import Testing
import LossMath
@testable import Experiments

/// `report losses --summary`'s statistics (Experiments/Diagnostics), recomputed here
/// independently: exact quantiles by sorting, means and shares by plain loops over
/// `Loss.evaluate`.
@Suite struct DiagnosticsTests {
    /// A deterministic generator (SplitMix64), so the tests need no seed plumbing.
    struct Mix { var s: UInt64
        mutating func next() -> Double {
            s &+= 0x9E3779B97F4A7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
        }
    }

    /// The type-1 quantile of sorted values: the k-th smallest, k = max(1, ceil(q n)).
    static func exactQuantile(_ sorted: [Double], _ q: Double) -> Double {
        sorted[max(1, Int((q * Double(sorted.count)).rounded(.up))) - 1]
    }

    @Test func logHistogramQuantilesAreWithinTheStatedResolution() {
        var g = Mix(s: 3)
        for n in [1, 2, 7, 100, 5000] {
            var h = LogHistogram()
            var values: [Double] = []
            for i in 0..<n {
                // Log-uniform over 1e-300 ... 1e300, some exact zeros and repeats.
                let x = i % 11 == 0 ? 0 : (i % 13 == 0 ? 2.5 : Double.pow(10, -300 + 600 * g.next()))
                values.append(x)
                h.add(x)
            }
            h.add(.nan); h.add(-1); h.add(.infinity)   // ignored
            let sorted = values.sorted()
            #expect(h.count == n)
            #expect(h.maximum == sorted.last)
            for q in [0.0, 0.05, 0.25, 0.5, 0.95, 0.99, 1.0] {
                let exact = Self.exactQuantile(sorted, q)
                let estimate = h.quantile(q) ?? .nan
                #expect(abs(estimate - exact) <= 0x1p-7 * exact, "n \(n) q \(q): \(estimate) vs \(exact)")
            }
        }
        #expect(LogHistogram().quantile(0.5) == nil)
    }

    @Test func targetHistogramIsOrderFreeAndCountsEveryValue() {
        var g = Mix(s: 9)
        var values: [(Double, Double)] = []
        for _ in 0..<2000 { values.append((200 * g.next() - 100, 20 * g.next() - 10)) }
        values.append((1e6, 0))
        var a = TargetHistogram(), b = TargetHistogram()
        for v in values { a.add(betaH: v.0, rewardGap: v.1) }
        for v in values.reversed() { b.add(betaH: v.0, rewardGap: v.1) }
        #expect(a.bins == b.bins && a.width == b.width)
        #expect(a.bins.count <= TargetHistogram.maxBins)
        #expect(a.bins.map(\.betaH).reduce(0, +) == values.count)
        #expect(a.bins.map(\.rewardGap).reduce(0, +) == values.count)
        for v in values {
            let bin = a.bins.first { $0.lower <= v.0 && v.0 < $0.upper }
            #expect(bin != nil && bin!.betaH > 0)
        }
    }

    /// Pairs with scores: a tie, reversed scores, collapsed rejected responses.
    static func pairs() -> [(PairLogProbs, Double)] {
        var g = Mix(s: 5)
        return (0..<300).map { i in
            let c = -30 - 500 * g.next(), r = -30 - 500 * g.next()
            let pair = PairLogProbs(chosen: c, rejected: r, refChosen: c + 8 * g.next() - 4, refRejected: r + 8 * g.next() - 4)
            return (pair, i == 17 ? 0 : 6 * g.next() - 2)
        }
    }

    @Test func lossDiagnosticsMatchAPlainRecomputation() throws {
        let data = Self.pairs()
        for loss in [Loss.sigmoid, .ipo, .spo, .spoAsym, .hinge] {
            let p = LossParameters(beta: 0.1)
            var d = LossDiagnostics(loss: loss, parameters: p)
            var batch = PairBatch()
            for (k, (pair, gap)) in data.enumerated() {
                if k % 128 == 0 { d.add(batch); batch.removeAll(firstRow: k) }
                batch.append(pair, rewardGap: gap)
            }
            d.add(batch)
            // Plain loops.
            var n = 0, loss_ = 0.0, rw = 0.0, rl = 0.0, acc = 0, past = 0, dist = 0.0, collapse = 0, outside = 0
            var dl: [Double] = [], dw: [Double] = []
            for (pair, gap) in data {
                var q = p
                q.rewardGap = gap
                if loss == .spoAsym && gap == 0 { outside += 1; continue }
                let e = loss.evaluate(pair, q)
                guard e.value.isFinite && e.dChosen.isFinite && e.dRejected.isFinite else { continue }
                n += 1
                loss_ += e.value
                let uW = pair.chosen - pair.refChosen, uL = pair.rejected - pair.refRejected
                rw += 0.1 * uW; rl += 0.1 * uL
                if 0.1 * uW > 0.1 * uL { acc += 1 }
                if 0.1 * (uW - uL) > gap { past += 1 }
                dist += abs(0.1 * (uW - uL) - gap)
                if e.dRejected > 0 && uL < 0 { collapse += 1 }
                dl.append(abs(e.dRejected)); dw.append(abs(e.dChosen))
            }
            #expect(d.pairs == n && d.outsideDomain == outside)
            if outside > 0 { #expect(d.firstOutsideRow == 17) }
            let tol = 1e-12
            #expect(abs((d.meanLoss ?? .nan) - loss_ / Double(n)) <= tol * max(1, abs(loss_ / Double(n))))
            #expect(abs((d.rewardsChosen ?? .nan) - rw / Double(n)) <= tol * max(1, abs(rw / Double(n))))
            #expect(abs((d.rewardsRejected ?? .nan) - rl / Double(n)) <= tol * max(1, abs(rl / Double(n))))
            #expect(abs((d.rewardsMargins ?? .nan) - (rw - rl) / Double(n)) <= tol * max(1, abs((rw - rl) / Double(n))))
            #expect(d.rewardsAccuracies == Double(acc) / Double(n))
            #expect(d.shareCollapsing == Double(collapse) / Double(n))
            if loss.needsRewardGap {
                #expect(d.sharePastTarget == Double(past) / Double(n))
                #expect(abs((d.meanTargetDistance ?? .nan) - dist / Double(n)) <= tol * max(1, dist / Double(n)))
            } else {
                #expect(d.sharePastTarget == nil && d.meanTargetDistance == nil)
            }
            let sl = dl.sorted(), sw = dw.sorted()
            for q in [0.05, 0.5, 0.95] {
                let e1 = Self.exactQuantile(sl, q), e2 = Self.exactQuantile(sw, q)
                #expect(abs((d.rejectedGradient.quantile(q) ?? .nan) - e1) <= 0x1p-7 * e1, "\(loss) q \(q)")
                #expect(abs((d.chosenGradient.quantile(q) ?? .nan) - e2) <= 0x1p-7 * e2, "\(loss) q \(q)")
            }
            #expect(d.rejectedGradient.maximum == sl.last)
        }
    }

    /// ipo with token counts averages, and so do its TRL rewards (TRL divides ipo's
    /// log-probabilities by the completion length).
    @Test func ipoWithLengthsAveragesItsRewards() {
        let pair = PairLogProbs(chosen: -100, rejected: -200, refChosen: -110, refRejected: -190, chosenLength: 10, rejectedLength: 40)
        var d = LossDiagnostics(loss: .ipo, parameters: LossParameters(beta: 0.5))
        var batch = PairBatch()
        batch.append(pair, rewardGap: nil)
        d.add(batch)
        #expect(d.rewardsChosen == 0.5 * (10.0 / 10))
        #expect(d.rewardsRejected == 0.5 * (-10.0 / 40))
        #expect(d.meanLoss == Loss.ipo.evaluate(pair, LossParameters(beta: 0.5)).value)
    }
}
