import Foundation
import GSLKit
import LossMath
import Testing
@testable import Experiments

/// Issue 12's arithmetic of the tabular trainer: Adam with its constants folded
/// (`adamRowFolded`) and the softmax probabilities formed from the log-softmax's own
/// exponentials (`softmaxProbabilities`), against values derived independently.
@Suite struct FoldedAdamTests {
    /// Adam's first step moves each parameter by `lr g/(|g| + eps)` (the corrected moments
    /// are `g` and `g^2`), folded or not.
    @Test func foldedFirstStepIsSignDescent() {
        let state = OptimizerState(.adam, learningRate: 0.1, parameterCount: 3, foldsAdamConstants: true)
        let theta = UnsafeMutableBufferPointer<Double>.allocate(capacity: 3)
        let g = UnsafeMutableBufferPointer<Double>.allocate(capacity: 3)
        defer { theta.deallocate(); g.deallocate() }
        _ = theta.initialize(from: [1, 2, 3])
        _ = g.initialize(from: [0.5, -2, 1e-3])
        state.step(parameters: theta, gradient: g, clipNorm: nil)
        let expected = [1 - 0.1 * 0.5 / (0.5 + 1e-8), 2 + 0.1 * 2 / (2 + 1e-8), 3 - 0.1 * 1e-3 / (1e-3 + 1e-8)]
        for j in 0..<3 { #expect(close(theta[j], expected[j], rel: 1e-14)) }
    }

    /// Over 200 steps of varying gradients the folded and the unfolded update are the same
    /// map up to rounding: the parameters agree to 1e-12 relative (a wrong constant, such as
    /// `c2` instead of `1/c2`, moves them by far more).
    @Test func foldedMatchesTheTextbookUpdate() {
        let n = 16
        let plain = OptimizerState(.adam, learningRate: 0.05, parameterCount: n)
        let folded = OptimizerState(.adam, learningRate: 0.05, parameterCount: n, foldsAdamConstants: true)
        let a = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        let g = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        defer { a.deallocate(); b.deallocate(); g.deallocate() }
        a.initialize(repeating: 1); b.initialize(repeating: 1)
        for t in 0..<200 {
            for j in 0..<n { g[j] = Foundation.sin(Double(3 * t + 7 * j)) * Foundation.pow(10, Double(j % 5) - 3) }
            plain.step(parameters: a, gradient: g, clipNorm: nil)
            for j in 0..<n { g[j] = Foundation.sin(Double(3 * t + 7 * j)) * Foundation.pow(10, Double(j % 5) - 3) }
            folded.step(parameters: b, gradient: g, clipNorm: nil)
        }
        for j in 0..<n { #expect(close(a[j], b[j], rel: 1e-12), "parameter \(j): \(a[j]) vs \(b[j])") }
    }

    /// `softmaxProbabilities` against the softmax in 80-bit extended precision (glibc's `expl`
    /// and `logl`, rounded to double at the end): within `8 + |z_y - max z|` ulps per entry
    /// (forming `z_y - max z` in double rounds by up to `|z_y - max z| / 2` ulps of the result,
    /// which no double softmax avoids), and the probabilities sum to 1 within 1e-15 K.
    /// Logits spread over +-40, K from 1 to 70 (rows longer than the 8-lane reductions, ties).
    @Test func softmaxProbabilitiesAgreeWithAnExtendedPrecisionSoftmax() throws {
        #if arch(x86_64)
        let rng = RandomGenerator(seed: 20261130)
        for K in [1, 2, 6, 8, 9, 16, 17, 64, 70] {
            for _ in 0..<20 {
                var z = (0..<K).map { _ in 80 * rng.uniform() - 40 }
                if K > 2 { z[1] = z[0] }
                var pi = [Double](repeating: .nan, count: K)
                try z.withUnsafeBufferPointer { zp in
                    try pi.withUnsafeMutableBufferPointer { p in
                        softmaxProbabilities(try #require(zp.baseAddress), K, into: try #require(p.baseAddress))
                    }
                }
                let m = z.max() ?? 0
                let sum = z.reduce(Float80(0)) { $0 + Foundation.exp(Float80($1) - Float80(m)) }
                var total = 0.0
                for y in 0..<K {
                    let ref = Double(Foundation.exp(Float80(z[y]) - Float80(m)) / sum)
                    total += pi[y]
                    let tolerance = (8 + Swift.abs(z[y] - m)) * ref.ulp
                    #expect(Swift.abs(pi[y] - ref) <= tolerance, "K = \(K), y = \(y): \(pi[y]) vs \(ref)")
                }
                #expect(Swift.abs(total - 1) <= 1e-15 * Double(K))
            }
        }
        #endif
    }
}
