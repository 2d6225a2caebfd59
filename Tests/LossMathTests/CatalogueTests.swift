import GSLKit
import LossMath
import PropertyBased
import RealModule
import Testing

/// Identities of the scalar functions on random inputs, parameter validation, and the
/// catalogue's structural claims (stationary points, directions).
@Suite struct CatalogueTests {
    @Test func scalarIdentities() async {
        await propertyCheck(count: 500, input: Gen.double(in: -800...800)) { x in
            // softplus(x) - softplus(-x) = x, exactly in real arithmetic.
            #expect(abs((softplus(x) - softplus(-x)) - x) <= 4 * max(1, abs(x)).ulp)
            // sigma(x) + sigma(-x) = 1.
            #expect(abs(sigmoid(x) + sigmoid(-x) - 1) <= 2 * Double.ulpOfOne)
            // log sigma(x) = -softplus(-x) and exp(logSigmoid) = sigmoid where representable.
            if x > -700 {
                let s = sigmoid(x)
                // exp amplifies the absolute error of its argument (about |x| ulp(1)) into a
                // relative error of the result.
                #expect(abs(Double.exp(logSigmoid(x)) - s) <= s * (2 * max(1, abs(x)) + 4) * Double.ulpOfOne)
                #expect(abs(sigmoidDensity(x) - s * sigmoid(-x)) <= 8 * sigmoidDensity(x).ulp + Double.leastNormalMagnitude)
            }
        }
        await propertyCheck(count: 500, input: Gen.double(in: -60...60), Gen.double(in: -60...60)) { a, b in
            // sigmoidDifference agrees with the naive difference where that is accurate.
            let naive = sigmoid(a) - sigmoid(b)
            #expect(abs(sigmoidDifference(a, b) - naive) <= 4 * Double.ulpOfOne)
            #expect(sigmoidDifference(a, b) == -sigmoidDifference(b, a))
            let l = logSigmoidDifference(a, b)
            if naive != 0 {
                #expect(l.sign == (naive > 0 ? 1 : -1))
                #expect(abs(Double.exp(l.logMagnitude) - abs(sigmoidDifference(a, b))) <= 1e-12 * abs(sigmoidDifference(a, b)))
            }
            #expect(abs(logAddExp(a, b) - Double.log(Double.exp(a) + Double.exp(b))) <= 1e-14 * max(1, abs(logAddExp(a, b))))
        }
        #expect(logSumExp([-800.0, -800.0]) == -800 + Double.log(2))
        #expect(log1mexp(-1e-20) == Double.log(1e-20))
        #expect(softplus(-800) == 0 && softplus(-700) > 0)
    }

    @Test func validationNamesTheProblem() {
        #expect(throws: LossMathError.invalidBeta(0)) { try Loss.sigmoid.validate(LossParameters(beta: 0)) }
        #expect(throws: LossMathError.invalidBeta(-1)) { try Loss.spo.validate(LossParameters(beta: -1, rewardGap: 1)) }
        #expect(throws: LossMathError.self) { try Loss.robust.validate(LossParameters(beta: 1, labelSmoothing: 0.5)) }
        #expect(throws: LossMathError.self) { try Loss.exoPair.validate(LossParameters(beta: 1, labelSmoothing: 0)) }
        #expect(throws: LossMathError.self) { try Loss.cdpo.validate(LossParameters(beta: 1, labelSmoothing: 0.6)) }
        #expect(throws: LossMathError.missingRewardGap(loss: .spo)) { try Loss.spo.validate(LossParameters(beta: 1)) }
        #expect(throws: LossMathError.rewardGapZero(loss: .spoAsym)) { try Loss.spoAsym.validate(LossParameters(beta: 1, rewardGap: 0)) }
        #expect(throws: LossMathError.unknownLoss("dpo")) { try Loss(name: "dpo") }
        #expect((try? Loss.parseList("sigmoid, spo,sigmoid")) == [.sigmoid, .spo])
        #expect((try? Loss.parseList("all")) == Loss.allCases)
        #expect(LossMathError.labelSmoothingOutOfRange(loss: .robust, value: 0.6, range: "0 <= label_smoothing < 0.5")
            .description.contains("robust"))
        // Every loss accepts the parameters the tests use.
        for loss in Loss.allCases { #expect(throws: Never.self) { try loss.validate(parameters(for: loss, beta: 0.1)) } }
    }

    /// The stationary points the theory names, found by GSL's Brent solver, against the
    /// closed forms: none for sigmoid, dr/beta for the target losses, 1/(2 beta) for ipo,
    /// log((1-eps)/eps)/beta for cdpo and exo_pair, a flat region from 1/beta for hinge.
    @Test func stationaryPointsMatchClosedForms() throws {
        let beta = 0.2, dr = 1.5, eps = 0.1
        let p = LossParameters(beta: beta, labelSmoothing: eps, rewardGap: dr)
        #expect(try Loss.sigmoid.stationaryPoints(p).isEmpty)
        #expect(try Loss.robust.stationaryPoints(p).isEmpty)
        for loss in targetLosses {
            let s = try loss.stationaryPoints(p)
            #expect(s.points.count == 1 && abs(s.points[0].h - dr / beta) < 1e-12 * dr / beta, "\(loss.rawValue) \(s.summary)")
        }
        #expect(abs(try Loss.ipo.stationaryPoints(p).points[0].h - 1 / (2 * beta)) < 1e-12)
        let logit = Double.log((1 - eps) / eps) / beta
        #expect(abs(try Loss.cdpo.stationaryPoints(p).points[0].h - logit) < 1e-10 * logit)
        #expect(abs(try Loss.exoPair.stationaryPoints(p).points[0].h - logit) < 1e-10 * logit)
        let hinge = try Loss.hinge.stationaryPoints(p)
        #expect(hinge.points.isEmpty)
        #expect(abs(hinge.flatFrom! - 1 / beta) < 1e-12 * (1 / beta))
        // sppo_hard with u_w = 0 held: u_l = -1/(2 beta), so h = 1/(2 beta).
        #expect(abs(try Loss.sppoHard.stationaryPoints(p).points[0].h - 1 / (2 * beta)) < 1e-12)
        // Losses that push u_l down without end, whatever u_w is.
        for loss in [Loss.ncaPair, .bcoPair, .apoZero, .apoDown, .bdpo] {
            #expect(try loss.stationaryPoints(p).isEmpty, "\(loss.rawValue)")
        }
    }

    /// The gradient study's verdicts: DPO collapses with slope beta - 1; every target loss
    /// and ipo restore pi_l at the far end; bdpo's gradient stays bounded (slope 0).
    @Test func gradientStudyDirections() throws {
        for beta in [0.05, 0.1, 0.5] {
            let config = GradientStudy.Configuration(parameters: LossParameters(beta: beta, labelSmoothing: 0.1, rewardGap: 1),
                                                     points: 100)
            let study = try GradientStudy(configuration: config, losses: Loss.allCases)
            let by = Dictionary(uniqueKeysWithValues: study.summaries.map { ($0.loss, $0) })
            #expect(abs(by[.sigmoid]!.slope! - (beta - 1)) < 1e-6)
            #expect(by[.sigmoid]!.direction == .collapse)
            for loss in targetLosses + [.ipo, .exoPair, .sppoHard] {
                #expect(by[loss]!.direction == .restoring, "\(loss.rawValue) at beta \(beta)")
                #expect(by[loss]!.log10CollapseForceAtEnd == nil)
            }
            // bdpo: u_l' -> log(1 - lam), so dl/dpi_l -> a constant.
            #expect(abs(by[.bdpo]!.slope!) < 1e-6)
            #expect(by[.hinge]!.direction == .none)
            // No NaN or infinity anywhere in the rows.
            for row in study.rows {
                #expect(!row.gradients.rejected.log10Magnitude.isNaN)
                #expect(row.gradients.rejected.isZero || row.gradients.rejected.log10Magnitude.isFinite)
                #expect(row.evaluation.value.isFinite)
            }
        }
    }
}
