import LossMath

/// A parametric autoregressive policy `pi_theta(y|x) = prod_t pi_theta(y_t | s_t)` on a
/// ``SequenceSpace``: what ``SequenceTrainer`` needs to know about a sequence-level policy.
///
/// **Why not ``PolicyFamily``.** ``PolicyFamily`` enumerates the `K` responses of a prompt
/// and gives `log pi` of each; a sequence family has `V^T` responses per prompt (`32^256`
/// at the scale of issue 10), so nothing can be enumerated. What it has instead is a
/// per-state softmax: the trainer works on the table of `log pi(a|s)` (one row per state),
/// takes each response's `log pi` as a path sum over it, and turns the loss's
/// `dl/d log pi` into a per-row logit gradient. So sequence families get their own protocol
/// and their own trainer, which share with the tabular one the loss kernels (LossMath's
/// batch API), the optimiser (``OptimizerState``'s update), ``TrainingConfig`` and the
/// divergence semantics (`divergedAtStep`, status `diverged at step N`);
/// `docs/theory.md §5.2`.
///
/// A conformance states its parameters (``parameterCount``; training starts at
/// ``referenceParameters``, where `pi = pi_ref`), the rows of `log pi` they give
/// (``writeLogPolicy(states:parameters:into:probabilities:)``), and the transpose of the map from
/// parameters to logits (``addGradient(state:logitGradient:into:)``).
///
/// See also: ``MarkovFamily``, ``SharedFamily``, ``SequenceTrainer``.
public protocol SequencePolicyFamily: Sendable {
    /// The state space.
    var space: SequenceSpace { get }
    /// The number of parameters `theta`.
    var parameterCount: Int { get }
    /// `theta_ref`, at which `pi = pi_ref` exactly.
    var referenceParameters: [Double] { get }
    /// True when the parameters are the logits themselves, in the table layout (state `s`
    /// owns parameters `s V ..< (s + 1) V` and nothing else, `pi(.|s) = softmax(theta_s)`
    /// by ``MarkovPolicy/init(space:logits:)``'s operations): then a state whose logit
    /// gradient is always zero keeps its parameters, and the trainer updates only the
    /// states on some training pair's path.
    var parametersAreLogits: Bool { get }

    /// Writes `log pi_theta(.|s)` into `logPolicy[s V ..< (s + 1) V]` and `pi_theta(.|s)`
    /// into the same entries of `probabilities` (two tables of ``SequenceSpace``'s layout)
    /// for every `s` in `states`, by ``logSoftmaxRow(_:into:probabilities:count:)``.
    func writeLogPolicy(states: UnsafeBufferPointer<Int>, parameters theta: UnsafePointer<Double>,
                        into logPolicy: UnsafeMutablePointer<Double>, probabilities: UnsafeMutablePointer<Double>)

    /// Adds `sum_a G(a) d logit(s, a) / d theta` into `gradient`, for the logit gradient
    /// `G = logitGradient[0 ..< V]` of state `s`.
    func addGradient(state s: Int, logitGradient g: UnsafePointer<Double>, into gradient: UnsafeMutablePointer<Double>)
}

extension SequencePolicyFamily {
    /// The whole table of `log pi_theta(a|s)` (layout of ``SequenceSpace``).
    public func logPolicy(parameters theta: [Double]) -> [Double] {
        precondition(theta.count == parameterCount, "expected \(parameterCount) parameters")
        var out = [Double](repeating: 0, count: space.tableCount)
        var scratch = [Double](repeating: 0, count: space.tableCount)
        let states = Array(0..<space.stateCount)
        states.withUnsafeBufferPointer { s in
            theta.withUnsafeBufferPointer { th in
                out.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { sc in
                        guard let t = th.baseAddress, let op = o.baseAddress, let sp = sc.baseAddress else { return }
                        writeLogPolicy(states: s, parameters: t, into: op, probabilities: sp)
                    }
                }
            }
        }
        return out
    }
}

extension SequenceConfig.Parameterisation {
    /// The family of this parameterisation around the reference logits `l_ref`.
    public func family(space: SequenceSpace, referenceLogits: [Double]) -> any SequencePolicyFamily {
        switch self {
        case .markov: return MarkovFamily(space: space, referenceLogits: referenceLogits)
        case .shared: return SharedFamily(space: space, referenceLogits: referenceLogits)
        }
    }
}

/// The `markov` parameterisation: `theta` is the logit table itself (`P S V` parameters,
/// layout of ``SequenceSpace``), `pi(.|s) = softmax(theta_s)`; `theta_ref = l_ref`.
///
/// See also: ``SequencePolicyFamily``, ``MarkovPolicy/init(space:logits:)`` (the same bits).
public struct MarkovFamily: SequencePolicyFamily {
    public let space: SequenceSpace
    public let referenceParameters: [Double]

    public init(space: SequenceSpace, referenceLogits: [Double]) {
        precondition(referenceLogits.count == space.tableCount, "reference logits need P S V entries")
        self.space = space
        referenceParameters = referenceLogits
    }

    public var parameterCount: Int { space.tableCount }
    public var parametersAreLogits: Bool { true }

    public func writeLogPolicy(states: UnsafeBufferPointer<Int>, parameters theta: UnsafePointer<Double>,
                               into logPolicy: UnsafeMutablePointer<Double>, probabilities: UnsafeMutablePointer<Double>) {
        let v = space.vocabulary
        for s in states { logSoftmaxRow(theta + s * v, into: logPolicy + s * v, probabilities: probabilities + s * v, count: v) }
    }

    @inline(__always)
    public func addGradient(state s: Int, logitGradient g: UnsafePointer<Double>, into gradient: UnsafeMutablePointer<Double>) {
        let v = space.vocabulary
        let row = gradient + s * v
        for a in 0..<v { row[a] += g[a] }
    }
}

/// The `shared` parameterisation: ``SharedLogits`` with the reference logits as its base,
/// `logit(s_t, a) = l_ref(s_t, a) + ((A[y_(t-1), a] + B[x, a]) + C[t, a])`, so `theta = 0`
/// is `pi_ref` exactly and chosen and rejected responses share `A`, `B` and `C`
/// (`(V + 1 + P + T) V` parameters). `pi*` is in general outside this family.
///
/// See also: ``SequencePolicyFamily``, ``SharedLogits/logits(_:)`` (the same bits).
public struct SharedFamily: SequencePolicyFamily {
    public let space: SequenceSpace
    public let logits: SharedLogits

    public init(space: SequenceSpace, referenceLogits: [Double]) {
        self.space = space
        logits = SharedLogits(space: space, base: referenceLogits)
    }

    public var parameterCount: Int { logits.parameterCount }
    public var referenceParameters: [Double] { [Double](repeating: 0, count: parameterCount) }
    public var parametersAreLogits: Bool { false }

    /// The parameter offsets of the rows of `A`, `B` and `C` that make state `s`'s logits.
    @inline(__always)
    func offsets(state s: Int) -> (a: Int, b: Int, c: Int) {
        let (x, t, previous) = space.components(ofState: s)
        let v = space.vocabulary
        return (logits.rowOfA(previous: previous) * v, logits.promptOffset + x * v, logits.positionOffset + t * v)
    }

    public func writeLogPolicy(states: UnsafeBufferPointer<Int>, parameters theta: UnsafePointer<Double>,
                               into logPolicy: UnsafeMutablePointer<Double>, probabilities: UnsafeMutablePointer<Double>) {
        let v = space.vocabulary
        logits.base?.withUnsafeBufferPointer { base in
            guard let base = base.baseAddress else { return }
            for s in states {
                let (a, b, c) = offsets(state: s)
                let out = logPolicy + s * v, l = base + s * v
                for k in 0..<v { out[k] = l[k] + ((theta[a + k] + theta[b + k]) + theta[c + k]) }
                logSoftmaxRow(out, into: out, probabilities: probabilities + s * v, count: v)
            }
        }
    }

    @inline(__always)
    public func addGradient(state s: Int, logitGradient g: UnsafePointer<Double>, into gradient: UnsafeMutablePointer<Double>) {
        let (a, b, c) = offsets(state: s)
        for k in 0..<space.vocabulary {
            gradient[a + k] += g[k]
            gradient[b + k] += g[k]
            gradient[c + k] += g[k]
        }
    }
}

/// The logit gradient of state `s`'s row into `g` (`V` entries), the row of `c` zeroed:
/// `g(a) = c(s, a) - (sum_b c(s, b)) pi(a|s)`, the sum in token order.
@inline(__always)
func logitGradientRow(_ c: UnsafeMutablePointer<Double>, probabilities p: UnsafePointer<Double>,
                      into g: UnsafeMutablePointer<Double>, count v: Int) {
    var total = 0.0
    for a in 0..<v { total += c[a] }
    for a in 0..<v {
        g[a] = c[a] - total * p[a]
        c[a] = 0
    }
}

/// `out = (l - m) - log sum_a exp(l_a - m)`, `m = max l`: the row log-softmax with exactly
/// the operations of ``MarkovPolicy/init(space:logits:)`` (so the same bits); `out` may be
/// `l` itself. Also writes the probabilities `p_a = exp(l_a - m) (1 / sum_b exp(l_b - m))`
/// (`count` entries; within an ulp or two of `exp(out_a)`), so that a gradient needs no
/// second exponential.
@inline(__always)
func logSoftmaxRow(_ l: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>,
                   probabilities e: UnsafeMutablePointer<Double>, count v: Int) {
    var m = l[0]
    for a in 1..<v { m = Swift.max(m, l[a]) }
    for a in 0..<v { e[a] = Elementary.exp(l[a] - m) }
    var sum = 0.0
    for a in 0..<v { sum += e[a] }
    let logSum = Elementary.log(sum)
    for a in 0..<v { out[a] = (l[a] - m) - logSum }
    let inverse = 1 / sum
    for a in 0..<v { e[a] *= inverse }
}
