import LossMath

/// The exact metrics of one logged step of a sequence-level run (`docs/theory.md §5.2`), at
/// the parameters reached after ``step`` optimiser steps. One row of `metrics.csv`; the
/// column names are those of ``metricFields``.
///
/// Averages over prompts weigh every prompt `1/P`; averages over pairs weigh every training
/// pair equally. `h = (log pi(y_w) - log pi_ref(y_w)) - (log pi(y_l) - log pi_ref(y_l))`, and
/// `|beta h - dr|` is measured against the TRUE gap `dr = r(y_w) - r(y_l)` whatever gap the
/// loss was told (as the tabular metrics measure `h` against the true target, T4).
///
/// See also: ``SequenceTrainer/metrics()``, ``SequenceRunSummary``, ``StepMetrics``.
public struct SequenceStepMetrics: Sendable, Hashable, Codable {
    /// Optimiser steps taken.
    public var step: Int
    /// The training objective: the mean loss over all pairs.
    public var meanLoss: Double
    /// `beta KL(pi || pi*)`, the exact regret `J(pi*) - J(pi)` (`docs/theory.md, T2`).
    public var regret: Double
    /// `KL(pi || pi_ref)`.
    public var klReference: Double
    /// `E_pi[r]` under the true reward (column `expected_reward`, as in the tabular metrics).
    public var expectedReward: Double
    /// `E_pi[r~]` under the proxy reward that labelled the data.
    public var proxyReward: Double
    /// The win rate against `pi_ref` under the true reward (``WinRate``): exact when
    /// `V^T <= 2^20`, else a seeded Monte Carlo estimate.
    public var winRate: Double
    /// Its standard error (0 when exact).
    public var winRateStandardError: Double
    /// `E_pi[#{t : y_t = k}]`, the expected count of the spurious token.
    public var spuriousCount: Double
    /// Mean and minimum over pairs of `log pi(y_w)` and of `log pi(y_l)`: under likelihood
    /// displacement the means fall together.
    public var meanLogpChosen: Double
    public var minLogpChosen: Double
    public var meanLogpRejected: Double
    public var minLogpRejected: Double
    /// Mean over pairs of `|beta h - dr|`, `dr` the true gap.
    public var meanAbsBetaHMinusGap: Double
    /// Euclidean norm of the full-batch gradient of the mean loss in parameter space at
    /// this step (before clipping).
    public var gradientNorm: Double
    /// The largest such norm over every step taken so far (not only the logged ones).
    public var maxGradientNorm: Double
    /// Max over pairs of `h` (grows without bound under DPO on separable pairs, T5).
    public var maxH: Double = .nan

    public init(step: Int, meanLoss: Double, regret: Double, klReference: Double, expectedReward: Double,
                proxyReward: Double, winRate: Double, winRateStandardError: Double, spuriousCount: Double,
                meanLogpChosen: Double, minLogpChosen: Double, meanLogpRejected: Double, minLogpRejected: Double,
                meanAbsBetaHMinusGap: Double, gradientNorm: Double, maxGradientNorm: Double) {
        self.step = step
        self.meanLoss = meanLoss
        self.regret = regret
        self.klReference = klReference
        self.expectedReward = expectedReward
        self.proxyReward = proxyReward
        self.winRate = winRate
        self.winRateStandardError = winRateStandardError
        self.spuriousCount = spuriousCount
        self.meanLogpChosen = meanLogpChosen
        self.minLogpChosen = minLogpChosen
        self.meanLogpRejected = meanLogpRejected
        self.minLogpRejected = minLogpRejected
        self.meanAbsBetaHMinusGap = meanAbsBetaHMinusGap
        self.gradientNorm = gradientNorm
        self.maxGradientNorm = maxGradientNorm
    }

    /// The Double columns, each named once, in column order.
    static var metricFields: [(name: String, field: WritableKeyPath<SequenceStepMetrics, Double>)] {
        [("mean_loss", \.meanLoss), ("regret", \.regret), ("kl_ref", \.klReference),
         ("expected_reward", \.expectedReward), ("proxy_reward", \.proxyReward), ("win_rate", \.winRate),
         ("win_rate_se", \.winRateStandardError), ("spurious_count", \.spuriousCount),
         ("mean_logp_chosen", \.meanLogpChosen), ("min_logp_chosen", \.minLogpChosen),
         ("mean_logp_rejected", \.meanLogpRejected), ("min_logp_rejected", \.minLogpRejected),
         ("mean_abs_beta_h_minus_dr", \.meanAbsBetaHMinusGap), ("grad_norm", \.gradientNorm),
         ("max_grad_norm", \.maxGradientNorm), ("max_h", \.maxH)]
    }

    /// `step`, then ``metricColumnNames``.
    public static var columnNames: [String] { ["step"] + metricColumnNames }
    /// The Double columns in order.
    public static var metricColumnNames: [String] { metricFields.map(\.name) }
    /// The Double fields in the order of ``metricColumnNames``.
    public var metricValues: [Double] { Self.metricFields.map { self[keyPath: $0.field] } }
    /// Whether every field is finite (a logged row always is: a run stops before logging a
    /// non-finite one).
    public var isFinite: Bool { metricValues.allSatisfy(\.isFinite) }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ColumnKey.self)
        try c.encode(step, forKey: ColumnKey("step"))
        for f in Self.metricFields { try c.encode(self[keyPath: f.field], forKey: ColumnKey(f.name)) }
    }

    /// Decodes a row by column name; a missing or empty metric is NaN.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ColumnKey.self)
        self.init(step: try c.decode(Int.self, forKey: ColumnKey("step")), meanLoss: .nan, regret: .nan, klReference: .nan,
                  expectedReward: .nan, proxyReward: .nan, winRate: .nan, winRateStandardError: .nan, spuriousCount: .nan,
                  meanLogpChosen: .nan, minLogpChosen: .nan, meanLogpRejected: .nan, minLogpRejected: .nan,
                  meanAbsBetaHMinusGap: .nan, gradientNorm: .nan, maxGradientNorm: .nan)
        for f in Self.metricFields { self[keyPath: f.field] = try c.decodeIfPresent(Double.self, forKey: ColumnKey(f.name)) ?? .nan }
    }
}

/// The one-line summary of a sequence-level run: a row of `summary.csv`. The tabular
/// summary's columns where they apply (`final_expected_reward` is the TRUE reward), then
/// the proxy reward, win rates and final mean log-probabilities, and `status` last.
///
/// "Final" fields are those of the last logged step (= the last step reached); "over the
/// run" fields range over the logged steps, except ``maxGradNorm``, which ranges over every
/// step. A diverged run's fields are those of its last finite metrics (NaN, written as
/// empty cells, when it has none).
///
/// See also: ``SequenceStepMetrics``, ``RunSummary``, ``SequenceRuns``.
public struct SequenceRunSummary: Sendable, Hashable, Codable {
    public var loss: Loss
    public var finalRegret: Double
    public var finalKLRef: Double
    /// Final `E_pi[r]`, true reward.
    public var finalExpectedReward: Double
    /// Min of `log pi(y_l)` over pairs and logged steps.
    public var minLogpRejected: Double
    /// Final mean `|beta h - dr|` (true `dr`).
    public var meanAbsBetaHMinusGap: Double
    /// Max of the gradient norm over every step.
    public var maxGradNorm: Double
    /// Final max over pairs of `h`.
    public var maxH: Double
    /// Final `E_pi[r~]`.
    public var finalProxyReward: Double
    /// Final win rate against `pi_ref` and its standard error (0 when exact).
    public var finalWinRate: Double
    public var finalWinRateStandardError: Double
    /// Final expected count of the spurious token.
    public var finalSpuriousCount: Double
    /// Final mean `log pi(y_w)` and `log pi(y_l)` over the pairs.
    public var finalMeanLogpChosen: Double
    public var finalMeanLogpRejected: Double
    /// The final policy's win rate under the true reward against the policy DPO (`sigmoid`)
    /// trained on the same data with the same settings, when the runs included DPO and both
    /// runs ended `ok` (``SequenceRuns/train(_:environment:threads:)``); else nil (an empty
    /// cell). DPO's own row has 1/2.
    public var winRateVersusDPO: Double?
    public var status: RunStatus

    public init(loss: Loss, metrics: [SequenceStepMetrics], status: RunStatus, winRateVersusDPO: Double? = nil) {
        let last = metrics.last
        self.loss = loss
        finalRegret = last?.regret ?? .nan
        finalKLRef = last?.klReference ?? .nan
        finalExpectedReward = last?.expectedReward ?? .nan
        minLogpRejected = metrics.isEmpty ? .nan : nanMin(metrics.map(\.minLogpRejected))
        meanAbsBetaHMinusGap = last?.meanAbsBetaHMinusGap ?? .nan
        maxGradNorm = last?.maxGradientNorm ?? .nan
        maxH = last?.maxH ?? .nan
        finalProxyReward = last?.proxyReward ?? .nan
        finalWinRate = last?.winRate ?? .nan
        finalWinRateStandardError = last?.winRateStandardError ?? .nan
        finalSpuriousCount = last?.spuriousCount ?? .nan
        finalMeanLogpChosen = last?.meanLogpChosen ?? .nan
        finalMeanLogpRejected = last?.meanLogpRejected ?? .nan
        self.winRateVersusDPO = winRateVersusDPO
        self.status = status
    }

    /// The Double columns between `loss` and `win_rate_vs_dpo`, in column order.
    static var metricFields: [(name: String, field: WritableKeyPath<SequenceRunSummary, Double>)] {
        [("final_regret", \.finalRegret), ("final_kl_ref", \.finalKLRef),
         ("final_expected_reward", \.finalExpectedReward), ("min_logp_rejected", \.minLogpRejected),
         ("mean_abs_beta_h_minus_dr", \.meanAbsBetaHMinusGap), ("max_grad_norm", \.maxGradNorm),
         ("final_proxy_reward", \.finalProxyReward), ("final_win_rate", \.finalWinRate),
         ("final_win_rate_se", \.finalWinRateStandardError), ("final_spurious_count", \.finalSpuriousCount),
         ("final_mean_logp_chosen", \.finalMeanLogpChosen), ("final_mean_logp_rejected", \.finalMeanLogpRejected),
         ("max_h", \.maxH)]
    }

    /// `loss`, the metric columns, `win_rate_vs_dpo`, `status`.
    public static var columnNames: [String] { ["loss"] + metricFields.map(\.name) + ["win_rate_vs_dpo", "status"] }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ColumnKey.self)
        try c.encode(loss, forKey: ColumnKey("loss"))
        for f in Self.metricFields { try c.encode(self[keyPath: f.field], forKey: ColumnKey(f.name)) }
        // Always a cell, empty when nil (encodeIfPresent would drop the column in some encoders).
        if let w = winRateVersusDPO {
            try c.encode(w, forKey: ColumnKey("win_rate_vs_dpo"))
        } else {
            try c.encodeNil(forKey: ColumnKey("win_rate_vs_dpo"))
        }
        try c.encode(status, forKey: ColumnKey("status"))
    }

    /// Decodes a row by column name; a missing or empty metric is NaN, a missing status `ok`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ColumnKey.self)
        self.init(loss: try c.decode(Loss.self, forKey: ColumnKey("loss")), metrics: [], status: .ok)
        for f in Self.metricFields { self[keyPath: f.field] = try c.decodeIfPresent(Double.self, forKey: ColumnKey(f.name)) ?? .nan }
        winRateVersusDPO = try c.decodeIfPresent(Double.self, forKey: ColumnKey("win_rate_vs_dpo"))
        status = try c.decodeIfPresent(RunStatus.self, forKey: ColumnKey("status")) ?? .ok
    }
}

/// A finished sequence-level run: its logged metrics in step order, its summary and its
/// final policy's `log pi(a|s)` table (layout of ``SequenceSpace``; `pi_ref`'s table if it
/// diverged at step 0, else the last finite state's).
public struct SequenceTrainingResult: Sendable {
    public var metrics: [SequenceStepMetrics]
    public var summary: SequenceRunSummary
    public var finalLogPolicy: [Double]

    public init(metrics: [SequenceStepMetrics], summary: SequenceRunSummary, finalLogPolicy: [Double]) {
        self.metrics = metrics
        self.summary = summary
        self.finalLogPolicy = finalLogPolicy
    }
}
