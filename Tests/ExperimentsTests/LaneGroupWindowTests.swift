import LossMath
import Testing
@testable import Experiments

/// The lane-group window (LaneGroupWindow.swift: rows shorter than a vector, eight prompts in
/// the eight lanes) against the per-step fused path, bit for bit, on engines whose prompts
/// have different numbers of pairs (none, one, ..., all): lanes without a t-th pair, cells no
/// pair touches and prompts whose pairs' sum is 0 all occur. TemporalBlockingTests covers the
/// whole trainer on environments (every prompt with the same number of pairs).
@Suite struct LaneGroupWindowTests {
    /// The environment's pairs with some dropped: prompt x keeps `x % (n + 1)` of its n pairs,
    /// and a few pairs get other weights.
    static func unevenPairs(_ env: Environment) -> [PolicyEngine.PairSpec] {
        var specs: [PolicyEngine.PairSpec] = []
        var kept = [Int](repeating: 0, count: env.config.prompts)
        let n = env.config.pairsPerPrompt
        for (i, p) in env.pairs.enumerated() where kept[p.prompt] < p.prompt % (n + 1) {
            kept[p.prompt] += 1
            specs.append(.init(prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, gap: p.modelRewardGap,
                               weight: i % 5 == 0 ? 0.5 : 1))
        }
        return specs
    }

    /// theta, log pi and Adam's moments as bits, one after the other.
    static func state(_ e: PolicyEngine, _ o: OptimizerState) -> [UInt64] {
        (Array(e.theta) + Array(e.logPi) + Array(o.m) + Array(o.v)).map(\.bitPattern)
    }

    /// How many of the values differ (a short message rather than two long arrays).
    static func differing(_ a: [UInt64], _ b: [UInt64]) -> Int {
        a.count == b.count ? zip(a, b).filter { $0 != $1 }.count : Swift.max(a.count, b.count)
    }

    @Test(arguments: [(Loss.sigmoid, Optimizer.adam), (.spo, .adam), (.ipo, .adam), (.sigmoid, .sgd), (.bdpo, .sgd)])
    func windowEqualsPerStepWithUnevenPairs(loss: Loss, optimizer: Optimizer) throws {
        for (prompts, responses) in [(8, 6), (29, 7), (19, 4)] {
            let sim = SimulationConfig(prompts: prompts, responses: responses, pairsPerPrompt: 5, seed: 23)
            let env = try Environment(sim)
            let specs = Self.unevenPairs(env)
            let parameters = TrainingConfig(loss: loss).lossParameters(beta: sim.beta)
            let lr = optimizer == .adam ? 0.05 : 0.4
            func make() -> (PolicyEngine, OptimizerState) {
                let e = PolicyEngine(environment: env, pairs: specs, loss: loss, parameters: parameters)
                return (e, OptimizerState(optimizer, learningRate: lr, parameterCount: e.parameterCount, foldsAdamConstants: true))
            }
            let (blocked, blockedOpt) = make(), (stepped, steppedOpt) = make()
            #expect(blocked.canFuse && blocked.K < 8)
            let scale = 1 / Double(blocked.pairCount)
            for window in [1, 7, 20] {
                var updates: [RowUpdate] = []
                for _ in 0..<window { updates.append(blockedOpt.nextUpdate()); blockedOpt.advance() }
                let checkpoint = WindowCheckpoint(count: blocked.P * blocked.K)
                #expect(updates.withUnsafeBufferPointer { blocked.fusedSteps(scale: scale, updates: $0, checkpoint: checkpoint) } == nil)
                for _ in 0..<window {
                    #expect(stepped.fusedStep(scale: scale, update: steppedOpt.nextUpdate()))
                    steppedOpt.advance()
                }
                let n = Self.differing(Self.state(blocked, blockedOpt), Self.state(stepped, steppedOpt))
                #expect(n == 0, "\(loss.rawValue) \(optimizer) P=\(prompts) K=\(responses) window \(window): \(n) values differ")
            }
            // The run moved: the comparison is not of two untouched states.
            #expect(blocked.theta.map(\.bitPattern) != env.referenceParameters.map(\.bitPattern))
        }
    }

    /// A non-finite parameter in one lane is reported at the step it first shows, as the per-
    /// step path reports it.
    @Test func aNonFiniteLaneIsReported() throws {
        let env = try Environment(SimulationConfig(prompts: 16, responses: 6, pairsPerPrompt: 4, seed: 2))
        let specs = Self.unevenPairs(env)
        let e = PolicyEngine(environment: env, pairs: specs, loss: .sigmoid, parameters: TrainingConfig(loss: .sigmoid).lossParameters(beta: 0.1))
        let o = OptimizerState(.sgd, learningRate: 0.1, parameterCount: e.parameterCount, foldsAdamConstants: true)
        e.theta[11 * 6 + 2] = .nan
        let updates = (0..<5).map { _ in o.nextUpdate() }
        let bad = updates.withUnsafeBufferPointer {
            e.fusedSteps(scale: 1 / Double(e.pairCount), updates: $0, checkpoint: WindowCheckpoint(count: 96))
        }
        #expect(bad == 0)
    }
}
