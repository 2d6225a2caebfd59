import RealModule

/// `count >= 2` times from `start > 0` to `end > start`, equally spaced in `log t`, computed
/// on demand: `t_i = exp(log start + (log end - log start) i / (count - 1))`, with `t_0 = start`
/// and `t_{count-1} = end` exactly.
///
/// A collection of `count` elements that stores three numbers, so a grid of 10^6 times
/// costs no memory (``GradientFlow/solve(_:parameters:h0:times:relativeTolerance:absoluteTolerance:maxSteps:onPoint:)``
/// reads it once, in order). `Array(LogSpacedTimes(...))` is
/// ``GradientFlow/logSpacedTimes(from:to:count:)``, bit for bit.
///
/// See also: ``GradientFlow``.
public struct LogSpacedTimes: RandomAccessCollection, Sendable, Hashable {
    public let start: Double
    public let end: Double
    public let count: Int
    private let logStart: Double
    private let logEnd: Double

    /// The grid; needs `0 < start < end` and `count >= 2` (a precondition: callers validate
    /// their options first).
    public init(from start: Double, to end: Double, count: Int) {
        precondition(start > 0 && end > start && count >= 2, "LogSpacedTimes needs 0 < start < end and count >= 2")
        self.start = start
        self.end = end
        self.count = count
        logStart = Double.log(start)
        logEnd = Double.log(end)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    /// `t_i`; `i` in `0..<count` (a precondition).
    public subscript(i: Int) -> Double {
        precondition(i >= 0 && i < count, "LogSpacedTimes: index \(i) outside 0..<\(count)")
        if i == 0 { return start }
        if i == count - 1 { return end }
        return Double.exp(logStart + (logEnd - logStart) * Double(i) / Double(count - 1))
    }
}
