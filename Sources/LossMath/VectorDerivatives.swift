// Eight-lane derivative kernels of the losses the tabular trainer's benchmark runs (DPO and
// spo), for the fused step's pair loop: LLVM vectorises the scalar kernels at 256 bits, an
// explicit `SIMD8<Double>` is one 512-bit register in the native build.
//
// **Same bits.** Lane i runs the scalar `derivatives(uW:uL:rewardGap:)`'s IEEE operations in
// the same order, so it gives the same bits (tested: Tests/LossMathTests/ElementaryVectorTests.swift).
// Negation is a sign-bit flip, as the scalar `-x` (SIMD's `0 - x` would turn `-0` into `+0`).

extension Losses.Sigmoid {
    /// ``derivatives(uW:uL:rewardGap:)`` of eight pairs: `dl/du_w = -beta sigma(-x)`,
    /// `dl/du_l = -dl/du_w`, `x = beta (u_w - u_l)`; lane i is the scalar result bit for bit.
    ///
    /// See also: ``Elementary/sigmoid(_:)-(SIMD8<Double>)``.
    @inlinable @inline(__always)
    public func derivatives(uW: SIMD8<Double>, uL: SIMD8<Double>) -> (dChosen: SIMD8<Double>, dRejected: SIMD8<Double>) {
        let x = beta * (uW - uL)
        let dh = beta * SIMD8Sign.negated(Elementary.sigmoid(SIMD8Sign.negated(x)))
        return (dh, SIMD8Sign.negated(dh))
    }
}

extension Losses.SPO {
    /// ``derivatives(uW:uL:rewardGap:)`` of eight pairs: `dl/du_w = 2 beta (beta (u_w - u_l) - dr)`,
    /// `dl/du_l = -dl/du_w`; lane i is the scalar result bit for bit.
    @inlinable @inline(__always)
    public func derivatives(uW: SIMD8<Double>, uL: SIMD8<Double>, rewardGap: SIMD8<Double>) -> (dChosen: SIMD8<Double>, dRejected: SIMD8<Double>) {
        let dh = beta * (2 * (beta * (uW - uL) - rewardGap))
        return (dh, SIMD8Sign.negated(dh))
    }
}

/// Sign operations on eight lanes with the scalar operations' bits.
public enum SIMD8Sign {
    /// `-x` per lane: the sign bit flipped (NaN and zeros included), as the scalar `-x`.
    @inlinable @inline(__always)
    public static func negated(_ x: SIMD8<Double>) -> SIMD8<Double> {
        let sign = SIMD8<UInt64>(repeating: 0x8000_0000_0000_0000)
        return unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt64>.self) ^ sign, to: SIMD8<Double>.self)
    }
}
