/// Why a control-socket exchange failed, worded for the person at the terminal.
public enum ControlError: Error, Equatable, CustomStringConvertible {
    /// Nothing listens at the path: the daemon is not running, or runs with another socket.
    case notRunning(path: String)
    /// The socket exists but this user may not use it.
    case permissionDenied(path: String)
    /// The daemon did not answer in time.
    case timedOut(path: String, seconds: Int)
    /// A socket call failed.
    case system(call: String, path: String, errno: Int32, message: String)
    /// The daemon's answer could not be read.
    case badResponse(String)
    /// The daemon refused the request.
    case daemon(String)
    /// A filter option is wrong.
    case invalidFilter(String)

    public var description: String {
        switch self {
        case .notRunning(let path):
            "no synwall daemon is listening on \(path) (is it running? started with --control \(path)?)"
        case .permissionDenied(let path):
            "permission denied on \(path): run as root or as a member of the daemon's --control-group"
        case .timedOut(let path, let seconds):
            "the daemon on \(path) did not answer within \(seconds) s"
        case .system(let call, let path, _, let message):
            "\(call) \(path): \(message)"
        case .badResponse(let detail):
            "unreadable answer from the daemon: \(detail)"
        case .daemon(let message):
            message
        case .invalidFilter(let message):
            message
        }
    }
}
