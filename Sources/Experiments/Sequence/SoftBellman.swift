import LossMath

/// The exact optimum `pi* ∝ pi_ref exp(r / beta)` of the KL-regularised objective
/// `J(pi) = E_pi[r] - beta KL(pi || pi_ref)` for an additive reward
/// `r(x, y) = sum_t rho(s_t, y_t)`, by the soft Bellman recursion (`docs/theory.md §5.2`).
///
/// Backward in `t`, with `V_T = 0`:
/// - `Q_t(s, a) = log pi_ref(a|s) + rho(s, a) / beta + V_{t+1}(s')`, `s'` the state `a` leads to;
/// - `V_t(s) = logsumexp_a Q_t(s, a)`;
/// - `log pi*(a|s) = Q_t(s, a) - V_t(s)`.
///
/// Then `log Z(x) = V_0(s_0)` and `J(pi*) = beta log Z` per prompt (`docs/theory.md, T1`).
/// Everything is in log space, `O(P T V^2)`, and exact for any finite tables and
/// `beta > 0` (no exponential of an unshifted value is taken).
///
/// See also: ``MarkovPolicy``, ``SequenceOccupancy``, ``SequenceSpace``.
public struct SoftBellman: Sendable, Hashable {
    /// `pi*`, Markov on the same states.
    public let optimal: MarkovPolicy
    /// `log Z(x)`, one per prompt.
    public let logPartition: [Double]
    /// `V_t(s)` for every state (length `P S`, state layout of ``SequenceSpace``).
    public let values: [Double]

    /// Solves for `pi*` given `pi_ref`, the per-transition reward table `rho` (table layout)
    /// and `beta > 0`.
    public init(reference: MarkovPolicy, reward rho: [Double], beta: Double) {
        let space = reference.space
        precondition(rho.count == space.tableCount, "rho needs P S V entries")
        precondition(beta > 0 && beta.isFinite, "beta must be positive and finite")
        let v = space.vocabulary
        var logOptimal = [Double](repeating: 0, count: space.tableCount)
        var values = [Double](repeating: 0, count: space.stateCount)
        var q = [Double](repeating: 0, count: v)
        for x in 0..<space.prompts {
            for t in stride(from: space.length - 1, through: 0, by: -1) {
                let first = space.firstState(prompt: x, position: t)
                let next = t + 1 < space.length ? space.firstState(prompt: x, position: t + 1) : -1
                for s in first..<(first + space.stateCount(atPosition: t)) {
                    let row = s * v
                    for a in 0..<v {
                        let future = next >= 0 ? values[next + a] : 0
                        q[a] = reference.logProbabilities[row + a] + rho[row + a] / beta + future
                    }
                    let value = logSumExp(q)
                    values[s] = value
                    for a in 0..<v { logOptimal[row + a] = q[a] - value }
                }
            }
        }
        optimal = MarkovPolicy(space: space, normalizedLogProbabilities: logOptimal)
        logPartition = (0..<space.prompts).map { values[space.firstState(prompt: $0, position: 0)] }
        self.values = values
    }

    /// `J(pi*) = beta * mean_x log Z(x)`, prompts weighing `1/P` (`docs/theory.md, T1`).
    public func optimalObjective(beta: Double) -> Double {
        beta * logPartition.reduce(0, +) / Double(logPartition.count)
    }
}
