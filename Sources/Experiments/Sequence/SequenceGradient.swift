import LossMath

extension MarkovPolicy {
    /// Adds `sum_i g_i d log pi(y_i | x_i) / d logit(s, a)` into `gradient` (table layout),
    /// for the `markov` parameterisation: a free logit per state and token.
    ///
    /// For one response, `d log pi(y|x) / d logit(s, a) = sum_{t : s_t = s} ([a = y_t] - pi(a|s))`
    /// (`docs/theory.md §5.2`), since `log pi(y_t|s_t) = logit(s_t, y_t) - logsumexp logit(s_t, .)`.
    /// With `g_i = dl/d log pi(y_i)` from a loss, the result is that loss's gradient in the
    /// logits, with no autograd.
    ///
    /// Two passes: the weights are added to the taken tokens and to each visited state's
    /// weight `c(s) = sum_{i, t : s_t = s} g_i`, then `c(s) pi(.|s)` is subtracted from every
    /// state with `c(s) != 0`. Cost `O(n T + P S V)`; `stateWeights` is scratch of length
    /// `P S`, left all zero on return.
    ///
    /// - Parameters:
    ///   - weights: `g_i`, one per response of `batch` (finite).
    ///   - batch: responses valid in this space.
    ///   - gradient: a table of `P S V` entries, added to.
    ///   - stateWeights: scratch, `P S` zeros.
    ///
    /// See also: ``SharedLogits/backpropagate(_:into:)``, ``logProbabilities(of:)``.
    public func accumulateGradient(weights: [Double], batch: ResponseBatch, into gradient: inout [Double],
                                   stateWeights: inout [Double]) {
        precondition(weights.count == batch.count && batch.isValid(in: space), "one weight per response, valid tokens")
        precondition(gradient.count == space.tableCount && stateWeights.count == space.stateCount, "table sizes")
        let length = space.length
        for i in 0..<batch.count where weights[i] != 0 {
            let g = weights[i]
            let x = batch.prompts[i]
            var s = space.state(prompt: x, position: 0, previous: SequenceSpace.noPrevious)
            for t in 0..<length {
                let a = batch.tokens[i * length + t]
                gradient[space.entry(state: s, token: a)] += g
                stateWeights[s] += g
                if t + 1 < length { s = space.state(prompt: x, position: t + 1, previous: a) }
            }
        }
        let v = space.vocabulary
        for s in 0..<space.stateCount where stateWeights[s] != 0 {
            let c = stateWeights[s]
            for a in 0..<v { gradient[s * v + a] -= c * Elementary.exp(logProbabilities[s * v + a]) }
            stateWeights[s] = 0
        }
    }

    /// ``accumulateGradient(weights:batch:into:stateWeights:)`` into a fresh zero table.
    public func gradient(weights: [Double], batch: ResponseBatch) -> [Double] {
        var g = [Double](repeating: 0, count: space.tableCount)
        var scratch = [Double](repeating: 0, count: space.stateCount)
        accumulateGradient(weights: weights, batch: batch, into: &g, stateWeights: &scratch)
        return g
    }
}
