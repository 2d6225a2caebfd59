// The batch loop of kernels that have their own eight-lane forms (see
// `PairLossKernel.hasEightLaneKernel`): eight pairs as one `SIMD8<Double>` (one zmm register
// in the native build, where LLVM vectorises the scalar kernels at 256 bits only), two such
// independent blocks per step, so that the second block's long dependency chain (a
// polynomial of degree 11 or 18 after an exponential) runs while the first one waits
// (rpo_bwd_kl: one block a step ran no faster than the 256-bit scalar loop, measured).
// The last `n mod 16` pairs are copied into a sixteen-pair scratch block padded with zeros
// and run through the same loop; the padding's results are dropped. The lanes are
// independent, so pair i gets the scalar kernel's bits wherever it sits (tested at every
// tail length: Tests/LossMathTests/PairKernelTests.swift).
//
// Each loop is its own non-inlined function, so that no other code shares it with the
// kernel: SIMD8's floating-point operations are lane loops that LLVM's SLP vectoriser joins
// into zmm instructions only once the whole kernel is inlined into the loop body, and a
// copy of the kernel for the tail in the same function left log1p a call that ran at 128
// bits (slower than the 256-bit scalar loop, measured). The two blocks of a step are
// inlined in full (checked in the disassembly of the native build: no calls in the loops).

extension BatchVisitor {
    /// ``visit(_:)`` for a kernel with `K.hasEightLaneKernel`: the same outputs, through
    /// the kernel's eight-lane `evaluateForBatch` (or `derivatives` when `values` is nil).
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
        let full = n - n % 16
        if full > 0 { run(EightLaneBlock(c: c, r: r, rc: rc, rr: rr, g: g, v: v, dw: dw, dl: dl), full) }
        let m = n - full
        guard m > 0 else { return }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 128) { scratch in
            guard let s = scratch.baseAddress else { return }
            s.initialize(repeating: 0, count: 128)
            (s + 0).update(from: c + full, count: m)
            (s + 16).update(from: r + full, count: m)
            (s + 32).update(from: rc + full, count: m)
            (s + 48).update(from: rr + full, count: m)
            if let g { (s + 64).update(from: g + full, count: m) }
            let block = EightLaneBlock(c: s, r: s + 16, rc: s + 32, rr: s + 48, g: g == nil ? nil : UnsafePointer(s + 64),
                                       v: v == nil ? nil : s + 80, dw: s + 96, dl: s + 112)
            run(block, 16)
            if let v { (v + full).update(from: s + 80, count: m) }
            (dw + full).update(from: s + 96, count: m)
            (dl + full).update(from: s + 112, count: m)
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

/// Values and derivatives of `pairs` (a multiple of 16) pairs from `b`, eight at a time,
/// through the kernel's eight-lane `evaluateForBatch` (its `evaluate` unless the kernel defers
/// extreme values, which `Loss.evaluateBatch` then fills in as for the scalar loop).
@inline(never)
func eightLaneValues<K: PairLossKernel>(_ k: K, _ b: EightLaneBlock, pairs: Int, defaultGap: Double) {
    guard let v = b.v else { return }
    let gapEverywhere = SIMD8<Double>(repeating: defaultGap)
    var i = 0
    while i < pairs {
        // Two independent blocks per step: the kernel is one long dependency chain, and the
        // second block's chain runs while the first waits.
        let gi = b.g.map { load($0 + i) } ?? gapEverywhere, gj = b.g.map { load($0 + i + 8) } ?? gapEverywhere
        let e = k.evaluateForBatch(uW: load(b.c + i) - load(b.rc + i), uL: load(b.r + i) - load(b.rr + i), rewardGap: gi)
        let f = k.evaluateForBatch(uW: load(b.c + i + 8) - load(b.rc + i + 8), uL: load(b.r + i + 8) - load(b.rr + i + 8),
                                   rewardGap: gj)
        store(e.value, v + i)
        store(e.dChosen, b.dw + i)
        store(e.dRejected, b.dl + i)
        store(f.value, v + i + 8)
        store(f.dChosen, b.dw + i + 8)
        store(f.dRejected, b.dl + i + 8)
        i += 16
    }
}

/// Derivatives of `pairs` (a multiple of 16) pairs from `b`, two blocks of eight at a time.
@inline(never)
func eightLaneDerivatives<K: PairLossKernel>(_ k: K, _ b: EightLaneBlock, pairs: Int, defaultGap: Double) {
    let gapEverywhere = SIMD8<Double>(repeating: defaultGap)
    var i = 0
    while i < pairs {
        let gi = b.g.map { load($0 + i) } ?? gapEverywhere, gj = b.g.map { load($0 + i + 8) } ?? gapEverywhere
        let d = k.derivatives(uW: load(b.c + i) - load(b.rc + i), uL: load(b.r + i) - load(b.rr + i), rewardGap: gi)
        let f = k.derivatives(uW: load(b.c + i + 8) - load(b.rc + i + 8), uL: load(b.r + i + 8) - load(b.rr + i + 8),
                              rewardGap: gj)
        store(d.dChosen, b.dw + i)
        store(d.dRejected, b.dl + i)
        store(f.dChosen, b.dw + i + 8)
        store(f.dRejected, b.dl + i + 8)
        i += 16
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
