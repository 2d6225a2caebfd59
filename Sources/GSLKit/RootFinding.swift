import _CGSL

/// One-dimensional root finding by Brent's method (`gsl_root_fsolver_brent`).
public enum RootFinder {
    /// A root of `f` inside `[lower, upper]`, where `f(lower)` and `f(upper)` have
    /// opposite signs (or one is 0).
    ///
    /// Iterates until the bracket satisfies `|upper - lower| < absoluteTolerance +
    /// relativeTolerance * min(|lower|, |upper|)` (`gsl_root_test_interval`).
    ///
    /// - Throws: ``GSLError`` with `Int32(GSL_EINVAL)` when the endpoints do not straddle a
    ///   root, `Int32(GSL_EMAXITER)` when `maxIterations` is exhausted.
    public static func brent(
        _ f: @escaping (Double) -> Double,
        lower: Double, upper: Double,
        absoluteTolerance: Double = 0,
        relativeTolerance: Double = 1e-14,
        maxIterations: Int = 500
    ) throws(GSLError) -> Double {
        GSL.ensureInitialized()
        let fl = f(lower), fu = f(upper)
        if fl == 0 { return lower }
        if fu == 0 { return upper }
        guard let solver = gsl_root_fsolver_alloc(cgsl_root_fsolver_brent()) else {
            throw GSLError(code: Int32(GSL_ENOMEM), context: "allocating Brent's root solver")
        }
        defer { gsl_root_fsolver_free(solver) }
        return try withGSLFunction(f) { (fn: inout gsl_function) throws(GSLError) -> Double in
            try GSL.check(gsl_root_fsolver_set(solver, &fn, lower, upper),
                          "Brent root bracket [\(lower), \(upper)] (f = \(fl), \(fu))")
            for _ in 0..<maxIterations {
                try GSL.check(gsl_root_fsolver_iterate(solver), "Brent iteration")
                let lo = gsl_root_fsolver_x_lower(solver)
                let hi = gsl_root_fsolver_x_upper(solver)
                let status = gsl_root_test_interval(lo, hi, absoluteTolerance, relativeTolerance)
                if status == Int32(GSL_SUCCESS) { return gsl_root_fsolver_root(solver) }
                if status != Int32(GSL_CONTINUE) { try GSL.check(status, "Brent convergence test") }
            }
            throw GSLError(code: Int32(GSL_EMAXITER), context: "Brent root in [\(lower), \(upper)]")
        }
    }
}
