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
        /// Remove the live connections matching `filter` from every worker's table
        /// (`synwall conns --kill`); the answer lists them (at most `limit`) and counts them.
        case kill
        /// Show, change or test a table (`synwall table NAME …`) in every worker at once.
        case table
    }

    /// What the client asks for.
    public var command: Command
    /// For `conns` and `kill`: which connections (`kill` needs one; an empty filter is all).
    public var filter: ConnectionFilter?
    /// For `conns` and `kill`: at most this many connections in the answer (the total is still counted).
    public var limit: Int?
    /// For `table`: the table and what to do.
    public var table: TableRequest?

    /// A request.
    public init(command: Command, filter: ConnectionFilter? = nil, limit: Int? = nil, table: TableRequest? = nil) {
        self.command = command
        self.filter = filter
        self.limit = limit
        self.table = table
    }
}
