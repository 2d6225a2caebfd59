import GSLKit
import RealModule

/// Where a loss's gradient in `h` vanishes.
public struct StationaryPoints: Sendable, Equatable {
    public enum Kind: String, Sendable { case minimum, maximum, inflection }
    /// Isolated zeros of `dl/dh`, increasing, each refined by Brent's method (GSL).
    public let points: [(h: Double, kind: Kind)]
    /// Set when `dl/dh == 0` on the whole half-line `h >= flatFrom` (hinge past its margin).
    public let flatFrom: Double?

    public static func == (a: Self, b: Self) -> Bool {
        a.flatFrom == b.flatFrom && a.points.count == b.points.count
            && zip(a.points, b.points).allSatisfy { $0.h == $1.h && $0.kind == $1.kind }
    }

    /// True when the gradient never vanishes: the loss keeps pushing h without end.
    public var isEmpty: Bool { points.isEmpty && flatFrom == nil }

    /// A short human description, e.g. `h = 10`, `h >= 10 (flat)`, `none`.
    public var summary: String {
        var parts = points.map { "h = \(shortNumber($0.h))" + ($0.kind == .minimum ? "" : " (\($0.kind.rawValue))") }
        if let f = flatFrom { parts.append("h >= \(shortNumber(f)) (flat)") }
        return parts.isEmpty ? "none" : parts.joined(separator: "; ")
    }
}

/// A compact decimal rendering with up to 6 significant digits, e.g. `0.1`, `1e-05`, `3`.
///
/// Valid for every finite `x`. Where the rounding scale `10^(5 - e)` (`e` the decimal
/// exponent of `x`) is not a finite double, below about 1e-303, the value is written by
/// `Double.description` (the shortest round-trip text, e.g. `1e-310`) instead of rounded.
/// A non-finite `x` gives `Double.description` (`nan`, `inf`): callers pass finite values.
///
/// See also: `CSVWriter.format` in Formats (round-trip precision for tables).
public func shortNumber(_ x: Double) -> String {
    if x == 0 { return "0" }
    guard x.isFinite else { return x.description }
    if x == x.rounded() && Swift.abs(x) < 1e9 { return String(Int(x)) }
    // A value whose shortest text already has at most 6 significant digits is written as
    // is: rounding through 10^(5 - e) can miss it by an ulp (1e300 gave 9.999999999999999e+299).
    let shortest = x.description
    let r = significantDigits(shortest) <= 6 ? x : rounded6(x)
    guard let r else { return shortest }
    var s = String(r)
    if s.hasSuffix(".0") { s.removeLast(2) }
    return s
}

/// The number of significant digits of a decimal text such as `-0.00120`, `1.5e-07`.
func significantDigits(_ text: String) -> Int {
    let mantissa = text.split(separator: "e", maxSplits: 1).first ?? ""
    let digits = mantissa.filter(\.isNumber).drop { $0 == "0" }
    return digits.reversed().drop { $0 == "0" }.count
}

/// `x` (finite, nonzero) rounded to 6 significant digits, or nil where the scale overflows.
@usableFromInline
func rounded6(_ x: Double) -> Double? {
    // 6 significant digits without Foundation: round through the exponent.
    let e = Int(Double.log10(Swift.abs(x)).rounded(.down))
    let scale = Double.pow(10, Double(5 - e))
    let r = (x * scale).rounded() / scale
    return scale.isFinite && r.isFinite ? r : nil
}

extension Loss {
    /// The stationary points in `h` of this loss (T5, T8, T10), found numerically.
    ///
    /// For a loss of `h` alone the derivative is `dl/dh`. For a loss of `u_w` and `u_l`
    /// separately, `u_w` is held at `chosenLogRatio` and `h` moves through `u_l = u_w - h`,
    /// so the derivative is `-dl/du_l`.
    ///
    /// The method scans `dl/dh` on a symmetric log-spaced grid wide enough for every
    /// target in the catalogue (|beta h| up to 1000 + 10|dr|), brackets each sign change
    /// and refines it with GSL's Brent solver. A derivative that underflows to exactly 0
    /// in a tail (sigmoid at beta h = 800) is not a stationary point: only a loss that
    /// declares ``hasFlatRegion`` can report one.
    ///
    /// - Throws: ``LossMathError`` for invalid parameters, and
    ///   ``LossMathError/stationaryPointUnresolved(loss:lower:upper:reason:)`` when GSL's solver
    ///   cannot refine a bracketed root (the loss and the bracket named).
    public func stationaryPoints(_ p: LossParameters, chosenLogRatio uW: Double = 0) throws -> StationaryPoints {
        try validate(p)
        let dr = p.rewardGap ?? 0
        func g(_ h: Double) -> Double {
            let pair = PairLogProbs(chosen: uW, rejected: uW - h, refChosen: 0, refRejected: 0)
            let e = evaluate(pair, p)
            return -e.dRejected
        }
        // The grid's half-width, capped at a finite value: with |dr| or 1/beta near the top of
        // the double range the plain formula overflows, and an infinite end would reach GSL's
        // Brent solver as the bracket [-inf, ...].
        let wanted = (1000 + 10 * Swift.abs(dr)) / p.beta + 10 * Swift.abs(uW)
        let reach = wanted.isFinite ? wanted : Double.greatestFiniteMagnitude / 4
        var grid: [Double] = [0]
        var t = 1e-8 * Swift.max(1, 1 / p.beta)
        while t < reach { grid.append(t); grid.append(-t); t *= 1.25 }
        grid.append(reach); grid.append(-reach)
        grid.sort()
        let values = grid.map(g)

        var points: [(h: Double, kind: StationaryPoints.Kind)] = []
        var flatFrom: Double? = nil
        // Last nonzero sign seen, so zeros from underflow do not fake a sign change.
        var lastIndex: Int? = nil
        for i in grid.indices {
            let v = values[i]
            // A derivative that is not finite at a grid point gives no sign: skip it.
            if !v.isFinite { continue }
            if v == 0 {
                if hasFlatRegion, flatFrom == nil, let li = lastIndex,
                   values[(i)...].allSatisfy({ $0 == 0 }) {
                    // Bisect the edge of the flat region between grid[li] and grid[i].
                    var lo = grid[li], hi = grid[i]
                    for _ in 0..<200 where hi - lo > 4 * hi.ulp {
                        let mid = lo + (hi - lo) / 2
                        if g(mid) == 0 { hi = mid } else { lo = mid }
                    }
                    flatFrom = hi
                }
                continue
            }
            if let li = lastIndex, (values[li] < 0) != (v < 0) {
                let root: Double
                do {
                    root = try RootFinder.brent(g, lower: grid[li], upper: grid[i],
                                                absoluteTolerance: 1e-300, relativeTolerance: 4e-16)
                } catch {
                    throw LossMathError.stationaryPointUnresolved(loss: self, lower: grid[li], upper: grid[i], reason: "\(error)")
                }
                let kind: StationaryPoints.Kind = values[li] < 0 ? .minimum : .maximum
                points.append((root, kind))
            }
            lastIndex = i
        }
        return StationaryPoints(points: points, flatFrom: flatFrom)
    }
}
