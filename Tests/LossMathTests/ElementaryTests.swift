import GSLKit
import LossMath
import RealModule
import Testing

// LossMath's own exp, log and log1p (Sources/LossMath/Elementary.swift): accuracy against
// mpmath literals, agreement with glibc on random inputs, the special values, identities,
// and the claim the batch kernels rely on: a vectorised loop gives the same bits as one
// call at a time.

@Suite struct ElementaryTests {

    static func evaluate(_ function: String, _ x: Double) -> Double {
        switch function {
        case "exp": return Elementary.exp(x)
        case "log": return Elementary.log(x)
        case "log1p": return Elementary.log(onePlus: x)
        case "expm1": return Elementary.expMinusOne(x)
        case "tanh": return Elementary.tanh(x)
        default: fatalError("unknown function \(function)")
        }
    }

    @Test func matchesMpmathWithinOneUlp() {
        var worst: [String: Double] = [:]
        #expect(elementaryReferences.count > 1000)
        for r in elementaryReferences {
            let got = Self.evaluate(r.function, r.x)
            let e = ulps(got, r.value)
            worst[r.function] = max(worst[r.function] ?? 0, e)
            let bound: Double = r.function == "tanh" ? 2 : 1
            #expect(e <= bound, "\(r.function)(\(r.x)) = \(got), mpmath \(r.value): \(e) ulps")
            #expect(got.sign == r.value.sign || got == 0 && r.value == 0 && r.function == "exp",
                    "\(r.function)(\(r.x)): sign of \(got) vs \(r.value)")
        }
        print("accuracy: Elementary worst error vs mpmath (ulps): \(worst.sorted { $0.key < $1.key })")
        #expect(worst.count == 5)
    }

    /// glibc is within ~0.52 ulp of the truth, so agreement to 1 ulp on many random inputs
    /// bounds our error by ~1.5 ulp there, far beyond the mpmath literals' count.
    @Test func agreesWithGlibcOnRandomInputs() {
        var worst = (exp: 0.0, log: 0.0, log1p: 0.0, expm1: 0.0, tanh: 0.0)
        forAll(100_000, seed: 1129) { rng in
            let x = rng.uniform(-745.2, 709.8)
            let small = rng.uniform(-30, 30)
            let e1 = ulps(Elementary.exp(x), Double.exp(x))
            let e2 = ulps(Elementary.exp(small), Double.exp(small))
            worst.exp = max(worst.exp, e1, e2)
            // log over random bit patterns of positive doubles (all binades, subnormals too)
            // raw() gives 32 random bits (MT19937): two draws make a 64-bit pattern.
            let bits = (UInt64(rng.raw()) &<< 32 | UInt64(rng.raw())) % 0x7FF0_0000_0000_0000 | 1
            let y = Double(bitPattern: bits)
            worst.log = max(worst.log, ulps(Elementary.log(y), Double.log(y)))
            let z = rng.uniform(0.5, 2)
            worst.log = max(worst.log, ulps(Elementary.log(z), Double.log(z)))
            // log1p where softplus uses it (exp(-|x|) in (0, 1]) and beyond
            let u = rng.uniform(0, 1)
            let v = rng.uniform(-1, 0)
            let w = Double.exp(rng.uniform(-40, 700))
            for t in [u, v, w] {
                worst.log1p = max(worst.log1p, ulps(Elementary.log(onePlus: t), Double.log(onePlus: t)))
            }
            // expm1 and tanh around 0 (their hard region) and over their whole range
            for t in [rng.uniform(-1, 1), rng.uniform(-45, 45), small * 1e-6] {
                worst.expm1 = max(worst.expm1, ulps(Elementary.expMinusOne(t), Double.expMinusOne(t)))
                worst.tanh = max(worst.tanh, ulps(Elementary.tanh(t), Double.tanh(t)))
            }
        }
        print("accuracy: Elementary vs glibc on 10^5 random inputs (ulps): exp \(worst.exp), log \(worst.log), log1p \(worst.log1p), expm1 \(worst.expm1), tanh \(worst.tanh)")
        #expect(worst.exp <= 1)
        #expect(worst.log <= 1)
        #expect(worst.log1p <= 1)
        #expect(worst.expm1 <= 1)
        // glibc's tanh is itself allowed 2 ulps (its libm-test-ulps for x86_64).
        #expect(worst.tanh <= 3)
    }

    @Test func specialValues() {
        let inf = Double.infinity
        #expect(Elementary.exp(0) == 1 && Elementary.exp(-0.0) == 1)
        #expect(Elementary.exp(inf) == inf && Elementary.exp(-inf) == 0)
        #expect(Elementary.exp(709.79) == inf && Elementary.exp(1e300) == inf)
        #expect(Elementary.exp(-746) == 0 && Elementary.exp(-1e300) == 0)
        #expect(Elementary.exp(-745.1) == Double.leastNonzeroMagnitude)
        #expect(Elementary.exp(.nan).isNaN)
        #expect(Elementary.exp(709.782712893384) == Double.exp(709.782712893384))

        #expect(Elementary.log(1) == 0)
        #expect(Elementary.log(0) == -inf && Elementary.log(-0.0) == -inf)
        #expect(Elementary.log(-1).isNaN && Elementary.log(-inf).isNaN && Elementary.log(.nan).isNaN)
        #expect(Elementary.log(inf) == inf)
        #expect(Elementary.log(Double.leastNonzeroMagnitude) == Double.log(Double.leastNonzeroMagnitude))
        #expect(Elementary.log(Double.greatestFiniteMagnitude) == Double.log(Double.greatestFiniteMagnitude))

        #expect(Elementary.expMinusOne(0) == 0 && Elementary.expMinusOne(-0.0).sign == .minus)
        #expect(Elementary.expMinusOne(-inf) == -1 && Elementary.expMinusOne(inf) == inf)
        #expect(Elementary.expMinusOne(710) == inf && Elementary.expMinusOne(-50) == -1)
        #expect(Elementary.expMinusOne(.nan).isNaN)
        #expect(Elementary.expMinusOne(Double.leastNonzeroMagnitude) == Double.leastNonzeroMagnitude)
        #expect(Elementary.tanh(0) == 0 && Elementary.tanh(-0.0).sign == .minus)
        #expect(Elementary.tanh(inf) == 1 && Elementary.tanh(-inf) == -1 && Elementary.tanh(.nan).isNaN)
        #expect(Elementary.tanh(1e-300) == 1e-300 && Elementary.tanh(-30) == -1)
        #expect(Elementary.log(onePlus: 0) == 0 && Elementary.log(onePlus: -0.0).sign == .minus)
        #expect(Elementary.log(onePlus: -1) == -inf)
        #expect(Elementary.log(onePlus: -1.5).isNaN && Elementary.log(onePlus: .nan).isNaN)
        #expect(Elementary.log(onePlus: -inf).isNaN)
        #expect(Elementary.log(onePlus: inf) == inf)
        #expect(Elementary.log(onePlus: Double.leastNonzeroMagnitude) == Double.leastNonzeroMagnitude)
        #expect(Elementary.log(onePlus: 1e-300) == 1e-300)
        #expect(Elementary.log(onePlus: Double.greatestFiniteMagnitude) == Double.log(Double.greatestFiniteMagnitude))
    }

    /// No silent underflow: exp is nonzero wherever e^x is at least half the smallest
    /// subnormal, and monotone across the subnormal range and the overflow threshold.
    @Test func monotoneAcrossThresholds() {
        var previous = 0.0
        var x = -746.0
        while x < -700 {
            let y = Elementary.exp(x)
            #expect(y >= previous, "exp not monotone at \(x)")
            previous = y
            x += 1.0 / 64
        }
        #expect(Elementary.exp(-745.0) > 0)
        previous = 0
        x = 709.0
        while x < 710 {
            let y = Elementary.exp(x)
            #expect(y >= previous)
            previous = y
            x += 1.0 / 1024
        }
    }

    @Test func identitiesOnRandomInputs() {
        forAll(20_000, seed: 2911) { rng in
            // exp(a + b) = exp(a) exp(b) to within the rounding of three 1-ulp results.
            let a = rng.uniform(-300, 300), b = rng.uniform(-300, 300)
            let lhs = Elementary.exp(a + b), rhs = Elementary.exp(a) * Elementary.exp(b)
            // a + b itself rounds (by up to half its ulp, a relative error of that size in
            // the exponential); the rest is three 1-ulp results and one product.
            let tolerance = lhs * (0.5 * (a + b).ulp + 4 * 0x1p-52)
            #expect(Swift.abs(lhs - rhs) <= tolerance, "exp(\(a) + \(b))")
            // log(exp(x)) = x for moderate x, to within the propagated 1-ulp error of exp.
            let x = rng.uniform(-700, 700)
            #expect(Swift.abs(Elementary.log(Elementary.exp(x)) - x) <= 2 * Swift.max(x.magnitude.ulp, 0x1p-52))
            // log1p(u) = log(1 + u) when 1 + u is exact.
            let u = Double(Int(rng.uniform(0, 1000))) / 1024
            #expect(Swift.abs(Elementary.log(onePlus: u) - Elementary.log(1 + u)) <= 2 * Elementary.log(1 + u).ulp)
        }
    }

    /// The batch kernels depend on this: the same function vectorised in a loop and called
    /// once per element give the same bits.
    @Test func vectorisedLoopGivesTheSameBits() {
        let rng = RandomGenerator(seed: 7)
        let xs = (0..<4099).map { _ in rng.uniform(-800, 800) } + [0, -0.0, .infinity, -.infinity, .nan, -1, Double.leastNormalMagnitude / 1024]
        var e = [Double](repeating: 0, count: xs.count)
        var l = e, l1 = e, m = e, t = e
        xs.withUnsafeBufferPointer { x in
            e.withUnsafeMutableBufferPointer { out in for i in 0..<x.count { out[i] = Elementary.exp(x[i]) } }
            l.withUnsafeMutableBufferPointer { out in for i in 0..<x.count { out[i] = Elementary.log(x[i]) } }
            l1.withUnsafeMutableBufferPointer { out in for i in 0..<x.count { out[i] = Elementary.log(onePlus: x[i]) } }
            m.withUnsafeMutableBufferPointer { out in for i in 0..<x.count { out[i] = Elementary.expMinusOne(x[i] / 16) } }
            t.withUnsafeMutableBufferPointer { out in for i in 0..<x.count { out[i] = Elementary.tanh(x[i] / 64) } }
        }
        for i in xs.indices {
            #expect(e[i].bitPattern == Self.one("exp", xs[i]).bitPattern || e[i].isNaN && xs[i].isNaN)
            #expect(l[i].bitPattern == Self.one("log", xs[i]).bitPattern || l[i].isNaN)
            #expect(l1[i].bitPattern == Self.one("log1p", xs[i]).bitPattern || l1[i].isNaN)
            #expect(m[i].bitPattern == Self.one("expm1", xs[i] / 16).bitPattern || m[i].isNaN)
            #expect(t[i].bitPattern == Self.one("tanh", xs[i] / 64).bitPattern || t[i].isNaN)
        }
    }

    @inline(never) static func one(_ f: String, _ x: Double) -> Double { evaluate(f, x) }
}
