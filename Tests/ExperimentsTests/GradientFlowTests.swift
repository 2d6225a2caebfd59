import Testing
#if canImport(Glibc)
import Glibc
#endif
import GSLKit
import LossMath
import PropertyBased
import Experiments

/// T11: the two-response gradient flow.
@Suite struct GradientFlowTests {

    /// The rk8pd solution against DPO's exact solution h + e^{beta h}/beta = 2 beta t + const,
    /// for random (beta, h0) drawn from a fixed GSL seed.
    @Test func dpoMatchesItsClosedForm() throws {
        let g = RandomGenerator(seed: 2024)
        for _ in 0..<8 {
            let beta = 0.05 + 2.95 * g.uniform(), h0 = -4 + 8 * g.uniform()
            let times = GradientFlow.logSpacedTimes(from: 1e-3, to: 1e6, count: 37)
            let curve = try GradientFlow.solve(.sigmoid, parameters: LossParameters(beta: beta), h0: h0, times: times)
            for (t, h) in zip(times, curve.h) {
                let exact = try GradientFlow.dpoClosedForm(beta: beta, h0: h0, time: t)
                #expect(close(h, exact, abs: 1e-8, rel: 1e-8), "beta \(beta), h0 \(h0), t \(t): ODE \(h), exact \(exact)")
                // The first integral itself, independent of the root finder.
                let inv = GradientFlow.dpoInvariant(h: h, beta: beta) - GradientFlow.dpoInvariant(h: h0, beta: beta)
                #expect(close(inv, 2 * beta * t, abs: 1e-8, rel: 1e-7))
            }
        }
    }

    @Test(arguments: [0.1, 0.5, 2.0])
    func dpoClosedFormAtSeveralBetas(beta: Double) throws {
        let times = GradientFlow.logSpacedTimes(from: 1e-2, to: 1e7, count: 28)
        let curve = try GradientFlow.solve(.sigmoid, parameters: LossParameters(beta: beta), times: times)
        for (t, h) in zip(times, curve.h) {
            #expect(close(h, try GradientFlow.dpoClosedForm(beta: beta, h0: 0, time: t), abs: 1e-8, rel: 1e-8))
        }
        // h grows like (1/beta) log t without end: the slope of h against ln t over the last
        // decades is 1/beta, and h keeps increasing.
        let late = zip(times, curve.h).filter { $0.0 >= 1e4 }
        let fit = try LinearFit(x: late.map { log($0.0) }, y: late.map(\.1))
        #expect(close(fit.slope, 1 / beta, rel: 0.02), "slope \(fit.slope) vs 1/beta = \(1 / beta)")
        for (a, b) in zip(curve.h, curve.h.dropFirst()) { #expect(b > a) }
    }

    /// spo: h(t) = h* + (h0 - h*) e^{-4 beta^2 t}, exponential convergence to dr/beta.
    @Test(arguments: [(0.5, 1.0, 0.0), (1.0, -2.0, 3.0), (0.2, 0.7, -1.0)])
    func spoConvergesExponentially(beta: Double, dr: Double, h0: Double) throws {
        let times = GradientFlow.logSpacedTimes(from: 1e-3, to: 30 / (4 * beta * beta), count: 40)
        let curve = try GradientFlow.solve(.spo, parameters: LossParameters(beta: beta, rewardGap: dr), h0: h0, times: times)
        #expect(curve.target == dr / beta)
        for (t, h) in zip(times, curve.h) {
            let exact = GradientFlow.spoClosedForm(beta: beta, rewardGap: dr, h0: h0, time: t)
            #expect(close(h, exact, abs: 1e-9 * Swift.max(1, Swift.abs(dr / beta))), "t \(t): \(h) vs \(exact)")
        }
        #expect(Swift.abs(curve.h.last! - dr / beta) < 1e-9 * Swift.max(1, Swift.abs(h0 - dr / beta)))
    }

    /// spo_bt converges exponentially too, at the linearised rate 2 beta^2 sigma(dr) sigma(-dr):
    /// the slope of log|h - h*| against t, by least squares.
    @Test func spoBTConvergesAtTheLinearisedRate() throws {
        let beta = 0.8, dr = 1.2
        let rate = 2 * beta * beta * LossMath.sigmoid(dr) * LossMath.sigmoid(-dr)
        let times = (0...40).map { 10 / rate + Double($0) * 0.25 / rate }
        let curve = try GradientFlow.solve(.spoBT, parameters: LossParameters(beta: beta, rewardGap: dr), h0: -2, times: times)
        let fit = try LinearFit(x: times, y: curve.h.map { log(Swift.abs($0 - dr / beta)) })
        #expect(close(-fit.slope, rate, rel: 1e-3), "rate \(-fit.slope) vs \(rate)")
    }

    /// For every loss of h alone, the flow velocity is -2 l'(h); checked against GSL's
    /// numerical derivative of the loss value.
    @Test func velocityIsMinusTwiceTheSlope() async {
        let losses = Loss.allCases.filter { $0.dependsOnLogitsDifferenceOnly && $0 != .hinge }
        await propertyCheck(count: 40, input: Gen.double(in: -6...6), Gen.double(in: 0.1...2)) { h, beta in
            for loss in losses {
                let p = LossParameters(beta: beta, labelSmoothing: 0.1, rewardGap: 0.8)
                let numeric = try NumericalDerivative.central({ hh in
                    loss.evaluate(PairLogProbs(chosen: hh, rejected: 0, refChosen: 0, refRejected: 0), p).value
                }, at: h, step: 1e-3)
                let v = GradientFlow.velocity(loss, h: h, parameters: p)
                #expect(close(v, -2 * numeric.value, abs: 1e-7 + 10 * numeric.absoluteError, rel: 1e-6), "\(loss) at h \(h)")
            }
        }
    }

    /// Every loss in the catalogue integrates (a smoke test over the whole catalogue), and
    /// the target losses end at h*.
    @Test func everyLossIntegrates() throws {
        let beta = 0.5, dr = 1.0
        let times = GradientFlow.logSpacedTimes(from: 1e-2, to: 1e4, count: 25)
        for loss in Loss.allCases {
            let p = LossParameters(beta: beta, labelSmoothing: 0.1, rewardGap: dr)
            let curve = try GradientFlow.solve(loss, parameters: p, times: times)
            #expect(curve.h.allSatisfy { $0.isFinite }, "\(loss)")
            if [.spo, .spoBT, .rpoSq, .rpoBackwardKL, .rpoForwardKL, .spoAsym].contains(loss) {
                #expect(Swift.abs(curve.h.last! - dr / beta) < 1e-6, "\(loss) ends at \(curve.h.last!)")
            }
        }
    }

    @Test func invalidTimesAndParametersThrow() {
        #expect(experimentError { _ = try GradientFlow.solve(.sigmoid, parameters: LossParameters(beta: 1), times: [2, 1]) }?.parameterName == "times")
        #expect(experimentError { _ = try GradientFlow.solve(.sigmoid, parameters: LossParameters(beta: -1), times: [1]) } == .loss(.invalidBeta(-1)))
    }
}

/// Issue 13: the flow at extreme beta, integrated in s = beta h and tau = (rate at h0) t.
@Suite struct GradientFlowExtremeBetaTests {
    /// DPO against its first integral and spo against its closed form, from beta 1e-150 to 1e150.
    @Test(arguments: [1e-150, 1e-50, 1e-5, 1e5, 1e50, 1e100, 1e150])
    func dpoAndSpoAtExtremeBeta(beta: Double) throws {
        let times = GradientFlow.logSpacedTimes(from: 1e-2, to: 1e6, count: 9)
        let dpo = try GradientFlow.solve(.sigmoid, parameters: LossParameters(beta: beta), times: times, maxSteps: 100_000)
        for (t, h) in zip(times, dpo.h) {
            // DPO's first integral in s = beta h: s + e^s = 1 + 2 beta^2 t from h0 = 0, written
            // s + expm1(s) = 2 beta^2 t so that it holds at tiny s too.
            let s = beta * h
            #expect(close(s + expm1(s), 2 * beta * beta * t, rel: 1e-8), "beta \(beta), t \(t): s \(s)")
        }
        let spo = try GradientFlow.solve(.spo, parameters: LossParameters(beta: beta, rewardGap: 1), times: times, maxSteps: 100_000)
        for (t, h) in zip(times, spo.h) {
            let exact = GradientFlow.spoClosedForm(beta: beta, rewardGap: 1, h0: 0, time: t)
            #expect(close(h, exact, abs: 1e-9 / beta, rel: 1e-8), "beta \(beta), t \(t): ODE \(h), exact \(exact)")
        }
    }

    /// A loss of u_w and u_l separately sees h only through log sigma(+-h): at beta 1e100 it
    /// is refused with the rule, not integrated into a wrong curve.
    @Test func aSeparateLossIsRefusedWhereHIsNotResolved() {
        #expect(throws: ExperimentError.self) {
            _ = try GradientFlow.solve(.apoDown, parameters: LossParameters(beta: 1e100), times: [1, 2], maxSteps: 1000)
        }
        #expect((try? GradientFlow.solve(.apoDown, parameters: LossParameters(beta: 2), times: [1, 2], maxSteps: 100_000)) != nil)
    }
}
