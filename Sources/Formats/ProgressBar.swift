import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress bar for standard error:
/// `\r[############..................] 12/40 label`.
///
/// Draws only when `enabled`; callers pass `isatty(2) != 0 && !quiet`, so
/// logs and pipes stay clean. It is safe to call ``advance(by:)`` from many
/// concurrent workers (state and drawing are guarded by a `Mutex`, so the
/// displayed count never goes backwards). The bar is redrawn
/// only when the text would change and at most once per 0.1 % of progress,
/// so even 10⁶ advances cost little. ``finish()`` draws the final state and
/// ends the line; it is idempotent.
///
/// See also: ``ASCIIPlot``, ``MarkdownTable`` for end-of-run output.
public final class ProgressBar: Sendable {
    /// The number of steps that make the bar full (≥ 0).
    public let total: Int
    /// Text shown after the counts (truncated so the line fits 78 columns).
    public let label: String
    /// Whether anything is drawn at all.
    public let enabled: Bool

    private struct State {
        var count = 0
        var lastDrawnPermille = -1
        var finished = false
    }

    private let state = Mutex(State())
    private let output: @Sendable (String) -> Void
    private static let barWidth = 30

    /// Creates a bar; nothing is drawn until the first ``advance(by:)``.
    ///
    /// - Parameters:
    ///   - total: the number of steps (≥ 0; 0 shows a full bar).
    ///   - label: what is being done, e.g. `"simulations"`.
    ///   - enabled: draw only if true (typically `isatty(2) != 0 && !quiet`).
    ///   - output: where text goes; defaults to `write(2)` on file descriptor 2.
    public init(total: Int, label: String, enabled: Bool,
                output: @escaping @Sendable (String) -> Void = ProgressBar.writeToStandardError) {
        precondition(total >= 0, "ProgressBar: total must be non-negative")
        self.total = total
        self.label = label
        self.enabled = enabled
        self.output = output
    }

    /// The number of completed steps so far.
    public var count: Int { state.withLock { $0.count } }

    /// Records `steps` (default 1) more completed steps and redraws if needed.
    public func advance(by steps: Int = 1) {
        state.withLock { s in
            s.count += steps
            guard enabled, !s.finished else { return }
            let permille = total == 0 ? 1000 : min(1000, max(0, s.count) * 1000 / total)
            guard permille != s.lastDrawnPermille || s.count >= total else { return }
            s.lastDrawnPermille = permille
            output(line(count: s.count))  // under the lock, so the display never goes backwards
        }
    }

    /// Draws the final state and ends the line (only the first call does
    /// anything; nothing is drawn when disabled).
    public func finish() {
        state.withLock { s in
            guard enabled, !s.finished else { return }
            s.finished = true
            output(line(count: s.count) + "\n")
        }
    }

    /// The text drawn for `count` completed steps, starting with `\r`.
    func line(count: Int) -> String {
        let filled = total == 0 ? Self.barWidth : min(Self.barWidth, max(0, count) * Self.barWidth / total)
        var s = "\r[" + String(repeating: "#", count: filled)
            + String(repeating: ".", count: Self.barWidth - filled) + "] \(count)/\(total)"
        if !label.isEmpty {
            let room = max(0, 78 - (s.count - 1) - 1)
            s += " " + (label.count <= room ? label : String(label.prefix(max(0, room - 1))) + "…")
        }
        return s
    }

    /// Writes `text` to file descriptor 2 with `write(2)` (unbuffered).
    public static func writeToStandardError(_ text: String) {
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let k = bytes.withUnsafeMutableBytes { b in b.baseAddress.map { write(2, $0 + done, b.count - done) } ?? 0 }
            if k <= 0 { if k < 0 && errno == EINTR { continue }; return }
            done += k
        }
    }
}
