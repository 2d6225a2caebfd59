import GSLKit
import LossMath

/// The tabular family: one free logit per (prompt, response), `pi(.|x) = softmax(theta_x)`,
/// `theta` in `R^{P*K}` (row-major, prompt `x`'s logits at `x*K ..< (x+1)*K`). Only
/// differences within a prompt matter.
///
/// Generation (docs/theory.md §5.1): reference logits `~ N(0, s_ref^2)` and true rewards
/// `r ~ N(0, s_r^2)`, i.i.d. per cell. Training starts at `theta = log pi_ref`, and
/// `theta* = log pi*`. Gradient: `dl/dtheta_x = G_x = c - (sum c) pi(.|x)` (T9).
///
/// Its full-batch steps take the engine's fused per-prompt passes
/// (``usesFusedTabularPasses``; see FusedPasses.swift), bit-identical to the generic path.
///
/// See also: ``PolicyFamily``, ``LogLinearPolicy``.
public struct TabularPolicy: PolicyFamily {
    public let prompts: Int
    public let responses: Int
    /// `log pi_ref`, normalised per prompt (`P*K`); also ``referenceParameters``.
    public let logReference: [Double]

    public var parameterCount: Int { prompts * responses }
    public var referenceParameters: [Double] { logReference }
    public var usesFusedTabularPasses: Bool { true }

    public static func parameterCount(_ config: SimulationConfig) -> Int { config.prompts * config.responses }

    public static func generate(_ config: SimulationConfig, stream: (RandomStream) -> RandomGenerator) -> (family: TabularPolicy, rewards: [Double]) {
        let P = config.prompts, K = config.responses
        var logits = [Double](repeating: 0, count: P * K)
        var rewards = [Double](repeating: 0, count: P * K)
        let g = stream(.reference)
        for i in logits.indices { logits[i] = g.gaussian(sigma: config.referenceSpread) }
        let gr = stream(.reward)
        for i in rewards.indices { rewards[i] = gr.gaussian(sigma: config.rewardSpread) }
        return (TabularPolicy(prompts: P, responses: K, logReference: normalisedRows(logits, responses: K)), rewards)
    }

    public func referenceLogPolicy() -> [Double] { logReference }

    public func optimalParameters(logOptimal: [Double], beta: Double) -> [Double] { logOptimal }

    public func logPolicy(prompt x: Int, parameters theta: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        let K = responses, row = x * K
        for y in 0..<K { out[y] = theta[row + y] }
        logSoftmaxInPlace(out, K)
    }

    public func addGradient(prompt x: Int, dLogPolicy c: UnsafeMutablePointer<Double>, total: Double,
                            logPolicy: UnsafePointer<Double>, into gradient: UnsafeMutablePointer<Double>) {
        let K = responses, row = x * K
        softmaxLogitGradient(c, total: total, logPolicy: logPolicy, K)
        for y in 0..<K { gradient[row + y] = c[y] }
    }

    public func localParameters(prompt x: Int) -> Range<Int>? { x * responses ..< (x + 1) * responses }
}
