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
        let keep = finiteSum(y)
        let note = "Elementary, vectorised loop, data in L1"
        rows.append(PeakRow(name: "exp (vectorised)", rate: rExp, unit: "op/s", note: note))
        rows.append(PeakRow(name: "log1p (vectorised)", rate: rLog1p, unit: "op/s", note: note))
        rows.append(PeakRow(name: "log (vectorised)", rate: rLog, unit: "op/s", note: note))
        rows.append(PeakRow(name: "expm1 (vectorised)", rate: rExpm1, unit: "op/s", note: note))
        rows.append(PeakRow(name: "division (vectorised)", rate: rDiv, unit: "op/s", note: "y = (y + 1) / (x + 4), data in L1"))
        rows.append(PeakRow(name: "square root (vectorised)", rate: rSqrt, unit: "op/s", note: "y = sqrt(|x|) with llvm.sqrt (_CShims); checksum \(g3(keep))"))
        return rows
    }

    static func peaks(from rows: [PeakRow]) -> Peaks? {
        func r(_ prefix: String) -> Double? { rows.first { $0.name.hasPrefix(prefix) }?.rate }
        guard let bw = r("memory"), let e = r("exp ("), let l = r("log1p"), let lg = r("log ("), let em = r("expm1"),
              let d = r("division"), let s = r("square") else { return nil }
        return Peaks(bandwidth: bw, exp: e, log1p: l, log: lg, expm1: em, div: d, sqrt: s)
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
