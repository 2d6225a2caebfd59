import GSLKit
import LossMath
import RealModule
import Testing

// The eight-lane exp, sigmoid and log(onePlus:) (Sources/LossMath/ElementaryVector.swift) and
// the eight-lane loss kernels against the scalar functions they copy: every lane must be the
// same bits (NaN: NaN), so that a loop switched to explicit 512-bit vectors changes no result.

@Suite struct ElementaryVectorTests {

    /// Bit equality, with any NaN equal to any NaN of the same sign.
    static func same(_ a: Double, _ b: Double) -> Bool {
        a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN && a.sign == b.sign)
    }

    /// Special values, the clamps and the ends of the normal and subnormal ranges.
    static let specials: [Double] = [
        0, -0.0, 1, -1, .nan, -.nan, .infinity, -.infinity, .ulpOfOne, -.ulpOfOne,
        .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
        -.greatestFiniteMagnitude, 709.782712893384, 709.7827128933841, 709.79, 710, 710.5, 746, -708.39,
        -708.4, -709.1, -744.44, -745.1332191019411, -745.1332191019412, -745.2, -746, -746.5, -1000,
        0x1p-54, -0x1p-54, 0.34657359027997264, -0.34657359027997264, 0.5 * 0.6931471805599453,
        36.7368005696771, -36.7368005696771, 1e-300, -1e-300,
        40, -40, 40.0.nextUp, 40.0.nextDown, -40.0.nextUp, -40.0.nextDown, 0x1p-54.nextDown, -0x1p-54.nextUp,
        0x1p-5, -0x1p-5, 0x1p-5.nextUp, -0x1p-5.nextDown, 0x1p-5.nextDown,
    ]

    /// Arguments: the specials, then random ones spread over exp's whole range and
    /// concentrated near 0 (GSL MT19937, seed 12).
    static func arguments() -> [Double] {
        let rng = RandomGenerator(seed: 12)
        var xs = specials
        for i in 0..<200_000 {
            let u = rng.uniform()
            switch i % 4 {
            case 0: xs.append(-760 + 1480 * u)
            case 1: xs.append(-40 + 80 * u)
            case 2: xs.append((u - 0.5) * 1e-3)
            default: xs.append(-745.2 + 37 * u)
            }
        }
        return xs
    }

    static func lanes(_ xs: [Double], _ f: (SIMD8<Double>) -> SIMD8<Double>) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(xs.count + 8)
        var i = 0
        while i < xs.count {
            var v = SIMD8<Double>(repeating: 0)
            for l in 0..<8 { v[l] = xs[(i + l) % xs.count] }
            let r = f(v)
            for l in 0..<8 where i + l < xs.count { out.append(r[l]) }
            i += 8
        }
        return out
    }

    @Test func expLanesAreTheScalarExpBitForBit() {
        let xs = Self.arguments()
        let got = Self.lanes(xs) { Elementary.exp($0) }
        var mismatches = 0
        for (x, y) in zip(xs, got) where !Self.same(y, Elementary.exp(x)) {
            mismatches += 1
            if mismatches < 5 { Issue.record("exp(\(x)): lanes \(y), scalar \(Elementary.exp(x))") }
        }
        #expect(mismatches == 0)
        #expect(got.count == xs.count)
    }

    @Test func sigmoidLanesAreTheScalarSigmoidBitForBit() {
        let xs = Self.arguments()
        let got = Self.lanes(xs) { Elementary.sigmoid($0) }
        var mismatches = 0
        for (x, y) in zip(xs, got) where !Self.same(y, sigmoid(x)) {
            mismatches += 1
            if mismatches < 5 { Issue.record("sigmoid(\(x)): lanes \(y), scalar \(sigmoid(x))") }
        }
        #expect(mismatches == 0)
    }

    /// Arguments of `log(onePlus:)`: the specials (zeros, subnormals, -1 and below, huge,
    /// infinities, NaN), its branch points (`|u| = 2^-54`, `1 + u` at the edge of `[sqrt(2)/2,
    /// sqrt(2))` and at powers of two, `1 + u` near 0) with their neighbours, then 250,000
    /// random arguments over the whole range (GSL MT19937, seed 14).
    static func logOnePlusArguments() -> [Double] {
        var xs: [Double] = [
            0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 0x1p-1030, -0x1p-1030, .leastNormalMagnitude,
            -.leastNormalMagnitude, 1e-300, -1e-300, -1, -1.5, -2, -1e300, -.greatestFiniteMagnitude, 1e300,
            .greatestFiniteMagnitude, .infinity, -.infinity, .nan, -.nan, .ulpOfOne, -.ulpOfOne, 0x1p-53, -0x1p-53,
            1, 3, -0.5, -0.75, 0.5, 2.0.squareRoot() - 1, 0.5.squareRoot() - 1, 1e16, 0x1p53, 0x1p52 + 1,
            1 - 0x1p-53, -1 + 0x1p-53, -1 + 0x1p-52,
        ]
        for b in [0x1p-54, -0x1p-54, -1, 2.0.squareRoot() - 1, 0.5.squareRoot() - 1, 1, -0.5, 0x1p-53] {
            var up = b, down = b
            for _ in 0..<4 {
                up = up.nextUp
                down = down.nextDown
                xs += [up, down]
            }
            xs.append(b)
        }
        let rng = RandomGenerator(seed: 14)
        for i in 0..<250_000 {
            let u = rng.uniform(), v = rng.uniform()
            let sign: Double = v < 0.5 ? -1 : 1
            switch i % 5 {
            case 0: xs.append(2 * u - 1)                                   // (-1, 1)
            case 1: xs.append(sign * Double.pow(10, -330 + 640 * u))       // every magnitude
            case 2: xs.append(-1 + Double.pow(10, -17 * u))                // 1 + u near 0
            case 3: xs.append(sign * 0x1p-54 * (0.5 + u))                  // around 2^-54
            default: xs.append(Elementary.exp(-40 * u))                    // e^-|x| of the kernels
            }
        }
        return xs
    }

    @Test func logOnePlusLanesAreTheScalarLogOnePlusBitForBit() {
        let xs = Self.logOnePlusArguments()
        let got = Self.lanes(xs) { Elementary.log(onePlus: $0) }
        var mismatches = 0
        for (x, y) in zip(xs, got) where !Self.same(y, Elementary.log(onePlus: x)) {
            mismatches += 1
            if mismatches < 5 { Issue.record("log(onePlus: \(x)): lanes \(y), scalar \(Elementary.log(onePlus: x))") }
        }
        #expect(mismatches == 0)
        #expect(got.count == xs.count && xs.count > 250_000)
        // The branch points do occur among the arguments: exact returns, -inf, NaN and +inf.
        #expect(got.contains { $0 == -.infinity } && got.contains { $0 == .infinity } && got.contains(where: \.isNaN))
    }

    /// `log(x)` in lanes (the fused trainer's row log-sum-exps): the specials (zeros, the
    /// subnormal range and its edge, negatives, infinities, NaN), 1 and its neighbours, and
    /// 200,000 random arguments over every magnitude and near 1 (GSL MT19937, seed 15).
    @Test func logLanesAreTheScalarLogBitForBit() {
        var xs: [Double] = [
            0, -0.0, .leastNonzeroMagnitude, 0x1p-1030, .leastNormalMagnitude, .leastNormalMagnitude.nextDown,
            .leastNormalMagnitude.nextUp, 1, 1.0.nextUp, 1.0.nextDown, 2, 0.5, 2.0.squareRoot(), 0.5.squareRoot(), 6,
            .greatestFiniteMagnitude, .infinity, -.infinity, -1, -.leastNonzeroMagnitude, .nan, -.nan,
        ]
        let rng = RandomGenerator(seed: 15)
        for i in 0..<200_000 {
            let u = rng.uniform()
            xs.append(i % 2 == 0 ? Double.pow(10, -323 + 631 * u) : 1 + (u - 0.5) * 1e-6)
        }
        let got = Self.lanes(xs) { Elementary.log($0) }
        var mismatches = 0
        for (x, y) in zip(xs, got) where !Self.same(y, Elementary.log(x)) {
            mismatches += 1
            if mismatches < 5 { Issue.record("log(\(x)): lanes \(y), scalar \(Elementary.log(x))") }
        }
        #expect(mismatches == 0)
        #expect(got.count == xs.count && got.contains { $0 == -.infinity } && got.contains(where: \.isNaN))
    }

    @Test func expMinusOneLanesAreTheScalarExpMinusOneBitForBit() {
        let xs = Self.arguments()
        let got = Self.lanes(xs) { Elementary.expMinusOne($0) }
        var mismatches = 0
        for (x, y) in zip(xs, got) where !Self.same(y, Elementary.expMinusOne(x)) {
            mismatches += 1
            if mismatches < 5 { Issue.record("expMinusOne(\(x)): lanes \(y), scalar \(Elementary.expMinusOne(x))") }
        }
        #expect(mismatches == 0)
        #expect(got.count == xs.count)
    }

    /// Lanes of a kernel's eight-lane `evaluate` and `derivatives` that differ from its scalar
    /// ones, over log-ratios of both signs from tiny to overflowing, the specials, and
    /// `u_l = 0` (so that `x = beta u_w` meets the specials, e.g. discopop's `|x| = 1/32`).
    static func laneMismatches<K: PairLossKernel>(_ k: K, seed: UInt64) -> Int {
        let xs = arguments()
        let rng = RandomGenerator(seed: seed)
        var mismatches = 0
        var i = 0
        while i + 8 <= xs.count {
            var uW = SIMD8<Double>(repeating: 0), uL = uW, gap = uW
            for l in 0..<8 {
                uW[l] = xs[i + l]
                switch l % 4 {
                case 0: uL[l] = -xs[i + l]
                case 1: uL[l] = xs[(i + l + 5) % xs.count]
                case 2: uL[l] = rng.uniform() * 20 - 10
                default: uL[l] = 0
                }
                gap[l] = rng.uniform() * 4 - 2
            }
            let e = k.evaluate(uW: uW, uL: uL, rewardGap: gap)
            let d = k.derivatives(uW: uW, uL: uL, rewardGap: gap)
            for l in 0..<8 {
                let f = k.evaluate(uW: uW[l], uL: uL[l], rewardGap: gap[l])
                let g = k.derivatives(uW: uW[l], uL: uL[l], rewardGap: gap[l])
                if !(same(e.value[l], f.value) && same(e.dChosen[l], f.dChosen) && same(e.dRejected[l], f.dRejected)
                     && same(d.dChosen[l], g.dChosen) && same(d.dRejected[l], g.dRejected)) {
                    mismatches += 1
                    if mismatches < 5 { Issue.record("\(K.self): uW \(uW[l]), uL \(uL[l])") }
                }
            }
            i += 8
        }
        return mismatches
    }

    /// bco_pair's eight-lane kernel (it runs the eight-lane `BranchFree` helpers and
    /// `log(onePlus:)`) against its scalar kernel, over betas and shifts.
    @Test func bcoPairLanesAreTheScalarKernelBitForBit() {
        for (beta, delta) in [(0.1, 0.0), (1, 0.3), (1e-150, -2), (3e5, 1e-3), (2, .leastNonzeroMagnitude)] {
            let bco = Losses.BCOPair(unchecked: LossParameters(beta: beta, values: [Losses.BCOPair.delta.name: delta]))
            #expect(Self.laneMismatches(bco, seed: 15) == 0, "beta \(beta), delta \(delta)")
        }
    }

    /// discopop's eight-lane kernel (also `expMinusOne`) against its scalar kernel, over
    /// betas and temperatures.
    @Test func discopopLanesAreTheScalarKernelBitForBit() {
        for (beta, tau) in [(1.0, 0.05), (0.1, 0.05), (1e-150, 1), (3e5, 0.5), (2, 1e-3)] {
            let disco = Losses.DiscoPOP(unchecked: LossParameters(beta: beta, values: [Losses.DiscoPOP.tau.name: tau]))
            #expect(Self.laneMismatches(disco, seed: 16) == 0, "beta \(beta), tau \(tau)")
        }
    }

    /// The lanes are independent: a NaN or an overflow in one lane leaves the others alone.
    @Test func lanesDoNotInteract() {
        let v = SIMD8<Double>(.nan, 1, 800, -2, -800, 0.5, .infinity, -.infinity)
        let e = Elementary.exp(v)
        #expect(e[0].isNaN)
        #expect(e[1] == Elementary.exp(1) && e[3] == Elementary.exp(-2) && e[5] == Elementary.exp(0.5))
        #expect(e[2] == .infinity && e[4] == 0 && e[6] == .infinity && e[7] == 0)
    }

    /// The eight-lane derivative kernels of DPO and spo (Sources/LossMath/VectorDerivatives.swift)
    /// against their scalar `derivatives`, over betas, log-ratios from tiny to overflowing
    /// and the specials.
    @Test func vectorDerivativesAreTheScalarOnesBitForBit() {
        let xs = Self.arguments()
        let rng = RandomGenerator(seed: 13)
        var mismatches = 0
        for beta in [0.1, 1, 1e-150, 3e5] {
            let dpo = Losses.Sigmoid(unchecked: LossParameters(beta: beta))
            let spo = Losses.SPO(unchecked: LossParameters(beta: beta))
            var i = 0
            while i + 8 <= xs.count {
                var uW = SIMD8<Double>(repeating: 0), uL = uW, gap = uW
                for l in 0..<8 {
                    uW[l] = xs[i + l]
                    uL[l] = l % 3 == 0 ? -xs[i + l] : rng.uniform() * 20 - 10
                    gap[l] = l % 2 == 0 ? xs[(i + l + 1) % xs.count] : rng.uniform() * 4 - 2
                }
                let d = dpo.derivatives(uW: uW, uL: uL)
                let s = spo.derivatives(uW: uW, uL: uL, rewardGap: gap)
                for l in 0..<8 {
                    let e = dpo.derivatives(uW: uW[l], uL: uL[l], rewardGap: gap[l])
                    let f = spo.derivatives(uW: uW[l], uL: uL[l], rewardGap: gap[l])
                    if !(Self.same(d.dChosen[l], e.dChosen) && Self.same(d.dRejected[l], e.dRejected)
                         && Self.same(s.dChosen[l], f.dChosen) && Self.same(s.dRejected[l], f.dRejected)) {
                        mismatches += 1
                        if mismatches < 5 { Issue.record("beta \(beta), uW \(uW[l]), uL \(uL[l]), gap \(gap[l])") }
                    }
                }
                i += 8
            }
        }
        #expect(mismatches == 0)
    }
}
