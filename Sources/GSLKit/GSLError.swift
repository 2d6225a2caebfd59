import _CGSL

/// An error reported by GNU GSL, carried as a Swift error instead of GSL's default
/// behaviour (print and `abort()`).
///
/// GSL's default error handler aborts the process. ``GSL/ensureInitialized()`` replaces it,
/// once per process, with "no handler", so every GSL routine returns its status code and
/// GSLKit turns any non-success status into a thrown `GSLError`.
public struct GSLError: Error, CustomStringConvertible, Sendable, Equatable {
    /// GSL's status code (`GSL_EDOM`, `Int32(GSL_EMAXITER)`, ...).
    public let code: Int32
    /// What GSLKit was doing when the status came back.
    public let context: String

    public init(code: Int32, context: String) {
        self.code = code
        self.context = context
    }

    /// GSL's own text for the code (`gsl_strerror`).
    public var reason: String { String(cString: gsl_strerror(code)) }

    public var description: String { "\(context): \(reason) (GSL status \(code))" }
}

/// Process-wide GSL set-up.
public enum GSL {
    // Swift runs a global's initialiser exactly once, thread-safely, on first use.
    private static let handlerOff: Void = {
        _ = gsl_set_error_handler_off()
    }()

    /// Turns GSL's aborting error handler off. Cheap after the first call; every GSLKit
    /// entry point calls it, so user code never needs to.
    @inline(__always)
    public static func ensureInitialized() {
        _ = handlerOff
    }

    /// Throws a ``GSLError`` when `status` is not `Int32(GSL_SUCCESS)`.
    @inline(__always)
    static func check(_ status: Int32, _ context: @autoclosure () -> String) throws(GSLError) {
        if status != Int32(GSL_SUCCESS) {
            throw GSLError(code: status, context: context())
        }
    }
}
