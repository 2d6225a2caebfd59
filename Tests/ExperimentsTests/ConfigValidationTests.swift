import Testing
import LossMath
import Experiments

/// Bad input gets a clear error naming the parameter, before any work.
@Suite struct ConfigValidationTests {

    @Test(arguments: [
        (SimulationConfig(prompts: 0), "prompts P"),
        (SimulationConfig(responses: 1, pairsPerPrompt: 1), "responses K"),
        (SimulationConfig(responses: 4, pairsPerPrompt: 7), "pairs per prompt n"),
        (SimulationConfig(pairsPerPrompt: 0), "pairs per prompt n"),
        (SimulationConfig(policy: .loglinear, features: 0), "features d"),
        (SimulationConfig(referenceSpread: -1), "reference spread s_ref"),
        (SimulationConfig(rewardSpread: -0.5), "reward spread s_r"),
        (SimulationConfig(rewardNoise: -0.1), "reward noise s_noise"),
        (SimulationConfig(rewardNoise: .nan), "reward noise s_noise"),
        (SimulationConfig(beta: 0), "beta"),
        (SimulationConfig(beta: -1), "beta"),
        (SimulationConfig(beta: .infinity), "beta"),
        (SimulationConfig(prompts: 1 << 30, responses: 1 << 20, pairsPerPrompt: 1), "prompts P x responses K"),
    ])
    func simulationErrorsNameTheParameter(config: SimulationConfig, name: String) {
        let e = experimentError { try config.validate() }
        #expect(e?.parameterName == name, "\(String(describing: e))")
        // Generating the environment fails the same way, before any generation work.
        let e2 = experimentError { _ = try Environment(config) }
        #expect(e2 == e)
    }

    @Test func pairsPerPromptMessageStatesTheLimit() {
        let e = experimentError { try SimulationConfig(responses: 4, pairsPerPrompt: 7).validate() }
        #expect(e?.description == "pairs per prompt n = 7 is invalid: it needs n <= K(K-1)/2 = 6, the number of distinct pairs of K = 4 responses")
    }

    @Test func tabularIgnoresTheFeatureCount() throws {
        try SimulationConfig(policy: .tabular, features: 0).validate()
    }

    @Test func theLargestPairCountIsAccepted() throws {
        try SimulationConfig(responses: 5, pairsPerPrompt: 10).validate()
        let env = try Environment(SimulationConfig(responses: 5, pairsPerPrompt: 10))
        #expect(env.pairs.count == 8 * 10)
    }

    @Test(arguments: [
        (TrainingConfig(loss: .spo, learningRate: 0), "learning rate"),
        (TrainingConfig(loss: .spo, learningRate: .nan), "learning rate"),
        (TrainingConfig(loss: .spo, steps: -1), "steps"),
        (TrainingConfig(loss: .spo, batchSize: 0), "batch size"),
        (TrainingConfig(loss: .spo, batchSize: 8 * 6 + 1), "batch size"),
        (TrainingConfig(loss: .spo, clipNorm: 0), "clip norm"),
        (TrainingConfig(loss: .spo, logEvery: 0), "log every"),
        (TrainingConfig(loss: .spo, relativeTolerance: -1), "tolerance"),
        (TrainingConfig(loss: .spo, target: .constant(.infinity)), "constant reward gap"),
    ])
    func trainingErrorsNameTheParameter(config: TrainingConfig, name: String) throws {
        let sim = SimulationConfig()
        let e = experimentError { try config.validate(for: sim) }
        #expect(e?.parameterName == name, "\(String(describing: e))")
        let env = try Environment(sim)
        #expect(experimentError { _ = try Trainer(environment: env, config: config) } == e)
    }

    @Test func lossParameterErrorsComeFromLossMath() {
        let e = experimentError { try TrainingConfig(loss: .cdpo, labelSmoothing: 0.7).validate(for: SimulationConfig()) }
        guard case .loss(.labelSmoothingOutOfRange(let loss, _, _)) = e else {
            Issue.record("expected a label smoothing error, got \(String(describing: e))"); return
        }
        #expect(loss == .cdpo)
    }

    @Test func exoPairDefaultsToTRLsSmoothing() throws {
        // TRL replaces label_smoothing = 0 by 1e-3 for exo_pair; so does nil here.
        #expect(TrainingConfig(loss: .exoPair).effectiveLabelSmoothing == 1e-3)
        try TrainingConfig(loss: .exoPair).validate(for: SimulationConfig())
        #expect(experimentError { try TrainingConfig(loss: .exoPair, labelSmoothing: 0).validate(for: SimulationConfig()) } != nil)
    }

    @Test func spoAsymRejectsAZeroConstantGap() {
        let e = experimentError { try TrainingConfig(loss: .spoAsym, target: .constant(0)).validate(for: SimulationConfig()) }
        #expect(e == .loss(.rewardGapZero(loss: .spoAsym)))
    }

    @Test func spoAsymNeedsSomeRewardSpread() {
        var sim = SimulationConfig()
        sim.rewardSpread = 0
        let e = experimentError { try TrainingConfig(loss: .spoAsym, target: .trueReward).validate(for: sim) }
        #expect(e?.parameterName == "reward gap for spo_asym")
        // With a constant target it is fine.
        #expect(experimentError { try TrainingConfig(loss: .spoAsym, target: .constant(1)).validate(for: sim) } == nil)
    }
}
