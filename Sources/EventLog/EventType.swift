/// The `event_type` of an event record: a public format, never renamed silently.
public enum EventType: String, Sendable, CaseIterable, Hashable {
    /// A packet was dropped (malformed, invalid for its connection, or refused by the rules).
    case drop
    /// A rule with `log` matched and the packet was let through, or something worth a look
    /// happened that did not drop the packet.
    case alert
    /// Something suspicious was seen but the packet was let through.
    case anomaly
    /// A flow record (a connection started or ended).
    case flow
    /// A source went over a rate limit and was added to an overload table.
    case overload
    /// The rules were reloaded (or a reload was refused; `detail` says which).
    case reload
    /// The daemon started.
    case start
    /// The daemon stopped.
    case stop
    /// Records were left out: over the log's rate cap (`reason` `rate_limit`) or lost because
    /// the writer fell behind (`reason` `queue_full`); `count` says how many occurrences.
    case suppressed
    /// An operator changed a table while running (`synwall table add|delete|flush`): `reason`
    /// `table_add`, `table_delete` or `table_flush`, `src_ip` the address (or prefix) and
    /// `detail` the table and the entry's expiry.
    case table

    /// Records about packets, which ``EventAggregator`` collapses and caps; the others (the
    /// daemon's own `start`, `stop`, `reload`, and `suppressed`) always pass.
    public var isAboutPackets: Bool {
        switch self {
        case .drop, .alert, .anomaly, .flow, .overload: return true
        case .reload, .start, .stop, .suppressed, .table: return false
        }
    }

    /// Whether repeats of the same (reason, source, destination port) collapse into one record;
    /// flow records never do, each names its own connection.
    public var isAggregated: Bool {
        switch self {
        case .drop, .alert, .anomaly, .overload: return true
        case .flow, .reload, .start, .stop, .suppressed, .table: return false
        }
    }
}
