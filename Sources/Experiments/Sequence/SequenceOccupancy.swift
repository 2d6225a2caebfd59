import LossMath

/// The state occupancies `d_t(s)` of a Markov policy, and the exact expectations they give
/// (`docs/theory.md §5.2`).
///
/// `d_t(s)` is the probability that `pi` visits state `s` (which fixes `t`): `d_0(s_0) = 1`
/// per prompt and `d_{t+1}(x, t+1, a) = sum_s d_t(s) pi(a|s)` over prompt `x`'s states at
/// `t`. Then, for any Markov `q` on the same states and any table `f` in the layout of
/// ``SequenceSpace``,
/// - `KL(pi || q)(x) = sum_t sum_s d_t(s) sum_a pi(a|s) (log pi(a|s) - log q(a|s))`;
/// - `E_pi[sum_t f(s_t, y_t)](x) = sum_t sum_s d_t(s) sum_a pi(a|s) f(s, a)`;
/// - the expected count of token `k` is the second with `f(s, a) = [a = k]`.
///
/// The pass costs `O(P T V^2)`; every average over prompts weighs each prompt `1/P`.
/// Terms with `pi(a|s) = 0` (an underflowed probability) contribute 0, so the results are
/// finite whenever the tables are.
///
/// See also: ``MarkovPolicy``, ``SoftBellman``, ``WinRate``.
public struct SequenceOccupancy: Sendable {
    /// The policy whose occupancies these are.
    public let policy: MarkovPolicy
    /// `d_t(s)` for every state, `P S` (state layout of ``SequenceSpace``); the entries of a
    /// prompt at each position sum to 1.
    public let occupancy: [Double]

    /// The forward pass of `policy`.
    public init(policy: MarkovPolicy) {
        let space = policy.space
        let v = space.vocabulary
        var d = [Double](repeating: 0, count: space.stateCount)
        policy.logProbabilities.withUnsafeBufferPointer { lp in       // sizes fixed by the space
            d.withUnsafeMutableBufferPointer { d in
                for x in 0..<space.prompts {
                    d[space.firstState(prompt: x, position: 0)] = 1
                    for t in 0..<(space.length - 1) {
                        let first = space.firstState(prompt: x, position: t)
                        let next = space.firstState(prompt: x, position: t + 1)
                        for s in first..<(first + space.stateCount(atPosition: t)) where d[s] > 0 {
                            let (row, weight) = (s * v, d[s])
                            for a in 0..<v { d[next + a] += weight * Elementary.exp(lp[row + a]) }
                        }
                    }
                }
            }
        }
        self.policy = policy
        occupancy = d
    }

    /// `sum_s d(s) g(s)` over prompt `x`'s states, where `g(s) = sum_a pi(a|s) term(row + a)`.
    @inline(__always)
    private func promptSum(_ x: Int, _ term: (Int, Double) -> Double) -> Double {
        let space = policy.space
        let v = space.vocabulary
        let first = space.firstState(prompt: x, position: 0)
        var total = 0.0
        for s in first..<(first + space.statesPerPrompt) where occupancy[s] > 0 {
            let row = s * v
            var inner = 0.0
            for a in 0..<v {
                let lp = policy.logProbabilities[row + a]
                let p = Elementary.exp(lp)
                if p > 0 { inner += p * term(row + a, lp) }
            }
            total += occupancy[s] * inner
        }
        return total
    }

    /// `KL(pi || q)(x)` per prompt; `q` must be on the same space.
    public func klDivergencePerPrompt(to q: MarkovPolicy) -> [Double] {
        precondition(q.space == policy.space, "KL needs policies on the same space")
        return (0..<policy.space.prompts).map { x in
            promptSum(x) { e, lp in lp - q.logProbabilities[e] }
        }
    }

    /// `(1/P) sum_x KL(pi || q)(x)`. With `q = pi*` and times `beta` this is the regret
    /// `J(pi*) - J(pi)` (`docs/theory.md, T2`).
    public func klDivergence(to q: MarkovPolicy) -> Double { mean(klDivergencePerPrompt(to: q)) }

    /// `E_pi[sum_t f(s_t, y_t) | x]` per prompt, for a table `f` in the space's layout.
    public func expectedSumPerPrompt(_ f: [Double]) -> [Double] {
        precondition(f.count == policy.space.tableCount, "a table needs P S V entries")
        return (0..<policy.space.prompts).map { x in promptSum(x) { e, _ in f[e] } }
    }

    /// `(1/P) sum_x E_pi[r(x, y)]` for an additive reward table `rho`.
    public func expectedReward(_ rho: [Double]) -> Double { mean(expectedSumPerPrompt(rho)) }

    /// `(1/P) sum_x E_pi[#{t : y_t = k}]`, the expected count of token `k` in a response.
    public func expectedCount(token k: Int) -> Double {
        let space = policy.space
        precondition(k >= 0 && k < space.vocabulary, "token out of range")
        let v = space.vocabulary
        var total = 0.0
        for s in 0..<space.stateCount where occupancy[s] > 0 {
            total += occupancy[s] * Elementary.exp(policy.logProbabilities[s * v + k])
        }
        return total / Double(space.prompts)
    }

    /// `J(pi) = E_pi[r] - beta KL(pi || pi_ref)`, averaged over prompts (`docs/theory.md, T1`).
    public func objective(reward rho: [Double], reference: MarkovPolicy, beta: Double) -> Double {
        expectedReward(rho) - beta * klDivergence(to: reference)
    }

    private func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }
}
