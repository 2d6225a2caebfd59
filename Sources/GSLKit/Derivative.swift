import _CGSL

/// Numerical differentiation (GSL's adaptive central differences, `gsl_deriv_central`).
///
/// Used by the tests as an independent check of every analytic derivative in LossMath.
public enum NumericalDerivative {
    /// The derivative of `f` at `x` by a 5-point central difference with initial step
    /// `step`, and GSL's estimate of its absolute error.
    ///
    /// - Parameters:
    ///   - step: the initial step; GSL adapts it to balance truncation and rounding
    ///     error. A good choice is about `1e-3 * max(1, |x|)` for smooth functions.
    /// - Throws: ``GSLError`` when GSL reports a failure.
    public static func central(
        _ f: @escaping (Double) -> Double, at x: Double, step: Double
    ) throws(GSLError) -> (value: Double, absoluteError: Double) {
        GSL.ensureInitialized()
        var result = 0.0
        var abserr = 0.0
        let status = withGSLFunction(f) { (fn: inout gsl_function) -> Int32 in
            gsl_deriv_central(&fn, x, step, &result, &abserr)
        }
        try GSL.check(status, "numerical derivative at x = \(x)")
        return (result, abserr)
    }
}
