import LossMath

/// The exact metrics of one logged step (docs/theory.md §5), computed on the full
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

    /// The Double columns, each named once: its column name and its field, in column order.
    /// The table columns, ``metricValues`` and the `Codable` form all follow this list.
    static var metricFields: [(name: String, field: WritableKeyPath<StepMetrics, Double>)] {
        [("mean_loss", \.meanLoss), ("regret", \.regret), ("kl_ref", \.klReference),
         ("expected_reward", \.expectedReward), ("mean_logp_chosen", \.meanLogpChosen),
         ("mean_logp_rejected", \.meanLogpRejected), ("min_logp_rejected", \.minLogpRejected),
         ("mean_abs_h_minus_target", \.meanAbsHMinusTarget), ("max_h", \.maxH),
         ("frac_within_tol", \.fractionWithinTolerance), ("unseen_mass", \.unseenMass),
         ("grad_norm", \.gradientNorm), ("max_log10_abs_d_p_rejected", \.maxLog10AbsDPRejected)]
    }

    /// Table column names, in the order the row encodes them: `step` then ``metricColumnNames``.
    public static var columnNames: [String] { ["step"] + metricColumnNames }

    /// Whether every metric that a healthy run keeps finite is finite: the loss, regret, KLs,
    /// expected reward, the mean log-probabilities and `|h - h*|`, and the gradient norm.
    /// (`maxLog10AbsDPRejected` is `-infinity` when every derivative is 0; it is not checked.)
    public var isFinite: Bool {
        meanLoss.isFinite && regret.isFinite && klReference.isFinite && expectedReward.isFinite
            && meanLogpChosen.isFinite && meanLogpRejected.isFinite && minLogpRejected.isFinite
            && meanAbsHMinusTarget.isFinite && maxH.isFinite && gradientNorm.isFinite
    }

    /// Names of the Double fields, in the order of ``metricValues``.
    public static var metricColumnNames: [String] { metricFields.map(\.name) }

    /// The Double fields in the order of ``metricColumnNames``.
    public var metricValues: [Double] { Self.metricFields.map { self[keyPath: $0.field] } }

    /// Encodes one flat table row: `step`, then each metric under its column name (a
    /// non-finite value is the table's business: ResultTable writes an empty cell).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ColumnKey.self)
        try c.encode(step, forKey: ColumnKey("step"))
        for f in Self.metricFields { try c.encode(self[keyPath: f.field], forKey: ColumnKey(f.name)) }
    }

    /// Decodes a row by column name; a missing or empty metric is NaN.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ColumnKey.self)
        self.init(step: try c.decode(Int.self, forKey: ColumnKey("step")), meanLoss: .nan, regret: .nan, klReference: .nan,
                  expectedReward: .nan, meanLogpChosen: .nan, meanLogpRejected: .nan, minLogpRejected: .nan,
                  meanAbsHMinusTarget: .nan, maxH: .nan, fractionWithinTolerance: .nan, unseenMass: .nan,
                  gradientNorm: .nan, maxLog10AbsDPRejected: .nan)
        for f in Self.metricFields { self[keyPath: f.field] = try c.decodeIfPresent(Double.self, forKey: ColumnKey(f.name)) ?? .nan }
    }
}

/// One row of `metrics.csv`: the loss, then the step's metrics (``StepMetrics/columnNames``).
public struct LossStepMetrics: Sendable, Hashable, Codable {
    public var loss: Loss
    public var metrics: StepMetrics

    public init(loss: Loss, metrics: StepMetrics) {
        self.loss = loss
        self.metrics = metrics
    }

    /// `loss`, then ``StepMetrics/columnNames``.
    public static var columnNames: [String] { ["loss"] + StepMetrics.columnNames }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ColumnKey.self)
        try c.encode(loss, forKey: ColumnKey("loss"))
        try metrics.encode(to: encoder)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ColumnKey.self)
        loss = try c.decode(Loss.self, forKey: ColumnKey("loss"))
        metrics = try StepMetrics(from: decoder)
    }
}

/// A coding key made from a column name: flat table rows name their columns in one list
/// (such as ``StepMetrics``'s fields) rather than in a separate `CodingKeys` enum.
struct ColumnKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// How a training run ended: `ok`, or `diverged at step N` when the parameters after `N`
/// steps, or the loss or gradient at them, were not finite (``Trainer/divergedAtStep``),
/// or `failed: <reason>` when the run could not be trained at all (its trainer threw, e.g.
/// `spo_asym` on data with a zero reward gap; a sweep records it and goes on).
/// A diverged run's metrics are its last finite ones, a failed run has none (empty cells);
/// findings never compare with either.
public enum RunStatus: Sendable, Hashable, Codable, CustomStringConvertible {
    case ok
    case diverged(atStep: Int)
    /// The run threw before or while training; `reason` is one line (no CR or LF).
    case failed(reason: String)

    /// The table text: `ok`, `diverged at step N` or `failed: <reason>`.
    public var description: String {
        switch self {
        case .ok: "ok"
        case .diverged(let n): "diverged at step \(n)"
        case .failed(let reason): Self.failedPrefix + reason
        }
    }

    static let failedPrefix = "failed: "

    /// A failed status for `error`, its text on one line (CR and LF become spaces).
    public static func failed(_ error: some Error) -> RunStatus {
        let text = "\(error)".map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : String($0) }.joined()
        return .failed(reason: text.isEmpty ? "unknown error" : text)
    }

    /// The status of a table cell's text; nil if it is none of the forms.
    public init?(_ text: String) {
        if text == "ok" { self = .ok; return }
        if text.hasPrefix(Self.failedPrefix), text.count > Self.failedPrefix.count,
           !text.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            self = .failed(reason: String(text.dropFirst(Self.failedPrefix.count)))
            return
        }
        let prefix = "diverged at step "
        guard text.hasPrefix(prefix), let n = Int(text.dropFirst(prefix.count)), n >= 0 else { return nil }
        self = .diverged(atStep: n)
    }

    /// True unless `ok`: the run diverged or failed (left out of means and comparisons).
    public var isDiverged: Bool { self != .ok }

    /// True for a run that failed (threw) rather than trained.
    public var isFailed: Bool { if case .failed = self { return true }; return false }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let s = RunStatus(text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "status \"\(text)\" is neither ok, diverged at step N nor failed: <reason>")
        }
        self = s
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
    /// `ok`, or where the run diverged (then the other fields are its last finite metrics).
    /// The last column of `summary.csv`.
    public var status: RunStatus = .ok

    public init(loss: Loss, finalRegret: Double, finalKLRef: Double, finalExpectedReward: Double,
                minLogpRejected: Double, meanAbsHMinusTarget: Double, maxH: Double,
                unseenMass: Double, maxGradNorm: Double, maxLog10AbsDPRejected: Double, status: RunStatus = .ok) {
        self.status = status
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

    /// Summarises a run's logged metrics (in step order) with its `status`.
    ///
    /// Extremes propagate NaN: a run that produced a NaN reports NaN rather than hiding it.
    /// No metrics (a run that diverged at step 0) give NaN in every field.
    public init(loss: Loss, metrics: [StepMetrics], status: RunStatus = .ok) {
        guard let last = metrics.last else {
            self.init(loss: loss, finalRegret: .nan, finalKLRef: .nan, finalExpectedReward: .nan, minLogpRejected: .nan,
                      meanAbsHMinusTarget: .nan, maxH: .nan, unseenMass: .nan, maxGradNorm: .nan,
                      maxLog10AbsDPRejected: .nan, status: status)
            return
        }
        self.init(loss: loss, finalRegret: last.regret, finalKLRef: last.klReference,
                  finalExpectedReward: last.expectedReward,
                  minLogpRejected: nanMin(metrics.map(\.minLogpRejected)),
                  meanAbsHMinusTarget: last.meanAbsHMinusTarget, maxH: last.maxH,
                  unseenMass: last.unseenMass,
                  maxGradNorm: nanMax(metrics.map(\.gradientNorm)),
                  maxLog10AbsDPRejected: nanMax(metrics.map(\.maxLog10AbsDPRejected)), status: status)
    }

    /// The Double columns, each named once (the names issue 3 specified): column name and
    /// field, in column order. Table columns, ``metricValues``, the `Codable` form and the
    /// sweep's run rows and aggregates all follow this list.
    static var metricFields: [(name: String, field: WritableKeyPath<RunSummary, Double>)] {
        [("final_regret", \.finalRegret), ("final_kl_ref", \.finalKLRef),
         ("final_expected_reward", \.finalExpectedReward), ("min_logp_rejected", \.minLogpRejected),
         ("mean_abs_h_minus_target", \.meanAbsHMinusTarget), ("max_h", \.maxH),
         ("unseen_mass", \.unseenMass), ("max_grad_norm", \.maxGradNorm),
         ("max_log10_abs_d_p_rejected", \.maxLog10AbsDPRejected)]
    }

    /// The summary table's column names: `loss`, then ``metricColumnNames``, then `status`
    /// (last, so the other columns keep the positions they had before it existed).
    public static var columnNames: [String] { ["loss"] + metricColumnNames + ["status"] }

    /// The Double columns (all but `loss`), in column order.
    public static var metricColumnNames: [String] { metricFields.map(\.name) }

    /// The Double fields in the order of ``metricColumnNames``.
    public var metricValues: [Double] { Self.metricFields.map { self[keyPath: $0.field] } }

    /// Encodes one flat table row: `loss`, then the metrics, then `status`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ColumnKey.self)
        try c.encode(loss, forKey: ColumnKey("loss"))
        try encodeMetrics(to: encoder)
        try c.encode(status, forKey: ColumnKey("status"))
    }

    /// Decodes a row by column name; a missing or empty metric is NaN, a missing status `ok`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ColumnKey.self)
        try self.init(loss: c.decode(Loss.self, forKey: ColumnKey("loss")), metricsFrom: decoder)
        status = try c.decodeIfPresent(RunStatus.self, forKey: ColumnKey("status")) ?? .ok
    }

    /// The metric columns alone (a sweep's run row puts the run's own columns first).
    func encodeMetrics(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ColumnKey.self)
        for f in Self.metricFields { try c.encode(self[keyPath: f.field], forKey: ColumnKey(f.name)) }
    }

    /// A summary of `loss` with the metric columns of `decoder`'s row (missing or empty: NaN).
    init(loss: Loss, metricsFrom decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ColumnKey.self)
        self.init(loss: loss, finalRegret: .nan, finalKLRef: .nan, finalExpectedReward: .nan, minLogpRejected: .nan,
                  meanAbsHMinusTarget: .nan, maxH: .nan, unseenMass: .nan, maxGradNorm: .nan, maxLog10AbsDPRejected: .nan)
        for f in Self.metricFields { self[keyPath: f.field] = try c.decodeIfPresent(Double.self, forKey: ColumnKey(f.name)) ?? .nan }
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
