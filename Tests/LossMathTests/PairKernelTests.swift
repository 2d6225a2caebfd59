import GSLKit
import LossMath
import Testing

/// The monomorphic kernels and the batch API must give exactly `Loss.evaluate`'s bits: the
/// trainer's fast path relies on it, and so does the claim that it changed no result.
@Suite struct PairKernelTests {
    /// Inputs that exercise every branch: ordinary values, both signs of x, huge
    /// log-ratios (exp underflow and overflow), exact zeros of both signs, NaN, infinities.
    static func inputs() -> [(PairLogProbs, Double)] {
        var out: [(PairLogProbs, Double)] = []
        let rng = RandomGenerator(seed: 4242)
        let scales: [Double] = [0.01, 1, 5, 30, 300, 3000, 1e5]
        for scale in scales {
            for _ in 0..<300 {
                let refW = -80 * rng.uniform(), refL = -80 * rng.uniform()
                let pair = PairLogProbs(chosen: refW + rng.gaussian(sigma: scale), rejected: refL + rng.gaussian(sigma: scale),
                                        refChosen: refW, refRejected: refL)
                out.append((pair, rng.gaussian(sigma: scale < 100 ? 2 : 50)))
            }
        }
        let specials: [Double] = [0, -0.0, 1, -1, 2, 10, -10, 709.5, -709.5, 745.2, -745.2, 1e300, -1e300,
                                  .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude]
        for a in specials {
            for b in specials {
                out.append((PairLogProbs(chosen: a, rejected: b, refChosen: 0, refRejected: 0), 1))
                out.append((PairLogProbs(chosen: a, rejected: 0, refChosen: 0, refRejected: b), a == 0 ? 0.5 : -a))
            }
        }
        return out
    }

    static func parameterSets(_ loss: Loss) -> [LossParameters] {
        var ps: [LossParameters] = []
        for beta in [0.1, 0.5, 2.0] {
            let eps = loss == .exoPair ? 1e-3 : (loss.usesLabelSmoothing ? 0.1 : 0)
            ps.append(LossParameters(beta: beta, labelSmoothing: eps, rewardGap: nil, bcoDelta: loss == .bcoPair ? 0.3 : 0,
                                     bdpoLambda: 0.5, discopopTau: 0.05))
        }
        if loss == .bdpo { ps.append(LossParameters(beta: 0.1, values: [Losses.BDPO.lambda.name: 1])) }
        if loss == .cdpo || loss == .robust { ps.append(LossParameters(beta: 0.1, labelSmoothing: 0)) }
        return ps
    }

    /// Bit equality that treats every NaN as equal (NaN payloads are not part of the contract).
    static func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    @Test(arguments: Loss.allCases)
    func batchEqualsPerPairBitForBit(loss: Loss) {
        let data = Self.inputs().filter { loss != .spoAsym || $0.1 != 0 }
        for p in Self.parameterSets(loss) {
            let batch = loss.evaluateBatch(data.map(\.0), rewardGaps: data.map(\.1), parameters: p)
            var mismatches = 0
            for (k, (pair, gap)) in data.enumerated() {
                var q = p
                q.rewardGap = gap
                let e = loss.evaluate(pair, q)
                if !(Self.same(batch.values[k], e.value) && Self.same(batch.dChosen[k], e.dChosen) && Self.same(batch.dRejected[k], e.dRejected)) {
                    mismatches += 1
                    if mismatches <= 3 {
                        Issue.record("\(loss.rawValue) beta \(p.beta): pair \(pair), gap \(gap): batch (\(batch.values[k]), \(batch.dChosen[k]), \(batch.dRejected[k])) vs evaluate (\(e.value), \(e.dChosen), \(e.dRejected))")
                    }
                }
            }
            #expect(mismatches == 0, "\(loss.rawValue): \(mismatches) of \(data.count) pairs differ")
        }
    }

    /// The batch loops' Bernoulli KL defers only the extreme arguments (NaN there, for the
    /// per-pair form to fill in) and equals `bernoulliKL` bit for bit everywhere else.
    @Test func bernoulliKLDefersOnlyExtremeArguments() {
        let rng = RandomGenerator(seed: 77)
        var deferred = 0, moderate = 0
        for k in 0..<20_000 {
            let wide = k % 2 == 0
            let x = rng.gaussian(sigma: wide ? 800 : 5), y = x + rng.gaussian(sigma: wide ? 800 : 3)
            let full = bernoulliKL(logitP: x, logitQ: y)
            let fast = bernoulliKLUnlessExtreme(logitP: x, logitQ: y)
            if fast.isNaN {
                deferred += 1
                #expect(Swift.abs(x) > 700 || Swift.abs(y - x) > 700, "deferred at moderate arguments \(x), \(y)")
            } else {
                #expect(fast.bitPattern == full.bitPattern, "KL(\(x) || \(y)): \(fast) vs \(full)")
            }
            if !wide { moderate += fast.isNaN ? 1 : 0 }
        }
        #expect(deferred > 100 && moderate == 0, "deferred \(deferred), at moderate arguments \(moderate)")
        #expect(bernoulliKLUnlessExtreme(logitP: .nan, logitQ: 1).isNaN && bernoulliKL(logitP: .nan, logitQ: 1).isNaN)
    }

    /// Checks `derivatives` against `evaluate` of the same kernel and against `Loss.evaluate`.
    struct DerivativeCheck: PairLossKernelVisitor {
        let loss: Loss
        let p: LossParameters
        let data: [(PairLogProbs, Double)]
        func visit<K: PairLossKernel>(_ k: K) -> Int {
            var bad = 0
            for (pair, gap) in data {
                let uW = pair.chosen - pair.refChosen, uL = pair.rejected - pair.refRejected
                let d = k.derivatives(uW: uW, uL: uL, rewardGap: gap)
                let full = k.evaluate(uW: uW, uL: uL, rewardGap: gap)
                var q = p
                q.rewardGap = gap
                let e = loss.evaluate(pair, q)
                if !(PairKernelTests.same(d.dChosen, e.dChosen) && PairKernelTests.same(d.dRejected, e.dRejected)
                     && PairKernelTests.same(full.dChosen, e.dChosen) && PairKernelTests.same(full.value, e.value)) {
                    bad += 1
                }
            }
            return bad
        }
    }

    @Test(arguments: Loss.allCases)
    func derivativesEqualEvaluateBitForBit(loss: Loss) {
        let data = Self.inputs().filter { loss != .spoAsym || $0.1 != 0 }
        for p in Self.parameterSets(loss) {
            let bad = loss.withKernel(p, DerivativeCheck(loss: loss, p: p, data: data))
            #expect(bad == 0, "\(loss.rawValue) beta \(p.beta): \(bad) of \(data.count) derivative pairs differ from Loss.evaluate")
        }
    }

    /// The losses with eight-lane batch loops (bco_pair, discopop) run their eight-lane
    /// kernels, with a padded last step for the `n mod 8` pairs: at every length 1...40 (every
    /// tail length, several full steps), from several offsets into the inputs (random pairs
    /// and the specials), with and without values and per-pair gaps, every element must be
    /// `Loss.evaluate`'s bits.
    @Test(arguments: [Loss.bcoPair, Loss.discopop])
    func eightLaneBatchMatchesAtEveryTailLength(loss: Loss) {
        let all = Self.inputs()
        let p = LossParameters(beta: 0.7, rewardGap: 0.25, values: [Losses.BCOPair.delta.name: 0.3, Losses.DiscoPOP.tau.name: 0.05])
        var mismatches = 0, checked = 0
        for n in 1...40 {
            for start in [0, 2100 + 13 * n, all.count - n] {
                let data = Array(all[start ..< start + n])
                let c = data.map(\.0.chosen), r = data.map(\.0.rejected)
                let rc = data.map(\.0.refChosen), rr = data.map(\.0.refRejected), g = data.map(\.1)
                for withValues in [true, false] {
                    for withGaps in [true, false] {
                        // Sentinels: an output the loop does not write stays NaN with this payload.
                        let unwritten = Double(nan: 0x5a5a, signaling: false)
                        var v = [Double](repeating: unwritten, count: n), dw = v, dl = v
                        c.withUnsafeBufferPointer { c in r.withUnsafeBufferPointer { r in
                            rc.withUnsafeBufferPointer { rc in rr.withUnsafeBufferPointer { rr in g.withUnsafeBufferPointer { g in
                                v.withUnsafeMutableBufferPointer { v in dw.withUnsafeMutableBufferPointer { dw in
                                    dl.withUnsafeMutableBufferPointer { dl in
                                        loss.evaluateBatch(chosen: c, rejected: r, refChosen: rc, refRejected: rr,
                                                                   rewardGaps: withGaps ? g : nil, parameters: p,
                                                                   values: withValues ? v : nil, dChosen: dw, dRejected: dl)
                                    }
                                } }
                            } } }
                        } }
                        func written(_ x: Double, _ y: Double) -> Bool { x.bitPattern != unwritten.bitPattern && Self.same(x, y) }
                        for k in 0..<n {
                            var q = p
                            if withGaps { q.rewardGap = g[k] }
                            let e = loss.evaluate(data[k].0, q)
                            let valueOK = withValues ? written(v[k], e.value) : v[k].bitPattern == unwritten.bitPattern
                            checked += 1
                            if !(valueOK && written(dw[k], e.dChosen) && written(dl[k], e.dRejected)) {
                                mismatches += 1
                                if mismatches <= 3 { Issue.record("\(loss.rawValue): n \(n), start \(start), k \(k), values \(withValues), gaps \(withGaps)") }
                            }
                        }
                    }
                }
            }
        }
        #expect(mismatches == 0 && checked == 4 * 3 * (40 * 41 / 2))
    }

    @Test func batchWithoutValuesOrGapsMatches() {
        let data = Self.inputs().prefix(500).map(\.0)
        let p = LossParameters(beta: 0.2, rewardGap: 0.7)
        let n = data.count
        let c = data.map(\.chosen), r = data.map(\.rejected), rc = data.map(\.refChosen), rr = data.map(\.refRejected)
        var dw = [Double](repeating: 0, count: n), dl = dw
        c.withUnsafeBufferPointer { c in r.withUnsafeBufferPointer { r in rc.withUnsafeBufferPointer { rc in rr.withUnsafeBufferPointer { rr in
            dw.withUnsafeMutableBufferPointer { dw in dl.withUnsafeMutableBufferPointer { dl in
                Loss.spoBT.evaluateBatch(chosen: c, rejected: r, refChosen: rc, refRejected: rr, rewardGaps: nil,
                                         parameters: p, values: nil, dChosen: dw, dRejected: dl)
            } }
        } } } }
        for k in 0..<n {
            let e = Loss.spoBT.evaluate(data[k], p)
            #expect(Self.same(dw[k], e.dChosen) && Self.same(dl[k], e.dRejected))
        }
    }
}
