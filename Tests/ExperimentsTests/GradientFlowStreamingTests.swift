import Foundation
import Testing
import LossMath
import Experiments

/// Issue 13, part 5: the flow hands its points over as they are computed
/// (`GradientFlow.solve(...onPoint:)`) over a grid computed on demand (`LogSpacedTimes`),
/// so `report flow --points` needs no memory per point.
@Suite struct GradientFlowStreamingTests {
    /// The log-spaced grid: exact end points, equal steps in log t (to rounding), increasing,
    /// and the array form holds the same numbers.
    @Test func logSpacedTimesAreEqualStepsInLogT() {
        let grid = LogSpacedTimes(from: 1e-2, to: 1e6, count: 9)
        #expect(grid.count == 9 && grid.first == 1e-2 && grid.last == 1e6)
        for (k, t) in grid.enumerated() {
            // log10 t = -2 + k (8 decades in 8 steps).
            #expect(abs(log10(t) - Double(k - 2)) < 1e-14, "\(k): \(t)")
        }
        #expect(Array(grid) == GradientFlow.logSpacedTimes(from: 1e-2, to: 1e6, count: 9))
        let big = LogSpacedTimes(from: 1e-3, to: 1e8, count: 1_000_000)
        #expect(big.count == 1_000_000 && big[999_999] == 1e8 && big[0] == 1e-3 && big[500_000] > big[499_999])
    }

    /// The streamed points are the held curve's points, bit for bit, in order, for a curve
    /// that stays in rk8pd, one that goes on with BDF, and one settled at its target.
    @Test(arguments: [(Loss.sigmoid, 1e4), (.sigmoid, 1e8), (.spo, 1e8), (.ipo, 1e6), (.apoDown, 1e6)])
    func streamedPointsAreTheCurvesPoints(loss: Loss, end: Double) throws {
        let p = LossParameters(beta: 0.5, rewardGap: 1)
        let times = LogSpacedTimes(from: 1e-2, to: end, count: 301)
        let curve = try GradientFlow.solve(loss, parameters: p, times: Array(times))
        var seen: [(Int, Double, Double)] = []
        try GradientFlow.solve(loss, parameters: p, times: times) { i, t, h in seen.append((i, t, h)); return true }
        #expect(seen.map(\.0) == Array(0..<301))
        #expect(seen.map(\.1) == curve.times)
        #expect(seen.map(\.2) == curve.h)
    }

    /// `onPoint` returning false stops the integration there, without an error.
    @Test func returningFalseStops() throws {
        var count = 0
        try GradientFlow.solve(.sigmoid, parameters: LossParameters(beta: 0.5), times: LogSpacedTimes(from: 1e-2, to: 1e8, count: 1_000)) { i, _, _ in
            count += 1
            return i < 9
        }
        #expect(count == 10)
    }

    /// A loss that fails (its step budget runs out) throws after handing over the points it
    /// reached, each finite.
    @Test func aFailureThrowsAfterTheFinitePointsBeforeIt() {
        var hs: [Double] = []
        #expect(throws: ExperimentError.self) {
            try GradientFlow.solve(.sigmoid, parameters: LossParameters(beta: 0.5), times: LogSpacedTimes(from: 1e-2, to: 1e8, count: 50),
                                   maxSteps: 3) { _, _, h in hs.append(h); return true }
        }
        #expect(hs.count < 50 && hs.allSatisfy(\.isFinite))
    }
}
