import Experiments
import Foundation
import Formats
import GSLKit
import LossMath

/// The text outputs of a sequence-level `report train` (docs/theory.md §5.2): metrics.csv,
/// summary.csv, summary.md, plots.txt and the three figures (``SequenceFigures``). The
/// large per-state tables are streamed by ``SequenceTables``.
///
/// The true reward is an oracle: wherever the target `true` appears it is labelled as one
/// (an upper bound, not a comparison on equal information).
///
/// See also: ``TrainReport`` (the tabular version), ``SequenceFigures``, ``SequenceTables``.
struct SequenceTrainReport {
    let environment: SequenceEnvironment
    let trainings: [TrainingConfig]
    let results: [SequenceTrainingResult]

    static func g4(_ x: Double) -> String { TrainReport.g4(x) }
    func g4(_ x: Double) -> String { TrainReport.g4(x) }

    var config: SequenceConfig { environment.config }

    /// Every small file, in writing order.
    func files() -> [TrainReport.File] {
        let rows = results.flatMap { r in r.metrics.map { SequenceLossStepRow(loss: r.summary.loss, metrics: $0) } }
        let figures = SequenceFigures(title: Self.configurationTitle(config), results: results)
        return [TrainReport.File(name: "metrics.csv", text: tableCSV(rows, columns: SequenceLossStepRow.columnNames)),
                TrainReport.File(name: "summary.csv", text: tableCSV(results.map(\.summary), columns: SequenceRunSummary.columnNames)),
                TrainReport.File(name: "summary.md", text: markdown()),
                TrainReport.File(name: "plots.txt", text: figures.ascii()),
                TrainReport.File(name: "reward-kl.svg", text: figures.rewardAgainstKL().render()),
                TrainReport.File(name: "win-rate.svg", text: figures.winRate().render()),
                TrainReport.File(name: "logp-pairs.svg", text: figures.pairLogProbabilities().render())]
    }

    /// How `target` is named in every output: `true` always with its oracle label.
    static func targetLabel(_ target: SequenceConfig.Target) -> String {
        switch target {
        case .trueReward: return "true (oracle: an upper bound)"
        case .proxy: return "proxy"
        case .fitted: return "fitted"
        }
    }

    /// The configuration in one line, for figure titles (the oracle target still labelled).
    static func configurationTitle(_ c: SequenceConfig) -> String {
        "\(c.parameterisation.rawValue), P=\(c.prompts), V=\(c.vocabulary), T=\(c.length), n=\(c.pairsPerPrompt), "
            + "lambda=\(g4(c.proxyBias)), target " + (c.target.isOracle ? "true (oracle)" : c.target.rawValue)
    }

    /// What a loss is told: the target for reward-aware losses, the labels for the others.
    func told(_ loss: Loss) -> String { loss.needsRewardGap ? Self.targetLabel(config.target) : "labels only" }

    func markdown() -> String {
        let c = config
        var s = "# Training on the sequence-level policy\n\n"
        let responses = (try? c.space()).flatMap { $0.responseCount(atMost: 1 << 62) }.map { "\($0)" } ?? "V^T"
        s += "\(c.parameterisation.rawValue) policy, P = \(c.prompts) prompts, V = \(c.vocabulary) tokens, T = \(c.length) tokens "
        s += "per response (\(responses) responses per prompt), n = \(c.pairsPerPrompt) pairs per prompt drawn from pi_ref; "
        s += "s_ref = \(g4(c.referenceSpread)), s_r = \(g4(c.rewardSpread)) per transition, label noise \(g4(c.rewardNoise)), "
        s += "\(c.labels.rawValue) labels from the proxy r~ = r + lambda #{t : y_t = k} with lambda = \(g4(c.proxyBias))"
        s += (c.proxyBias == 0 ? " (well specified)" : "") + ", k = \(c.spuriousToken); beta = \(g4(c.beta)), seed \(c.seed)."
        if let t = trainings.first {
            s += " \(t.optimizer.rawValue), lr \(g4(t.learningRate)), \(t.steps) steps, full batch"
            s += t.clipNorm.map { ", gradient clipped to norm \(g4($0))" } ?? ""
            s += "."
        }
        s += "\n\n"
        s += "Reward-aware losses (spo family, rpo_*) are told the gap of the **\(Self.targetLabel(c.target))** reward"
        switch c.target {
        case .trueReward:
            s += ": the oracle, which no practitioner has; their rows are an upper bound, not a comparison on equal information."
        case .proxy:
            s += ": the labeller's proxy r~ (without the label noise)."
        case .fitted:
            s += ": a Bradley-Terry reward model in the additive family fitted to the labels DPO sees (L2 \(g4(c.rewardModelL2)))"
            s += ", held-out pairwise accuracy \(g4(environment.rewardModelAccuracy ?? .nan)), "
            s += "correlation with the true reward \(g4(environment.rewardModelCorrelation ?? .nan))."
        }
        s += " The training labels agree with the true reward on a fraction \(g4(environment.labelAgreement)) of the pairs (a pair whose true gap is 0 counts half).\n\n"
        s += MarkdownTable(
            headers: ["loss", "told", "true reward E[r] (oracle)", "proxy reward E[r~]", "regret", "KL(pi, pi_ref)",
                      "win rate vs pi_ref", "win rate vs DPO", "mean log pi_w", "mean log pi_l", "min log pi_l",
                      "spurious count", "max grad norm", "status"],
            alignments: [.left, .left] + Array(repeating: .right, count: 11) + [.left],
            rows: optimumRow() + results.map(row)).render()
        s += "\n"
        s += "E[r] is the true reward (an oracle measurement), E[r~] the proxy that labelled the data; both exact "
        s += "(occupancy pass, prompts weigh 1/P). regret = beta KL(pi || pi*), exact (docs/theory.md, T2). "
        s += "Win rates under the true reward: P(r(y) > r(y')) + P(r(y) = r(y'))/2, "
        s += (((try? c.space())?.responseCount(atMost: WinRate.enumerationLimit)) != nil
              ? "exact by enumeration." : "Monte Carlo (\(c.winRateSamplesPerPrompt) pairs per prompt, seeded) with its standard error.")
        s += " log pi_w, log pi_l: the training pairs' sequence log-probabilities.\n\n"
        let diverged = results.filter { $0.summary.status.isDiverged }
        if !diverged.isEmpty {
            s += "Diverged (a non-finite loss, gradient or parameter; the row shows the last finite metrics): "
            s += diverged.map { "\($0.summary.loss.rawValue) \($0.summary.status)" }.joined(separator: ", ") + ".\n\n"
        }
        s += displacement()
        return s
    }

    /// pi*'s row: the optimum under the true reward (an oracle; regret 0 by definition).
    func optimumRow() -> [[String]] {
        let env = environment
        let occupancy = SequenceOccupancy(policy: env.optimal)
        let win = WinRate.compute(policy: env.optimal, against: env.reference, reward: env.reward,
                                  samplesPerPrompt: config.winRateSamplesPerPrompt,
                                  seed: RandomGenerator.derivedSeed(config.seed, SequenceRandomStream.winRate.rawValue))
        return [["pi* (optimum of the true reward; oracle)", "-", g4(occupancy.expectedReward(env.reward)),
                 g4(occupancy.expectedReward(env.proxyReward)), "0", g4(occupancy.klDivergence(to: env.reference)),
                 winText(win.value, win.standardError), "-", "-", "-", "-",
                 g4(occupancy.expectedCount(token: config.spuriousToken)), "-", "-"]]
    }

    func winText(_ value: Double, _ se: Double) -> String {
        se > 0 ? "\(g4(value)) ± \(g4(se))" : g4(value)
    }

    func row(_ r: SequenceTrainingResult) -> [String] {
        let m = r.summary
        return [m.loss.rawValue, told(m.loss), g4(m.finalExpectedReward), g4(m.finalProxyReward), g4(m.finalRegret),
                g4(m.finalKLRef), winText(m.finalWinRate, m.finalWinRateStandardError), m.winRateVersusDPO.map(g4) ?? "-",
                g4(m.finalMeanLogpChosen), g4(m.finalMeanLogpRejected), g4(m.minLogpRejected), g4(m.finalSpuriousCount),
                g4(m.maxGradNorm), "\(m.status)"]
    }

    /// Likelihood displacement (Razin et al. 2024): per loss, whether the mean log pi(y_w)
    /// and log pi(y_l) over the pairs both ended below their values at step 0 (the rule).
    func displacement() -> String {
        var lines = ["## Likelihood displacement", "",
                     "Rule: a loss displaces likelihood when its final mean log pi(y_w) and mean log pi(y_l) over the "
                     + "training pairs are both below their values at step 0.", ""]
        for r in results {
            guard let first = r.metrics.first, let last = r.metrics.last else { continue }
            let both = last.meanLogpChosen < first.meanLogpChosen && last.meanLogpRejected < first.meanLogpRejected
            lines.append("- \(r.summary.loss.rawValue): mean log pi_w \(g4(first.meanLogpChosen)) -> \(g4(last.meanLogpChosen)), "
                         + "mean log pi_l \(g4(first.meanLogpRejected)) -> \(g4(last.meanLogpRejected)): "
                         + (both ? "**both fall** (displacement)" : "not both falling"))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// One row of the sequence-level metrics.csv: `loss`, then ``Experiments/SequenceStepMetrics``'s columns.
struct SequenceLossStepRow: Encodable {
    let loss: Loss
    let metrics: SequenceStepMetrics

    static var columnNames: [String] { ["loss"] + SequenceStepMetrics.columnNames }

    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(loss, forKey: Key("loss"))
        try metrics.encode(to: encoder)
    }
}
