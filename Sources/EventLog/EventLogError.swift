#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the event log could not be opened.
///
/// Writing never throws: a failed write is counted (``JSONLinesWriter/failedWrites``) and the
/// daemon keeps deciding packets.
public enum EventLogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `open(2)` failed for the log file; `errno` says why.
    case cannotOpen(path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .cannotOpen(path, code):
            return "cannot open event log '\(path)' for appending: \(Self.errorText(code)); "
                + "create its directory and make it writable by synwall, or choose another log path"
        }
    }

    private static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text) + " (errno \(code))"
    }
}
