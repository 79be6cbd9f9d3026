/// Why a packet was dropped. The raw values are a public, stable format (event logs, replay
/// output, counters): never rename one silently.
public enum DropReason: String, Sendable, CaseIterable, Hashable {
    /// The bytes are not a well-formed IP packet with a well-formed transport header.
    case malformed
    /// The kernel said the checksum was unverified, and it is wrong.
    case badChecksum = "bad_checksum"
    /// A fragment synwall cannot judge (too short for the TCP header, or overlapping).
    case fragment
    /// A non-SYN packet with no connection.
    case noConnection = "no_connection"
    /// A packet out of the handshake's order.
    case handshakeOrder = "handshake_order"
    /// An invalid combination of TCP flags.
    case invalidFlags = "invalid_flags"
    /// A sequence number outside the window.
    case badSeq = "bad_seq"
    /// An acknowledgement number outside the window.
    case badAck = "bad_ack"
    /// A RST whose sequence number is not acceptable.
    case rstInvalid = "rst_invalid"
    /// A SYN on an established connection.
    case synInEstablished = "syn_in_established"
    /// An ICMP error that quotes no tracked flow.
    case icmpUnrelated = "icmp_unrelated"
    /// A source over its SYN rate limit.
    case rateLimited = "rate_limited"
    /// The connection table is full of entries that may not be evicted.
    case tableFull = "table_full"
    /// The policy (rules) said so.
    case policy
    /// A TCP timestamp older than the last one the sender's peer took (`set tcp paws`, RFC 7323
    /// §5), or a segment without one on a connection that negotiated timestamps (`set tcp
    /// timestamps strict`, RFC 7323 §3.2).
    case badTimestamp = "bad_timestamp"
}

extension DropReason {
    /// Position in `allCases`, without building the `allCases` array (that allocates).
    @inlinable
    public var ordinal: Int {
        switch self {
        case .malformed: return 0
        case .badChecksum: return 1
        case .fragment: return 2
        case .noConnection: return 3
        case .handshakeOrder: return 4
        case .invalidFlags: return 5
        case .badSeq: return 6
        case .badAck: return 7
        case .rstInvalid: return 8
        case .synInEstablished: return 9
        case .icmpUnrelated: return 10
        case .rateLimited: return 11
        case .tableFull: return 12
        case .policy: return 13
        case .badTimestamp: return 14
        }
    }
}
