import EventLog
import NetfilterQueue

/// Why `synwall run` could not start. One sentence each, saying what to do.
public enum DaemonError: Error, CustomStringConvertible {
    case queue(NetfilterQueueError)
    case attach(AttachError)
    case log(path: String, reason: String)
    /// The rule file does not compile; `report` holds every diagnostic, one per line.
    case rules(report: String)
    /// The control socket could not be set up.
    case control(path: String, message: String)
    /// The privilege drop failed; synwall detached and stopped rather than run with more.
    case privileges(PrivilegeError)
    /// The state file cannot be used (another daemon holds it, or its directory is unusable).
    case state(String)

    public var description: String {
        switch self {
        case .queue(let error): return error.description
        case .attach(let error): return error.description
        case let .log(path, reason): return "cannot open the event log \(path): \(reason)"
        case let .rules(report): return report
        case let .control(path, message): return "control socket \(path): \(message)"
        case .privileges(let error): return error.description
        case .state(let message): return message
        }
    }
}
