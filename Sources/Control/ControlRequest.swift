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
        /// Start a live trace of the decisions on packets matching `filter` (no `trace`), or
        /// take the lines of trace `trace` since the last poll (`synwall trace`).
        case trace
        /// End trace `trace`.
        case traceEnd = "trace_end"
    }

    /// What the client asks for.
    public var command: Command
    /// For `conns` and `kill`: which connections (`kill` needs one; an empty filter is all).
    public var filter: ConnectionFilter?
    /// For `conns` and `kill`: at most this many connections in the answer (the total is still counted).
    public var limit: Int?
    /// For `table`: the table and what to do.
    public var table: TableRequest?
    /// For `trace` (a poll) and `trace_end`: the trace's number.
    public var trace: Int?
    /// For `trace` (a start): most lines a second (default and bounds: ``TraceLimits``).
    public var rate: Int?

    /// A request.
    public init(command: Command, filter: ConnectionFilter? = nil, limit: Int? = nil, table: TableRequest? = nil,
                trace: Int? = nil, rate: Int? = nil) {
        self.command = command
        self.filter = filter
        self.limit = limit
        self.table = table
        self.trace = trace
        self.rate = rate
    }
}

/// The bounds of a live trace.
public enum TraceLimits {
    /// Lines a second when the client does not say.
    public static let defaultRate = 1_000
    /// Most lines a second a client may ask for.
    public static let maximumRate = 10_000
    /// A trace nobody polled for this long ends by itself (a client that died).
    public static let idleSeconds = 5
    /// Lines the daemon keeps between two polls (more are dropped and counted).
    public static let bufferedLines = 20_000
}
