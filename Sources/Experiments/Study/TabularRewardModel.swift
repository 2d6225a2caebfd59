import GSLKit
import LossMath

/// A Bradley–Terry reward model fitted to the labels of a tabular or log-linear
/// ``Environment`` (`docs/theory.md §6.1`): the study's fair-information rule for those
/// cells, the counterpart of ``AdditiveRewardModel`` for sequences. spo, spo_bt and
/// cdpo_matched are told its gaps, fitted to exactly the labels DPO sees.
///
/// **Families.** Linear in fixed features, `r_hat(x, y) = Phi(x, y) . theta`:
/// - tabular: `Phi(x, y)` the one-hot of the cell `(x, y)`, so `theta` is a free reward per
///   (prompt, response), `P K` parameters. BT fixes it only up to a constant per prompt
///   (a gap does not see it) and leaves responses in no pair free: the L2 penalty sets
///   those to 0 and picks the smallest-norm solution.
/// - log-linear: `Phi(x, y) = phi(x, y)`, the policy's own `d` features, so `theta` is in
///   `R^d`. The true reward `r = phi . w*` lies in this family (``LogLinearPolicy``).
///
/// **Fit.** `theta` minimises, over the training pairs `i` with labelled order
/// `(y_w, y_l)` and `d_i = r_hat(y_w) - r_hat(y_l)`,
/// `L(theta) = (1/n) sum_i softplus(-d_i) + (lambda/2) |theta|^2`, whose gradient is
/// `dL/dtheta = (1/n) sum_i (sigma(d_i) - 1) (Phi(y_w) - Phi(y_l)) + lambda theta`,
/// by GSL's BFGS from `theta = 0` (restarted from its last point when the line search
/// stalls, up to ``AdditiveRewardModel/maxRestarts`` times). `L` is convex, strictly so for
/// `lambda > 0`, so the minimiser is unique; with `lambda = 0` and separable labels it is
/// at infinity (use `lambda > 0`).
///
/// See also: ``AdditiveRewardModel``, ``TabularStudyRunner``, ``Minimizer``.
public struct TabularRewardModel: Sendable, Hashable {
    /// The fitted `theta` (`P K` tabular, `d` log-linear).
    public let parameters: [Double]
    /// `r_hat(x, y)` for every cell, `P K`, at `x K + y`.
    public let scores: [Double]
    /// Whether BFGS met its gradient tolerance, and its iterations.
    public let converged: Bool
    public let iterations: Int

    /// The number of parameters for `environment`'s family.
    public static func parameterCount(_ environment: Environment) -> Int {
        switch environment.config.policy {
        case .tabular: return environment.prompts * environment.responses
        case .loglinear: return environment.config.features
        }
    }

    /// Fits the model to `environment`'s labelled pairs with L2 strength `l2 >= 0`.
    ///
    /// - Throws: ``ExperimentError`` for a negative or non-finite `l2`, or a GSL failure.
    public init(environment: Environment, l2: Double, gradientTolerance: Double = 1e-7,
                maxIterations: Int = 10_000) throws(ExperimentError) {
        try require(l2 >= 0 && l2.isFinite, "rm-l2", "\(l2)", "a finite number >= 0")
        var theta = [Double](repeating: 0, count: Self.parameterCount(environment))
        var converged = false
        var iterations = 0
        var restarts = 0
        while !converged && iterations < maxIterations && restarts < AdditiveRewardModel.maxRestarts {
            let result: Minimizer.Result
            do {
                result = try Minimizer.bfgs(start: theta, gradientTolerance: gradientTolerance,
                                            maxIterations: maxIterations - iterations) { x, g in
                    Self.objective(x, environment: environment, l2: l2, gradient: &g)
                }
            } catch {
                throw ExperimentError.gsl(error)
            }
            theta = result.x
            converged = result.converged
            iterations += result.iterations
            restarts += 1
        }
        parameters = theta
        scores = Self.scores(theta, environment: environment)
        self.converged = converged
        self.iterations = iterations
    }

    /// `r_hat` of every cell at `theta`, `P K`.
    public static func scores(_ theta: [Double], environment: Environment) -> [Double] {
        let cells = environment.prompts * environment.responses
        guard environment.config.policy == .loglinear, let f = environment.family as? LogLinearPolicy else {
            return Array(theta.prefix(cells))
        }
        let d = f.featureCount
        return (0..<cells).map { c in
            var z = 0.0
            for j in 0..<d { z += f.features[c * d + j] * theta[j] }
            return z
        }
    }

    /// `L(theta)` (see the type's documentation); writes `dL/dtheta` into `gradient`.
    public static func objective(_ theta: [Double], environment: Environment, l2: Double,
                                 gradient: inout [Double]) -> Double {
        let K = environment.responses
        let r = scores(theta, environment: environment)
        let linear = environment.config.policy == .loglinear ? environment.family as? LogLinearPolicy : nil
        let n = Double(Swift.max(1, environment.pairs.count))
        gradient = theta.map { l2 * $0 }
        var loss = 0.0
        for p in environment.pairs {
            let w = p.prompt * K + p.chosen, l = p.prompt * K + p.rejected
            let d = r[w] - r[l]
            loss -= logSigmoid(d)
            let c = (sigmoid(d) - 1) / n
            if let f = linear {
                let dim = f.featureCount
                for j in 0..<dim { gradient[j] += c * (f.features[w * dim + j] - f.features[l * dim + j]) }
            } else {
                gradient[w] += c
                gradient[l] -= c
            }
        }
        return loss / n + 0.5 * l2 * theta.reduce(0) { $0 + $1 * $1 }
    }

    /// `dr_hat` of every training pair of `environment`, `r_hat(y_w) - r_hat(y_l)`, in pair order.
    public func gaps(_ environment: Environment) -> [Double] {
        let K = environment.responses
        return environment.pairs.map { scores[$0.prompt * K + $0.chosen] - scores[$0.prompt * K + $0.rejected] }
    }

    /// The share of response pairs that `r_hat` orders as the true reward does, over every
    /// unordered pair of distinct responses of a prompt that both occur in some training
    /// pair (a response in no pair has no fitted score); a tie on either side counts 1/2.
    /// In [0, 1]; NaN when there is no such pair.
    public func orderingAccuracy(_ environment: Environment) -> Double {
        let K = environment.responses
        var total = 0.0, count = 0.0
        for x in 0..<environment.prompts {
            for a in 0..<K where environment.seen[x * K + a] {
                for b in (a + 1)..<K where environment.seen[x * K + b] {
                    let dt = environment.rewards[x * K + a] - environment.rewards[x * K + b]
                    let dh = scores[x * K + a] - scores[x * K + b]
                    total += (dt == 0 || dh == 0) ? 0.5 : ((dt > 0) == (dh > 0) ? 1 : 0)
                    count += 1
                }
            }
        }
        return count > 0 ? total / count : .nan
    }
}
