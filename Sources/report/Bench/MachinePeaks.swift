import _CShims
import GSLKit
import LossMath

// The machine peaks of `report bench` (section `peaks`), the inputs of the roofline model
// (Roofline.swift): memory bandwidth and the throughput of the vectorised operations.

extension BenchRunner {
    /// Machine peaks for the roofline model, measured the way the compiled code runs: the
    /// triad `a = b + s c` on 3 x 128 MiB (24 bytes per element, no write-allocate counted),
    /// and LossMath's `Elementary` functions, division and square root in loops over arrays
    /// in L1, vectorised to the width this binary was built for (Package.swift: the
    /// x86-64 baseline by default, the building machine's with `-Xcc -march=native`).
    func peaks() -> [PeakRow] {
        var rows: [PeakRow] = []
        // Bandwidth.
        let n = 1 << 24
        let a = UnsafeMutableBufferPointer<Double>.allocate(capacity: n); a.initialize(repeating: 0)
        let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: n); b.initialize(repeating: 1)
        let c = UnsafeMutableBufferPointer<Double>.allocate(capacity: n); c.initialize(repeating: 2)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        let bw = median((0..<Swift.max(repeats, 3)).map { r in
            let s = 0.5 + Double(r)
            let t0 = benchNow()
            triad(a, b, c, s)
            return Double(24 * n) / (benchNow() - t0)
        })
        rows.append(PeakRow(name: "memory bandwidth (triad)", rate: bw, unit: "B/s", note: "3 x 128 MiB arrays, 24 B per element"))
        // Operations on cached data.
        let m = 4096, rounds = 512
        let x = UnsafeMutableBufferPointer<Double>.allocate(capacity: m)
        let y = UnsafeMutableBufferPointer<Double>.allocate(capacity: m)
        defer { x.deallocate(); y.deallocate() }
        let rng = RandomGenerator(seed: 99)
        for i in 0..<m { x[i] = -3 + 6 * rng.uniform(); y[i] = 0 }
        func rate(_ name: String, _ body: () -> Void) -> Double {
            median((0..<Swift.max(repeats, 3)).map { _ in
                let t0 = benchNow()
                for _ in 0..<rounds { body() }
                return Double(m * rounds) / (benchNow() - t0)
            })
        }
        let rExp = rate("exp") { mapExp(x, y) }
        let rLog1p = rate("log1p") { mapLog1p(x, y) }
        let rLog = rate("log") { mapLog(x, y) }
        let rExpm1 = rate("expm1") { mapExpm1(x, y) }
        let rDiv = rate("div") { mapDiv(x, y) }
        let rSqrt = rate("sqrt") { mapSqrt(x, y) }
        // The same operations in explicit eight-lane vectors (SIMD8<Double>: one zmm register
        // in the native build), as the fused tabular step runs them.
        let rExp8 = rate("exp8") { mapExp8(x, y) }
        let rDiv8 = rate("div8") { mapDiv8(x, y) }
        let rSqrt8 = rate("sqrt8") { mapSqrt8(x, y) }
        // Additions and multiplications: the arithmetic throughput of 4-lane and 8-lane
        // vectors on registers (independent chains, no memory), and the scalar scatter-add
        // of the trainer's gradient rows (on 1024 elements in L1).
        let chainRounds = m * rounds / 64
        let sink = UnsafeMutablePointer<Double>.allocate(capacity: 1)
        sink.initialize(to: 0)
        defer { sink.deallocate() }
        func flopRate(_ body: () -> Void, opsPerRound: Double) -> Double {
            median((0..<Swift.max(repeats, 3)).map { _ in
                let t0 = benchNow()
                body()
                return opsPerRound * Double(chainRounds) / (benchNow() - t0)
            })
        }
        let rFlop = flopRate({ mulAddChains4(chainRounds, sink) }, opsPerRound: 2 * 4 * 8)
        let rFlop8 = flopRate({ mulAddChains8(chainRounds, sink) }, opsPerRound: 2 * 8 * 8)
        let slots = UnsafeMutableBufferPointer<Double>.allocate(capacity: 64)
        slots.initialize(repeating: 0)
        let ms = 1024
        let index = UnsafeMutableBufferPointer<Int32>.allocate(capacity: ms)
        defer { slots.deallocate(); index.deallocate() }
        for i in 0..<ms { index[i] = Int32(Swift.min(63, Int(64 * rng.uniform()))) }
        let xs = UnsafeMutableBufferPointer(rebasing: x[0..<ms])
        let rScatter = 2 * Double(ms) / Double(m) * rate("scatter") { scatterAdd(xs, index, slots) }
        let keep = finiteSum(y) + finiteSum(slots) + (sink.pointee.isFinite ? 0 : 1)
        let note = "Elementary, vectorised loop, data in L1"
        rows.append(PeakRow(name: "exp (vectorised)", rate: rExp, unit: "op/s", note: note))
        rows.append(PeakRow(name: "log1p (vectorised)", rate: rLog1p, unit: "op/s", note: note))
        rows.append(PeakRow(name: "log (vectorised)", rate: rLog, unit: "op/s", note: note))
        rows.append(PeakRow(name: "expm1 (vectorised)", rate: rExpm1, unit: "op/s", note: note))
        rows.append(PeakRow(name: "division (vectorised)", rate: rDiv, unit: "op/s", note: "y = (y + 1) / (x + 4), data in L1"))
        rows.append(PeakRow(name: "square root (vectorised)", rate: rSqrt, unit: "op/s", note: "y = sqrt(|x|) with llvm.sqrt (_CShims); checksum \(g3(keep))"))
        let note8 = "explicit SIMD8<Double> loop (8 lanes), data in L1"
        rows.append(PeakRow(name: "exp, 8 lanes", rate: rExp8, unit: "op/s", note: note8))
        rows.append(PeakRow(name: "division, 8 lanes", rate: rDiv8, unit: "op/s", note: note8))
        rows.append(PeakRow(name: "square root, 8 lanes", rate: rSqrt8, unit: "op/s", note: note8))
        rows.append(PeakRow(name: "add and multiply (vectorised)", rate: rFlop, unit: "op/s", note: "8 independent SIMD4 chains a = a c + d on registers (lane operations)"))
        rows.append(PeakRow(name: "add and multiply, 8 lanes", rate: rFlop8, unit: "op/s", note: "8 independent SIMD8 chains a = a c + d on registers (lane operations)"))
        rows.append(PeakRow(name: "scatter-add (scalar)", rate: rScatter, unit: "op/s", note: "g[i_k] += 0.5 x_k, 1024 k into 64 slots (two operations), as the gradient rows"))
        return rows
    }

    /// The peaks with exp, division and square root at their explicit eight-lane rates
    /// (the fused tabular step's form of those loops), the others as ``peaks(from:)``.
    static func eightLanePeaks(from rows: [PeakRow]) -> Peaks? {
        func r(_ name: String) -> Double? { rows.first { $0.name == name }?.rate }
        guard var p = peaks(from: rows), let e = r("exp, 8 lanes"), let d = r("division, 8 lanes"),
              let s = r("square root, 8 lanes") else { return nil }
        p.exp = Swift.max(p.exp, e)
        p.div = Swift.max(p.div, d)
        p.sqrt = Swift.max(p.sqrt, s)
        if let f = r("add and multiply, 8 lanes") { p.flop = Swift.max(p.flop.isFinite ? p.flop : 0, f) }
        return p
    }

    static func peaks(from rows: [PeakRow]) -> Peaks? {
        func r(_ prefix: String) -> Double? { rows.first { $0.name.hasPrefix(prefix) }?.rate }
        guard let bw = r("memory"), let e = r("exp ("), let l = r("log1p"), let lg = r("log ("), let em = r("expm1"),
              let d = r("division"), let s = r("square") else { return nil }
        var p = Peaks(bandwidth: bw, exp: e, log1p: l, log: lg, expm1: em, div: d, sqrt: s)
        // Absent from older outputs: then additions and multiplications cost nothing.
        if let f = r("add and multiply (") { p.flop = f }
        if let f = r("scatter-add") { p.scalarFlop = f }
        return p
    }
}

// MARK: - Kernels of the peak measurements (not inlined into the timing closures)

@inline(never)
func triad(_ a: UnsafeMutableBufferPointer<Double>, _ b: UnsafeMutableBufferPointer<Double>, _ c: UnsafeMutableBufferPointer<Double>, _ s: Double) {
    guard let pa = a.baseAddress, let pb = b.baseAddress, let pc = c.baseAddress else { return }
    for i in 0..<a.count { pa[i] = pb[i] + s * pc[i] }
}

@inline(never)
func mapExp(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    guard let px = x.baseAddress, let py = y.baseAddress else { return }
    for i in 0..<x.count { py[i] = Elementary.exp(px[i]) }
}

@inline(never)
func mapLog1p(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    guard let px = x.baseAddress, let py = y.baseAddress else { return }
    for i in 0..<x.count { py[i] = Elementary.log(onePlus: Swift.abs(px[i])) }
}

@inline(never)
func mapDiv(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    guard let px = x.baseAddress, let py = y.baseAddress else { return }
    for i in 0..<x.count { py[i] = (py[i] + 1) / (px[i] + 4) }
}

@inline(never)
func mapLog(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    guard let px = x.baseAddress, let py = y.baseAddress else { return }
    for i in 0..<x.count { py[i] = Elementary.log(Swift.abs(px[i]) + 0.5) }
}

@inline(never)
func mapExpm1(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    guard let px = x.baseAddress, let py = y.baseAddress else { return }
    for i in 0..<x.count { py[i] = Elementary.expMinusOne(px[i]) }
}
/// The square root the trainer uses (`intrinsicSquareRoot` in Experiments, through _CShims),
/// so the peak measures the instruction Adam's update runs.
@inline(never)
func mapSqrt(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    guard let px = x.baseAddress, let py = y.baseAddress else { return }
    for i in 0..<x.count { py[i] = cshims_sqrt(Swift.abs(px[i])) }
}

@inline(never)
func mapExp8(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    guard let px = x.baseAddress, let py = y.baseAddress else { return }
    var i = 0
    while i + 8 <= x.count {
        let v = UnsafeRawPointer(px + i).loadUnaligned(as: SIMD8<Double>.self)
        UnsafeMutableRawPointer(py + i).storeBytes(of: Elementary.exp(v), as: SIMD8<Double>.self)
        i += 8
    }
    while i < x.count { py[i] = Elementary.exp(px[i]); i += 1 }
}

@inline(never)
func mapDiv8(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    guard let px = x.baseAddress, let py = y.baseAddress else { return }
    var i = 0
    while i + 8 <= x.count {
        let a = UnsafeRawPointer(px + i).loadUnaligned(as: SIMD8<Double>.self)
        let b = UnsafeRawPointer(py + i).loadUnaligned(as: SIMD8<Double>.self)
        UnsafeMutableRawPointer(py + i).storeBytes(of: (b + 1) / (a + 4), as: SIMD8<Double>.self)
        i += 8
    }
    while i < x.count { py[i] = (py[i] + 1) / (px[i] + 4); i += 1 }
}

/// Square roots of eight lanes at a time through the C shim, lane by lane (LLVM joins them
/// into one vector square root, as in the trainer's Adam update).
@inline(never)
func mapSqrt8(_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    guard let px = x.baseAddress, let py = y.baseAddress else { return }
    var i = 0
    while i + 8 <= x.count {
        var v = UnsafeRawPointer(px + i).loadUnaligned(as: SIMD8<Double>.self)
        v = SIMD8(cshims_sqrt(Swift.abs(v[0])), cshims_sqrt(Swift.abs(v[1])), cshims_sqrt(Swift.abs(v[2])), cshims_sqrt(Swift.abs(v[3])),
                  cshims_sqrt(Swift.abs(v[4])), cshims_sqrt(Swift.abs(v[5])), cshims_sqrt(Swift.abs(v[6])), cshims_sqrt(Swift.abs(v[7])))
        UnsafeMutableRawPointer(py + i).storeBytes(of: v, as: SIMD8<Double>.self)
        i += 8
    }
    while i < x.count { py[i] = cshims_sqrt(Swift.abs(px[i])); i += 1 }
}

/// `rounds` steps of eight independent chains `a = a c + d` on four-lane vectors (registers
/// only); adds their sum to `out` (a store, so that the call is neither removed nor moved out
/// of the timed region).
@inline(never)
func mulAddChains4(_ rounds: Int, _ out: UnsafeMutablePointer<Double>) {
    let c = SIMD4<Double>(repeating: 0.999_999), d = SIMD4<Double>(repeating: 1e-9)
    var a0 = SIMD4<Double>(repeating: 1), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7
    for _ in 0..<rounds {
        a0 = a0 * c + d; a1 = a1 * c + d; a2 = a2 * c + d; a3 = a3 * c + d
        a4 = a4 * c + d; a5 = a5 * c + d; a6 = a6 * c + d; a7 = a7 * c + d
    }
    out.pointee += (((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))).sum()
}

/// ``mulAddChains4(_:)`` on eight-lane vectors (one zmm register each in the native build).
@inline(never)
func mulAddChains8(_ rounds: Int, _ out: UnsafeMutablePointer<Double>) {
    let c = SIMD8<Double>(repeating: 0.999_999), d = SIMD8<Double>(repeating: 1e-9)
    var a0 = SIMD8<Double>(repeating: 1), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7
    for _ in 0..<rounds {
        a0 = a0 * c + d; a1 = a1 * c + d; a2 = a2 * c + d; a3 = a3 * c + d
        a4 = a4 * c + d; a5 = a5 * c + d; a6 = a6 * c + d; a7 = a7 * c + d
    }
    out.pointee += (((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))).sum()
}

/// `g[index[k]] += 0.5 x[k]`: the scalar scatter-add of the trainer's gradient rows (indices
/// may repeat, so it does not vectorise).
@inline(never)
func scatterAdd(_ x: UnsafeMutableBufferPointer<Double>, _ index: UnsafeMutableBufferPointer<Int32>,
                _ g: UnsafeMutableBufferPointer<Double>) {
    guard let px = x.baseAddress, let pi = index.baseAddress, let pg = g.baseAddress else { return }
    for k in 0..<Swift.min(x.count, index.count) { pg[Int(pi[k])] += 0.5 * px[k] }
}
