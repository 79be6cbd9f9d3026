/// What ``EventLogService`` tells its owner about the log file, once per change: the daemon
/// writes these to its own log (swift-log), not to the event log.
public enum EventLogReport: Sendable, Equatable, CustomStringConvertible {
    /// The log file could not be opened, written or rotated. Reported once; further failures
    /// of the same kind are only counted until writing works again.
    case failed(EventLogError)
    /// Writing works again after a reported failure.
    case recovered(path: String)

    public var description: String {
        switch self {
        case let .failed(error): return error.description
        case let .recovered(path): return "event log '\(path)' is writable again"
        }
    }
}
