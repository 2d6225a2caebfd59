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
/// The ODE is integrated in `s = beta h` and `tau = c t`, `c` the flow's rate at `h0` (so spo's
/// rate is 1 at every beta), with GSL's rk8pd and then its implicit BDF stepper (msbdf) in
/// `log tau` (``GSLKit/ODESolver``).
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
    /// The first and last are exactly `start` and `end`. (``LogSpacedTimes`` as an array.)
    public static func logSpacedTimes(from start: Double, to end: Double, count: Int) -> [Double] {
        Array(LogSpacedTimes(from: start, to: end, count: count))
    }

    /// `dh/dt` at `h` for `loss` (see the type's notes). `parameters.rewardGap` is the pair's `dr`.
    ///
    /// For a loss of `h` alone this is `-2 l'(h)`, evaluated at `u_w = h, u_l = 0` so that `h`
    /// is exact (through `log sigma(+-h)` it would be known only to ~1e-16, which at beta
    /// 1e100 is far coarser than `h* = dr/beta`).
    public static func velocity(_ loss: Loss, h: Double, parameters: LossParameters) -> Double {
        if loss.dependsOnLogitsDifferenceOnly {
            return -2 * loss.evaluate(PairLogProbs(chosen: h, rejected: 0, refChosen: 0, refRejected: 0), parameters).dChosen
        }
        let ln2 = 0.693_147_180_559_945_3
        let logPW = logSigmoid(h), logPL = logSigmoid(-h)
        let e = loss.evaluate(PairLogProbs(chosen: logPW, rejected: logPL, refChosen: -ln2, refRejected: -ln2), parameters)
        return -2 * (e.dChosen * LossMath.sigmoid(-h) - e.dRejected * LossMath.sigmoid(h))
    }

    /// The velocity handed to the integrator, in `s = beta h` and `tau = c t` (`c` the flow's
    /// rate at `h0`): `ds/dtau = velocity(s/beta) beta / c`, limited to `|ds/dtau| <= 1e100`.
    ///
    /// An adaptive Runge–Kutta step evaluates trial stages far from the trajectory. For
    /// spo_asym, `l' ~ |z| e^{|z|}` overflows there; an infinite or NaN stage poisons GSL's
    /// error estimate and the step controller never recovers (the integration hangs). A huge
    /// but finite velocity makes the error estimate huge instead, so the step is rejected and
    /// shrunk. No trajectory started at a moderate `h0` comes near this limit.
    static func integrationVelocity(_ loss: Loss, s: Double, parameters: LossParameters, timeScale c: Double) -> Double {
        let h = s / parameters.beta
        let v = velocity(loss, h: h, parameters: parameters) * (parameters.beta / c)
        if v.isNaN { return s.isNaN ? v : 0 }
        return Swift.min(1e100, Swift.max(-1e100, v))
    }

    /// Integrates `h' = velocity(h)` from `h(0) = h0` and samples it at `times` (increasing, `>= 0`).
    ///
    /// The curve held whole: ``solve(_:parameters:h0:times:relativeTolerance:absoluteTolerance:maxSteps:onPoint:)``
    /// with every point kept (same points, bit for bit).
    ///
    /// - Throws: ``ExperimentError`` as the streaming form.
    public static func solve(_ loss: Loss, parameters: LossParameters, h0: Double = 0, times: [Double],
                             relativeTolerance: Double = 1e-11, absoluteTolerance: Double = 1e-12,
                             maxSteps: Int = 10_000_000) throws(ExperimentError) -> Curve {
        var h: [Double] = []
        h.reserveCapacity(times.count)
        let p = try solve(loss, parameters: parameters, h0: h0, times: times, relativeTolerance: relativeTolerance,
                          absoluteTolerance: absoluteTolerance, maxSteps: maxSteps) { _, _, hi in h.append(hi); return true }
        return Curve(loss: loss, beta: p.beta, rewardGap: p.rewardGap ?? 0, times: times, h: h)
    }

    /// Integrates `h' = velocity(h)` from `h(0) = h0` and hands `(i, t_i, h(t_i))` to `onPoint`
    /// for each of `times` (increasing, `>= 0`, read in order), as soon as it is computed:
    /// memory does not grow with the number of times. `onPoint` returns `false` to stop
    /// early (no error). Every `h` handed over is finite.
    ///
    /// - Parameters:
    ///   - parameters: the loss parameters; `rewardGap` is the pair's `dr` (0 when `nil`).
    ///   - relativeTolerance, absoluteTolerance: per-step error control of both steppers, on
    ///     `s = beta h` (the flow is integrated in `s` and in `tau = c t`, `c` its rate at `h0`,
    ///     so that it is not stiff at the start whatever beta).
    ///   - maxSteps: the step budget of each stepper per output interval (GSL's `nmax`);
    ///     past it the integration stops with ``ExperimentError/gsl(_:)`` (`GSL_EMAXITER`).
    ///     A flow too stiff for it reaches it instead of running for minutes.
    /// - Returns: the parameters used (`rewardGap` set to 0 where the loss needs one and none was given).
    /// - Throws: ``ExperimentError/loss(_:)`` for invalid loss parameters,
    ///   ``ExperimentError/gsl(_:)`` when the integrator fails (e.g. a step-size underflow at a
    ///   kink such as hinge's), ``ExperimentError/invalidParameter(name:value:expected:)``
    ///   (named `h(t)`) when `h` leaves the double range. The points before the failure have
    ///   been handed over: a caller that must not show a partial curve buffers them, or runs
    ///   the flow once without output first (it is deterministic).
    @discardableResult
    public static func solve<Times: RandomAccessCollection>(
        _ loss: Loss, parameters: LossParameters, h0: Double = 0, times: Times,
        relativeTolerance: Double = 1e-11, absoluteTolerance: Double = 1e-12, maxSteps: Int = 10_000_000,
        onPoint: (_ index: Int, _ t: Double, _ h: Double) -> Bool
    ) throws(ExperimentError) -> LossParameters where Times.Element == Double {
        var p = parameters
        if loss.needsRewardGap && p.rewardGap == nil { p.rewardGap = 0 }
        do { try loss.validate(p) } catch { throw .loss(error) }
        try require(zip(times, times.dropFirst()).allSatisfy { $0 < $1 } && (times.first ?? 0) >= 0,
                    "times", "\(Array(times.prefix(3)))...", "increasing times >= 0")
        let frozen = p, beta = p.beta
        // Integrated in s = beta h and tau = c t, with c the flow's rate |dh'/dh| at h0
        // (beta^2 if that is 0 or not finite): ds/dtau = v(s/beta) beta / c. Then the start
        // is never stiff, whatever beta: in t, spo's rate 4 beta^2 is 4e200 at beta 1e100
        // and an explicit stepper never got past t = 0.01, while ipo's rate is 4 at every beta.
        let s0 = beta * h0
        try require(s0.isFinite, "h0", "\(h0)", "beta h0 finite")
        let delta = 1e-3 / beta
        let rate = Swift.abs(velocity(loss, h: h0 + delta, parameters: p) - velocity(loss, h: h0 - delta, parameters: p)) / (2 * delta)
        let c = rate > 0 && rate.isFinite && rate >= Double.leastNormalMagnitude ? rate : beta * beta
        let taus = times.lazy.map { $0 * c }
        try require(taus.allSatisfy(\.isFinite) && zip(taus, taus.dropFirst()).allSatisfy { $0 < $1 }
                    && taus.allSatisfy { $0 == 0 || $0 >= Double.leastNormalMagnitude },
                    "times", "\(times.first ?? 0) ... \(times.last ?? 0)",
                    "rate x t finite, normal and increasing (the flow runs in tau = \(c) t, the rate at h0 times t)")
        // A loss of u_w and u_l separately sees h through log sigma(+-h), known to about
        // R = 4 eps; h's scale is 1/beta. As in PopulationOptimum, beta R must stay <= 1e-6.
        try require(loss.dependsOnLogitsDifferenceOnly || beta * 4 * Double.ulpOfOne <= PopulationOptimum.resolutionLimit,
                    "beta", "\(beta)", "beta x 4 eps <= 1e-6 for \(loss.rawValue), a loss of u_w and u_l separately "
                    + "(beta <= \(PopulationOptimum.resolutionLimit / (4 * Double.ulpOfOne))): its log-probabilities resolve h only to ~1e-15, "
                    + "coarser than h's scale 1/beta")
        // Explicit rk8pd is accurate from the start; but near an attracting target the flow
        // is stiff (rate ~1 in tau, for a long time) and an explicit stepper's step stays ~1/rate, so
        // tau = 1e8 would cost ~1e8 steps. So: rk8pd up to tau = switchTime, then GSL's
        // implicit BDF stepper in log tau from the state reached there. The times are
        // increasing, so the early ones (tau <= switchTime) are a prefix.
        let switchTime = 1e3
        let earlyCount = taus.prefix { $0 <= switchTime }.count
        let late = taus.dropFirst(earlyCount)
        var index = 0
        var stopped = false
        var nonFinite = false
        // Hands over point `index` (state s); false stops the integrators.
        func hand(_ s: Double) -> Bool {
            let h = s / beta
            guard h.isFinite else { nonFinite = true; return false }
            let i = times.index(times.startIndex, offsetBy: index)
            guard onPoint(index, times[i], h) else { stopped = true; return false }
            index += 1
            return true
        }
        let f: (Double, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void = { _, y, dydt in
            dydt[0] = integrationVelocity(loss, s: y[0], parameters: frozen, timeScale: c)
        }
        do {
            var start = s0
            // The early taus, then switchTime if a late leg follows (lazily: no array of N times).
            let firstLegTimes = sequence(state: (taus.prefix(earlyCount).makeIterator(), late.isEmpty ? nil : Optional(switchTime))) { st in
                if let tau = st.0.next() { return tau }
                defer { st.1 = nil }
                return st.1
            }
            try ODESolver.integrate(y0: [s0], t0: 0, times: firstLegTimes,
                                    absoluteTolerance: absoluteTolerance, relativeTolerance: relativeTolerance,
                                    initialStep: 1e-6, maxSteps: maxSteps, derivative: f) { _, y in
                let s = y.first ?? .nan
                if index < earlyCount { return hand(s) }
                start = s
                return true
            }
            if !late.isEmpty && !stopped && !nonFinite {
                if settled(loss, s: start, tolerance: absoluteTolerance + relativeTolerance * Swift.abs(start), parameters: frozen, timeScale: c) {
                    // Trapped within the tolerance of a zero of the velocity: stays there.
                    for _ in late {
                        guard hand(start) else { break }
                    }
                } else {
                    // The late leg runs in sigma = log tau (ds/dsigma = tau ds/dtau): DPO's
                    // s ~ log(2 tau) is a straight line there and a converged target loss a
                    // stiff constant, so BDF's steps stay of order 1 in sigma over hundreds of
                    // decades of tau (tau reaches 1e206 at beta 1e100).
                    let g: (Double, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void = { sigma, y, dydt in
                        let v = Double.exp(sigma) * integrationVelocity(loss, s: y[0], parameters: frozen, timeScale: c)
                        dydt[0] = v.isNaN ? 0 : Swift.min(1e300, Swift.max(-1e300, v))
                    }
                    try ODESolver.integrate(y0: [start], t0: Double.log(switchTime), times: late.lazy.map { Double.log($0) },
                                            absoluteTolerance: absoluteTolerance, relativeTolerance: relativeTolerance,
                                            initialStep: 1e-3, method: .backwardDifferentiation,
                                            maxSteps: maxSteps, derivative: g) { _, y in hand(y.first ?? .nan) }
                }
            }
        } catch {
            // GSL's context names tau or log tau; say it in t, the user's time.
            let code = error.code == 11 /* GSL_EMAXITER */ ? "the step budget (maxSteps \(maxSteps) per output interval) ran out" : error.reason
            throw .gsl(GSLError(code: error.code, context: "integrating h(t) of \(loss.rawValue) from t = 0 to \(times.last ?? 0) "
                                + "(in s = beta h and tau = \(c) t; rk8pd to t = \(switchTime / c), then BDF in log tau): \(code)"))
        }
        try require(!nonFinite, "h(t)", "not finite",
                    "a finite h at every time (beta h overflowed or the flow left the double range)")
        return p
    }

    /// True when a one-dimensional flow at `s` can move by at most `tolerance` from now on:
    /// the velocity is 0 there, or it has the opposite sign (or is 0) one `tolerance` further
    /// along its own direction. A 1-D autonomous flow is monotone and cannot cross a zero of
    /// its velocity, so it stays in `[s, s +- tolerance]` for all later times. (spo at beta
    /// 1e100 reaches its target by tau = 1e3; BDF in log tau then failed on the stiffness
    /// 4 tau of the remaining 200 decades.)
    static func settled(_ loss: Loss, s: Double, tolerance: Double, parameters: LossParameters, timeScale c: Double) -> Bool {
        let v = integrationVelocity(loss, s: s, parameters: parameters, timeScale: c)
        if v == 0 { return true }
        let w = integrationVelocity(loss, s: s + Double(signOf: v, magnitudeOf: tolerance), parameters: parameters, timeScale: c)
        return w == 0 || (w > 0) != (v > 0)
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
