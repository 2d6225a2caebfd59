import Testing
import LossMath
@testable import Experiments
#if canImport(Glibc)
import Glibc
#endif

@Test func scratchFlow() throws {
    guard getenv("EXPLORE3") != nil else { return }
    let times = GradientFlow.logSpacedTimes(from: 1e-2, to: 1e4, count: 25)
    for loss in Loss.allCases {
        print("start", loss); fflush(nil)
        let p = LossParameters(beta: 0.5, labelSmoothing: 0.1, rewardGap: 1)
        let c = try GradientFlow.solve(loss, parameters: p, times: times)
        print(loss, c.h.last!); fflush(nil)
    }
}
