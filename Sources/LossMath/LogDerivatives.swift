import RealModule

/// A real number as `sign * exp(logMagnitude)`, natural log. `sign == 0` means exactly 0.
public struct SignedLog: Sendable, Equatable {
    public let logMagnitude: Double
    public let sign: Int
    @inlinable public init(logMagnitude: Double, sign: Int) {
        self.logMagnitude = sign == 0 ? -.infinity : logMagnitude
        self.sign = sign
    }
    /// From a plain double (exact, but a value that underflowed is 0 here).
    @inlinable public init(_ x: Double) {
        self.init(logMagnitude: x == 0 ? -.infinity : Elementary.log(Swift.abs(x)), sign: x > 0 ? 1 : (x < 0 ? -1 : 0))
    }
}

// Probability-space gradients are `dl/dpi = (dl/du) / pi`. For pi_l -> 0 the numerator
// often decays like pi_l^beta (DPO: sigma(-beta h) with h ~ -log pi_l), so it underflows to
// 0 long before the quotient leaves the double range: at beta = 1 DPO's dl/dpi_l tends to a
// finite constant while sigma(-beta h) is e^-900. These log-space forms keep the numerator
// as a logarithm. They are used whenever the plain derivative is below 1e-290 (so close to
// the underflow threshold that it may have lost digits), and agree with it elsewhere.

@usableFromInline let tinyDerivative = 1e-290

extension Loss {
    /// `log|dl/du_w|` and `log|dl/du_l|` with signs, without underflow.
    ///
    /// Equal (to rounding) to the logs of ``evaluate(_:_:)``'s `dChosen` and `dRejected`
    /// wherever those are normal doubles; finite where they underflow but the true value
    /// is merely tiny, or overflowed while its logarithm is finite. The log forms are each
    /// loss's own (``PreferenceLoss/logDerivatives(uW:uL:rewardGap:)``).
    ///
    /// - Parameter evaluation: this loss's ``evaluate(_:_:)`` at the same pair and
    ///   parameters, when the caller already has it; computed here otherwise.
    public func logDerivatives(_ pair: PairLogProbs, _ p: LossParameters,
                               evaluation: LossEvaluation? = nil) -> (chosen: SignedLog, rejected: SignedLog) {
        let e = evaluation ?? evaluate(pair, p)
        var chosen = SignedLog(e.dChosen), rejected = SignedLog(e.dRejected)
        // Also when the plain derivative overflowed (spo_asym far below its target).
        let needChosen = !(Swift.abs(e.dChosen) >= tinyDerivative && e.dChosen.isFinite)
        let needRejected = !(Swift.abs(e.dRejected) >= tinyDerivative && e.dRejected.isFinite)
        if !(needChosen || needRejected) { return (chosen, rejected) }

        switch logForm(pair.chosenLogRatio, pair.rejectedLogRatio, p.rewardGap ?? 0, p) {
        case .logitsDifference(let d):
            // dl/du_w = beta dl/dx, dl/du_l = -beta dl/dx.
            let logBeta = Elementary.log(p.beta)
            if needChosen { chosen = SignedLog(logMagnitude: logBeta + d.logMagnitude, sign: d.sign) }
            if needRejected { rejected = SignedLog(logMagnitude: logBeta + d.logMagnitude, sign: -d.sign) }
        case .separate(let c, let r):
            if needChosen, let c { chosen = c }
            if needRejected, let r { rejected = r }
        case .plainIsAccurate:
            break
        }
        return (chosen, rejected)
    }
}

/// `log|sigma(x) sigma(-x) c|` with the sign of `c`.
@usableFromInline
func logDensityTimes(_ x: Double, _ c: Double) -> SignedLog {
    if c == 0 { return SignedLog(0) }
    return SignedLog(logMagnitude: -softplus(x) - softplus(-x) + Elementary.log(Swift.abs(c)), sign: c > 0 ? 1 : -1)
}

/// `log|sigma(a) - sigma(b)|` with its sign, in log space (see ``sigmoidDifference(_:_:)``).
public func logSigmoidDifference(_ a: Double, _ b: Double) -> SignedLog {
    if a == b { return SignedLog(0) }
    let sign = a > b ? 1 : -1
    let gap = Swift.abs(a - b)
    if (a >= 0 && b >= 0) || (a <= 0 && b <= 0) {
        let m = a >= 0 ? -Swift.min(a, b) : Swift.max(a, b)    // log of e^-min or e^max
        let l = m + Elementary.log(-Double.expMinusOne(-gap))
            - (a >= 0 ? softplus(-a) + softplus(-b) : softplus(a) + softplus(b))
        return SignedLog(logMagnitude: l, sign: sign)
    }
    return SignedLog(sigmoid(a) - sigmoid(b))
}
