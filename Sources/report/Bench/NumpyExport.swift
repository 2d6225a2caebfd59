import ArgumentParser
import Experiments
import Foundation
import Formats
import LossMath

// MARK: - Environment export for the numpy baseline

/// Writes a generated environment, the training configuration and Swift's own training of
/// it into a folder that `benchmarks/baseline.py` reads:
///
/// - `meta.json`: sizes, beta, loss, optimiser settings, Swift's logged metrics
///   (`swift_metrics`, one object per logged step, StepMetrics' CSV names) and file names;
/// - raw little-endian arrays (`numpy.fromfile`): `log_reference.f64`, `log_optimal.f64`,
///   `rewards.f64`, `initial_parameters.f64` (P*K), `seen.u8` (P*K), `pair_prompt.i64`,
///   `pair_chosen.i64`, `pair_rejected.i64`, `pair_gap.f64` (the gap the loss trains on),
///   `pair_true_gap.f64`, and `swift_final_parameters.f64` (after `steps`).
enum EnvironmentExport {
    static func write(to folder: String, problem: String, largePrompts: Int, loss lossName: String, steps: Int,
                      logEvery: Int, learningRate: Double, seed: UInt64, optimizer: Optimizer) throws {
        var sim: SimulationConfig
        switch problem {
        case "default": sim = BenchRunner.defaultProblem()
        case "mid": sim = BenchRunner.midProblem()
        case "large": sim = BenchRunner.largeProblem(prompts: largePrompts)
        case "tiny": sim = SimulationConfig(prompts: 3, responses: 5, pairsPerPrompt: 4)
        default: throw ValidationError("--export-problem: expected default, mid, large or tiny, got '\(problem)'")
        }
        sim.seed = seed
        let loss: Loss
        do { loss = try Loss(name: lossName) } catch { throw ValidationError("--export-loss: \(error)") }
        let config = TrainingConfig(loss: loss, optimizer: optimizer, learningRate: learningRate, steps: steps, logEvery: logEvery)
        let env: Environment
        let trainer: Trainer
        do {
            env = try Environment(sim)
            trainer = try Trainer(environment: env, config: config)
        } catch { throw ValidationError("\(error)") }
        let result = trainer.run()
        let dir = URL(fileURLWithPath: folder)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func write<T>(_ name: String, _ values: [T]) throws {
            let data = values.withUnsafeBufferPointer { Data(buffer: $0) }
            try data.write(to: dir.appendingPathComponent(name), options: .atomic)
        }
        let gaps = env.pairs.map { p -> Double in
            switch config.target {
            case .trueReward: return p.trueRewardGap
            case .rewardModel: return p.modelRewardGap
            case .constant(let c): return c
            }
        }
        try write("log_reference.f64", env.logReference)
        try write("log_optimal.f64", env.logOptimal)
        try write("rewards.f64", env.rewards)
        try write("initial_parameters.f64", env.referenceParameters)
        try write("seen.u8", env.seen.map { UInt8($0 ? 1 : 0) })
        try write("pair_prompt.i64", env.pairs.map { Int64($0.prompt) })
        try write("pair_chosen.i64", env.pairs.map { Int64($0.chosen) })
        try write("pair_rejected.i64", env.pairs.map { Int64($0.rejected) })
        try write("pair_gap.f64", gaps)
        try write("pair_true_gap.f64", env.pairs.map(\.trueRewardGap))
        try write("swift_final_parameters.f64", trainer.parameters)
        let p = config.lossParameters(beta: sim.beta)
        let metrics: [JSONValue] = result.metrics.map { m in
            var o: [String: JSONValue] = ["step": .integer(m.step)]
            for (k, v) in zip(StepMetrics.metricColumnNames, m.metricValues) { o[k] = v.isFinite ? .number(v) : .string(String(v)) }
            return .object(o)
        }
        let meta: JSONValue = .object([
            "problem": .string(problem), "prompts": .integer(sim.prompts), "responses": .integer(sim.responses),
            "pairs_per_prompt": .integer(sim.pairsPerPrompt), "pair_count": .integer(sim.pairCount), "seed": .integer(Int(seed)),
            "beta": .number(sim.beta), "loss": .string(loss.rawValue), "label_smoothing": .number(p.labelSmoothing),
            "bco_delta": .number(p.bcoDelta), "bdpo_lambda": .number(p.bdpoLambda), "discopop_tau": .number(p.discopopTau),
            "optimizer": .string(optimizer.rawValue), "learning_rate": .number(learningRate), "steps": .integer(steps),
            "log_every": .integer(logEvery), "relative_tolerance": .number(config.relativeTolerance),
            "swift_metrics": .array(metrics),
        ])
        try meta.rendered(pretty: true).write(to: dir.appendingPathComponent("meta.json"), atomically: true, encoding: .utf8)
    }
}
