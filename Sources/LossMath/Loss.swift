/// The loss catalogue: one value per loss type of ``registry(_:)``, named as TRL's
/// `DPOTrainer` `loss_type` (and NeMo-Aligner's RPO names, and this project's `spo` forms for
/// the seed paper's principled loss).
///
/// Each loss is one type conforming to ``PreferenceLoss`` in `Sources/LossMath/Losses/`,
/// with a static member here (`Loss.sigmoid`) declared in the same file. Codable as its name.
///
/// See `docs/loss-catalogue.md` for every formula.
public struct Loss: Sendable, Hashable, CaseIterable, RawRepresentable, Codable, CustomStringConvertible {
    /// Name, flags and parameters.
    public let descriptor: LossDescriptor
    /// See ``PreferenceLoss/rooflineOps``.
    public let rooflineOps: RooflineOps?
    /// See ``PreferenceLoss/rooflineGradientOps``.
    public let rooflineGradientOps: RooflineOps?
    @usableFromInline let id: ObjectIdentifier
    @usableFromInline let evaluatePair: @Sendable (PairLogProbs, LossParameters) -> LossEvaluation
    @usableFromInline let makeKernel: @Sendable (LossParameters) -> any PreferenceLoss
    @usableFromInline let logForm: @Sendable (_ uW: Double, _ uL: Double, _ rewardGap: Double, LossParameters) -> LogDerivativeForm

    init<L: PreferenceLoss>(_ type: L.Type) {
        descriptor = L.descriptor
        rooflineOps = L.rooflineOps
        rooflineGradientOps = L.rooflineGradientOps
        id = ObjectIdentifier(type)
        evaluatePair = { pair, p in L(unchecked: p).evaluate(pair, rewardGap: p.rewardGap ?? 0) }
        makeKernel = { p in L(unchecked: p) }
        logForm = { uW, uL, dr, p in L(unchecked: p).logDerivatives(uW: uW, uL: uL, rewardGap: dr) }
    }

    /// The registry: the one list of the catalogue's loss types, in catalogue order.
    /// ``allCases`` and ``withKernel(_:_:)`` come from it.
    @inlinable
    public static func registry<V: LossTypeVisitor>(_ v: inout V) {
        v.visit(Losses.Sigmoid.self)
        v.visit(Losses.CDPO.self)
        v.visit(Losses.Hinge.self)
        v.visit(Losses.IPO.self)
        v.visit(Losses.ExoPair.self)
        v.visit(Losses.NCAPair.self)
        v.visit(Losses.Robust.self)
        v.visit(Losses.BCOPair.self)
        v.visit(Losses.SPPOHard.self)
        v.visit(Losses.APOZero.self)
        v.visit(Losses.APODown.self)
        v.visit(Losses.DiscoPOP.self)
        v.visit(Losses.BDPO.self)
        v.visit(Losses.RPOSquared.self)
        v.visit(Losses.RPOBackwardKL.self)
        v.visit(Losses.RPOForwardKL.self)
        v.visit(Losses.SPO.self)
        v.visit(Losses.SPOBT.self)
        v.visit(Losses.SPOAsym.self)
        v.visit(Losses.DPOP.self)
        v.visit(Losses.ChiPO.self)
    }

    /// Every registered loss, in catalogue order.
    public static let allCases: [Loss] = {
        struct Collect: LossTypeVisitor {
            var losses: [Loss] = []
            mutating func visit<L: PreferenceLoss>(_ type: L.Type) { losses.append(Loss(type)) }
        }
        var c = Collect()
        registry(&c)
        return c.losses
    }()

    public var rawValue: String { descriptor.name }
    /// The name, e.g. `exo_pair`.
    public var description: String { rawValue }

    public init?(rawValue: String) {
        guard let loss = Loss.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = loss
    }

    /// Parses a TRL-style name, throwing a message that lists the known names.
    public init(name: String) throws(LossMathError) {
        guard let loss = Loss(rawValue: name.trimmedOf(" \t")) else { throw .unknownLoss(name) }
        self = loss
    }

    public static func == (a: Loss, b: Loss) -> Bool { a.id == b.id }
    public func hash(into h: inout Hasher) { h.combine(id) }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let loss = Loss(rawValue: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: LossMathError.unknownLoss(name).description))
        }
        self = loss
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    // MARK: Flags (from the descriptor)

    /// True when the loss is a function of `h = u_w - u_l` alone (so T6's ratio applies).
    public var dependsOnLogitsDifferenceOnly: Bool { descriptor.dependsOnLogitsDifferenceOnly }
    /// True when the loss needs the reward gap `dr` (the reward-aware and principled losses).
    public var needsRewardGap: Bool { descriptor.rewardGap != .ignored }
    /// True when the loss reads TRL's `label_smoothing`.
    public var usesLabelSmoothing: Bool { descriptor.labelSmoothing != nil }
    /// The label smoothing to use when the caller sets none (exo_pair: TRL's 1e-3; else 0).
    public var defaultLabelSmoothing: Double { descriptor.labelSmoothing?.defaultValue ?? 0 }
    /// True for losses whose derivative is exactly zero on a whole half-line in `h`.
    public var hasFlatRegion: Bool { descriptor.hasFlatRegion }

    /// The loss and its exact derivatives for one pair, from the loss's kernel (so the same
    /// bits as the batch path for unit lengths).
    ///
    /// Does not validate: call ``validate(_:)`` once per configuration first. A loss that
    /// needs a reward gap reads `parameters.rewardGap ?? 0`.
    @inlinable
    public func evaluate(_ pair: PairLogProbs, _ p: LossParameters) -> LossEvaluation {
        evaluatePair(pair, p)
    }

    /// Parses a comma-separated list such as `"sigmoid,spo"`; `"all"` gives the whole
    /// catalogue. Duplicates are dropped, order is kept. A list that names no loss (`""`,
    /// `","`) throws ``LossMathError/emptyLossList(_:)``.
    public static func parseList(_ text: String) throws(LossMathError) -> [Loss] {
        let trimmed = text.trimmedOf(" \t")
        if trimmed == "all" { return Loss.allCases }
        var out: [Loss] = []
        for part in trimmed.split(separator: ",") {
            let loss = try Loss(name: String(part))
            if !out.contains(loss) { out.append(loss) }
        }
        // An empty list ('' or ',') names no loss: an error, neither "all" nor empty output.
        if out.isEmpty { throw .emptyLossList(text) }
        return out
    }
}

/// A generic operation over the registered loss types; see ``Loss/registry(_:)``.
public protocol LossTypeVisitor {
    mutating func visit<L: PreferenceLoss>(_ type: L.Type)
}

/// Namespace of the catalogue's loss types, one per file in `Sources/LossMath/Losses/`.
public enum Losses {}

extension String {
    @usableFromInline
    func trimmedOf(_ set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return String(s)
    }
}
