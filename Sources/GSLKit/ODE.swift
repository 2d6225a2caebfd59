import _CGSL

/// Integration of `dy/dt = f(t, y)` with GSL's adaptive Runge–Kutta–Prince–Dormand (8,9)
/// stepper (`gsl_odeiv2_step_rk8pd`) driven by `gsl_odeiv2_driver`.
public enum ODESolver {
    /// The stepper.
    public enum Method: Sendable {
        /// Explicit embedded Runge–Kutta–Prince–Dormand (8,9), `gsl_odeiv2_step_rk8pd`: accurate
        /// and cheap for non-stiff problems.
        case rungeKuttaPrinceDormand
        /// Variable-order backward differentiation (`gsl_odeiv2_step_msbdf`), implicit, for
        /// stiff problems: near an attracting equilibrium an explicit method's step is capped
        /// by its stability region (about 1/rate), so integrating to t = 1e8 would take ~1e8
        /// steps; BDF's steps grow with t. The Jacobian is formed by central differences.
        case backwardDifferentiation
    }

    final class Box {
        let f: (Double, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
        let n: Int
        init(n: Int, _ f: @escaping (Double, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void) {
            self.n = n; self.f = f
        }
    }

    /// Integrates from `t0` with state `y0` and returns the state at each of `times`
    /// (which must be increasing and >= t0).
    ///
    /// - Parameters:
    ///   - derivative: writes `dy/dt` at `(t, y)` into its third argument.
    ///   - absoluteTolerance, relativeTolerance: per-step error control.
    ///   - method: the stepper (see ``Method``).
    ///   - maxSteps: a cap on the driver's steps per output interval (`gsl_odeiv2_driver_set_nmax`);
    ///     0 means no cap. Past it the driver fails with `GSL_EMAXITER`, thrown as ``GSLError``.
    /// - Throws: ``GSLError`` when the driver fails (e.g. the step size underflows).
    ///
    /// See also: ``integrate(y0:t0:times:absoluteTolerance:relativeTolerance:initialStep:method:maxSteps:derivative:onState:)``,
    /// which hands each state over as it is reached instead of keeping them.
    public static func integrate(
        y0: [Double], t0: Double, times: [Double],
        absoluteTolerance: Double = 1e-10, relativeTolerance: Double = 1e-10,
        initialStep: Double = 1e-6,
        method: Method = .rungeKuttaPrinceDormand,
        maxSteps: Int = 0,
        derivative: @escaping (Double, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
    ) throws(GSLError) -> [[Double]] {
        var out: [[Double]] = []
        out.reserveCapacity(times.count)
        try integrate(y0: y0, t0: t0, times: times, absoluteTolerance: absoluteTolerance, relativeTolerance: relativeTolerance,
                      initialStep: initialStep, method: method, maxSteps: maxSteps, derivative: derivative) { _, y in
            out.append(Array(y))
            return true
        }
        return out
    }

    /// Integrates from `t0` with state `y0` and hands the state at each of `times` (increasing,
    /// >= t0, read once, in order) to `onState` as soon as it is reached: memory does not grow
    /// with the number of times. `onState` returns `false` to stop early (no error).
    ///
    /// The driver, its steps and so the states are those of the array form above, bit for bit.
    ///
    /// - Throws: ``GSLError`` when the driver fails; the states before the failing time have
    ///   been handed over.
    public static func integrate<Times: Sequence<Double>>(
        y0: [Double], t0: Double, times: Times,
        absoluteTolerance: Double = 1e-10, relativeTolerance: Double = 1e-10,
        initialStep: Double = 1e-6,
        method: Method = .rungeKuttaPrinceDormand,
        maxSteps: Int = 0,
        derivative: @escaping (Double, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void,
        onState: (_ time: Double, _ state: UnsafeBufferPointer<Double>) -> Bool
    ) throws(GSLError) {
        GSL.ensureInitialized()
        let n = y0.count
        let box = Box(n: n, derivative)
        // GSL always passes its arrays and our params; a nil is reported to GSL as GSL_EFAULT.
        let function: @convention(c) (Double, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafeMutableRawPointer?) -> Int32 = { t, y, dydt, params in
            guard let params else { return Int32(GSL_EFAULT) }
            let b = Unmanaged<Box>.fromOpaque(params).takeUnretainedValue()
            b.f(t, UnsafeBufferPointer(start: y, count: b.n), UnsafeMutableBufferPointer(start: dydt, count: b.n))
            return Int32(GSL_SUCCESS)
        }
        // Central-difference Jacobian for the implicit stepper; df/dt = 0 is not assumed but
        // estimated the same way.
        let jacobian: @convention(c) (Double, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafeMutableRawPointer?) -> Int32 = { t, y, dfdy, dfdt, params in
            guard let params, let dfdy, let dfdt else { return Int32(GSL_EFAULT) }
            let b = Unmanaged<Box>.fromOpaque(params).takeUnretainedValue()
            let n = b.n
            var yy = Array(UnsafeBufferPointer(start: y, count: n))
            var fp = [Double](repeating: 0, count: n), fm = fp
            for j in 0..<n {
                let y0 = yy[j]
                let step = 1e-7 * Swift.max(1, Swift.abs(y0))
                yy[j] = y0 + step
                yy.withUnsafeBufferPointer { yb in fp.withUnsafeMutableBufferPointer { b.f(t, yb, $0) } }
                yy[j] = y0 - step
                yy.withUnsafeBufferPointer { yb in fm.withUnsafeMutableBufferPointer { b.f(t, yb, $0) } }
                yy[j] = y0
                for i in 0..<n { dfdy[i * n + j] = (fp[i] - fm[i]) / (2 * step) }
            }
            let ts = 1e-7 * Swift.max(1, Swift.abs(t))
            yy.withUnsafeBufferPointer { yb in fp.withUnsafeMutableBufferPointer { b.f(t + ts, yb, $0) } }
            yy.withUnsafeBufferPointer { yb in fm.withUnsafeMutableBufferPointer { b.f(t - ts, yb, $0) } }
            for i in 0..<n { dfdt[i] = (fp[i] - fm[i]) / (2 * ts) }
            return Int32(GSL_SUCCESS)
        }
        var system = gsl_odeiv2_system(function: function, jacobian: jacobian, dimension: n,
                                       params: Unmanaged.passUnretained(box).toOpaque())
        try withExtendedLifetime(box) { () throws(GSLError) -> Void in
            let stepper = method == .rungeKuttaPrinceDormand ? cgsl_odeiv2_step_rk8pd() : cgsl_odeiv2_step_msbdf()
            guard let driver = gsl_odeiv2_driver_alloc_y_new(&system, stepper,
                                                             initialStep, absoluteTolerance, relativeTolerance) else {
                throw GSLError(code: Int32(GSL_ENOMEM), context: "allocating the ODE driver")
            }
            defer { gsl_odeiv2_driver_free(driver) }
            if maxSteps > 0 { _ = gsl_odeiv2_driver_set_nmax(driver, UInt(maxSteps)) }
            var y = y0
            var t = t0
            for ti in times {
                if ti > t {
                    let status = y.withUnsafeMutableBufferPointer { gsl_odeiv2_driver_apply(driver, &t, ti, $0.baseAddress) }
                    try GSL.check(status, "ODE integration to t = \(ti)")
                }
                guard y.withUnsafeBufferPointer({ onState(ti, $0) }) else { return }
            }
        }
    }
}
