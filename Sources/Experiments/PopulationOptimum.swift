import GSLKit
import LossMath
import RealModule

/// Minimises a loss's full EXPECTED objective (infinite data) and reports where the
/// minimiser sits relative to `pi*` (T5, T10).
///
/// The population objective of prompt `x` is the expected loss of one pair drawn as in the
/// simulation: two distinct responses `(y, y')` from `pi_ref`, labelled by the TRUE reward,
///
///     L_x(theta) = sum over ordered pairs y != y' of  w(y, y') l(h_{y y'}; dr = r(y) - r(y')),
///     w(y, y') = pi_ref(y) pi_ref(y') q(y, y') / sum_{a != b} pi_ref(a) pi_ref(b),
///
/// with `q = sigma(r(y) - r(y'))` for `.bt` labels and `q = [r(y) > r(y')]` (1/2 on a tie) for
/// `.hard` labels; the objective is the mean of `L_x` over prompts. Reward-model noise and the
/// number of pairs of the configuration are not used (there is no finite sample).
///
/// It is minimised with GSL's BFGS (`vector_bfgs2`) and the exact gradient of the trainer's
/// engine, in two stages (gradient tolerance `1e-5`, then `1e-8` from there). For beta
/// outside `[1e-2, 1e2]` it works in the scaled coordinates `x = beta theta` with the
/// objective divided by its scale at `pi_ref` (the larger of `|f|` and the gradient norm in
/// `x`): for a
/// loss of `beta h` alone the problem in `x` is the same at every beta, so the tolerances
/// and the probes below mean the same at `beta = 1e-300` as at `0.5`. A loss without a
/// finite minimiser (DPO on hard labels, T5) still "converges" numerically once its
/// gradient falls below the tolerance, so a fake optimum is possible. The solver therefore
/// probes the objective beyond the last iterate, along the stage-1 -> stage-2 move and along
/// `-grad f`, at distances `1/beta, 4/beta, 16/beta, 64/beta`. If it keeps falling at every
/// probe along either ray, or if tightening the tolerance moved some `h` by more than `2/beta`
/// (or by more than `0.5/beta` with the objective still falling one probe further along that
/// move), or if some `|h|` exceeds `10 max|h*| + 100/beta` (where every loss term is flat in
/// double precision), the status is
/// ``Status/diverging`` and the reported point is just where BFGS stopped, not a minimiser.
/// (A heuristic, not a proof.) When BFGS stalls
/// without meeting its tolerance and no divergence is seen (hinge's kinks), GSL's
/// Nelder–Mead simplex is tried from the last point. ``Result/reason`` states the rule that
/// gave the status, with its numbers.
///
/// These thresholds scale as `1/beta`; they mean something only while `h` is resolved to a
/// small fraction of `1/beta`. Near `pi_ref` a log-probability of size `|theta|` is known to
/// `R = 4 eps max(1, |theta|)`; when `beta R > 1e-6` (`beta` above about `1e9` for logits
/// of order 1) no minimiser is looked for and the status is ``Status/unresolved``, never
/// ``Status/diverging``.
///
/// See also: ``Theory/bradleyTerryPopulationLoss(_:h:rewardGap:parameters:)``, ``GradientFlow``.
public enum PopulationOptimum {

    /// Where the minimisation ended.
    public enum Status: String, Sendable, Hashable, Codable {
        /// BFGS met the gradient tolerance and tightening it barely moved `h`.
        case minimum
        /// The objective keeps decreasing towards infinite `h`: no finite minimiser.
        case diverging
        /// BFGS stopped (line search could make no progress, or iteration limit) without
        /// meeting the gradient tolerance, and no divergence was detected.
        case notConverged = "not_converged"
        /// h's scale `1/beta` is below the resolution of `h` in double precision near
        /// `pi_ref` (`beta R > 1e-6`, see ``resolutionLimit``): no minimiser is looked for,
        /// and the reported point is `pi_ref`.
        case unresolved
    }

    /// The largest `beta R` (beta times the resolution `R = 4 eps max(1, |theta_ref|)` of
    /// `h` near the reference) at which the minimiser is looked for: `1e-6`, so that `h` is
    /// known to a millionth of its scale `1/beta`. Past it the status is
    /// ``Status/unresolved``.
    public static let resolutionLimit = 1e-6

    /// The betas at which the solver works in `x = beta theta` with a normalised objective:
    /// outside `[1e-2, 1e2]`. Inside, it works in `theta` (its tolerances were tuned there,
    /// and the statuses stay those of earlier versions).
    public static func isRescaled(beta: Double) -> Bool { !(beta >= 1e-2 && beta <= 1e2) }

    /// The outcome for one loss.
    public struct Result: Sendable, Hashable {
        public var loss: Loss
        public var status: Status
        /// The rule that gave ``status``, with its numbers, in words.
        public var reason: String
        /// `beta KL(pi || pi*)` at the final point, mean over prompts (T2).
        public var regret: Double
        /// Max over ordered pairs with positive weight of `|h - h*|`, `h* = dr/beta`.
        public var maxAbsHMinusTarget: Double
        /// Max over those pairs of `|h|`.
        public var maxAbsH: Double
        /// The population objective at the final point.
        public var objective: Double
        /// Its gradient norm there.
        public var gradientNorm: Double
        /// BFGS iterations over both stages.
        public var iterations: Int
        /// Max over pairs of the change in `h` between the two BFGS stages.
        public var drift: Double
        /// True when BFGS stalled (a kink, as hinge's) and GSL's Nelder–Mead simplex found the
        /// reported minimum.
        public var usedNelderMead: Bool
        /// The final parameters (tabular logits `P*K`, or `theta` in `R^d`).
        public var parameters: [Double]
        /// `h` of every weighted ordered pair at the final point.
        public var pairs: [Pair]
    }

    /// One ordered pair of the population objective at the final point.
    public struct Pair: Sendable, Hashable {
        public var prompt: Int
        public var chosen: Int
        public var rejected: Int
        /// The pair's weight in the objective (sums to 1 over all pairs).
        public var weight: Double
        /// `h = u_w - u_l` at the final point.
        public var h: Double
        /// `h* = (r(chosen) - r(rejected)) / beta`.
        public var target: Double
    }

    /// Minimises the population objective of `training.loss` on the environment of
    /// `simulation` (its reference, true rewards, features, labels and beta).
    ///
    /// Reward-aware losses use the true gap `r(y) - r(y')`, or `training.target`'s constant.
    /// Optimiser fields of `training` (lr, steps, ...) are not used.
    ///
    /// - Throws: ``ExperimentError`` for invalid configurations, ``ExperimentError/gsl(_:)``
    ///   when GSL fails.
    public static func solve(_ simulation: SimulationConfig, training: TrainingConfig) throws(ExperimentError) -> Result {
        let env = try Environment(simulation)
        try training.validate(for: simulation)
        let P = simulation.prompts, K = simulation.responses, beta = simulation.beta
        var specs: [PolicyEngine.PairSpec] = []
        var targets: [Double] = []
        for x in 0..<P {
            let row = x * K
            var norm = 0.0
            for a in 0..<K { for b in 0..<K where a != b { norm += Double.exp(env.logReference[row + a] + env.logReference[row + b]) } }
            for a in 0..<K {
                for b in 0..<K where a != b {
                    let dr = env.rewards[row + a] - env.rewards[row + b]
                    let q: Double
                    switch simulation.labels {
                    case .bt: q = LossMath.sigmoid(dr)
                    case .hard: q = dr > 0 ? 1 : (dr == 0 ? 0.5 : 0)
                    }
                    if q == 0 { continue }
                    let w = Double.exp(env.logReference[row + a] + env.logReference[row + b]) / norm * q / Double(P)
                    var gap = dr
                    if case .constant(let c) = training.target { gap = c }
                    if training.loss == .spoAsym && gap == 0 {
                        throw ExperimentError.invalidParameter(name: "reward gap for spo_asym", value: "0",
                                                               requirement: "distinct rewards: spo_asym divides by dr")
                    }
                    specs.append(.init(prompt: x, chosen: a, rejected: b, gap: gap, weight: w))
                    targets.append(dr / beta)
                }
            }
        }
        let engine = PolicyEngine(environment: env, pairs: specs,
                                  loss: training.loss, parameters: training.lossParameters(beta: beta))
        func objective(_ x: [Double], _ g: inout [Double]) -> Double {
            engine.setParameters(x)
            let v = engine.fullLossAndGradient(scale: 1)
            for j in 0..<engine.parameterCount { g[j] = engine.paramGrad[j] }
            return v
        }
        func pairH(_ x: [Double]) -> [Double] {
            var g = [Double](repeating: 0, count: x.count)
            _ = objective(x, &g)
            return (0..<engine.pairCount).map { i in
                let row = engine.pairPrompt[i] * K, w = row + engine.pairChosen[i], l = row + engine.pairRejected[i]
                return (engine.logPi[w] - engine.logRef[w]) - (engine.logPi[l] - engine.logRef[l])
            }
        }
        // Scaled coordinates x = beta * theta and a normalised objective f(x / beta) / f0, so
        // that BFGS's step, its gradient tolerances and the probes below do not depend on
        // beta: for a loss of beta*h alone the problem in x is the same at every beta.
        let thetaRef = env.referenceParameters
        var scratch = [Double](repeating: 0, count: engine.parameterCount)
        // The objective's scale at pi_ref: the larger of |f| and the gradient norm in x there
        // (ipo's are both ~1/beta^2; spo_asym's f can be near 0 while its slope is of order 1).
        let f0 = objective(thetaRef, &scratch)
        let g0 = (scratch.reduce(0) { $0 + $1 * $1 }).squareRoot() / beta
        let scale0 = Swift.max(Swift.abs(f0), g0)
        // Within [1e-2, 1e2] (where its tolerances were tuned) the solver works in theta
        // itself (c = 1, no normalisation): the same iterates and statuses as before the
        // rescaling. Outside, in x = c theta with c = beta.
        let c = Self.isRescaled(beta: beta) ? beta : 1
        let fScale = c == 1 ? 1 : (scale0.isFinite && scale0 >= Double.leastNormalMagnitude ? scale0 : 1)
        func scaled(_ x: [Double], _ g: inout [Double]) -> Double {
            let v = objective(x.map { $0 / c }, &g)
            for j in g.indices { g[j] = g[j] / fScale / c }
            return v / fScale
        }
        func scaledGradientNorm() -> Double { engine.gradientNorm() / fScale / c }
        func resultAtReference(_ status: Status, reason: String) -> Result {
            let h = pairH(thetaRef)
            var regret = 0.0, maxDev = 0.0, maxAbsH = 0.0
            for x in 0..<P {
                let logPi = (0..<K).map { engine.logPi[x * K + $0] }
                regret += beta * Theory.klDivergence(logP: logPi, logQ: env.logOptimal(prompt: x))
            }
            var pairs: [Pair] = []
            for i in h.indices {
                maxDev = Swift.max(maxDev, Swift.abs(h[i] - targets[i]))
                maxAbsH = Swift.max(maxAbsH, Swift.abs(h[i]))
                pairs.append(Pair(prompt: specs[i].prompt, chosen: specs[i].chosen, rejected: specs[i].rejected,
                                  weight: specs[i].weight, h: h[i], target: targets[i]))
            }
            let value = objective(thetaRef, &scratch)
            return Result(loss: training.loss, status: status, reason: reason, regret: regret / Double(P), maxAbsHMinusTarget: maxDev,
                          maxAbsH: maxAbsH, objective: value, gradientNorm: engine.gradientNorm(), iterations: 0, drift: 0,
                          usedNelderMead: false, parameters: thetaRef, pairs: pairs)
        }

        // The resolution of h near the reference: a log-probability of size |theta| is
        // known to a few ulps, R = 4 eps max(1, |theta|). h's scale is 1/beta; where it is
        // less than a million times R (beta R > 1e-6) the minimiser cannot be located, nor
        // its divergence told, in double precision (at beta 1e100 h* ~ 1e-100, R ~ 1e-15).
        let resolution = 4 * Double.ulpOfOne * thetaRef.reduce(1) { Swift.max($0, Swift.abs($1)) }
        if !(beta * resolution <= Self.resolutionLimit) {
            return resultAtReference(.unresolved, reason: "beta R = \(formatShort(beta * resolution)) > \(formatShort(Self.resolutionLimit)): "
                                     + "h's scale 1/beta is below what double precision resolves near pi_ref (R = \(formatShort(resolution)))")
        }

        let stage1: Minimizer.Result, stage2: Minimizer.Result
        let start = thetaRef.map { $0 * c }
        do {
            stage1 = try Minimizer.bfgs(start: start, initialStep: 0.1, lineTolerance: 0.1,
                                        gradientTolerance: 1e-5, maxIterations: 5_000, valueAndGradient: scaled)
            stage2 = try Minimizer.bfgs(start: stage1.x, initialStep: 0.1, lineTolerance: 0.1,
                                        gradientTolerance: 1e-8, maxIterations: 5_000, valueAndGradient: scaled)
        } catch { throw .gsl(error) }

        let h1 = pairH(stage1.x.map { $0 / c }), h2 = pairH(stage2.x.map { $0 / c })
        var drift = 0.0
        for i in h1.indices { drift = Swift.max(drift, Swift.abs(h2[i] - h1[i])) }

        // Divergence probes, in x = c theta. Along the stage-1 -> stage-2 move and along
        // the final descent direction -grad f, step out 1, 4, 16, 64 (in the norm of x, so
        // 1/beta ... 64/beta in theta) from the final point. At a finite minimiser the first
        // probe already rises (or, on a flat region, stays level). A loss whose infimum is
        // only approached at infinity either keeps falling at every probe, or (when only
        // some coordinates escape, and the far probes are spoiled by the others' finite
        // optimum) the tighter tolerance moved some h by more than 2/beta, or by more than
        // 0.5/beta with the objective still falling a step further along that move. All are
        // reported as diverging. Over the whole catalogue (both label models, both
        // policies) genuine minima moved h by < 0.01/beta between the stages and divergent
        // losses by > 4/beta.
        let f2 = scaled(stage2.x, &scratch)
        let descent = scratch.map { -$0 }
        let move = (0..<stage2.x.count).map { stage2.x[$0] - stage1.x[$0] }
        func probes(along d: [Double]) -> [Double]? {
            let norm = d.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0, norm.isFinite else { return nil }
            return [1.0, 4, 16, 64].map { s in
                scaled((0..<d.count).map { stage2.x[$0] + s * c / beta * d[$0] / norm }, &scratch)
            }
        }
        func strictlyFalling(_ fs: [Double]?) -> Bool {
            guard let fs else { return false }
            return zip([f2] + fs, fs).allSatisfy { $1 < $0 }
        }
        let moveProbes = probes(along: move)
        let firstProbeFalls = moveProbes.map { $0[0] <= f2 } ?? false
        // An iterate far beyond every target (|h| > 10 max|h*| + 100/beta, where sigma(-beta h)
        // < e^-100 and the objective is flat in double precision) is not a credible finite
        // minimiser either: BFGS ran out there and stopped.
        let maxTarget = targets.reduce(0) { Swift.max($0, Swift.abs($1)) }
        let maxH2 = h2.reduce(0) { Swift.max($0, Swift.abs($1)) }
        var reasons: [String] = []
        if strictlyFalling(moveProbes) { reasons.append("the objective falls at every probe along the stage-1 -> stage-2 move") }
        if strictlyFalling(probes(along: descent)) { reasons.append("the objective falls at every probe along -grad f") }
        if beta * drift > 2 { reasons.append("tightening the tolerance moved h by \(formatShort(beta * drift))/beta > 2/beta") }
        else if beta * drift > 0.5 && firstProbeFalls {
            reasons.append("tightening the tolerance moved h by \(formatShort(beta * drift))/beta > 0.5/beta and the objective still falls")
        }
        if !(maxH2 <= 10 * maxTarget + 100 / beta) { reasons.append("max |h| = \(formatShort(beta * maxH2))/beta > 10 max|h*| + 100/beta") }
        let diverging = !reasons.isEmpty

        var finalX = stage2.x
        var iterations = stage1.iterations + stage2.iterations
        var usedNelderMead = false
        var value = objective(finalX.map { $0 / c }, &scratch)
        var gradNorm = engine.gradientNorm()
        let status: Status
        let reason: String
        if diverging {
            status = .diverging
            reason = reasons.joined(separator: "; ")
        } else if stage2.converged || scaledGradientNorm() <= 1e-7 {
            // BFGS's line search may stop a little above the 1e-8 tolerance (no further
            // progress in double precision); 1e-7 still pins h to ~1e-7 / curvature.
            status = .minimum
            reason = (c == 1 ? "gradient norm \(formatShort(scaledGradientNorm()))" : "gradient norm in beta theta, relative to the objective's scale at pi_ref, \(formatShort(scaledGradientNorm()))")
                + " <= 1e-7; no divergence probe fell"
        } else {
            // A kink (hinge) defeats BFGS's line search: retry without derivatives.
            let nm: Minimizer.Result
            do {
                nm = try Minimizer.nelderMead(start: stage2.x, stepSize: 0.5 * c / beta, sizeTolerance: 1e-9,
                                              maxIterations: c == 1 ? 200_000 : 20_000) { x in scaled(x, &scratch) }
            } catch { throw .gsl(error) }
            iterations += nm.iterations
            if nm.converged && nm.value * fScale <= value {
                usedNelderMead = true
                finalX = nm.x
                value = objective(finalX.map { $0 / c }, &scratch)
                gradNorm = engine.gradientNorm()
                status = .minimum
                reason = "BFGS stalled at a kink; Nelder-Mead's simplex converged (size 1e-9); no divergence probe fell"
            } else {
                status = .notConverged
                reason = "neither BFGS nor Nelder-Mead met its tolerance, and no divergence probe fell"
            }
        }
        finalX = finalX.map { $0 / c }
        let hFinal = pairH(finalX)
        _ = objective(finalX, &scratch)   // leave log pi at the final point for the metrics below

        var regret = 0.0
        for x in 0..<P {
            let row = x * K
            let logPi = (0..<K).map { engine.logPi[row + $0] }
            regret += beta * Theory.klDivergence(logP: logPi, logQ: env.logOptimal(prompt: x))
        }
        var maxDev = 0.0, maxAbsH = 0.0
        var pairs: [Pair] = []
        for i in hFinal.indices {
            maxDev = Swift.max(maxDev, Swift.abs(hFinal[i] - targets[i]))
            maxAbsH = Swift.max(maxAbsH, Swift.abs(hFinal[i]))
            pairs.append(Pair(prompt: specs[i].prompt, chosen: specs[i].chosen, rejected: specs[i].rejected,
                              weight: specs[i].weight, h: hFinal[i], target: targets[i]))
        }
        return Result(loss: training.loss, status: status, reason: reason, regret: regret / Double(P), maxAbsHMinusTarget: maxDev,
                      maxAbsH: maxAbsH, objective: value, gradientNorm: gradNorm,
                      iterations: iterations, drift: drift, usedNelderMead: usedNelderMead,
                      parameters: finalX, pairs: pairs)
    }
}

/// `x` to 3 significant digits for the status reasons (`2.22e-16`, `0.5`, `3`); outside
/// `[1e-300, 1e300]` and for non-finite values, Swift's shortest round-trip text.
func formatShort(_ x: Double) -> String {
    let a = Swift.abs(x)
    if x == 0 { return "0" }
    guard x.isFinite, a >= 1e-300, a <= 1e300 else { return "\(x)" }
    let e = Int(Double.log10(a).rounded(.down))
    let m = ((x / Double.pow(10, Double(e))) * 100).rounded() / 100
    if e >= -3 && e <= 5 {
        let v = (m * Double.pow(10, Double(e)) * 1e6).rounded() / 1e6
        return v == v.rounded() && Swift.abs(v) < 1e15 ? "\(Int(v))" : "\(v)"
    }
    return (m == m.rounded() ? "\(Int(m))" : "\(m)") + "e\(e)"
}
