extension Loss {
    /// Checks `parameters` for this loss against its ``descriptor``, with a message that
    /// names the parameter: beta, label smoothing (when the loss reads it), the loss's own
    /// parameters, and the reward gap (when the loss needs it).
    public func validate(_ p: LossParameters) throws(LossMathError) {
        guard p.beta.isFinite, p.beta > 0 else { throw .invalidBeta(p.beta) }
        if let ls = descriptor.labelSmoothing, !ls.range.contains(p.labelSmoothing) {
            let range = ls.range.requirement(symbol: "label_smoothing") + (ls.note.map { " (\($0))" } ?? "")
            throw .labelSmoothingOutOfRange(loss: self, value: p.labelSmoothing, range: range)
        }
        for parameter in descriptor.parameters {
            let v = parameter.value(in: p)
            guard parameter.range.contains(v) else {
                throw .invalidParameter(name: parameter.name, value: v, requirement: parameter.range.requirement(symbol: parameter.symbol))
            }
        }
        if needsRewardGap {
            guard let dr = p.rewardGap else { throw .missingRewardGap(loss: self) }
            guard dr.isFinite else { throw .invalidParameter(name: "reward gap", value: dr, requirement: "a finite number") }
            if descriptor.rewardGap == .requiredNonzero && dr == 0 { throw .rewardGapZero(loss: self) }
        }
    }

    /// The parameter named `name` (e.g. `bdpo_lambda`) and the loss that declares it.
    public static func parameter(named name: String) -> (loss: Loss, parameter: LossParameter)? {
        for loss in allCases {
            if let p = loss.descriptor.parameters.first(where: { $0.name == name }) { return (loss, p) }
        }
        return nil
    }

    /// Checks that every key of `values` names a parameter of the catalogue.
    public static func validateParameterNames(_ values: [String: Double]) throws(LossMathError) {
        for name in values.keys.sorted() where parameter(named: name) == nil { throw .unknownParameter(name) }
    }
}
