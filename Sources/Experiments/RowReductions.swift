import LossMath

/// The largest of `p[0 ..< count]` ignoring NaNs (-inf for none), as `m = v > m ? v : m`
/// from -inf would give, but in eight interleaved chains so that it vectorises instead of
/// waiting on each comparison. Both the generic and the fused paths use it, so they agree
/// bit for bit. (A maximum does not round, so the order only matters for the sign of a zero
/// maximum, which nothing downstream can see: it is subtracted from each logit and added
/// back in log-sum-exp.)
@inline(__always)
func rowMaximum(_ p: UnsafePointer<Double>, _ count: Int) -> Double {
    var acc = SIMD8<Double>(repeating: -.infinity)
    var y = 0
    while y + 8 <= count {
        let v = UnsafeRawPointer(p + y).loadUnaligned(as: SIMD8<Double>.self)
        acc.replace(with: v, where: v .> acc)
        y += 8
    }
    var m = -Double.infinity
    for i in 0..<8 { let v = acc[i]; m = v > m ? v : m }
    while y < count { let v = p[y]; m = v > m ? v : m; y += 1 }
    return m
}

/// `p[0] + ... + p[count-1]` in a fixed order that vectorises: eight interleaved partial
/// sums (lane i adds p[i], p[i+8], ...), added together lane by lane, then the tail. A
/// serial sum would wait on each addition's latency. Both the generic and the fused paths
/// use it, so they agree bit for bit; SIMD lanes are IEEE additions, so every build gives
/// the same bits. (Pairwise-like, it is also at least as accurate as the serial order.)
@inline(__always)
func rowTotal(_ p: UnsafePointer<Double>, _ count: Int) -> Double {
    var acc = SIMD8<Double>(repeating: 0)
    var y = 0
    while y + 8 <= count {
        acc += UnsafeRawPointer(p + y).loadUnaligned(as: SIMD8<Double>.self)
        y += 8
    }
    var s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
    while y < count { s += p[y]; y += 1 }
    return s
}

/// The softmax `pi_y = e_y (1 / sum e)`, `e_y = exp(z_y - max z)`, of `count` logits into
/// `pi`, with ``rowMaximum(_:_:)``, ``rowTotal(_:_:)`` and one reciprocal: the same bits as
/// the fused passes' probabilities (`EngineBuffers.blockLogPolicy`), which reuse the
/// exponentials of the log-softmax instead of taking `exp(log pi)`. Relative error a few
/// ulps (one exp, the sum, the reciprocal and the product). Valid for finite logits.
@inline(__always)
func softmaxProbabilities(_ z: UnsafePointer<Double>, _ count: Int, into pi: UnsafeMutablePointer<Double>) {
    let m = rowMaximum(z, count)
    for y in 0..<count { pi[y] = z[y] - m }
    for y in 0..<count { pi[y] = Elementary.exp(pi[y]) }
    let q = 1 / rowTotal(pi, count)
    for y in 0..<count { pi[y] = pi[y] * q }
}
