/// One request to the daemon's control socket: a single JSON object on one line.
public struct ControlRequest: Codable, Sendable, Equatable {
    /// What the client asks for.
    public enum Command: String, Codable, Sendable {
        /// Counters of every worker, the event log and the rules (`synwall stats`).
        case stats
        /// Live connections (`synwall conns`).
        case conns
        /// Re-read the rule file (`synwall reload`).
        case reload
    }

    /// What the client asks for.
    public var command: Command
    /// For `conns`: which connections.
    public var filter: ConnectionFilter?
    /// For `conns`: at most this many connections in the answer (the total is still counted).
    public var limit: Int?

    /// A request.
    public init(command: Command, filter: ConnectionFilter? = nil, limit: Int? = nil) {
        self.command = command
        self.filter = filter
        self.limit = limit
    }
}
