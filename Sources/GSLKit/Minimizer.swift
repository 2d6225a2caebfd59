import _CGSL

/// Unconstrained multidimensional minimisation with GSL.
public enum Minimizer {
    public struct Result: Sendable {
        public let x: [Double]
        public let value: Double
        public let iterations: Int
        public let converged: Bool
    }

    final class Box {
        let f: ([Double]) -> Double
        let g: (([Double], inout [Double]) -> Double)?
        let n: Int
        var x: [Double]
        var grad: [Double]
        init(n: Int, f: @escaping ([Double]) -> Double, g: (([Double], inout [Double]) -> Double)?) {
            self.n = n; self.f = f; self.g = g
            x = Array(repeating: 0, count: n); grad = x
        }
        func load(_ v: UnsafePointer<gsl_vector>) {
            for i in 0..<n { x[i] = cgsl_vector_get(v, i) }
        }
    }

    /// Minimises a smooth `f` with its gradient by GSL's BFGS (`vector_bfgs2`).
    ///
    /// - Parameters:
    ///   - valueAndGradient: returns f(x) and writes the gradient into its second argument.
    ///   - gradientTolerance: stops when the gradient norm falls below it (`gsl_multimin_test_gradient`).
    public static func bfgs(
        start: [Double], initialStep: Double = 0.1, lineTolerance: Double = 0.1,
        gradientTolerance: Double = 1e-9, maxIterations: Int = 10_000,
        valueAndGradient: @escaping ([Double], inout [Double]) -> Double
    ) throws(GSLError) -> Result {
        GSL.ensureInitialized()
        let n = start.count
        let box = Box(n: n, f: { x in var g = [Double](repeating: 0, count: x.count); return valueAndGradient(x, &g) },
                      g: valueAndGradient)
        // GSL always passes its vectors and our params; a nil gives NaN, which GSL reports.
        let fFn: @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?) -> Double = { v, p in
            guard let v, let p else { return .nan }
            let b = Unmanaged<Box>.fromOpaque(p).takeUnretainedValue()
            b.load(v)
            return b.g?(b.x, &b.grad) ?? .nan
        }
        let dfFn: @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<gsl_vector>?) -> Void = { v, p, df in
            guard let v, let p, let df else { return }
            let b = Unmanaged<Box>.fromOpaque(p).takeUnretainedValue()
            b.load(v)
            _ = b.g?(b.x, &b.grad)
            for i in 0..<b.n { cgsl_vector_set(df, i, b.grad[i]) }
        }
        let fdfFn: @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<gsl_vector>?) -> Void = { v, p, f, df in
            guard let v, let p, let f, let df else { return }
            let b = Unmanaged<Box>.fromOpaque(p).takeUnretainedValue()
            b.load(v)
            f.pointee = b.g?(b.x, &b.grad) ?? .nan
            for i in 0..<b.n { cgsl_vector_set(df, i, b.grad[i]) }
        }
        var fdf = gsl_multimin_function_fdf(f: fFn, df: dfFn, fdf: fdfFn, n: n,
                                            params: Unmanaged.passUnretained(box).toOpaque())
        return try withExtendedLifetime(box) { () throws(GSLError) -> Result in
            guard let s = gsl_multimin_fdfminimizer_alloc(cgsl_multimin_vector_bfgs2(), n),
                  let x0 = gsl_vector_alloc(n) else {
                throw GSLError(code: Int32(GSL_ENOMEM), context: "allocating the BFGS minimiser")
            }
            defer { gsl_multimin_fdfminimizer_free(s); gsl_vector_free(x0) }
            for i in 0..<n { cgsl_vector_set(x0, i, start[i]) }
            try GSL.check(gsl_multimin_fdfminimizer_set(s, &fdf, x0, initialStep, lineTolerance), "BFGS set-up")
            var iterations = 0
            var converged = false
            while iterations < maxIterations {
                iterations += 1
                let status = gsl_multimin_fdfminimizer_iterate(s)
                // Int32(GSL_ENOPROG): the line search can make no further progress, which at a
                // minimum is the normal way to stop; the gradient test below decides.
                if status != Int32(GSL_SUCCESS) && status != Int32(GSL_ENOPROG) { try GSL.check(status, "BFGS iteration") }
                if gsl_multimin_test_gradient(gsl_multimin_fdfminimizer_gradient(s), gradientTolerance) == Int32(GSL_SUCCESS) {
                    converged = true; break
                }
                if status == Int32(GSL_ENOPROG) { break }
            }
            guard let xv = gsl_multimin_fdfminimizer_x(s) else {
                throw GSLError(code: Int32(GSL_EFAULT), context: "BFGS: no iterate")
            }
            let x = (0..<n).map { cgsl_vector_get(xv, $0) }
            return Result(x: x, value: gsl_multimin_fdfminimizer_minimum(s), iterations: iterations, converged: converged)
        }
    }

    /// Minimises `f` without derivatives by the Nelder–Mead simplex (`nmsimplex2`).
    public static func nelderMead(
        start: [Double], stepSize: Double = 0.5, sizeTolerance: Double = 1e-10,
        maxIterations: Int = 100_000, f: @escaping ([Double]) -> Double
    ) throws(GSLError) -> Result {
        GSL.ensureInitialized()
        let n = start.count
        let box = Box(n: n, f: f, g: nil)
        let fFn: @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?) -> Double = { v, p in
            guard let v, let p else { return .nan }
            let b = Unmanaged<Box>.fromOpaque(p).takeUnretainedValue()
            b.load(v)
            return b.f(b.x)
        }
        var fn = gsl_multimin_function(f: fFn, n: n, params: Unmanaged.passUnretained(box).toOpaque())
        return try withExtendedLifetime(box) { () throws(GSLError) -> Result in
            guard let s = gsl_multimin_fminimizer_alloc(cgsl_multimin_nmsimplex2(), n),
                  let x0 = gsl_vector_alloc(n), let ss = gsl_vector_alloc(n) else {
                throw GSLError(code: Int32(GSL_ENOMEM), context: "allocating the simplex minimiser")
            }
            defer { gsl_multimin_fminimizer_free(s); gsl_vector_free(x0); gsl_vector_free(ss) }
            for i in 0..<n { cgsl_vector_set(x0, i, start[i]); cgsl_vector_set(ss, i, stepSize) }
            try GSL.check(gsl_multimin_fminimizer_set(s, &fn, x0, ss), "simplex set-up")
            var iterations = 0
            var converged = false
            while iterations < maxIterations {
                iterations += 1
                try GSL.check(gsl_multimin_fminimizer_iterate(s), "simplex iteration")
                if gsl_multimin_test_size(gsl_multimin_fminimizer_size(s), sizeTolerance) == Int32(GSL_SUCCESS) {
                    converged = true; break
                }
            }
            guard let xv = gsl_multimin_fminimizer_x(s) else {
                throw GSLError(code: Int32(GSL_EFAULT), context: "simplex: no iterate")
            }
            let x = (0..<n).map { cgsl_vector_get(xv, $0) }
            return Result(x: x, value: gsl_multimin_fminimizer_minimum(s), iterations: iterations, converged: converged)
        }
    }
}
