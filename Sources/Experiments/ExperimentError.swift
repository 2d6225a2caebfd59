import GSLKit
import LossMath

/// Why an experiment cannot start. Every case names the offending parameter, so the CLI
/// can print the message as is. Thrown by validation, before any work is done.
public enum ExperimentError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A configuration value is out of its valid range.
    ///
    /// - `name`: the parameter as a user knows it, e.g. `responses K`.
    /// - `value`: the offending value, rendered.
    /// - `requirement`: what a valid value looks like.
    case invalidParameter(name: String, value: String, requirement: String)
    /// The loss rejected its parameters (LossMath's own message).
    case loss(LossMathError)
    /// GSL reported a failure (an ODE or minimiser that could not proceed).
    case gsl(GSLError)

    public var description: String {
        switch self {
        case .invalidParameter(let name, let value, let requirement):
            return "\(name) = \(value) is invalid: it needs \(requirement)"
        case .loss(let e):
            return e.description
        case .gsl(let e):
            return e.description
        }
    }

    /// The parameter name for `.invalidParameter`, else `nil` (handy in tests and for the CLI).
    public var parameterName: String? {
        if case .invalidParameter(let name, _, _) = self { return name }
        return nil
    }
}

@inline(__always)
func require(_ ok: Bool, _ name: String, _ value: @autoclosure () -> String,
             _ requirement: @autoclosure () -> String) throws(ExperimentError) {
    if !ok { throw ExperimentError.invalidParameter(name: name, value: value(), requirement: requirement()) }
}
