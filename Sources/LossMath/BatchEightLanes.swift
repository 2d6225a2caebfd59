// The batch loop of kernels that have their own eight-lane forms (see
// `PairLossKernel.hasEightLaneKernel`): eight pairs per step as one `SIMD8<Double>` (one zmm
// register in the native build, where LLVM vectorises the scalar kernels at 256 bits only).
// The last `n mod 8` pairs are copied into an eight-pair scratch block padded with zeros and
// run through the same loop; the padding's results are dropped. The lanes are independent,
// so pair i gets the scalar kernel's bits wherever it sits (tested at every tail length:
// Tests/LossMathTests/PairKernelTests.swift).
//
// Each loop is its own non-inlined function, so that the kernel appears once in it: SIMD8's
// floating-point operations are lane loops that LLVM's SLP vectoriser joins into zmm
// instructions only once the whole kernel is inlined into the loop body, and a second copy
// of the kernel in the same function (for the tail) left log1p a call that ran at 128 bits
// (slower than the 256-bit scalar loop, measured).

extension BatchVisitor {
    /// ``visit(_:)`` for a kernel with `K.hasEightLaneKernel`: the same outputs, through
    /// the kernel's eight-lane `evaluate` (or `derivatives` when `values` is nil).
    func visitEightLanes<K: PairLossKernel>(_ k: K) {
        let n = chosen.count
        guard n > 0, let c = chosen.baseAddress, let r = rejected.baseAddress,
              let rc = refChosen.baseAddress, let rr = refRejected.baseAddress,
              let dw = dChosen.baseAddress, let dl = dRejected.baseAddress else { return }
        let g = rewardGaps?.baseAddress, v = values?.baseAddress
        let gap = defaultGap
        func run(_ block: EightLaneBlock, _ pairs: Int) {
            if block.v == nil { eightLaneDerivatives(k, block, pairs: pairs, defaultGap: gap) }
            else { eightLaneValues(k, block, pairs: pairs, defaultGap: gap) }
        }
        let full = n - n % 8
        if full > 0 { run(EightLaneBlock(c: c, r: r, rc: rc, rr: rr, g: g, v: v, dw: dw, dl: dl), full) }
        let m = n - full
        guard m > 0 else { return }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 64) { scratch in
            guard let s = scratch.baseAddress else { return }
            s.initialize(repeating: 0, count: 64)
            (s + 0).update(from: c + full, count: m)
            (s + 8).update(from: r + full, count: m)
            (s + 16).update(from: rc + full, count: m)
            (s + 24).update(from: rr + full, count: m)
            if let g { (s + 32).update(from: g + full, count: m) }
            let block = EightLaneBlock(c: s, r: s + 8, rc: s + 16, rr: s + 24, g: g == nil ? nil : UnsafePointer(s + 32),
                                       v: v == nil ? nil : s + 40, dw: s + 48, dl: s + 56)
            run(block, 8)
            if let v { (v + full).update(from: s + 40, count: m) }
            (dw + full).update(from: s + 48, count: m)
            (dl + full).update(from: s + 56, count: m)
        }
    }
}

/// The buffers of an eight-lane loop: inputs, optional per-pair gaps, optional values,
/// derivatives.
struct EightLaneBlock {
    let c: UnsafePointer<Double>, r: UnsafePointer<Double>, rc: UnsafePointer<Double>, rr: UnsafePointer<Double>
    let g: UnsafePointer<Double>?
    let v: UnsafeMutablePointer<Double>?
    let dw: UnsafeMutablePointer<Double>, dl: UnsafeMutablePointer<Double>
}

/// Values and derivatives of `pairs` (a multiple of 8) pairs from `b`, eight at a time.
@inline(never)
func eightLaneValues<K: PairLossKernel>(_ k: K, _ b: EightLaneBlock, pairs: Int, defaultGap: Double) {
    guard let v = b.v else { return }
    let gapEverywhere = SIMD8<Double>(repeating: defaultGap)
    var i = 0
    while i < pairs {
        let e = k.evaluate(uW: load(b.c + i) - load(b.rc + i), uL: load(b.r + i) - load(b.rr + i),
                           rewardGap: b.g.map { load($0 + i) } ?? gapEverywhere)
        store(e.value, v + i)
        store(e.dChosen, b.dw + i)
        store(e.dRejected, b.dl + i)
        i += 8
    }
}

/// Derivatives of `pairs` (a multiple of 8) pairs from `b`, eight at a time.
@inline(never)
func eightLaneDerivatives<K: PairLossKernel>(_ k: K, _ b: EightLaneBlock, pairs: Int, defaultGap: Double) {
    let gapEverywhere = SIMD8<Double>(repeating: defaultGap)
    var i = 0
    while i < pairs {
        let d = k.derivatives(uW: load(b.c + i) - load(b.rc + i), uL: load(b.r + i) - load(b.rr + i),
                              rewardGap: b.g.map { load($0 + i) } ?? gapEverywhere)
        store(d.dChosen, b.dw + i)
        store(d.dRejected, b.dl + i)
        i += 8
    }
}

/// Eight doubles from `p` (no alignment needed).
@inline(__always)
private func load(_ p: UnsafePointer<Double>) -> SIMD8<Double> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
}

@inline(__always)
private func store(_ x: SIMD8<Double>, _ p: UnsafeMutablePointer<Double>) {
    UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD8<Double>.self)
}
