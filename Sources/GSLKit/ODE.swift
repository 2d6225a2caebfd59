import _CGSL

/// Integration of `dy/dt = f(t, y)` with GSL's adaptive Runge–Kutta–Prince–Dormand (8,9)
/// stepper (`gsl_odeiv2_step_rk8pd`) driven by `gsl_odeiv2_driver`.
public enum ODESolver {
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
    /// - Throws: ``GSLError`` when the driver fails (e.g. the step size underflows).
    public static func integrate(
        y0: [Double], t0: Double, times: [Double],
        absoluteTolerance: Double = 1e-10, relativeTolerance: Double = 1e-10,
        initialStep: Double = 1e-6,
        derivative: @escaping (Double, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
    ) throws(GSLError) -> [[Double]] {
        GSL.ensureInitialized()
        let n = y0.count
        let box = Box(n: n, derivative)
        let function: @convention(c) (Double, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafeMutableRawPointer?) -> Int32 = { t, y, dydt, params in
            let b = Unmanaged<Box>.fromOpaque(params!).takeUnretainedValue()
            b.f(t, UnsafeBufferPointer(start: y, count: b.n), UnsafeMutableBufferPointer(start: dydt, count: b.n))
            return Int32(GSL_SUCCESS)
        }
        var system = gsl_odeiv2_system(function: function, jacobian: nil, dimension: n,
                                       params: Unmanaged.passUnretained(box).toOpaque())
        return try withExtendedLifetime(box) { () throws(GSLError) -> [[Double]] in
            guard let driver = gsl_odeiv2_driver_alloc_y_new(&system, cgsl_odeiv2_step_rk8pd(),
                                                             initialStep, absoluteTolerance, relativeTolerance) else {
                throw GSLError(code: Int32(GSL_ENOMEM), context: "allocating the ODE driver")
            }
            defer { gsl_odeiv2_driver_free(driver) }
            var y = y0
            var t = t0
            var out: [[Double]] = []
            out.reserveCapacity(times.count)
            for ti in times {
                if ti > t {
                    let status = y.withUnsafeMutableBufferPointer { gsl_odeiv2_driver_apply(driver, &t, ti, $0.baseAddress) }
                    try GSL.check(status, "ODE integration to t = \(ti)")
                }
                out.append(y)
            }
            return out
        }
    }
}
