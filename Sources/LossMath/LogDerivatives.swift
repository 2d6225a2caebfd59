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
    /// is merely tiny, or overflowed while its logarithm is finite.
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

        let beta = p.beta, logBeta = Elementary.log(p.beta)
        let uW = pair.chosenLogRatio, uL = pair.rejectedLogRatio
        let x = beta * (uW - uL)
        let dr = p.rewardGap ?? 0
        // For h-only losses: log|dl/dx| with its sign; dl/du_w = beta dl/dx, dl/du_l = -beta dl/dx.
        var hOnly: SignedLog? = nil
        switch self {
        case .sigmoid:
            hOnly = SignedLog(logMagnitude: -softplus(x), sign: -1)
        case .cdpo where p.labelSmoothing == 0, .robust where p.labelSmoothing == 0:
            hOnly = SignedLog(logMagnitude: -softplus(x), sign: -1)
        case .exoPair:
            let t = Elementary.log(onePlus: -p.labelSmoothing) - Elementary.log(p.labelSmoothing)
            hOnly = logDensityTimes(x, x - t)
        case .rpoForwardKL:
            hOnly = logDensityTimes(x, x - dr)
        case .rpoBackwardKL, .spoBT:
            hOnly = logSigmoidDifference(x, dr)
        case .spoAsym:
            let z = x / dr
            let c = (z - 1) / dr
            hOnly = c == 0 ? SignedLog(0) : SignedLog(logMagnitude: Elementary.log(Swift.abs(c)) - z, sign: c > 0 ? 1 : -1)
        case .discopop:
            hOnly = discopopLogDerivative(x, tau: p.discopopTau)
        default:
            break
        }
        if let d = hOnly {
            let dW = SignedLog(logMagnitude: logBeta + d.logMagnitude, sign: d.sign)
            let dL = SignedLog(logMagnitude: logBeta + d.logMagnitude, sign: -d.sign)
            if needChosen { chosen = dW }
            if needRejected { rejected = dL }
            return (chosen, rejected)
        }
        let a = beta * uW, b = beta * uL
        switch self {
        case .ncaPair:
            if needRejected { rejected = SignedLog(logMagnitude: logBeta - Elementary.log(2) - softplus(-b), sign: 1) }
        case .bcoPair:
            if needChosen { chosen = SignedLog(logMagnitude: logBeta - softplus(a - p.bcoDelta), sign: -1) }
            if needRejected { rejected = SignedLog(logMagnitude: logBeta - softplus(-(b - p.bcoDelta)), sign: 1) }
        case .apoZero:
            if needChosen { chosen = SignedLog(logMagnitude: logBeta - softplus(-a) - softplus(a), sign: -1) }
            if needRejected { rejected = SignedLog(logMagnitude: logBeta - softplus(-b) - softplus(b), sign: 1) }
        case .apoDown:
            if needRejected { rejected = SignedLog(logMagnitude: logBeta - softplus(-x) - softplus(x), sign: 1) }
        case .bdpo:
            let lam = p.bdpoLambda
            let uLMixed = lam >= 1 ? uL : logAddExp(Elementary.log(lam) + uL, Elementary.log(onePlus: -lam))
            let xm = beta * (uW - uLMixed)
            let logWeight = lam >= 1 ? 0 : -softplus(-(uL + Elementary.log(lam) - Elementary.log(onePlus: -lam)))
            if needChosen { chosen = SignedLog(logMagnitude: logBeta - softplus(xm), sign: -1) }
            if needRejected { rejected = SignedLog(logMagnitude: logBeta - softplus(xm) + logWeight, sign: 1) }
        default:
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

/// discopop's `log|dl/dx|` for x >= 0, factoring out `m e^-x` (the dominant term there).
@usableFromInline
func discopopLogDerivative(_ x: Double, tau: Double) -> SignedLog? {
    guard x >= 0 else { return nil }
    let logM = -softplus(-x / tau), log1mM = -softplus(x / tau)
    // d = t1 - t2 - t3 - t4 with t4 = m e^-x; divide through by t4.
    let r1 = Elementary.exp(log1mM) / tau
    let r2 = Elementary.exp(log1mM + x) * softplus(-x) / tau
    let r3 = Elementary.exp(log1mM - logM + x - softplus(x))
    let q = r1 - r2 - r3 - 1
    if q == 0 { return SignedLog(0) }
    return SignedLog(logMagnitude: logM - x + Elementary.log(Swift.abs(q)), sign: q > 0 ? 1 : -1)
}
