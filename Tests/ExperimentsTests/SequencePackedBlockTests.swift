import Testing
import GSLKit
import LossMath
@testable import Experiments

/// The packed blocked markov step (eight rows per vector): its lane functions give the
/// scalar functions' bits on every lane, and the blocked run on a problem with several
/// groups of eight rows per prompt (and a partial last group) gives the step path's bits.
/// (SequenceBlockingTests compares the two paths on the small problem, divergence included.)
@Suite struct SequencePackedBlockTests {
    /// Arguments spread over the whole domain: random values over many binades, both signs,
    /// and the special and boundary values.
    static func arguments(count: Int, seed: UInt64, range: ClosedRange<Double>) -> [Double] {
        let rng = RandomGenerator(seed: seed)
        var xs: [Double] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, 0x1p-1074, 0x1p-1022, -0x1p-1074,
                            .greatestFiniteMagnitude, 709.78, 709.79, -745.13, -745.14, -746, 710, 1e-300, 2.5e-320]
        for _ in 0..<count {
            let u = rng.uniform()
            xs.append(range.lowerBound + u * (range.upperBound - range.lowerBound))
            xs.append(Double(sign: rng.uniform() < 0.5 ? .minus : .plus, exponent: Int(rng.uniform() * 2000) - 1000,
                             significand: 1 + rng.uniform()))
        }
        while xs.count % 8 != 0 { xs.append(0.5) }
        return xs
    }

    func laneBits(_ xs: [Double], _ f: (SIMD8<Double>) -> SIMD8<Double>) -> [UInt64] {
        var out: [UInt64] = []
        for i in stride(from: 0, to: xs.count, by: 8) {
            let y = f(SIMD8<Double>(xs[i ..< i + 8]))
            for k in 0..<8 { out.append(y[k].bitPattern) }
        }
        return out
    }

    @Test func laneExpIsTheScalarExpBitForBit() {
        let xs = Self.arguments(count: 4000, seed: 3, range: -760 ... 720)
        let scalar = xs.map { Elementary.exp($0).bitPattern }
        #expect(laneBits(xs, { Elementary.exp($0) }) == scalar)
    }

    @Test func laneLogIsTheScalarLogBitForBit() {
        let xs = Self.arguments(count: 4000, seed: 4, range: 0 ... 40)
        let scalar = xs.map { Elementary.log($0).bitPattern }
        #expect(laneBits(xs, { Elementary.log($0) }) == scalar)
    }

    /// V = 9, T = 4: up to 1 + 3 * 9 = 28 active rows per prompt (several full groups and a
    /// partial one); Adam and SGD, logged every step and every few, one and two threads.
    @Test(arguments: [1, 2])
    func severalGroupsPerPromptMatchTheStepPath(threads: Int) throws {
        let env = try SequenceEnvironment(SequenceConfig(prompts: 3, vocabulary: 9, length: 4, pairsPerPrompt: 20,
                                                         rewardSpread: 0.8, target: .trueReward, beta: 0.5, seed: 5))
        for config in [TrainingConfig(loss: .sigmoid, learningRate: 0.3, steps: 20, logEvery: 7),
                       TrainingConfig(loss: .spo, optimizer: .sgd, learningRate: 2, steps: 20, logEvery: 20)] {
            let plain = try SequenceTrainer(environment: env, config: config)
            plain.allowsBlocking = false
            let blocked = try SequenceTrainer(environment: env, config: config)
            let a = plain.run(), b = blocked.run(threads: threads)
            #expect(!blocked.blockSnapshot.isEmpty, "the blocked path ran")
            #expect(blocked.largestPrompt.rows > 16, "more than two groups of eight rows in some prompt")
            #expect(a.metrics.map { $0.metricValues.map(\.bitPattern) } == b.metrics.map { $0.metricValues.map(\.bitPattern) })
            #expect(plain.parameters.map(\.bitPattern) == blocked.parameters.map(\.bitPattern))
            #expect(plain.logPolicy.map(\.bitPattern) == blocked.logPolicy.map(\.bitPattern))
            #expect(plain.maxGradientNorm.bitPattern == blocked.maxGradientNorm.bitPattern)
            #expect(plain.lastStepLoss.bitPattern == blocked.lastStepLoss.bitPattern)
        }
    }
}
