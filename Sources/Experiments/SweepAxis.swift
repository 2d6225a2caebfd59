import LossMath

/// One axis of a sweep grid, declared once: its column, its manifest key, the type of its
/// values and how a value sets a run's configuration.
///
/// The run rows (runs.csv and the resume journal), the manifest, the merge check, the
/// enumeration order and the aggregate's grouping all iterate over `allCases`, so a new axis
/// is one new case here: the compiler then asks for its arm in each switch below.
///
/// Order matters: runs are enumerated with the first axis outermost, and columns appear in
/// this order. Replicate axes (``isReplicate``, the seed) are averaged over by
/// ``Sweep/aggregate(_:)``; the others form an aggregate's cell.
///
/// See also: ``SweepValue``, ``SweepSpec``, ``SweepRun``.
public enum SweepAxis: String, CaseIterable, Sendable, Hashable, Codable, CodingKey {
    case loss
    case beta
    case rewardNoise = "reward_noise"
    case seed

    /// The column name in runs.csv and aggregate.csv (the raw value).
    public var column: String { rawValue }

    /// The key of the axis's line in manifest.txt, `<key>=v1,v2,...`.
    public var manifestKey: String {
        switch self {
        case .loss: return "losses"
        case .beta: return "betas"
        case .rewardNoise: return "reward_noises"
        case .seed: return "seeds"
        }
    }

    /// The parameter name in validation errors (e.g. "betas").
    public var listName: String {
        switch self {
        case .loss: return "losses"
        case .beta: return "betas"
        case .rewardNoise: return "reward noises"
        case .seed: return "seeds"
        }
    }

    /// The short header in sweep.md, and the phrase naming a value in its comparison lines.
    public var header: String {
        switch self {
        case .loss: return "loss"
        case .beta: return "beta"
        case .rewardNoise: return "noise"
        case .seed: return "seed"
        }
    }

    public var phrase: String {
        switch self {
        case .rewardNoise: return "reward-model noise"
        default: return header
        }
    }

    /// The type of the axis's values.
    public var kind: SweepValue.Kind {
        switch self {
        case .loss: return .loss
        case .beta, .rewardNoise: return .real
        case .seed: return .seed
        }
    }

    /// True for an axis of independent replicates, which ``Sweep/aggregate(_:)`` averages over.
    public var isReplicate: Bool { self == .seed }

    /// The axes that form an aggregate's cell, in order.
    public static var cellAxes: [SweepAxis] { allCases.filter { !$0.isReplicate } }

    /// Sets `value` (of this axis's ``kind``, checked by ``SweepSpec/validate()``) on a run's
    /// configuration.
    public func apply(_ value: SweepValue, to simulation: inout SimulationConfig, _ training: inout TrainingConfig) {
        switch (self, value) {
        case (.loss, .loss(let l)): training.loss = l
        case (.beta, .real(let b)): simulation.beta = b
        case (.rewardNoise, .real(let s)): simulation.rewardNoise = s
        case (.seed, .seed(let s)): simulation.seed = s
        default: break
        }
    }

    /// Decodes this axis's value from its column.
    func decode<K: CodingKey>(from c: KeyedDecodingContainer<K>, key: K) throws -> SweepValue {
        switch kind {
        case .loss: return .loss(try c.decode(Loss.self, forKey: key))
        case .real: return .real(try c.decode(Double.self, forKey: key))
        case .seed: return .seed(try c.decode(UInt64.self, forKey: key))
        }
    }
}

/// A value on a ``SweepAxis``: a loss, a real number or a seed.
public enum SweepValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case loss(Loss)
    case real(Double)
    case seed(UInt64)

    /// The type of a value, as an axis declares it.
    public enum Kind: Sendable, Hashable { case loss, real, seed }

    public var kind: Kind {
        switch self {
        case .loss: return .loss
        case .real: return .real
        case .seed: return .seed
        }
    }

    public var description: String {
        switch self {
        case .loss(let l): return "\(l)"
        case .real(let x): return "\(x)"
        case .seed(let s): return "\(s)"
        }
    }

    /// Encodes the bare value (a loss name, a number or an integer) under `key`.
    func encode<K: CodingKey>(to c: inout KeyedEncodingContainer<K>, key: K) throws {
        switch self {
        case .loss(let l): try c.encode(l, forKey: key)
        case .real(let x): try c.encode(x, forKey: key)
        case .seed(let s): try c.encode(s, forKey: key)
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
}
