import _CGSL

// GSL takes C function pointers plus a `void *params`. A Swift closure is passed by
// boxing it in a class and handing GSL an unretained pointer to the box; the callers
// keep the box alive with `withExtendedLifetime` for the duration of the GSL call.

final class ScalarFunctionBox {
    let f: (Double) -> Double
    init(_ f: @escaping (Double) -> Double) { self.f = f }
}

let scalarTrampoline: @convention(c) (Double, UnsafeMutableRawPointer?) -> Double = { x, params in
    // GSL always passes our params; a nil gives NaN, which GSL's solvers report.
    guard let params else { return .nan }
    return Unmanaged<ScalarFunctionBox>.fromOpaque(params).takeUnretainedValue().f(x)
}

/// Calls `body` with a `gsl_function` that evaluates `f`.
func withGSLFunction<R, E: Error>(
    _ f: @escaping (Double) -> Double,
    _ body: (inout gsl_function) throws(E) -> R
) throws(E) -> R {
    let box = ScalarFunctionBox(f)
    var function = gsl_function(function: scalarTrampoline,
                                params: Unmanaged.passUnretained(box).toOpaque())
    defer { withExtendedLifetime(box) {} }
    return try body(&function)
}
