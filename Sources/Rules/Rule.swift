import Tracking
import Wire

/// One `pass` or `block` rule as compiled: what it is, where it was written, and its limits.
/// The matching itself uses an internal form of the rule.
public struct Rule: Sendable, Hashable {
    /// Per-source limits of a `pass` rule (pf's `max-src-conn`, `max-src-conn-rate`, `overload`).
    public struct SourceLimits: Sendable, Hashable {
        /// `max-src-conn N`: most simultaneous connections from one source through this rule.
        public var maxConnections: Int?
        /// `max-src-conn-rate N/SECONDS`: most new connections from one source per window.
        public var maxConnectionRate: (count: Int, seconds: Int)? {
            get { rateCount.map { ($0, rateSeconds) } }
            set { rateCount = newValue?.count; rateSeconds = newValue?.seconds ?? 0 }
        }
        /// `overload <table>`: the table an offending source is added to.
        public var overloadTable: String?
        /// `flush`: cut the offender's existing connections too.
        public var flush: Bool

        var rateCount: Int?
        var rateSeconds: Int = 0
        var overloadTableIndex: Int?

        /// Limits from their parts.
        public init(maxConnections: Int? = nil, maxConnectionRate: (count: Int, seconds: Int)? = nil,
                    overloadTable: String? = nil, flush: Bool = false) {
            self.maxConnections = maxConnections
            self.rateCount = maxConnectionRate?.count
            self.rateSeconds = maxConnectionRate?.seconds ?? 0
            self.overloadTable = overloadTable
            self.flush = flush
        }

        public static func == (lhs: SourceLimits, rhs: SourceLimits) -> Bool {
            lhs.maxConnections == rhs.maxConnections && lhs.rateCount == rhs.rateCount
                && lhs.rateSeconds == rhs.rateSeconds && lhs.overloadTable == rhs.overloadTable && lhs.flush == rhs.flush
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(maxConnections)
            hasher.combine(rateCount)
            hasher.combine(rateSeconds)
            hasher.combine(overloadTable)
            hasher.combine(flush)
        }
    }

    /// Position in evaluation order, from 0 (`rules list` numbers from 1).
    public var index: Int
    /// `pass` or `block`.
    public var action: RuleAction
    /// `block return`, `return-rst`, `return-icmp`: what the refused sender is sent, or nil.
    public var reply: RuleReply? = nil
    /// The direction it applies to, or nil for every direction.
    public var direction: Direction?
    /// True when written with `quick` (accepted for pf users; first match always wins).
    public var quick: Bool
    /// True when written with `log`.
    public var log: Bool
    /// The `label "…"`, or nil.
    public var label: String?
    /// Where the rule starts (its first keyword).
    public var location: SourceLocation
    /// The last line of the rule (the same as `location.line` unless it spans several lines).
    public var lastLine: Int
    /// The rule as written, on one line, comments dropped, macros not expanded.
    public var text: String
    /// The per-source limits, or nil.
    public var limits: SourceLimits?

    /// The verdict the rule gives when it matches (and no limit refuses).
    public var verdict: Verdict { action.verdict }
}

/// The decision for new connections that no rule matches, per direction.
public struct Policy: Sendable, Hashable {
    /// Accept or drop.
    public var verdict: Verdict
    /// True when written with `log`.
    public var log: Bool
    /// Where the `policy` line is, or nil for the built-in default.
    public var location: SourceLocation?
    /// The line as written (`policy in drop log`), or a description of the default.
    public var text: String
}

/// A named address table as compiled.
public struct TableInfo: Sendable, Hashable {
    /// The name, without angle brackets.
    public var name: String
    /// Where it was declared.
    public var location: SourceLocation
    /// The addresses given in the file (inline and `file "…"`), as merged ranges.
    public var staticEntries: PrefixSet
    /// True when entries may be added while running (`overload`, `synwall table add`): every
    /// table that is not `const`.
    public var isDynamic: Bool
    /// True for `const`: nothing may be added.
    public var isConst: Bool
    /// `expire DURATION`: how long an added address stays, or nil for ever.
    public var expire: Duration?

    public static func == (lhs: TableInfo, rhs: TableInfo) -> Bool {
        lhs.name == rhs.name && lhs.location == rhs.location && lhs.staticEntries == rhs.staticEntries
            && lhs.isDynamic == rhs.isDynamic && lhs.isConst == rhs.isConst && lhs.expire == rhs.expire
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(location)
    }
}
