import GSLKit
import LossMath

/// A parametric policy family `pi_theta(y|x)` over the `K` candidate responses of each of
/// `P` prompts: what the trainer, the population-optimum solver and the environment need to
/// know about a policy, and nothing about losses, data or optimisers.
///
/// A conformance states:
/// - its parameters `theta` (``parameterCount``; training starts at ``referenceParameters``,
///   where `pi = pi_ref`);
/// - the log-probability of every response of a prompt (``logPolicy(prompt:parameters:into:)``);
/// - the gradient in parameter space given the loss's `dl/d log pi(y|x)`
///   (``addGradient(prompt:dLogPolicy:total:logPolicy:into:)``);
/// - the exact metrics against `pi_ref` and `pi*` (``addExactMetrics(prompt:logPolicy:environment:into:)``,
///   with a default for families whose `K` responses can be enumerated);
/// - how it is drawn for a simulation (``generate(_:stream:)``).
///
/// Adding a family is one new conforming type and one line in ``SimulationConfig/Policy/family``.
///
/// See also: ``TabularPolicy``, ``LogLinearPolicy``, ``Environment``, ``Trainer``;
/// docs/theory.md §5.1.
public protocol PolicyFamily: Sendable {
    /// Prompts `P`.
    var prompts: Int { get }
    /// Candidate responses `K` per prompt.
    var responses: Int { get }
    /// The number of parameters `theta`.
    var parameterCount: Int { get }
    /// `theta_ref`: the parameters at which `pi = pi_ref`.
    var referenceParameters: [Double] { get }

    /// `log pi_theta(.|x)` of prompt `x`, normalised, into `out[0 ..< K]`.
    func logPolicy(prompt x: Int, parameters theta: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>)

    /// Turns the loss's derivatives on prompt `x` into the parameter gradient.
    ///
    /// - Parameters:
    ///   - dLogPolicy: `c_y = sum over the prompt's pairs of dl/d log pi(y|x)` (`K` values,
    ///     zero for responses in no pair). The family may overwrite it (as scratch); the
    ///     engine zeroes it before the next step.
    ///   - total: `sum_y c_y` as the pairs were accumulated (in pair order).
    ///   - logPolicy: `log pi(.|x)` at the current parameters.
    ///   - gradient: `dl/dtheta`. Families with per-prompt parameters (``localParameters(prompt:)``
    ///     not nil) store prompt `x`'s entries; families with shared parameters add into
    ///     every entry (the engine zeroes it first).
    func addGradient(prompt x: Int, dLogPolicy c: UnsafeMutablePointer<Double>, total: Double,
                     logPolicy: UnsafePointer<Double>, into gradient: UnsafeMutablePointer<Double>)

    /// The parameters only prompt `x` depends on, or nil when every prompt shares them all.
    func localParameters(prompt x: Int) -> Range<Int>?

    /// Adds prompt `x`'s exact metrics (``ExactMetricTotals``) at `log pi(.|x) = logPolicy`.
    func addExactMetrics(prompt x: Int, logPolicy: UnsafePointer<Double>, environment: Environment,
                         into totals: inout ExactMetricTotals)

    /// True when `theta` is the `P*K` logits themselves (`log pi(.|x) = log softmax(theta_x)`):
    /// the engine then uses its fused per-prompt passes, bit-identical to the generic path.
    var usesFusedTabularPasses: Bool { get }

    /// Draws the family of `config` (its reference parameters and whatever else defines it)
    /// and the true rewards `r(x, y)` (`P*K`), from `stream(.reference)`, `stream(.reward)`
    /// and, if it needs more, `stream(.features)`. Called once per ``Environment``; the
    /// configuration is valid.
    static func generate(_ config: SimulationConfig, stream: (RandomStream) -> RandomGenerator) -> (family: Self, rewards: [Double])

    /// `log pi_ref(y|x)` (`P*K`, normalised per prompt), as the environment stores it.
    func referenceLogPolicy() -> [Double]

    /// Parameters at which `pi = pi*`, given `log pi*` (`P*K`) and `beta`.
    func optimalParameters(logOptimal: [Double], beta: Double) -> [Double]

    /// The number of parameters a valid `config` of this family has.
    static func parameterCount(_ config: SimulationConfig) -> Int
}

extension PolicyFamily {
    public var usesFusedTabularPasses: Bool { false }

    /// The default for a family whose `K` responses can be enumerated: per prompt,
    /// `unseen += pi(y|x)` over responses in no pair (in response order), then
    /// `regret += beta KL(pi || pi*)` (T2), `klReference += KL(pi || pi_ref)` and
    /// `reward += E_pi[r]`, each by ``LossMath/Theory``, in log space.
    public func addExactMetrics(prompt x: Int, logPolicy: UnsafePointer<Double>, environment env: Environment,
                                into totals: inout ExactMetricTotals) {
        let K = responses, row = x * K
        let pi = Array(UnsafeBufferPointer(start: logPolicy, count: K))
        for y in 0..<K where !env.seen[row + y] { totals.unseenMass += Elementary.exp(pi[y]) }
        totals.regret += env.config.beta * Theory.klDivergence(logP: pi, logQ: Array(env.logOptimal[row ..< row + K]))
        totals.klReference += Theory.klDivergence(logP: pi, logQ: Array(env.logReference[row ..< row + K]))
        totals.expectedReward += Theory.expectedReward(logPolicy: pi, rewards: Array(env.rewards[row ..< row + K]))
    }
}

/// The exact metrics summed over prompts (divide by `P` for the means of ``StepMetrics``).
public struct ExactMetricTotals: Sendable, Hashable {
    /// `sum_x beta KL(pi(.|x) || pi*(.|x))`: the regret `J(pi*) - J(pi)` (T2).
    public var regret = 0.0
    /// `sum_x KL(pi(.|x) || pi_ref(.|x))`.
    public var klReference = 0.0
    /// `sum_x E_pi[r(x, .)]` under the true reward.
    public var expectedReward = 0.0
    /// `sum_x` of the probability of the responses that occur in no training pair.
    public var unseenMass = 0.0
    public init() {}
}

extension SimulationConfig.Policy {
    /// The conforming type of each family: the one place a family is registered.
    public var family: any PolicyFamily.Type {
        switch self {
        case .tabular: return TabularPolicy.self
        case .loglinear: return LogLinearPolicy.self
        }
    }
}

/// `log pi_ref` of a softmax family from its reference logits: per prompt,
/// `z - logSumExp(z)` (LossMath's max-shifted log-sum-exp).
func normalisedRows(_ logits: [Double], responses K: Int) -> [Double] {
    var out = logits
    for x in 0..<(logits.count / K) {
        let row = x * K ..< (x + 1) * K
        let lse = logSumExp(logits[row])
        for i in row { out[i] = logits[i] - lse }
    }
    return out
}

/// `log softmax` of `K` logits already in `out`, in place, with ``rowMaximum(_:_:)`` and
/// ``rowTotal(_:_:)`` (the arithmetic of the fused passes, so both give the same bits). The
/// max shift keeps logits of any size from overflowing or underflowing to an all-zero row.
@inline(__always)
func logSoftmaxInPlace(_ out: UnsafeMutablePointer<Double>, _ K: Int) {
    let m = rowMaximum(out, K)
    let s = withUnsafeTemporaryAllocation(of: Double.self, capacity: K) { buf -> Double in
        guard let b = buf.baseAddress else { return 0 }
        for y in 0..<K { b[y] = Elementary.exp(out[y] - m) }
        return rowTotal(b, K)
    }
    let lse = m + Elementary.log(s)
    for y in 0..<K { out[y] -= lse }
}

/// `G = c - s pi` in place over `K` entries: the gradient of a loss with `dl/d log pi = c`
/// with respect to softmax logits (`d log pi_y / d z_y' = [y = y'] - pi_y'`), `s = sum c`.
@inline(__always)
func softmaxLogitGradient(_ c: UnsafeMutablePointer<Double>, total s: Double, logPolicy: UnsafePointer<Double>, _ K: Int) {
    if s != 0 {
        for y in 0..<K { c[y] -= s * Elementary.exp(logPolicy[y]) }
    }
}
