import Testing
import GSLKit
import LossMath
import Experiments

/// The trainer's exact gradient against GSL's numerical derivative of the mean loss, one
/// parameter at a time, and a trainer step against that gradient.
@Suite struct GradientTests {

    static let cases: [(SimulationConfig.Policy, Loss)] = [
        (.tabular, .sigmoid), (.tabular, .spo), (.tabular, .ncaPair), (.tabular, .bdpo), (.tabular, .apoDown), (.tabular, .ipo),
        (.loglinear, .sigmoid), (.loglinear, .spo), (.loglinear, .ncaPair), (.loglinear, .sppoHard), (.loglinear, .spoBT),
    ]

    /// A point away from the reference (so h != 0 and pi != pi_ref), with BT labels and
    /// reward-model noise so targets have both signs.
    func setup(_ policy: SimulationConfig.Policy, _ loss: Loss) throws -> (Trainer, [Double]) {
        let sim = SimulationConfig(policy: policy, prompts: 3, responses: 5, pairsPerPrompt: 4, features: 3,
                                   rewardNoise: 0.3, labels: .bt, beta: 0.7, seed: 17)
        let env = try Environment(sim)
        let trainer = try Trainer(environment: env, config: TrainingConfig(loss: loss, optimizer: .sgd, learningRate: 0.1))
        let g = RandomGenerator(seed: 1234)
        let theta = env.referenceParameters.map { $0 + g.gaussian(sigma: 0.8) }
        return (trainer, theta)
    }

    @Test(arguments: cases)
    func gradientMatchesNumericalDerivative(policy: SimulationConfig.Policy, loss: Loss) throws {
        let (trainer, theta) = try setup(policy, loss)
        let analytic = trainer.meanLossAndGradient(at: theta)
        #expect(trainer.parameters == trainer.environment.referenceParameters, "evaluation must not move the state")
        for j in theta.indices {
            let numeric = try NumericalDerivative.central({ t in
                var p = theta
                p[j] = t
                return trainer.meanLossAndGradient(at: p).value
            }, at: theta[j], step: 1e-3)
            #expect(close(analytic.gradient[j], numeric.value, abs: 1e-8 + 10 * numeric.absoluteError, rel: 1e-6),
                    "d/dtheta[\(j)]: analytic \(analytic.gradient[j]), numeric \(numeric.value) ± \(numeric.absoluteError)")
        }
    }

    /// One full-batch SGD step moves theta by exactly -lr * gradient.
    @Test(arguments: cases)
    func sgdStepDescendsTheGradient(policy: SimulationConfig.Policy, loss: Loss) throws {
        let (trainer, theta) = try setup(policy, loss)
        trainer.setParameters(theta)
        let g = trainer.meanLossAndGradient().gradient
        trainer.step()
        let after = trainer.parameters
        for j in theta.indices {
            #expect(close((theta[j] - after[j]) / 0.1, g[j], abs: 1e-12, rel: 1e-9))
        }
        #expect(trainer.stepCount == 1)
    }

    /// Adam's first step with bias correction: m_hat = g, v_hat = g^2, so each coordinate
    /// moves by lr * g / (|g| + 1e-8).
    @Test func adamFirstStepIsBiasCorrected() throws {
        let env = try Environment(SimulationConfig(prompts: 2, responses: 4, pairsPerPrompt: 3, seed: 3))
        let trainer = try Trainer(environment: env, config: TrainingConfig(loss: .spo, optimizer: .adam, learningRate: 0.01))
        let theta = trainer.parameters
        let g = trainer.meanLossAndGradient().gradient
        trainer.step()
        for (j, p) in trainer.parameters.enumerated() {
            #expect(close(theta[j] - p, 0.01 * g[j] / (Swift.abs(g[j]) + 1e-8), abs: 1e-15, rel: 1e-9))
        }
    }

    /// Clipping rescales a long gradient to the clip norm.
    @Test func clippingBoundsTheStep() throws {
        let env = try Environment(SimulationConfig(prompts: 2, responses: 4, pairsPerPrompt: 3, seed: 3))
        let trainer = try Trainer(environment: env, config: TrainingConfig(loss: .spo, optimizer: .sgd, learningRate: 1, clipNorm: 1e-3))
        let g = trainer.meanLossAndGradient().gradient
        let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(norm > 1e-3)
        let theta = trainer.parameters
        trainer.step()
        let moved = zip(theta, trainer.parameters).map { ($0 - $1) }
        #expect(close(moved.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-3, rel: 1e-12))
        for j in g.indices { #expect(close(moved[j], g[j] * 1e-3 / norm, abs: 1e-18, rel: 1e-9)) }
    }

    /// T9: for a loss of h alone, dl/dtheta = l'(h)(e_w - e_l): unseen responses get no
    /// gradient and each prompt's gradient sums to 0.
    @Test func hOnlyLossesLeaveUnseenLogitsAlone() throws {
        let env = try Environment(SimulationConfig(prompts: 4, responses: 8, pairsPerPrompt: 3, seed: 12))
        let trainer = try Trainer(environment: env, config: TrainingConfig(loss: .sigmoid))
        let g = trainer.meanLossAndGradient().gradient
        for x in 0..<4 {
            var sum = 0.0
            for y in 0..<8 {
                sum += g[x * 8 + y]
                if !env.seen[x * 8 + y] { #expect(g[x * 8 + y] == 0) }
            }
            #expect(Swift.abs(sum) < 1e-15)
        }
        // DPO's parameter-space gradient is bounded (T9: |l'| <= beta), per pair |dl/dtheta| <= beta sqrt(2).
        #expect(trainer.metrics().gradientNorm <= env.config.beta * 2.0.squareRoot())
    }
}
