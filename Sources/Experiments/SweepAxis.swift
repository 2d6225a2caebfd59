import LossMath

/// One axis of a sweep grid, declared once: its column, its manifest key, the type of its
/// values and how a value sets a run's configuration.
///
/// The run rows (runs.csv and the resume journal), the manifest, the merge check, the
/// enumeration order and the aggregate's grouping all iterate over `allCases`, so a new axis
/// is one new case here: the compiler then asks for its arm in each switch below.
///
/// A sweep has one ``SweepLevel``: the tabular level's axes are `loss, beta, reward_noise,
/// seed`; the sequence level (docs/theory.md §5.2) adds `policy` (markov|shared), `target`,
/// `proxy_bias`, `spurious_token`, `vocab`, `length` and `rm_l2`. Either level takes the
/// optional `learning_rate` axis, just before `seed`, present only when given
/// (``SweepLevel/hasLearningRate``). Order matters: runs are
/// enumerated with the level's first axis outermost, and columns appear in that order.
/// Replicate axes (``isReplicate``, the seed) are averaged over by ``Sweep/aggregate(_:)``;
/// the others form an aggregate's cell.
///
/// See also: ``SweepLevel``, ``SweepValue``, ``SweepSpec``, ``SweepRun``.
public enum SweepAxis: String, CaseIterable, Sendable, Hashable, Codable, CodingKey {
    case loss
    case beta
    case rewardNoise = "reward_noise"
    case seed
    /// The sequence-level parameterisation (markov or shared).
    case policy
    /// Where reward-aware losses get `dr` (true: the oracle, proxy, fitted).
    case target
    /// The proxy's bias `lambda` (`r~ = r + lambda #{t : y_t = k}`).
    case proxyBias = "proxy_bias"
    /// The spurious token `k`.
    case spuriousToken = "spurious_token"
    /// The vocabulary `V`.
    case vocab
    /// Tokens per response `T`.
    case length
    /// The fitted reward model's L2 strength.
    case rmL2 = "rm_l2"
    /// The optimiser's learning rate (`--lrs`, either level; a column only when given).
    case learningRate = "learning_rate"

    /// The column name in runs.csv and aggregate.csv (the raw value).
    public var column: String { rawValue }

    /// The key of the axis's line in manifest.txt, `<key>=v1,v2,...`.
    public var manifestKey: String {
        switch self {
        case .loss: return "losses"
        case .beta: return "betas"
        case .rewardNoise: return "reward_noises"
        case .seed: return "seeds"
        case .policy: return "policies"
        case .target: return "targets"
        case .proxyBias: return "proxy_biases"
        case .spuriousToken: return "spurious_tokens"
        case .vocab: return "vocabs"
        case .length: return "lengths"
        case .rmL2: return "rm_l2s"
        case .learningRate: return "learning_rates"
        }
    }

    /// The parameter name in validation errors (e.g. "betas").
    public var listName: String {
        switch self {
        case .loss: return "losses"
        case .beta: return "betas"
        case .rewardNoise: return "reward noises"
        case .seed: return "seeds"
        case .policy: return "policies"
        case .target: return "targets"
        case .proxyBias: return "proxy biases"
        case .spuriousToken: return "spurious tokens"
        case .vocab: return "vocabs"
        case .length: return "lengths"
        case .rmL2: return "rm-l2s"
        case .learningRate: return "learning rates"
        }
    }

    /// The short header in sweep.md, and the phrase naming a value in its comparison lines.
    public var header: String {
        switch self {
        case .loss: return "loss"
        case .beta: return "beta"
        case .rewardNoise: return "noise"
        case .seed: return "seed"
        case .policy: return "policy"
        case .target: return "target"
        case .proxyBias: return "lambda"
        case .spuriousToken: return "k"
        case .vocab: return "V"
        case .length: return "T"
        case .rmL2: return "rm l2"
        case .learningRate: return "lr"
        }
    }

    public var phrase: String {
        switch self {
        case .rewardNoise: return "reward-model noise"
        case .proxyBias: return "proxy bias"
        case .spuriousToken: return "spurious token"
        case .learningRate: return "learning rate"
        default: return header
        }
    }

    /// The type of the axis's values.
    public var kind: SweepValue.Kind {
        switch self {
        case .loss: return .loss
        case .beta, .rewardNoise, .proxyBias, .rmL2, .learningRate: return .real
        case .seed: return .seed
        case .spuriousToken, .vocab, .length: return .integer
        case .policy: return .policy
        case .target: return .target
        }
    }

    /// True for an axis of independent replicates, which ``Sweep/aggregate(_:)`` averages over.
    public var isReplicate: Bool { self == .seed }

    /// The tabular level's cell axes, in order (``SweepLevel/cellAxes``).
    public static var cellAxes: [SweepAxis] { SweepLevel.tabular.cellAxes }

    /// Sets `value` (of this axis's ``kind``, checked by ``SweepSpec/validate()``) on a run's
    /// configuration.
    public func apply(_ value: SweepValue, to simulation: inout SimulationConfig, _ training: inout TrainingConfig) {
        switch (self, value) {
        case (.loss, .loss(let l)): training.loss = l
        case (.beta, .real(let b)): simulation.beta = b
        case (.rewardNoise, .real(let s)): simulation.rewardNoise = s
        case (.seed, .seed(let s)): simulation.seed = s
        case (.learningRate, .real(let x)): training.learningRate = x
        default: break
        }
    }

    /// Sets `value` on a sequence-level run's configuration (``SweepLevel/sequence``).
    public func apply(_ value: SweepValue, to sequence: inout SequenceConfig, _ training: inout TrainingConfig) {
        switch (self, value) {
        case (.loss, .loss(let l)): training.loss = l
        case (.beta, .real(let b)): sequence.beta = b
        case (.rewardNoise, .real(let s)): sequence.rewardNoise = s
        case (.seed, .seed(let s)): sequence.seed = s
        case (.policy, .policy(let p)): sequence.parameterisation = p
        case (.target, .target(let t)): sequence.target = t
        case (.proxyBias, .real(let x)): sequence.proxyBias = x
        case (.spuriousToken, .integer(let k)): sequence.spuriousToken = k
        case (.vocab, .integer(let v)): sequence.vocabulary = v
        case (.length, .integer(let t)): sequence.length = t
        case (.rmL2, .real(let x)): sequence.rewardModelL2 = x
        case (.learningRate, .real(let x)): training.learningRate = x
        default: break
        }
    }

    /// Decodes this axis's value from its column.
    func decode<K: CodingKey>(from c: KeyedDecodingContainer<K>, key: K) throws -> SweepValue {
        switch kind {
        case .loss: return .loss(try c.decode(Loss.self, forKey: key))
        case .real: return .real(try c.decode(Double.self, forKey: key))
        case .seed: return .seed(try c.decode(UInt64.self, forKey: key))
        case .integer: return .integer(try c.decode(Int.self, forKey: key))
        case .policy: return .policy(try c.decode(SequenceConfig.Parameterisation.self, forKey: key))
        case .target: return .target(try c.decode(SequenceConfig.Target.self, forKey: key))
        }
    }
}

/// A value on a ``SweepAxis``: a loss, a real number, a seed, an integer, a sequence-level
/// parameterisation or a target.
public enum SweepValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case loss(Loss)
    case real(Double)
    case seed(UInt64)
    case integer(Int)
    case policy(SequenceConfig.Parameterisation)
    case target(SequenceConfig.Target)

    /// The type of a value, as an axis declares it.
    public enum Kind: Sendable, Hashable { case loss, real, seed, integer, policy, target }

    public var kind: Kind {
        switch self {
        case .loss: return .loss
        case .real: return .real
        case .seed: return .seed
        case .integer: return .integer
        case .policy: return .policy
        case .target: return .target
        }
    }

    public var description: String {
        switch self {
        case .loss(let l): return "\(l)"
        case .real(let x): return "\(x)"
        case .seed(let s): return "\(s)"
        case .integer(let k): return "\(k)"
        case .policy(let p): return p.rawValue
        case .target(let t): return t.rawValue
        }
    }

    /// Encodes the bare value (a loss name, a number or an integer) under `key`.
    func encode<K: CodingKey>(to c: inout KeyedEncodingContainer<K>, key: K) throws {
        switch self {
        case .loss(let l): try c.encode(l, forKey: key)
        case .real(let x): try c.encode(x, forKey: key)
        case .seed(let s): try c.encode(s, forKey: key)
        case .integer(let k): try c.encode(k, forKey: key)
        case .policy(let p): try c.encode(p, forKey: key)
        case .target(let t): try c.encode(t, forKey: key)
        }
    }

    /// A key equal exactly when the bits are (so `0` and `-0` are different cells).
    var bitKey: SweepValue {
        if case .real(let x) = self { return .seed(x.bitPattern) }
        return self
    }

    public var loss: Loss? { if case .loss(let l) = self { return l }; return nil }
    public var real: Double? { if case .real(let x) = self { return x }; return nil }
    public var seedValue: UInt64? { if case .seed(let s) = self { return s }; return nil }
    public var integer: Int? { if case .integer(let k) = self { return k }; return nil }
}
