import Foundation
import LossMath
import Testing

/// Issue 13's last GSL leak: extreme targets and loss parameters end with a message that
/// names the option or the loss, never GSL's internals alone.
@Suite struct ExtremeTargetTests {
    @Test func overflowingTargetIsAUsageError() throws {
        let r = try ReportCommandTests.run(["gradients", "--reward-gap", "8.98e307"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--reward-gap") && r.stderr.contains("h* = dr/beta"))
        // With a larger beta the same gap is fine, and nothing non-finite is printed.
        let ok = try ReportCommandTests.run(["gradients", "--beta", "10", "--reward-gap", "8.98e307", "--format", "csv"])
        #expect(ok.status == 0)
        #expect(!ok.stdout.lowercased().contains("inf") && !ok.stdout.lowercased().contains("nan"))
    }

    @Test func unresolvableStationaryPointNamesTheLoss() throws {
        let p = LossParameters(beta: 0.1, values: ["discopop_tau": 1e-300])
        #expect(throws: LossMathError.self) { try Loss.discopop.stationaryPoints(p) }
        do {
            _ = try Loss.discopop.stationaryPoints(p)
        } catch let e as LossMathError {
            guard case .stationaryPointUnresolved(let loss, _, _, _) = e else {
                Issue.record("wrong error \(e)"); return
            }
            #expect(loss == .discopop)
            #expect(e.description.contains("discopop_tau"))
        }
        let r = try ReportCommandTests.run(["gradients", "--losses", "discopop", "--loss-param", "discopop_tau=1e-300"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("discopop") && r.stderr.contains("discopop_tau"))
    }
}
