import _CGSL

/// Ordinary least squares for a straight line (`gsl_fit_linear`).
public struct LinearFit: Sendable, Equatable {
    public let intercept: Double
    public let slope: Double
    /// Variance of the slope estimate (`cov11`).
    public let slopeVariance: Double
    /// Residual sum of squares.
    public let residualSumOfSquares: Double

    /// Fits `y = intercept + slope * x` by least squares.
    ///
    /// - Precondition: `x.count == y.count`.
    /// - Throws: ``GSLError`` when fewer than two points are given or GSL fails.
    public init(x: [Double], y: [Double]) throws(GSLError) {
        GSL.ensureInitialized()
        precondition(x.count == y.count, "LinearFit needs x and y of equal length")
        guard x.count >= 2 else {
            throw GSLError(code: Int32(GSL_EINVAL), context: "a line fit needs at least 2 points, got \(x.count)")
        }
        var c0 = 0.0, c1 = 0.0, cov00 = 0.0, cov01 = 0.0, cov11 = 0.0, sumsq = 0.0
        let status = x.withUnsafeBufferPointer { xb in
            y.withUnsafeBufferPointer { yb in
                gsl_fit_linear(xb.baseAddress, 1, yb.baseAddress, 1, x.count,
                               &c0, &c1, &cov00, &cov01, &cov11, &sumsq)
            }
        }
        try GSL.check(status, "least-squares line fit")
        intercept = c0
        slope = c1
        slopeVariance = cov11
        residualSumOfSquares = sumsq
    }
}

/// Quantiles of Student's t distribution (`gsl_cdf_tdist_Pinv`), for confidence intervals.
public enum StudentT {
    /// The `p` quantile of Student's t with `degreesOfFreedom` > 0.
    public static func quantile(_ p: Double, degreesOfFreedom: Double) -> Double {
        GSL.ensureInitialized()
        return gsl_cdf_tdist_Pinv(p, degreesOfFreedom)
    }
}
