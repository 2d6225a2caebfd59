import RealModule

/// A real number stored as `sign * 10^log10Magnitude`, for probability-space gradients.
///
/// `dl/dpi_l = (dl/d log pi_l) / pi_l`, and `1/pi_l` is `e^800` for an ordinary sequence
/// log-probability of -800: far beyond the double range. The log-magnitude is exact to
/// rounding: `log10|dl/d log pi| - log pi / ln 10`.
public struct SignedLogMagnitude: Sendable, Equatable, Hashable {
    /// `log10 |value|`; `-infinity` when the value is exactly zero.
    public let log10Magnitude: Double
    /// -1, 0 or +1.
    public let sign: Int

    @inlinable
    public init(log10Magnitude: Double, sign: Int) {
        self.log10Magnitude = sign == 0 ? -.infinity : log10Magnitude
        self.sign = sign
    }

    /// `d / pi` with `d` given as a natural-log magnitude and sign.
    @inlinable
    public static func fromNaturalLog(_ d: SignedLog, logProbability: Double) -> SignedLogMagnitude {
        if d.sign == 0 { return .zero }
        return SignedLogMagnitude(log10Magnitude: (d.logMagnitude - logProbability) / 2.302_585_092_994_045_7, sign: d.sign)
    }

    /// The zero value.
    public static let zero = SignedLogMagnitude(log10Magnitude: -.infinity, sign: 0)

    @inlinable public var isZero: Bool { sign == 0 }

    /// The value as a Double when it is representable, else `nil`.
    @inlinable public var doubleValue: Double? {
        if sign == 0 { return 0 }
        let v = Double(sign) * Double.exp10(log10Magnitude)
        return v.isFinite ? v : nil
    }

    /// `d / pi` where `d = dl/d log pi` and `logProbability = log pi`.
    ///
    /// Chain rule: `dl/dpi = (dl/d log pi) * (d log pi / dpi) = d / pi`.
    @inlinable
    public static func probabilityGradient(logDerivative d: Double, logProbability: Double) -> SignedLogMagnitude {
        if d == 0 { return .zero }
        let l = Double.log10(Swift.abs(d)) - logProbability / 2.302_585_092_994_045_7
        return SignedLogMagnitude(log10Magnitude: l, sign: d > 0 ? 1 : -1)
    }
}

/// Probability-space gradients of one pair (T6, T7, T8).
public struct ProbabilityGradients: Sendable, Equatable {
    /// `dl/dpi_w`.
    public let chosen: SignedLogMagnitude
    /// `dl/dpi_l`. Positive means a descent step lowers `pi_l` (pushes it toward 0).
    public let rejected: SignedLogMagnitude

    /// The probability-space gradients of `loss`, computed from ``Loss/logDerivatives(_:_:)``
    /// so that a derivative below the double range still gives its (representable) quotient.
    /// Pass `evaluation` when it is already at hand, so the loss is not evaluated twice.
    public init(loss: Loss, pair: PairLogProbs, parameters: LossParameters, evaluation: LossEvaluation? = nil) {
        let d = loss.logDerivatives(pair, parameters, evaluation: evaluation)
        chosen = .fromNaturalLog(d.chosen, logProbability: pair.chosen)
        rejected = .fromNaturalLog(d.rejected, logProbability: pair.rejected)
    }

    /// `log10(|dl/dpi_l| / |dl/dpi_w|)`, or `nil` when either gradient is exactly zero.
    /// For any loss of h alone this is `log10(pi_w/pi_l)` (T6).
    @inlinable
    public var log10RatioRejectedToChosen: Double? {
        if chosen.isZero || rejected.isZero { return nil }
        return rejected.log10Magnitude - chosen.log10Magnitude
    }

    /// The collapse force `C = max(0, dl/dpi_l)` of T8: how hard a gradient-descent step
    /// pushes `pi_l` toward 0.
    @inlinable
    public var collapseForce: SignedLogMagnitude { rejected.sign > 0 ? rejected : .zero }
}
