import GSLKit
import LossMath

/// Labelled preference pairs of responses: pair `i` compares `chosen.response(i)` with
/// `rejected.response(i)` for the prompt `chosen.prompts[i]`, and `preference[i]` is the
/// probability (label) that the chosen one is preferred: `1` for a hard label, `sigma(dr)`
/// for a Bradley–Terry soft label.
///
/// See also: ``AdditiveRewardModel``, ``ResponseBatch``.
public struct LabelledPairs: Sendable, Hashable {
    public let chosen: ResponseBatch
    public let rejected: ResponseBatch
    public let preference: [Double]

    /// Pairs from two batches of the same prompts; `preference` defaults to hard labels (all 1).
    public init(chosen: ResponseBatch, rejected: ResponseBatch, preference: [Double]? = nil) {
        precondition(chosen.prompts == rejected.prompts && chosen.length == rejected.length, "pairs share prompts")
        let q = preference ?? [Double](repeating: 1, count: chosen.count)
        precondition(q.count == chosen.count && q.allSatisfy { $0 >= 0 && $0 <= 1 }, "one label in [0, 1] per pair")
        self.chosen = chosen
        self.rejected = rejected
        self.preference = q
    }

    /// The number of pairs.
    public var count: Int { chosen.count }
}

/// A Bradley–Terry reward model in the additive family, fitted by maximum likelihood
/// (`docs/theory.md §5.2`; why a fitted model: `docs/theory.md §6`).
///
/// **Feature map.** `r_hat(x, y) = sum_t theta . phi(s_t, y_t) = sum_t (A[r_t, y_t] + B[x, y_t])`,
/// with `phi` the one-hot of (previous token, token) plus the one-hot of (prompt, token);
/// `r_t` is `y_{t-1}`, or the start row `V` at `t = 0`. `theta = [A | B]` is flat:
/// `A[r, a]` at `r V + a` (`(V + 1) V` entries), `B[x, a]` at `(V + 1) V + x V + a`.
///
/// **Fit.** `theta` minimises the mean negative log-likelihood plus an L2 penalty,
/// `L(theta) = (1/n) sum_i [-q_i log sigma(d_i) - (1 - q_i) log sigma(-d_i)] + (lambda/2) |theta|^2`,
/// `d_i = r_hat(y_w,i) - r_hat(y_l,i)`, by GSL's BFGS from `theta = 0` (restarted from its
/// last point when the line search stalls, up to ``maxRestarts`` times). `L` is convex, and
/// strictly so for `lambda > 0`. BT identifies `r` only up to a constant per prompt (and
/// this family has further flat directions); `lambda` picks the smallest-norm solution.
///
/// See also: ``LabelledPairs``, ``Minimizer/bfgs(start:initialStep:lineTolerance:gradientTolerance:maxIterations:valueAndGradient:)``.
public struct AdditiveRewardModel: Sendable, Hashable {
    /// The state space.
    public let space: SequenceSpace
    /// The fitted `theta = [A | B]`.
    public let parameters: [Double]
    /// The per-transition reward table `rho_hat(s, a) = A[r(s), a] + B[x, a]` (layout of
    /// ``SequenceSpace``), so `r_hat(x, y) = pathSum(rho_hat, x, y)`.
    public let reward: [Double]
    /// Whether BFGS met its gradient tolerance, and its iterations.
    public let converged: Bool
    public let iterations: Int

    /// How many times the fit restarts BFGS from its last point before giving up.
    public static let maxRestarts = 20

    /// `(V + 1 + P) V`, the number of parameters of `space`.
    public static func parameterCount(_ space: SequenceSpace) -> Int {
        (space.vocabulary + 1 + space.prompts) * space.vocabulary
    }

    /// Fits the model to `pairs` with L2 strength `l2 >= 0`.
    ///
    /// `gradientTolerance` bounds the norm of `dL/dtheta` at the solution. Below about
    /// `1e-8` a step can no longer lower `L` by more than its rounding error, so GSL's line
    /// search stalls there: `1e-7` is about the smallest reliable value.
    ///
    /// - Throws: ``ExperimentError`` for no pairs, pairs outside `space`, a negative or
    ///   non-finite `l2`, or a GSL failure.
    public init(space: SequenceSpace, pairs: LabelledPairs, l2: Double,
                gradientTolerance: Double = 1e-7, maxIterations: Int = 10_000) throws(ExperimentError) {
        try require(pairs.count >= 1, "reward-model pairs", "\(pairs.count)", "at least 1")
        try require(pairs.chosen.isValid(in: space) && pairs.rejected.isValid(in: space), "reward-model pairs",
                    "\(pairs.count)", "prompts and tokens inside the space")
        try require(l2 >= 0 && l2.isFinite, "rm-l2", "\(l2)", "a finite number >= 0")
        // GSL's line search may stop making progress (GSL_ENOPROG) above the gradient
        // tolerance; restarting from the last point resets BFGS's curvature estimate.
        var theta = [Double](repeating: 0, count: Self.parameterCount(space))
        var converged = false
        var iterations = 0
        var restarts = 0
        while !converged && iterations < maxIterations && restarts < Self.maxRestarts {
            let result: Minimizer.Result
            do {
                result = try Minimizer.bfgs(start: theta, gradientTolerance: gradientTolerance,
                                            maxIterations: maxIterations - iterations) { x, g in
                    Self.objective(x, space: space, pairs: pairs, l2: l2, gradient: &g)
                }
            } catch {
                throw ExperimentError.gsl(error)
            }
            theta = result.x
            converged = result.converged
            iterations += result.iterations
            restarts += 1
        }
        self.init(space: space, parameters: theta, converged: converged, iterations: iterations)
    }

    /// A model with given parameters (`(V + 1 + P) V` of them).
    public init(space: SequenceSpace, parameters: [Double], converged: Bool = true, iterations: Int = 0) {
        precondition(parameters.count == Self.parameterCount(space), "theta needs (V + 1 + P) V entries")
        let v = space.vocabulary
        var table = [Double](repeating: 0, count: space.tableCount)
        for s in 0..<space.stateCount {
            let (x, _, previous) = space.components(ofState: s)
            let a = (previous == SequenceSpace.noPrevious ? v : previous) * v
            let b = (v + 1) * v + x * v
            for k in 0..<v { table[s * v + k] = parameters[a + k] + parameters[b + k] }
        }
        self.space = space
        self.parameters = parameters
        self.reward = table
        self.converged = converged
        self.iterations = iterations
    }

    /// `L(theta)` (see the type's documentation); writes `dL/dtheta` into `gradient`.
    ///
    /// `dL/dtheta = (1/n) sum_i (sigma(d_i) - q_i) (Phi(y_w,i) - Phi(y_l,i)) + lambda theta`,
    /// with `Phi(y) = sum_t phi(s_t, y_t)` the feature counts.
    public static func objective(_ theta: [Double], space: SequenceSpace, pairs: LabelledPairs, l2: Double,
                                 gradient: inout [Double]) -> Double {
        precondition(theta.count == parameterCount(space) && pairs.chosen.isValid(in: space)
                     && pairs.rejected.isValid(in: space), "theta and pairs must fit the space")
        let v = space.vocabulary
        let length = space.length
        let offsetB = (v + 1) * v
        let n = Double(pairs.count)
        gradient = theta.map { l2 * $0 }
        var loss = 0.0
        // Feature indices of response i's transition t: (A index, B index).
        func features(_ batch: ResponseBatch, _ i: Int, _ t: Int) -> (Int, Int) {
            let a = batch.tokens[i * length + t]
            let row = t == 0 ? v : batch.tokens[i * length + t - 1]
            return (row * v + a, offsetB + batch.prompts[i] * v + a)
        }
        func score(_ batch: ResponseBatch, _ i: Int) -> Double {
            var r = 0.0
            for t in 0..<length {
                let (ia, ib) = features(batch, i, t)
                r += theta[ia] + theta[ib]
            }
            return r
        }
        for i in 0..<pairs.count {
            let d = score(pairs.chosen, i) - score(pairs.rejected, i)
            let q = pairs.preference[i]
            loss -= q * logSigmoid(d) + (1 - q) * logSigmoid(-d)
            let w = (sigmoid(d) - q) / n
            for t in 0..<length {
                let (wa, wb) = features(pairs.chosen, i, t)
                let (la, lb) = features(pairs.rejected, i, t)
                gradient[wa] += w
                gradient[wb] += w
                gradient[la] -= w
                gradient[lb] -= w
            }
        }
        return loss / n + 0.5 * l2 * theta.reduce(0) { $0 + $1 * $1 }
    }

    /// `r_hat(x, y)`.
    public func score<C: RandomAccessCollection>(prompt x: Int, tokens y: C) -> Double
    where C.Element == Int, C.Index == Int {
        space.pathSum(reward, prompt: x, tokens: y)
    }

    /// The pairwise accuracy on `pairs`: the mean over pairs of `q_i [d_i > 0] +
    /// (1 - q_i) [d_i < 0] + [d_i = 0] / 2`, `d_i` the model's score difference. For hard
    /// labels, the fraction of pairs it orders as the labels do (ties count 1/2). In [0, 1].
    public func pairwiseAccuracy(_ pairs: LabelledPairs) -> Double {
        precondition(pairs.count >= 1, "no pairs")
        var total = 0.0
        for i in 0..<pairs.count {
            let d = score(prompt: pairs.chosen.prompts[i], tokens: pairs.chosen.response(i))
                - score(prompt: pairs.rejected.prompts[i], tokens: pairs.rejected.response(i))
            let q = pairs.preference[i]
            total += d > 0 ? q : (d < 0 ? 1 - q : 0.5)
        }
        return total / Double(pairs.count)
    }

    /// The Pearson correlation of `r_hat` with the true additive reward `rho` over
    /// `responses`, after centring both within each prompt (BT fixes `r_hat` only up to a
    /// constant per prompt, so a between-prompt offset is not an error of the model).
    /// In [-1, 1]; 0 when either centred score has no spread.
    public func correlation(withReward rho: [Double], over responses: ResponseBatch) -> Double {
        let truth = space.pathSums(rho, of: responses)
        let fitted = space.pathSums(reward, of: responses)
        var sums = [Double](repeating: 0, count: 2 * space.prompts)
        var counts = [Double](repeating: 0, count: space.prompts)
        for (i, x) in responses.prompts.enumerated() {
            sums[2 * x] += truth[i]
            sums[2 * x + 1] += fitted[i]
            counts[x] += 1
        }
        var (sxy, sxx, syy) = (0.0, 0.0, 0.0)
        for (i, x) in responses.prompts.enumerated() {
            let a = truth[i] - sums[2 * x] / counts[x]
            let b = fitted[i] - sums[2 * x + 1] / counts[x]
            sxy += a * b
            sxx += a * a
            syy += b * b
        }
        let denominator = (sxx * syy).squareRoot()
        return denominator > 0 ? Swift.min(1, Swift.max(-1, sxy / denominator)) : 0
    }
}
