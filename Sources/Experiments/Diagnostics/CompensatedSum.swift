/// A running sum with Neumaier's compensation: the error does not grow with the number of
/// terms (about one rounding of the result, for sums without heavy cancellation), so the
/// mean of 10^7 values keeps its digits.
///
/// See also: ``LossDiagnostics``.
public struct CompensatedSum: Sendable {
    private var sum = 0.0
    private var compensation = 0.0

    public init() {}

    public mutating func add(_ x: Double) { addTerm(x) }

    mutating func addTerm(_ x: Double) {
        let t = sum + x
        if Swift.abs(sum) >= Swift.abs(x) { compensation += (sum - t) + x } else { compensation += (x - t) + sum }
        sum = t
    }

    /// The compensated total.
    public var value: Double { sum + compensation }
}
