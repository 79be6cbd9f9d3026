#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the event log could not be opened, written or rotated.
///
/// Writing never throws: a failed write is counted (``JSONLinesWriter/failedWrites``,
/// ``EventLogCounters/writeFailures``), reported once through ``EventLogReport``, and the daemon
/// keeps deciding packets.
public enum EventLogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `open(2)` failed for the log file; `errno` says why.
    case cannotOpen(path: String, errno: Int32)
    /// `write(2)` to the log file failed (a full disk, an I/O error…).
    case cannotWrite(path: String, errno: Int32)
    /// Renaming a file during rotation failed; writing goes on in the current file.
    case cannotRotate(path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .cannotOpen(path, code):
            return "cannot open event log '\(path)' for appending: \(Self.errorText(code)); "
                + "create its directory and make it writable by synwall, or choose another log path"
        case let .cannotWrite(path, code):
            return "cannot write event log '\(path)': \(Self.errorText(code)); "
                + "free space on its file system or choose another log path (events are counted as lost meanwhile)"
        case let .cannotRotate(path, code):
            return "cannot rotate event log file '\(path)': \(Self.errorText(code)); "
                + "make its directory writable by synwall (the log keeps growing in the current file meanwhile)"
        }
    }

    /// The errno of the failure.
    public var errno: Int32 {
        switch self {
        case let .cannotOpen(_, code), let .cannotWrite(_, code), let .cannotRotate(_, code): return code
        }
    }

    private static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text) + " (errno \(code))"
    }
}
