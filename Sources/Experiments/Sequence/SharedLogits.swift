/// The `shared` parameterisation of a sequence policy: logits built from parameters shared
/// across prompts and positions, so that chosen and rejected responses share parameters
/// (`docs/theory.md §5.2`).
///
/// `logit(s_t, a) = base(s_t, a) + ((A[r_t, a] + B[x, a]) + C[t, a])`, added in that order,
/// with an optional fixed `base` table (0 when absent), where
/// - `A` is a `(V + 1) x V` table over (previous token, token); its row `r_t` is `y_{t-1}`
///   for `t >= 1` and the extra start row `V` at `t = 0`;
/// - `B` is `P x V`, a prompt term over (prompt, token);
/// - `C` is `T x V`, a position term over (position, token).
///
/// The parameter vector is flat and contiguous: `[A | B | C]`, each row-major, so
/// `A[r, a]` is at `r V + a`, `B[x, a]` at `(V + 1) V + x V + a` and `C[t, a]` at
/// `(V + 1 + P) V + t V + a`; `(V + 1 + P + T) V` parameters in all. The map is not
/// identifiable (a constant added to a row of `C` and subtracted from `B` changes no logit;
/// constants per row cancel in the softmax); gradient methods do not need it to be.
///
/// A Markov policy with a free logit per state and token has `P S V` parameters; this one
/// has `(V + 1 + P + T) V`, so raising `log pi(y_w)` through `A` also moves every response
/// that makes the same (previous, token) transitions, such as `y_l`.
///
/// See also: ``MarkovPolicy``, ``MarkovPolicy/accumulateGradient(weights:batch:into:stateWeights:)``.
public struct SharedLogits: Sendable, Hashable {
    /// The state space.
    public let space: SequenceSpace
    /// Fixed logits added to every state's row (table layout), or `nil` for none.
    public let base: [Double]?

    /// The parameterisation of `space`, `logit = base + ((A + B) + C)`.
    ///
    /// With `base` the reference policy's logits (or log-probabilities), `theta = 0` is
    /// `pi_ref` exactly, whatever its per-state logits are; `pi*` is then in general outside
    /// the family, as it is for a real model.
    public init(space: SequenceSpace, base: [Double]? = nil) {
        precondition(base.map { $0.count == space.tableCount } ?? true, "base logits need P S V entries")
        self.space = space
        self.base = base
    }

    /// `(V + 1 + P + T) V`.
    public var parameterCount: Int { (space.vocabulary + 1 + space.prompts + space.length) * space.vocabulary }
    /// Offset of `B` in the parameter vector.
    public var promptOffset: Int { (space.vocabulary + 1) * space.vocabulary }
    /// Offset of `C` in the parameter vector.
    public var positionOffset: Int { (space.vocabulary + 1 + space.prompts) * space.vocabulary }

    /// The row of `A` used at state `s`: its previous token, or `V` at position 0.
    func rowOfA(previous p: Int) -> Int { p == SequenceSpace.noPrevious ? space.vocabulary : p }

    /// Calls `body(stateFirstEntry, offsetA, offsetB, offsetC)` for every state, with the
    /// parameter offsets of the three rows that make its logits.
    private func forEachState(_ body: (Int, Int, Int, Int) -> Void) {
        let v = space.vocabulary
        for x in 0..<space.prompts {
            for t in 0..<space.length {
                let first = space.firstState(prompt: x, position: t)
                for k in 0..<space.stateCount(atPosition: t) {
                    let previous = t == 0 ? SequenceSpace.noPrevious : k
                    body((first + k) * v, rowOfA(previous: previous) * v, promptOffset + x * v, positionOffset + t * v)
                }
            }
        }
    }

    /// The logits table (layout of ``SequenceSpace``) of parameters `theta`, `base` included.
    public func logits(_ theta: [Double]) -> [Double] {
        precondition(theta.count == parameterCount, "theta needs (V + 1 + P + T) V entries")
        var out = [Double](repeating: 0, count: space.tableCount)
        let v = space.vocabulary
        forEachState { e, a, b, c in
            for k in 0..<v { out[e + k] = (theta[a + k] + theta[b + k]) + theta[c + k] }
        }
        if let base {
            for e in out.indices { out[e] = base[e] + out[e] }
        }
        return out
    }

    /// Adds the gradient in `theta` of a function whose gradient in the logits is
    /// `logitGradient` (table layout): each logit's entry goes to its `A`, `B` and `C`
    /// parameters, the transpose of ``logits(_:)`` (`base` is fixed). `O(P S V)`.
    public func backpropagate(_ logitGradient: [Double], into gradient: inout [Double]) {
        precondition(logitGradient.count == space.tableCount && gradient.count == parameterCount, "sizes")
        let v = space.vocabulary
        forEachState { e, a, b, c in
            for k in 0..<v {
                let g = logitGradient[e + k]
                gradient[a + k] += g
                gradient[b + k] += g
                gradient[c + k] += g
            }
        }
    }
}
