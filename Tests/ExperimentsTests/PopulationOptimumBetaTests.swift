import Testing
import LossMath
import Experiments

/// Issue 13: `report optimum --beta 1e300` labelled every loss "diverging", including ones
/// that converged, because the divergence thresholds scale as 1/beta and fell below the
/// resolution of h; at small beta BFGS's absolute tolerances were met at the start, so a
/// divergent loss was reported as a minimum. The solver now works in x = beta theta and
/// reports `unresolved` where h cannot be resolved (beta R > 1e-6).
@Suite struct PopulationOptimumBetaTests {
    static let betas: [Double] = [1e-300, 1e-150, 1e-50, 1e-3, 0.5, 2, 1e4, 1e8, 1e10, 1e100, 1e200, 1e300]

    /// beta R for the environment of `sim` (R = 4 eps max(1, |theta_ref|)), the solver's rule.
    func resolvable(_ sim: SimulationConfig) throws -> Bool {
        let env = try Environment(sim)
        let r = 4 * Double.ulpOfOne * env.referenceParameters.reduce(1) { max($0, abs($1)) }
        return sim.beta * r <= PopulationOptimum.resolutionLimit
    }

    /// A loss with a finite minimiser (spo reaches pi* under either label model; DPO under
    /// Bradley-Terry labels) is never called diverging, at any beta; where h is resolved it
    /// is a minimum, and elsewhere `unresolved` with the rule in its reason.
    @Test(arguments: betas)
    func aConvergingLossIsNeverDiverging(beta: Double) throws {
        for (loss, labels) in [(Loss.spo, SimulationConfig.Labels.hard), (.spo, .bt), (.sigmoid, .bt)] {
            let sim = SimulationConfig(prompts: 2, responses: 3, pairsPerPrompt: 1, labels: labels, beta: beta, seed: 3)
            let r = try PopulationOptimum.solve(sim, training: TrainingConfig(loss: loss))
            #expect(r.status != .diverging, "\(loss) \(labels) beta \(beta): \(r.reason)")
            if try resolvable(sim) {
                #expect(r.status == .minimum, "\(loss) \(labels) beta \(beta): \(r.status) \(r.reason)")
                #expect(r.regret.isFinite && abs(r.regret) < 1e-6, "\(loss) \(labels) beta \(beta): regret \(r.regret)")
                // h within a millionth of its scale 1/beta of the target.
                #expect(beta * r.maxAbsHMinusTarget < 1e-3, "\(loss) \(labels) beta \(beta): \(r.maxAbsHMinusTarget)")
            } else {
                #expect(r.status == .unresolved, "\(loss) \(labels) beta \(beta): \(r.status)")
                #expect(r.reason.contains("beta R ="), "\(r.reason)")
            }
        }
    }

    /// DPO on hard labels has no finite minimiser (T5): diverging wherever h is resolved.
    @Test(arguments: betas)
    func dpoOnHardLabelsIsDivergingWhereResolved(beta: Double) throws {
        let sim = SimulationConfig(prompts: 2, responses: 3, pairsPerPrompt: 1, labels: .hard, beta: beta, seed: 3)
        let r = try PopulationOptimum.solve(sim, training: TrainingConfig(loss: .sigmoid))
        #expect(r.status == (try resolvable(sim) ? .diverging : .unresolved), "beta \(beta): \(r.status) \(r.reason)")
        #expect(!r.reason.isEmpty)
    }

    /// The resolution rule's boundary sits where the doc says: beta about 1e9 for logits of
    /// order 1 (here |theta_ref| <= a few).
    @Test func theBoundaryIsNearOneBillion() throws {
        let at = { (beta: Double) in try self.resolvable(SimulationConfig(prompts: 2, responses: 3, pairsPerPrompt: 1, labels: .bt, beta: beta, seed: 3)) }
        #expect(try at(1e7))
        #expect(try !at(1e11))
    }
}
