import LossMath

/// The exact metrics of one logged step (THEORY.md, "Exact metrics"), computed on the full
/// data set at the parameters reached after ``step`` optimiser steps.
///
/// Averages "over prompts" weight every prompt equally; averages "over pairs" weight every
/// training pair equally. `h` is each pair's logits difference `u_w - u_l` and
/// `h* = dr_true / beta` its target (T4), with `dr_true = r(y_w) - r(y_l)` as labelled.
public struct StepMetrics: Sendable, Hashable, Codable {
    /// Optimiser steps taken.
    public var step: Int
    /// The training objective: the mean loss over all pairs.
    public var meanLoss: Double
    /// `beta KL(pi || pi*)`, the exact regret `J(pi*) - J(pi)` (T2), mean over prompts. `>= 0`
    /// up to rounding (it is accurate to about `1e-16 * |log pi - log pi*|`).
    public var regret: Double
    /// `KL(pi || pi_ref)`, mean over prompts.
    public var klReference: Double
    /// `E_pi[r]` under the true reward, mean over prompts.
    public var expectedReward: Double
    /// Mean over pairs of `log pi(y_w)` and of `log pi(y_l)`; under likelihood displacement
    /// both fall together.
    public var meanLogpChosen: Double
    public var meanLogpRejected: Double
    /// Min over pairs of `log pi(y_l)`.
    public var minLogpRejected: Double
    /// Mean over pairs of `|h - h*|`.
    public var meanAbsHMinusTarget: Double
    /// Max over pairs of `h`.
    public var maxH: Double
    /// Fraction of pairs with `|h - h*| <= tol * max(1, |h*|)` (``TrainingConfig/relativeTolerance``).
    public var fractionWithinTolerance: Double
    /// Mean over prompts of the probability of the responses that occur in no training pair.
    public var unseenMass: Double
    /// Euclidean norm of the full-batch gradient of the mean loss in parameter space (before
    /// any clipping). Bounded for DPO (T9: `|l'| <= beta`).
    public var gradientNorm: Double
    /// `max over pairs of log10 |dl/dpi_l|` for the per-pair loss, from
    /// ``LossMath/SignedLogMagnitude/probabilityGradient(logDerivative:logProbability:)``:
    /// `log10|dl/d log pi_l| - log pi_l / ln 10`. Exceeds the double range for DPO as
    /// `pi_l -> 0` (T7), which is why it is a log. `-infinity` when every derivative is 0.
    public var maxLog10AbsDPRejected: Double

    public init(step: Int, meanLoss: Double, regret: Double, klReference: Double,
                expectedReward: Double, meanLogpChosen: Double, meanLogpRejected: Double,
                minLogpRejected: Double, meanAbsHMinusTarget: Double, maxH: Double,
                fractionWithinTolerance: Double, unseenMass: Double, gradientNorm: Double,
                maxLog10AbsDPRejected: Double) {
        self.step = step
        self.meanLoss = meanLoss
        self.regret = regret
        self.klReference = klReference
        self.expectedReward = expectedReward
        self.meanLogpChosen = meanLogpChosen
        self.meanLogpRejected = meanLogpRejected
        self.minLogpRejected = minLogpRejected
        self.meanAbsHMinusTarget = meanAbsHMinusTarget
        self.maxH = maxH
        self.fractionWithinTolerance = fractionWithinTolerance
        self.unseenMass = unseenMass
        self.gradientNorm = gradientNorm
        self.maxLog10AbsDPRejected = maxLog10AbsDPRejected
    }

    /// CSV column names, in the order of ``row(format:)``: `step` then ``metricColumnNames``.
    public static let columnNames: [String] = ["step"] + metricColumnNames

    /// Names of the Double fields, in the order of ``metricValues``.
    public static let metricColumnNames: [String] = [
        "mean_loss", "regret", "kl_ref", "expected_reward", "mean_logp_chosen",
        "mean_logp_rejected", "min_logp_rejected", "mean_abs_h_minus_target", "max_h",
        "frac_within_tol", "unseen_mass", "grad_norm", "max_log10_abs_d_p_rejected",
    ]

    /// The Double fields in the order of ``metricColumnNames``.
    public var metricValues: [Double] {
        [meanLoss, regret, klReference, expectedReward, meanLogpChosen, meanLogpRejected,
         minLogpRejected, meanAbsHMinusTarget, maxH, fractionWithinTolerance, unseenMass,
         gradientNorm, maxLog10AbsDPRejected]
    }

    /// One CSV row: the step as an integer, then each Double through `format` (the CLI's
    /// choice of decimal rendering).
    public func row(format: (Double) -> String) -> [String] {
        [String(step)] + metricValues.map(format)
    }
}

/// The one-line summary of a training run: the columns of `summary.csv`.
///
/// "Final" fields are those of the last logged step (= the last step). "Over the run"
/// fields range over the logged steps (step 0, every `logEvery` steps, the final step), so
/// they are exact for `logEvery = 1` and otherwise a sample of the run.
public struct RunSummary: Sendable, Hashable, Codable {
    /// The loss trained.
    public var loss: Loss
    /// Final regret `beta KL(pi || pi*)`, mean over prompts.
    public var finalRegret: Double
    /// Final `KL(pi || pi_ref)`.
    public var finalKLRef: Double
    /// Final `E_pi[r]`.
    public var finalExpectedReward: Double
    /// Min of `log pi(y_l)` over pairs and over the logged steps.
    public var minLogpRejected: Double
    /// Final mean `|h - h*|`.
    public var meanAbsHMinusTarget: Double
    /// Final max over pairs of `h` (for DPO it grows without bound, so final = over the run).
    public var maxH: Double
    /// Final mass on unseen responses.
    public var unseenMass: Double
    /// Max of the parameter-space gradient norm over the logged steps.
    public var maxGradNorm: Double
    /// Max of `log10 |dl/dpi_l|` over pairs and logged steps.
    public var maxLog10AbsDPRejected: Double

    public init(loss: Loss, finalRegret: Double, finalKLRef: Double, finalExpectedReward: Double,
                minLogpRejected: Double, meanAbsHMinusTarget: Double, maxH: Double,
                unseenMass: Double, maxGradNorm: Double, maxLog10AbsDPRejected: Double) {
        self.loss = loss
        self.finalRegret = finalRegret
        self.finalKLRef = finalKLRef
        self.finalExpectedReward = finalExpectedReward
        self.minLogpRejected = minLogpRejected
        self.meanAbsHMinusTarget = meanAbsHMinusTarget
        self.maxH = maxH
        self.unseenMass = unseenMass
        self.maxGradNorm = maxGradNorm
        self.maxLog10AbsDPRejected = maxLog10AbsDPRejected
    }

    /// Summarises a run's logged metrics (non-empty, in step order).
    ///
    /// Extremes propagate NaN: a run that produced a NaN reports NaN rather than hiding it.
    public init(loss: Loss, metrics: [StepMetrics]) {
        precondition(!metrics.isEmpty, "a run has at least the step-0 metrics")
        let last = metrics[metrics.count - 1]
        self.init(loss: loss, finalRegret: last.regret, finalKLRef: last.klReference,
                  finalExpectedReward: last.expectedReward,
                  minLogpRejected: nanMin(metrics.map(\.minLogpRejected)),
                  meanAbsHMinusTarget: last.meanAbsHMinusTarget, maxH: last.maxH,
                  unseenMass: last.unseenMass,
                  maxGradNorm: nanMax(metrics.map(\.gradientNorm)),
                  maxLog10AbsDPRejected: nanMax(metrics.map(\.maxLog10AbsDPRejected)))
    }

    /// The summary CSV's column names, exactly as issue 3 specifies.
    public static let columnNames: [String] = [
        "loss", "final_regret", "final_kl_ref", "final_expected_reward", "min_logp_rejected",
        "mean_abs_h_minus_target", "max_h", "unseen_mass", "max_grad_norm",
        "max_log10_abs_d_p_rejected",
    ]

    /// The Double columns (all but `loss`), in column order.
    public static var metricColumnNames: [String] { Array(columnNames.dropFirst()) }

    /// The Double fields in the order of ``metricColumnNames``.
    public var metricValues: [Double] {
        [finalRegret, finalKLRef, finalExpectedReward, minLogpRejected, meanAbsHMinusTarget,
         maxH, unseenMass, maxGradNorm, maxLog10AbsDPRejected]
    }

    /// One CSV row: the loss's TRL name, then each Double through `format`.
    public func row(format: (Double) -> String) -> [String] {
        [loss.rawValue] + metricValues.map(format)
    }
}

/// The outcome of ``Trainer/run(observer:)``.
public struct TrainingResult: Sendable, Hashable {
    /// Metrics at step 0, every `logEvery` steps, and the final step, in step order.
    public var metrics: [StepMetrics]
    public var summary: RunSummary
}

/// Min that returns NaN if any element is NaN (Swift.min would drop it depending on order).
func nanMin(_ xs: [Double]) -> Double {
    var m = Double.infinity
    for x in xs { if x.isNaN { return .nan }; if x < m { m = x } }
    return m
}

func nanMax(_ xs: [Double]) -> Double {
    var m = -Double.infinity
    for x in xs { if x.isNaN { return .nan }; if x > m { m = x } }
    return m
}
