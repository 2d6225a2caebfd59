import RealModule

extension Loss {
    /// BCO on pairs (TRL `bco_pair`); see ``Losses/BCOPair``.
    public static let bcoPair = Loss(Losses.BCOPair.self)
}

extension Losses {
    /// BCO on pairs (TRL `bco_pair`, Jung et al. 2024, arXiv 2404.04656), `a = beta u_w`, `b = beta u_l`:
    ///
    ///     l = softplus(-(a - delta)) + softplus(b - delta)
    ///     dl/du_w = -beta sigma(-(a - delta)),    dl/du_l = beta sigma(b - delta).
    ///
    /// TRL's `delta` is a running mean of the batch rewards; a per-pair function cannot have
    /// one, so it is a parameter (``delta``, default 0).
    /// Log space: `log|dl/du_w| = log beta - softplus(a - delta)`,
    /// `log dl/du_l = log beta - softplus(-(b - delta))`.
    public struct BCOPair: PreferenceLoss {
        /// The shift `delta` (`--loss-param bco_delta=...`).
        public static let delta = LossParameter(
            name: "bco_delta", symbol: "delta", summary: "shift of both log-ratio logits (TRL: running mean of rewards)",
            defaultValue: 0, range: .finite)
        public static let descriptor = LossDescriptor(
            name: "bco_pair", summary: "BCO on pairs (Jung et al. 2024)", rewardGap: .ignored, labelSmoothing: nil,
            dependsOnLogitsDifferenceOnly: false, hasFlatRegion: false, parameters: [delta])
        public static let rooflineOps: RooflineOps? = RooflineOps(exp: 2, log1p: 2, div: 2)
        public static let rooflineGradientOps: RooflineOps? = nil

        public let beta: Double, delta: Double
        @inlinable public init(unchecked p: LossParameters) { beta = p.beta; delta = Self.delta.value(in: p) }

        @inlinable @inline(__always)
        public func evaluate(uW: Double, uL: Double, rewardGap: Double) -> (value: Double, dChosen: Double, dRejected: Double) {
            let a = beta * uW - delta, b = beta * uL - delta
            let ea = BranchFree.expNegAbs(a), la = Elementary.log(onePlus: ea)
            let eb = BranchFree.expNegAbs(b), lb = Elementary.log(onePlus: eb)
            return (BranchFree.softplusNeg(a, ea, la) + BranchFree.softplusPos(b, eb, lb),
                    -beta * BranchFree.sigmoidNeg(a, ea), beta * BranchFree.sigmoidPos(b, eb))
        }
        @inlinable @inline(__always)
        public func derivatives(uW: Double, uL: Double, rewardGap: Double) -> (dChosen: Double, dRejected: Double) {
            let a = beta * uW - delta, b = beta * uL - delta
            return (-beta * BranchFree.sigmoid(-a), beta * BranchFree.sigmoid(b))
        }
        /// The batch loop runs the eight-lane forms below (the same bits per pair).
        @inlinable public static var hasEightLaneKernel: Bool { true }
        /// ``evaluate(uW:uL:rewardGap:)-(Double,_,_)`` of eight pairs, the same operations
        /// on `SIMD8<Double>` lanes (``Elementary/log(onePlus:)-(SIMD8<Double>)`` and the
        /// eight-lane `BranchFree` helpers): lane i is the scalar result bit for bit.
        @inlinable @inline(__always)
        public func evaluate(uW: SIMD8<Double>, uL: SIMD8<Double>, rewardGap: SIMD8<Double>)
            -> (value: SIMD8<Double>, dChosen: SIMD8<Double>, dRejected: SIMD8<Double>) {
            let a = beta * uW - delta, b = beta * uL - delta
            let ea = BranchFree.expNegAbs(a), la = Elementary.log(onePlus: ea)
            let eb = BranchFree.expNegAbs(b), lb = Elementary.log(onePlus: eb)
            return (BranchFree.softplusNeg(a, ea, la) + BranchFree.softplusPos(b, eb, lb),
                    -beta * BranchFree.sigmoidNeg(a, ea), beta * BranchFree.sigmoidPos(b, eb))
        }
        /// ``derivatives(uW:uL:rewardGap:)-(Double,_,_)`` of eight pairs, lane i bit for bit
        /// the scalar result.
        @inlinable @inline(__always)
        public func derivatives(uW: SIMD8<Double>, uL: SIMD8<Double>, rewardGap: SIMD8<Double>)
            -> (dChosen: SIMD8<Double>, dRejected: SIMD8<Double>) {
            let a = beta * uW - delta, b = beta * uL - delta
            return (-beta * BranchFree.sigmoid(SIMD8Sign.negated(a)), beta * BranchFree.sigmoid(b))
        }
        public func logDerivatives(uW: Double, uL: Double, rewardGap: Double) -> LogDerivativeForm {
            let logBeta = Elementary.log(beta)
            let a = beta * uW, b = beta * uL
            return .separate(chosen: SignedLog(logMagnitude: logBeta - softplus(a - delta), sign: -1),
                             rejected: SignedLog(logMagnitude: logBeta - softplus(-(b - delta)), sign: 1))
        }
    }
}
