import GSLKit
import LossMath
import Testing
@testable import Experiments

/// The fused step's explicit eight-lane loops (the softmax's exponentials, DPO's and spo's
/// derivatives, Adam; each with a scalar tail): the same bits as the generic path, one step
/// at a time or temporally blocked, for every thread count, at row widths K = 8, 11, 16, 21
/// (rows that fill whole vectors, and rows and blocks that leave tails; the other tests use
/// K <= 7) and 13 pairs per prompt.
extension TemporalBlockingTests {
    @Test(arguments: [8, 11, 16, 21])
    func widerRowsGiveTheSameBits(responses K: Int) throws {
        let sim = SimulationConfig(prompts: 3 * (256 / K) + 5, responses: K, pairsPerPrompt: 13, rewardNoise: 0.3, labels: .bt, seed: 29)
        for cfg in [TrainingConfig(loss: .sigmoid, steps: 40, logEvery: 9),
                    TrainingConfig(loss: .spo, steps: 30, logEvery: 7),
                    TrainingConfig(loss: .ipo, steps: 25, logEvery: 25),
                    TrainingConfig(loss: .sigmoid, optimizer: .sgd, learningRate: 0.3, steps: 20, logEvery: 5)] {
            let what = "K \(K) \(cfg.loss.rawValue) \(cfg.optimizer)"
            let blocked = try Self.run(sim, cfg, .blocked)
            Self.expectSame(blocked, try Self.run(sim, cfg, .perStep), what + " vs per step")
            Self.expectSame(blocked, try Self.run(sim, cfg, .generic), what + " vs generic")
            Self.expectSame(blocked, try Self.run(sim, cfg, .blocked, threads: 2, grain: 1), what + " vs 2 threads")
            #expect(blocked.diverged == nil && blocked.steps == cfg.steps)
        }
    }
}

/// Adam's folded update in eight lanes (`adamRowFolded`) against the scalar formula, element
/// by element, bit for bit, over lengths that leave every tail 0-7 and moments and gradients
/// from tiny to large (GSL MT19937, seed 41).
@Suite struct WideAdamTests {
    @Test func eightLaneAdamIsTheScalarFormula() {
        let rng = RandomGenerator(seed: 41)
        for count in [1, 7, 8, 9, 16, 23, 64, 101] {
            let n = count
            var g = [Double](), theta = [Double](), m = [Double](), v = [Double]()
            for i in 0..<n {
                let scale = [1e-12, 1e-3, 1, 1e3][i % 4]
                g.append((rng.uniform() - 0.5) * scale)
                theta.append(rng.uniform() * 4 - 2)
                m.append((rng.uniform() - 0.5) * scale)
                v.append(rng.uniform() * scale * scale)
            }
            let stepSize = 0.05 / 0.271, inverseC2 = 1 / 0.00299
            var t2 = theta, m2 = m, v2 = v
            for y in 0..<n {
                let mv = 0.9 * m2[y] + (1 - 0.9) * g[y]
                let vv = 0.999 * v2[y] + (1 - 0.999) * g[y] * g[y]
                m2[y] = mv
                v2[y] = vv
                t2[y] -= (stepSize * mv) / ((vv * inverseC2).squareRoot() + 1e-8)
            }
            g.withUnsafeMutableBufferPointer { gp in
                theta.withUnsafeMutableBufferPointer { tp in
                    m.withUnsafeMutableBufferPointer { mp in
                        v.withUnsafeMutableBufferPointer { vp in
                            guard let g0 = gp.baseAddress, let t0 = tp.baseAddress, let m0 = mp.baseAddress, let v0 = vp.baseAddress else { return }
                            adamRowFolded(g: g0, theta: t0, m: m0, v: v0, count: n, stepSize: stepSize, inverseC2: inverseC2)
                        }
                    }
                }
            }
            #expect(theta.map(\.bitPattern) == t2.map(\.bitPattern), "count \(count)")
            #expect(m.map(\.bitPattern) == m2.map(\.bitPattern) && v.map(\.bitPattern) == v2.map(\.bitPattern), "count \(count)")
        }
    }
}
