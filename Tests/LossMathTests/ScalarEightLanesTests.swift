import GSLKit
import LossMath
import Testing

// The eight-lane Bernoulli-KL building blocks (Sources/LossMath/ScalarEightLanes.swift) and
// the eight-lane rpo_bwd_kl kernel against the scalar functions they copy: every lane must be
// the same bits (NaN: NaN of the same sign), in every region where a different form is
// selected, and the batch form must defer exactly the lanes the scalar batch form defers.

@Suite struct ScalarEightLanesTests {
    static func same(_ a: Double, _ b: Double) -> Bool { ElementaryVectorTests.same(a, b) }

    /// Pairs `(a, b)`: the specials against each other, then 240,000 random pairs (GSL
    /// MT19937, seed 31) in the regions where the selected forms change: `b` near `a`
    /// (`|b - a|` within `1e-3`, `log 4`, 8 and past 40, where `expm1` saturates), both
    /// arguments large (`±800`: `d > 700`, `|a| > 700`), and across `0` (opposite signs).
    static func pairs() -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        let specials = ElementaryVectorTests.specials + [1.3862943611198906, -1.3862943611198906, 1.3862943611198906.nextUp,
                                                         700, -700, 700.5, -700.5, 600, -600, 600.5, -600.5, 0.75, -0.75]
        for a in specials { for b in specials { out.append((a, b)) } }
        let rng = RandomGenerator(seed: 31)
        for i in 0..<240_000 {
            let u = rng.uniform(), w = rng.uniform()
            let a: Double, b: Double
            switch i % 6 {
            case 0: a = rng.gaussian(sigma: 5); b = a + (u - 0.5) * 2e-3
            case 1: a = rng.gaussian(sigma: 5); b = a + (u - 0.5) * 2 * 1.3862943611198906 * 1.05
            case 2: a = rng.gaussian(sigma: 40); b = a + (u - 0.5) * 16
            case 3: a = (u - 0.5) * 1600; b = (w - 0.5) * 1600
            case 4: a = -700 + (u - 0.5) * 20; b = a + (w - 0.5) * 1500
            default: a = (u - 0.5) * 6; b = (w - 0.5) * 90
            }
            out.append((a, b))
        }
        return out
    }

    /// Lanes of `vector` differing from `scalar` over ``pairs()``, eight pairs per call.
    static func mismatches(_ vector: (SIMD8<Double>, SIMD8<Double>) -> SIMD8<Double>,
                           _ scalar: (Double, Double) -> Double) -> (bad: Int, checked: Int) {
        let ps = pairs()
        var bad = 0, checked = 0
        var i = 0
        while i < ps.count {
            var a = SIMD8<Double>(repeating: 0), b = a
            for l in 0..<8 { (a[l], b[l]) = ps[(i + l) % ps.count] }
            let r = vector(a, b)
            for l in 0..<8 where i + l < ps.count {
                checked += 1
                let expected = scalar(a[l], b[l])
                if !same(r[l], expected) {
                    bad += 1
                    if bad <= 3 { Issue.record("(\(a[l]), \(b[l])): lane \(r[l]) vs scalar \(expected)") }
                }
            }
            i += 8
        }
        return (bad, checked)
    }

    @Test func sigmoidDifferenceLanesAreTheScalarOnesBitForBit() {
        let r = Self.mismatches({ sigmoidDifference($0, $1) }, { sigmoidDifference($0, $1) })
        #expect(r.bad == 0 && r.checked >= 240_000)
    }

    @Test func bernoulliKLLanesAreTheScalarOnesBitForBit() {
        let r = Self.mismatches({ bernoulliKL(logitP: $0, logitQ: $1) }, { bernoulliKL(logitP: $0, logitQ: $1) })
        #expect(r.bad == 0 && r.checked >= 240_000)
    }

    /// The batch form defers (NaN) exactly where the scalar batch form does, and the samples
    /// reach every selected form: near, far and deferred.
    @Test func bernoulliKLUnlessExtremeLanesDeferTheSameLanes() {
        let r = Self.mismatches({ bernoulliKLUnlessExtreme(logitP: $0, logitQ: $1) },
                                { bernoulliKLUnlessExtreme(logitP: $0, logitQ: $1) })
        #expect(r.bad == 0 && r.checked >= 240_000)
        var near = 0, far = 0, deferred = 0
        for (x, y) in Self.pairs() where !x.isNaN && !y.isNaN && x != y {
            let flip = x > 0, d = flip ? x - y : y - x
            if bernoulliKLUnlessExtreme(logitP: x, logitQ: y).isNaN { deferred += 1 }
            else if d <= 1.3862943611198906 { near += 1 } else { far += 1 }
        }
        #expect(near > 50_000 && far > 30_000 && deferred > 5_000, "near \(near), far \(far), deferred \(deferred)")
    }

    /// rpo_bwd_kl's eight-lane `evaluate`, `evaluateForBatch` and `derivatives` against its
    /// scalar ones, over betas, log-ratios from tiny to overflowing and the specials.
    @Test func rpoBackwardKLLanesAreTheScalarKernelBitForBit() {
        for beta in [0.1, 1, 1e-150, 3e5, 2] {
            let k = Losses.RPOBackwardKL(unchecked: LossParameters(beta: beta))
            #expect(ElementaryVectorTests.laneMismatches(k, seed: 17) == 0, "beta \(beta)")
            #expect(Self.batchFormMismatches(k) == 0, "beta \(beta)")
        }
    }

    /// Lanes of `evaluateForBatch` (eight-lane) that differ from the scalar `evaluateForBatch`,
    /// with ``pairs()`` as `(u_w - u_l, reward gap)` and as `(reward gap, u_w)`.
    static func batchFormMismatches<K: PairLossKernel>(_ k: K) -> Int {
        let ps = pairs()
        var bad = 0
        var i = 0
        while i + 8 <= ps.count {
            var uW = SIMD8<Double>(repeating: 0), gap = uW
            for l in 0..<8 { (uW[l], gap[l]) = ps[i + l] }
            for (w, g) in [(uW, gap), (gap, uW)] {
                let e = k.evaluateForBatch(uW: w, uL: SIMD8(repeating: 0), rewardGap: g)
                for l in 0..<8 {
                    let f = k.evaluateForBatch(uW: w[l], uL: 0, rewardGap: g[l])
                    if !(same(e.value[l], f.value) && same(e.dChosen[l], f.dChosen) && same(e.dRejected[l], f.dRejected)) {
                        bad += 1
                        if bad <= 3 { Issue.record("\(K.self): uW \(w[l]), gap \(g[l])") }
                    }
                }
            }
            i += 8
        }
        return bad
    }
}
