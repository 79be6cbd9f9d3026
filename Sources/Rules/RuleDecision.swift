import Tracking
import Wire

/// What the rules decided for a packet that would start a new connection.
///
/// Small and free of strings on purpose (no reference counting per packet): the label, the
/// rule's text and its file:line are looked up in the `CompiledRuleset` when an event is
/// written (`CompiledRuleset.label(of:)`, `location(of:)`, `text(of:)`).
public struct RuleDecision: Sendable, Hashable {
    /// Who decided.
    public enum Origin: Sendable, Hashable {
        /// The rule at this index of `CompiledRuleset.rules` (0-based; `rules list` shows it + 1).
        case rule(Int)
        /// No rule matched: the policy of this direction.
        case policy(Direction)
    }

    /// Why a `pass` rule refused a connection it matched.
    public enum LimitExceeded: String, Sendable, Hashable {
        /// `max-src-conn`: the source already has that many connections through the rule.
        case maxSourceConnections = "max_src_conn"
        /// `max-src-conn-rate`: the source opens connections faster than allowed.
        case maxSourceConnectionRate = "max_src_conn_rate"
        /// The per-source tracking table (`set limit src-nodes`) is full.
        case sourceTrackingFull = "src_nodes_full"
    }

    /// Accept (start the connection, keep state) or drop.
    public var verdict: Verdict
    /// The deciding rule, or the policy.
    public var origin: Origin
    /// True when an event should be written: the rule or policy says `log`, or a limit was hit.
    public var log: Bool
    /// Set when a `pass` rule's per-source limit refused the connection (the verdict is drop).
    public var limit: LimitExceeded?
    /// Index in `CompiledRuleset.tables` of the table the source was just added to by
    /// `overload` (only on the packet that caused it; `overloadTable(of:)` gives the name).
    public var overloadTable: Int?
    /// True when the rule says `flush`: the tracker should cut the source's connections.
    public var flushSource: Bool
    /// `block return…`: what the refused sender is sent (the daemon sends it, rate-limited).
    public var reply: RuleReply?

    /// A decision from its parts.
    @inlinable
    public init(verdict: Verdict, origin: Origin, log: Bool, limit: LimitExceeded? = nil, overloadTable: Int? = nil,
                flushSource: Bool = false, reply: RuleReply? = nil) {
        self.reply = reply
        self.verdict = verdict
        self.origin = origin
        self.log = log
        self.limit = limit
        self.overloadTable = overloadTable
        self.flushSource = flushSource
    }

    /// The deciding rule's index, or nil when the policy decided.
    @inlinable
    public var ruleIndex: Int? {
        if case .rule(let index) = origin { return index }
        return nil
    }

    /// The drop reason for the event log: `rate_limited` for a connection-rate limit,
    /// `policy` for any other drop, nil when accepted.
    @inlinable
    public var dropReason: DropReason? {
        guard verdict == .drop else { return nil }
        return limit == .maxSourceConnectionRate ? .rateLimited : .policy
    }
}
