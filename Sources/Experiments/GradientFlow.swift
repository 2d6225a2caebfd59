import GSLKit
import LossMath
import RealModule

/// Continuous-time gradient flow on the smallest problem (T11): one prompt, two responses,
/// tabular logits `theta in R^2`, uniform reference, a single pair with `y_w = 0`, `y_l = 1`.
///
/// With a uniform reference, `h = theta_w - theta_l`, `log pi_w = log sigma(h)`,
/// `log pi_l = log sigma(-h)`, `u_w = log sigma(h) + log 2`, `u_l = log sigma(-h) + log 2`.
/// The flow `dtheta/dt = -grad l` keeps `theta_w + theta_l` fixed and moves `h` by
///
///     h' = -2 (a pi_l - b pi_w),   a = dl/d log pi_w,  b = dl/d log pi_l,
///
/// which for a loss of `h` alone (`b = -a = -l'(h)`) is `h' = -2 l'(h)` since `dh/dtheta = e_w - e_l`
/// has squared norm 2. So:
/// - DPO: `h' = 2 beta sigma(-beta h)`; separating variables,
///   `h + e^{beta h}/beta = 2 beta t + const` (``dpoInvariant(h:beta:)``): `h ~ (1/beta) log(2 beta^2 t)`,
///   growing without end.
/// - spo `(beta h - dr)^2`: `h' = -4 beta (beta h - dr)`, so
///   `h(t) = h* + (h0 - h*) e^{-4 beta^2 t}` (``spoClosedForm(beta:rewardGap:h0:time:)``).
///
/// The ODE is integrated with GSL's implicit BDF stepper (msbdf) (``GSLKit/ODESolver``).
///
/// See also: ``PopulationOptimum``, ``Trainer``.
public enum GradientFlow {

    /// `h(t)` of one loss.
    public struct Curve: Sendable, Hashable {
        public var loss: Loss
        public var beta: Double
        /// The pair's reward gap `dr` (target `h* = dr/beta`).
        public var rewardGap: Double
        public var times: [Double]
        public var h: [Double]
        /// `h* = dr / beta`.
        public var target: Double { rewardGap / beta }
    }

    /// `count >= 2` times from `start > 0` to `end > start`, equally spaced in `log t`.
    /// The first and last are exactly `start` and `end`.
    public static func logSpacedTimes(from start: Double, to end: Double, count: Int) -> [Double] {
        precondition(start > 0 && end > start && count >= 2, "logSpacedTimes needs 0 < start < end and count >= 2")
        let a = Double.log(start), b = Double.log(end)
        var t = (0..<count).map { Double.exp(a + (b - a) * Double($0) / Double(count - 1)) }
        t[0] = start; t[count - 1] = end
        return t
    }

    /// `dh/dt` at `h` for `loss` (see the type's notes). `parameters.rewardGap` is the pair's `dr`.
    public static func velocity(_ loss: Loss, h: Double, parameters: LossParameters) -> Double {
        let ln2 = 0.693_147_180_559_945_3
        let logPW = logSigmoid(h), logPL = logSigmoid(-h)
        let e = loss.evaluate(PairLogProbs(chosen: logPW, rejected: logPL, refChosen: -ln2, refRejected: -ln2), parameters)
        return -2 * (e.dChosen * LossMath.sigmoid(-h) - e.dRejected * LossMath.sigmoid(h))
    }

    /// The velocity handed to the integrator: ``velocity(_:h:parameters:)`` limited to
    /// `|v| <= 1e100`.
    ///
    /// An adaptive Runge–Kutta step evaluates trial stages far from the trajectory. For
    /// spo_asym, `l' ~ |z| e^{|z|}` overflows there; an infinite or NaN stage poisons GSL's
    /// error estimate and the step controller never recovers (the integration hangs). A huge
    /// but finite velocity makes the error estimate huge instead, so the step is rejected and
    /// shrunk. No trajectory started at a moderate `h0` comes near this limit.
    static func integrationVelocity(_ loss: Loss, h: Double, parameters: LossParameters) -> Double {
        let v = velocity(loss, h: h, parameters: parameters)
        if v.isNaN { return h.isNaN ? v : 0 }
        return Swift.min(1e100, Swift.max(-1e100, v))
    }

    /// Integrates `h' = velocity(h)` from `h(0) = h0` and samples it at `times` (increasing, `>= 0`).
    ///
    /// - Parameters:
    ///   - parameters: the loss parameters; `rewardGap` is the pair's `dr` (0 when `nil`).
    ///   - relativeTolerance, absoluteTolerance: per-step error control of both steppers.
    ///   - maxSteps: the step budget of each stepper per output interval (GSL's `nmax`);
    ///     past it the integration stops with ``ExperimentError/gsl(_:)`` (`GSL_EMAXITER`).
    ///     A stiff flow (spo at beta 1e100 has rate 4 beta^2) reaches it instead of running
    ///     for minutes.
    /// - Throws: ``ExperimentError/loss(_:)`` for invalid loss parameters,
    ///   ``ExperimentError/gsl(_:)`` when the integrator fails (e.g. a step-size underflow at a
    ///   kink such as hinge's).
    public static func solve(_ loss: Loss, parameters: LossParameters, h0: Double = 0, times: [Double],
                             relativeTolerance: Double = 1e-11, absoluteTolerance: Double = 1e-12,
                             maxSteps: Int = 10_000_000) throws(ExperimentError) -> Curve {
        var p = parameters
        if loss.needsRewardGap && p.rewardGap == nil { p.rewardGap = 0 }
        do { try loss.validate(p) } catch { throw .loss(error) }
        try require(zip(times, times.dropFirst()).allSatisfy { $0 < $1 } && (times.first ?? 0) >= 0,
                    "times", "\(times.prefix(3))...", "increasing times >= 0")
        let frozen = p
        // Explicit rk8pd is accurate from the start; but near an attracting target the flow
        // is stiff (rate 4 beta^2 for spo) and an explicit stepper's step stays ~1/rate, so
        // t = 1e8 would cost ~1e8 steps. So: rk8pd up to t = switchTime, then GSL's implicit
        // BDF stepper, whose steps grow with t, from the state reached there.
        let switchTime = 1e3
        let early = times.filter { $0 <= switchTime }
        let late = times.filter { $0 > switchTime }
        var states: [[Double]] = []
        let f: (Double, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void = { _, y, dydt in
            dydt[0] = integrationVelocity(loss, h: y[0], parameters: frozen)
        }
        do {
            let firstLeg = try ODESolver.integrate(y0: [h0], t0: 0, times: late.isEmpty ? early : early + [switchTime],
                                                   absoluteTolerance: absoluteTolerance, relativeTolerance: relativeTolerance,
                                                   initialStep: 1e-6, maxSteps: maxSteps, derivative: f)
            states = Array(firstLeg.prefix(early.count))
            if !late.isEmpty {
                let start = firstLeg.last!
                states += try ODESolver.integrate(y0: start, t0: switchTime, times: late,
                                                  absoluteTolerance: absoluteTolerance, relativeTolerance: relativeTolerance,
                                                  initialStep: 1e-3, method: .backwardDifferentiation,
                                                  maxSteps: maxSteps, derivative: f)
            }
        } catch { throw .gsl(error) }
        return Curve(loss: loss, beta: p.beta, rewardGap: p.rewardGap ?? 0, times: times, h: states.map { $0[0] })
    }

    /// DPO's first integral `G(h) = h + e^{beta h} / beta`: along the flow `G(h(t)) = G(h0) + 2 beta t`.
    public static func dpoInvariant(h: Double, beta: Double) -> Double { h + Double.exp(beta * h) / beta }

    /// DPO's exact `h(t)` from `h(0) = h0`: the root of `G(h) = G(h0) + 2 beta t` (``dpoInvariant(h:beta:)``),
    /// found with GSL's Brent solver. `G` is increasing, so the root is unique and `>= h0`.
    public static func dpoClosedForm(beta: Double, h0: Double, time t: Double) throws(ExperimentError) -> Double {
        precondition(beta > 0 && t >= 0)
        let target = dpoInvariant(h: h0, beta: beta) + 2 * beta * t
        if t == 0 { return h0 }
        // Bracket [h0, hi] with G(hi) >= target, doubling the width; G grows like e^{beta h},
        // so this takes O(log) doublings.
        var width = 1 / beta
        while dpoInvariant(h: h0 + width, beta: beta) < target { width *= 2 }
        do {
            return try RootFinder.brent({ dpoInvariant(h: $0, beta: beta) - target }, lower: h0, upper: h0 + width,
                                        absoluteTolerance: 0, relativeTolerance: 1e-15)
        } catch { throw .gsl(error) }
    }

    /// spo's exact `h(t) = h* + (h0 - h*) e^{-4 beta^2 t}`, `h* = dr/beta`.
    public static func spoClosedForm(beta: Double, rewardGap dr: Double, h0: Double, time t: Double) -> Double {
        let hStar = dr / beta
        return hStar + (h0 - hStar) * Double.exp(-4 * beta * beta * t)
    }
}
