/// What `synwall table NAME …` asks of the daemon's tables (the `table` command).
public struct TableRequest: Codable, Sendable, Equatable {
    /// The operation.
    public enum Action: String, Codable, Sendable, CaseIterable {
        /// List the entries (written and added while running) with their expiry.
        case show
        /// Add addresses or prefixes (`entries`), for `expireSeconds` or for ever.
        case add
        /// Remove entries added while running.
        case delete
        /// Remove every entry added while running.
        case flush
        /// Say whether, and by which entry, each address of `entries` is in the table.
        case test
    }

    /// The table's name, without angle brackets.
    public var table: String
    public var action: Action
    /// Addresses or prefixes (`add`, `delete`), addresses (`test`).
    public var entries: [String]
    /// For `add`: how long the entries stay (nil: the table's `expire`, for ever without one).
    public var expireSeconds: Int?
    /// For `show`: at most this many written ranges and as many added entries.
    public var limit: Int?

    /// A request.
    public init(table: String, action: Action, entries: [String] = [], expireSeconds: Int? = nil, limit: Int? = nil) {
        self.table = table
        self.action = action
        self.entries = entries
        self.expireSeconds = expireSeconds
        self.limit = limit
    }
}

/// One table entry as `synwall table` shows it.
public struct TableEntryRecord: Codable, Sendable, Equatable {
    /// The address, prefix, or written range (`192.0.2.1`, `192.0.2.0/24`, `a-b`).
    public var entry: String
    /// `file` (written in the rule file, inline or `file "…"`), `overload` (put there by an
    /// `overload` rule) or `added` (by `synwall table add`).
    public var origin: String
    /// When it was added (Unix seconds), for entries added while running.
    public var addedAt: Double?
    /// When it expires (Unix seconds), nil: never.
    public var expiresAt: Double?
    /// Seconds left until it expires, nil: never.
    public var expiresInSeconds: Int?

    /// A record.
    public init(entry: String, origin: String, addedAt: Double? = nil, expiresAt: Double? = nil, expiresInSeconds: Int? = nil) {
        self.entry = entry
        self.origin = origin
        self.addedAt = addedAt
        self.expiresAt = expiresAt
        self.expiresInSeconds = expiresInSeconds
    }
}

/// The result for one address of `synwall table test`.
public struct TableTestResult: Codable, Sendable, Equatable {
    /// The address asked about.
    public var address: String
    /// True when it is in the table.
    public var matched: Bool
    /// The entry holding it.
    public var entry: TableEntryRecord?

    /// A result.
    public init(address: String, matched: Bool, entry: TableEntryRecord? = nil) {
        self.address = address
        self.matched = matched
        self.entry = entry
    }
}

/// The daemon's answer to a ``TableRequest``.
public struct TableReport: Codable, Sendable, Equatable {
    /// The table's name.
    public var table: String
    /// Where it is declared (`FILE:LINE`).
    public var location: String
    /// `expire` in seconds, nil when the table has none.
    public var expireSeconds: Int?
    /// For `show`: the entries (at most the request's limit of each kind).
    public var entries: [TableEntryRecord]?
    /// For `show`: written ranges and entries added while running, in all.
    public var writtenCount: Int?
    public var runtimeCount: Int?
    /// For `add`: entries new and renewed; for `delete`/`flush`: entries removed.
    public var added: [String]?
    public var renewed: [String]?
    public var removed: [String]?
    /// For `add`: entries refused because the table is full; for `delete`: entries not found
    /// among those added while running.
    public var refused: [String]?
    /// For `test`: one result per address.
    public var tests: [TableTestResult]?
    /// Queues that did not answer in time (their tables may differ).
    public var unanswered: [Int]?

    /// A report.
    public init(table: String, location: String, expireSeconds: Int? = nil) {
        self.table = table
        self.location = location
        self.expireSeconds = expireSeconds
    }
}
