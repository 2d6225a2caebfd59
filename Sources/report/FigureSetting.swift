import Experiments
import Foundation

/// The configuration a figure's title names, so that two figures of different settings never
/// share a title (issue 14): the policy family and its size, beta, the reward-model noise,
/// the labels and the seed, and the optimiser with its learning rate and steps.
///
/// `tabular P=8 K=6 beta=0.5 noise=0 bt seed=1 adam lr=0.05 steps=2000`
///
/// See also: ``GradientFigure/setting(_:)``, ``SweepFigures``.
enum FigureSetting {
    static func g4(_ x: Double) -> String { String(format: "%.4g", x) }

    static func describe(_ sim: SimulationConfig, _ training: TrainingConfig?) -> String {
        var s = "\(sim.policy.rawValue) P=\(sim.prompts) K=\(sim.responses) beta=\(g4(sim.beta)) noise=\(g4(sim.rewardNoise)) \(sim.labels.rawValue) seed=\(sim.seed)"
        if let t = training { s += " \(t.optimizer.rawValue) lr=\(g4(t.learningRate)) steps=\(t.steps)" }
        return s
    }
}
