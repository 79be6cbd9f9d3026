/// The daemon's answer to one ``ControlRequest``: a single JSON object, then the daemon closes
/// the connection.
public struct ControlResponse: Codable, Sendable {
    /// Nil when the request was served; otherwise what went wrong, for the user.
    public var error: String?
    /// For `stats`.
    public var stats: StatsReport?
    /// For `conns`: the connections (at most the request's limit); for `kill`: those killed.
    public var connections: [ConnectionRecord]?
    /// For `conns`: how many connections matched the filter in all; for `kill`: how many were
    /// killed in all.
    public var matched: Int?
    /// For `reload`: what happened.
    public var reload: ReloadReport?
    /// For `table`: what was shown, changed or found.
    public var table: TableReport?
    /// For `trace`: the trace's number and its lines since the last poll.
    public var trace: TraceBatch?

    /// An answer.
    public init(error: String? = nil, stats: StatsReport? = nil, connections: [ConnectionRecord]? = nil,
                matched: Int? = nil, reload: ReloadReport? = nil, table: TableReport? = nil, trace: TraceBatch? = nil) {
        self.table = table
        self.error = error
        self.stats = stats
        self.connections = connections
        self.matched = matched
        self.reload = reload
        self.trace = trace
    }
}

/// The outcome of a reload asked for over the control socket.
public struct ReloadReport: Codable, Sendable, Equatable {
    /// True when the new rules are in force.
    public var reloaded: Bool
    /// The rule file.
    public var file: String
    /// Rules in force after the reload (the new count, or the old one if it failed).
    public var rules: Int
    /// The compiler's diagnostics when it failed (`FILE:LINE:COLUMN: error: …`), or the warnings
    /// of a reload that succeeded (`FILE: warning: …`, e.g. a setting that waits for a restart).
    public var diagnostics: String?

    /// A report.
    public init(reloaded: Bool, file: String, rules: Int, diagnostics: String? = nil) {
        self.reloaded = reloaded
        self.file = file
        self.rules = rules
        self.diagnostics = diagnostics
    }
}
