// The batch API over contiguous arrays, and the dispatch from a `Loss` to its concrete kernel.
//
// `Loss.withKernel(_:_:)` finds the loss's type in the registry and hands the concrete kernel
// to a generic visitor, so a caller's loop is specialised per loss (no existential, no per-pair
// switch). `Loss.evaluateBatch` is such a loop over struct-of-arrays buffers.
//
// The batch loop runs the same kernel as `Loss.evaluate` (see `PreferenceLoss`), so element `i`
// is bit-identical to the per-pair evaluation. The Bernoulli-KL losses (exo_pair, rpo_*_kl)
// have one form that only extreme arguments need (two more log1p per pair); their
// `evaluateForBatch` leaves NaN there and `evaluateBatch` fills those values in afterwards with
// `evaluate`, so the results are still `Loss.evaluate`'s bits. Kernels with their own
// eight-lane forms (bco_pair, discopop) run them instead, eight pairs a step (BatchEightLanes.swift).

/// A generic operation run with the concrete kernel of a loss; see ``Loss/withKernel(_:_:)``.
public protocol PairLossKernelVisitor {
    associatedtype Output
    func visit<K: PairLossKernel>(_ kernel: K) -> Output
}

extension Loss {
    /// Runs `visitor` with this loss's concrete kernel for `parameters`. The visitor's generic
    /// code is specialised per kernel: the dispatch walks ``registry(_:)``, whose entries name
    /// the concrete types, and compares type identities (no switch, no existential in the
    /// visitor's loops). Does not validate.
    @inlinable
    public func withKernel<V: PairLossKernelVisitor>(_ parameters: LossParameters, _ visitor: V) -> V.Output {
        var dispatch = KernelDispatch(id: id, parameters: parameters, visitor: visitor)
        Loss.registry(&dispatch)
        if let output = dispatch.output { return output }
        // Not reached for registered losses; an unregistered type still runs, unspecialised.
        return Loss.visit(makeKernel(parameters), visitor)
    }

    @usableFromInline
    static func visit<K: PreferenceLoss, V: PairLossKernelVisitor>(_ kernel: K, _ visitor: V) -> V.Output {
        visitor.visit(kernel)
    }

    /// Evaluates the loss on `n` pairs stored as struct-of-arrays, with the switch hoisted
    /// out of the loop. Element `i` of every output is bit-identical to
    /// `evaluate(PairLogProbs(chosen: chosen[i], ...), p)` with `p.rewardGap = rewardGaps[i]`
    /// (or `parameters.rewardGap ?? 0` for every pair when `rewardGaps` is nil), for unit
    /// lengths. Allocates nothing. Does not validate: call ``validate(_:)`` first.
    ///
    /// - Parameters:
    ///   - values: where to write the losses, or nil to skip them (cheaper: most `log1p`
    ///     calls are in the values).
    ///   - dChosen, dRejected: `dl/d log pi(y_w)` and `dl/d log pi(y_l)`.
    /// - Precondition: every buffer has the length of `chosen`.
    public func evaluateBatch(chosen: UnsafeBufferPointer<Double>, rejected: UnsafeBufferPointer<Double>,
                              refChosen: UnsafeBufferPointer<Double>, refRejected: UnsafeBufferPointer<Double>,
                              rewardGaps: UnsafeBufferPointer<Double>? = nil, parameters: LossParameters,
                              values: UnsafeMutableBufferPointer<Double>?,
                              dChosen: UnsafeMutableBufferPointer<Double>, dRejected: UnsafeMutableBufferPointer<Double>) {
        let n = chosen.count
        precondition(rejected.count == n && refChosen.count == n && refRejected.count == n
                     && dChosen.count == n && dRejected.count == n
                     && (rewardGaps?.count ?? n) == n && (values?.count ?? n) == n,
                     "evaluateBatch: every buffer needs \(n) elements")
        let batch = BatchVisitor(chosen: chosen, rejected: rejected, refChosen: refChosen,
                                 refRejected: refRejected, rewardGaps: rewardGaps,
                                 defaultGap: parameters.rewardGap ?? 0, values: values,
                                 dChosen: dChosen, dRejected: dRejected)
        withKernel(parameters, batch)
        // Values the vectorised loop deferred (see PairLossKernel.batchValueMayBeDeferred), in a
        // second pass: a call after the loop in the same function kept LLVM from vectorising
        // the loop as well (half the speed, measured).
        if values != nil { withKernel(parameters, DeferredValuesVisitor(batch: batch)) }
    }

    /// Array convenience for ``evaluateBatch(chosen:rejected:refChosen:refRejected:rewardGaps:parameters:values:dChosen:dRejected:)``.
    public func evaluateBatch(_ pairs: [PairLogProbs], rewardGaps: [Double]? = nil, parameters: LossParameters)
        -> (values: [Double], dChosen: [Double], dRejected: [Double]) {
        let n = pairs.count
        precondition(rewardGaps.map { $0.count == n } ?? true)
        let c = pairs.map(\.chosen), r = pairs.map(\.rejected), rc = pairs.map(\.refChosen), rr = pairs.map(\.refRejected)
        var v = [Double](repeating: 0, count: n), dw = v, dl = v
        c.withUnsafeBufferPointer { c in r.withUnsafeBufferPointer { r in
            rc.withUnsafeBufferPointer { rc in rr.withUnsafeBufferPointer { rr in
                v.withUnsafeMutableBufferPointer { v in dw.withUnsafeMutableBufferPointer { dw in dl.withUnsafeMutableBufferPointer { dl in
                    if let g = rewardGaps {
                        g.withUnsafeBufferPointer { g in
                            evaluateBatch(chosen: c, rejected: r, refChosen: rc, refRejected: rr, rewardGaps: g,
                                          parameters: parameters, values: v, dChosen: dw, dRejected: dl)
                        }
                    } else {
                        evaluateBatch(chosen: c, rejected: r, refChosen: rc, refRejected: rr, rewardGaps: nil,
                                      parameters: parameters, values: v, dChosen: dw, dRejected: dl)
                    }
                } } }
            } }
        } }
        return (v, dw, dl)
    }
}

/// Finds the loss type with identity `id` in the registry and runs the visitor on its kernel.
@usableFromInline
struct KernelDispatch<V: PairLossKernelVisitor>: LossTypeVisitor {
    @usableFromInline let id: ObjectIdentifier
    @usableFromInline let parameters: LossParameters
    @usableFromInline let visitor: V
    @usableFromInline var output: V.Output?

    @inlinable
    init(id: ObjectIdentifier, parameters: LossParameters, visitor: V) {
        self.id = id
        self.parameters = parameters
        self.visitor = visitor
        output = nil
    }

    @inlinable @inline(__always)
    mutating func visit<L: PreferenceLoss>(_ type: L.Type) {
        if output == nil && ObjectIdentifier(type) == id { output = visitor.visit(L(unchecked: parameters)) }
    }
}

/// Recomputes, with the per-pair evaluation (the same bits as `Loss.evaluate`), the values
/// a batch loop left NaN: rare extreme arguments, and NaN inputs, which come out NaN again
/// (see ``PairLossKernel/batchValueMayBeDeferred``).
@usableFromInline
struct DeferredValuesVisitor: PairLossKernelVisitor {
    let batch: BatchVisitor

    @usableFromInline
    func visit<K: PairLossKernel>(_ k: K) {
        guard K.batchValueMayBeDeferred, let v = batch.values?.baseAddress else { return }
        // A plain scan; the recomputation is a call, so that LLVM does not vectorise the
        // whole evaluation into this loop under a mask (it did: a second full pass).
        for i in 0..<batch.chosen.count where v[i].isNaN { v[i] = value(k, i) }
    }

    @inline(never) @usableFromInline
    func value<K: PairLossKernel>(_ k: K, _ i: Int) -> Double {
        let c = batch.chosen, r = batch.rejected, rc = batch.refChosen, rr = batch.refRejected
        return k.evaluate(uW: c[i] - rc[i], uL: r[i] - rr[i], rewardGap: batch.rewardGaps?[i] ?? batch.defaultGap).value
    }
}

/// The batch loop, specialised per kernel.
@usableFromInline
struct BatchVisitor: PairLossKernelVisitor {
    let chosen: UnsafeBufferPointer<Double>, rejected: UnsafeBufferPointer<Double>
    let refChosen: UnsafeBufferPointer<Double>, refRejected: UnsafeBufferPointer<Double>
    let rewardGaps: UnsafeBufferPointer<Double>?
    let defaultGap: Double
    let values: UnsafeMutableBufferPointer<Double>?
    let dChosen: UnsafeMutableBufferPointer<Double>, dRejected: UnsafeMutableBufferPointer<Double>

    @usableFromInline
    func visit<K: PairLossKernel>(_ k: K) {
        // Resolved when the loop is specialised for K: other kernels compile to the loops below.
        if K.hasEightLaneKernel { return visitEightLanes(k) }
        let n = chosen.count
        guard n > 0, let c = chosen.baseAddress, let r = rejected.baseAddress,
              let rc = refChosen.baseAddress, let rr = refRejected.baseAddress,
              let dw = dChosen.baseAddress, let dl = dRejected.baseAddress else { return }
        let g = rewardGaps?.baseAddress
        let dr = defaultGap
        if let v = values?.baseAddress {
            if let g {
                for i in 0..<n {
                    let e = k.evaluateForBatch(uW: c[i] - rc[i], uL: r[i] - rr[i], rewardGap: g[i])
                    v[i] = e.value; dw[i] = e.dChosen; dl[i] = e.dRejected
                }
            } else {
                for i in 0..<n {
                    let e = k.evaluateForBatch(uW: c[i] - rc[i], uL: r[i] - rr[i], rewardGap: dr)
                    v[i] = e.value; dw[i] = e.dChosen; dl[i] = e.dRejected
                }
            }

        } else {
            if let g {
                for i in 0..<n {
                    let e = k.derivatives(uW: c[i] - rc[i], uL: r[i] - rr[i], rewardGap: g[i])
                    dw[i] = e.dChosen; dl[i] = e.dRejected
                }
            } else {
                for i in 0..<n {
                    let e = k.derivatives(uW: c[i] - rc[i], uL: r[i] - rr[i], rewardGap: dr)
                    dw[i] = e.dChosen; dl[i] = e.dRejected
                }
            }
        }
    }
}
