import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes to standard output and standard error with `write(2)`, never trapping.
///
/// A failed write to standard output ends the program, as Unix tools do, with exit status
/// 74 (`EX_IOERR` in sysexits.h):
/// - `ENOSPC` (`> /dev/full`), `EBADF` (`>&-`), `EIO` and the like: one line on standard
///   error, `report: cannot write to standard output: <reason>`, then exit 74;
/// - `EPIPE` (the reader went away: `| head -c1`): exit 74 quietly, without a message.
///   `SIGPIPE` is ignored (``ignoreBrokenPipeSignal()``, called first thing in `main`) so
///   the error arrives as `EPIPE` instead of killing the process by a signal.
///
/// Short writes and `EINTR` are retried; a non-blocking descriptor that reports `EAGAIN`
/// is waited for with `poll(2)`. Foundation's `FileHandle.write(_:)` is not used: it
/// traps on any of these errors.
///
/// See also: ``emit(_:)``.
enum StandardOutput {
    /// The exit status for an output error: `EX_IOERR`.
    static let ioErrorStatus: Int32 = 74

    /// Makes a write to a closed pipe fail with `EPIPE` instead of raising `SIGPIPE`.
    static func ignoreBrokenPipeSignal() {
        _ = signal(SIGPIPE, SIG_IGN)
    }

    /// Writes `text` to standard output, or ends the program (see the type's overview).
    static func write(_ text: String) {
        if let code = writeAll(fd: 1, text) {
            if code != EPIPE {
                _ = writeAll(fd: 2, "report: cannot write to standard output: \(String(cString: strerror(code)))\n")
            }
            exit(ioErrorStatus)
        }
    }

    /// Writes `text` to standard error; a failure is ignored (there is nowhere left to
    /// report it), so a full or closed standard error never stops the program.
    static func writeError(_ text: String) {
        _ = writeAll(fd: 2, text)
    }

    /// Writes every byte of `text` to `fd`; the `errno` of the failure, or nil.
    static func writeAll(fd: Int32, _ text: String) -> Int32? {
        var text = text
        return text.withUTF8 { buf -> Int32? in
            guard let base = buf.baseAddress else { return nil }
            var done = 0
            while done < buf.count {
                #if canImport(Glibc)
                let k = Glibc.write(fd, base + done, buf.count - done)
                #elseif canImport(Musl)
                let k = Musl.write(fd, base + done, buf.count - done)
                #else
                let k = Darwin.write(fd, base + done, buf.count - done)
                #endif
                if k > 0 { done += k; continue }
                if k == 0 { return EIO }
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK {
                    var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&p, 1, -1)
                    continue
                }
                return code
            }
            return nil
        }
    }
}
