/// The state of a tracked flow: a TCP connection's state (Linux conntrack's names), or a UDP,
/// ICMP echo or other protocol's flow's.
public enum ConnectionState: UInt8, Sendable, CaseIterable, Hashable {
    /// The initiator's SYN was seen.
    case synSent = 1
    /// SYNs were seen from both sides and no SYN-ACK yet (simultaneous open).
    case synSent2
    /// The SYN-ACK was seen; the final ACK is awaited.
    case synRecv
    /// The handshake completed.
    case established
    /// One side sent a FIN that is not yet acknowledged.
    case finWait
    /// One side's FIN is acknowledged; the other side may still send.
    case closeWait
    /// Both sides sent a FIN; at least one is not yet acknowledged.
    case lastAck
    /// Both FINs were sent and acknowledged.
    case timeWait
    /// A valid RST was seen.
    case close
    /// A UDP flow whose responder has not answered.
    case udpUnreplied
    /// A UDP flow whose responder answered.
    case udpReplied
    /// A UDP flow with traffic both ways after the first answer (longer timeout).
    case udpStream
    /// An ICMP or ICMPv6 echo request without a reply yet.
    case icmpUnreplied
    /// An ICMP or ICMPv6 echo flow whose reply was seen.
    case icmpReplied
    /// A flow of another protocol (GRE, ESP, SCTP…) seen one way only.
    case otherUnreplied
    /// A flow of another protocol with a packet seen from the responder.
    case otherReplied

    /// Upper-case name for logs and `synwall conns` (a stable format): `SYN_SENT`, `ESTABLISHED`,
    /// `UNREPLIED`, … UDP, ICMP and other protocols share the names `UNREPLIED`, `REPLIED`, `STREAM`.
    public var name: String {
        switch self {
        case .synSent: "SYN_SENT"
        case .synSent2: "SYN_SENT2"
        case .synRecv: "SYN_RECV"
        case .established: "ESTABLISHED"
        case .finWait: "FIN_WAIT"
        case .closeWait: "CLOSE_WAIT"
        case .lastAck: "LAST_ACK"
        case .timeWait: "TIME_WAIT"
        case .close: "CLOSE"
        case .udpUnreplied, .icmpUnreplied, .otherUnreplied: "UNREPLIED"
        case .udpReplied, .icmpReplied, .otherReplied: "REPLIED"
        case .udpStream: "STREAM"
        }
    }

    /// True for the TCP states.
    @inlinable
    public var isTCP: Bool { rawValue <= ConnectionState.close.rawValue }

    /// True while a TCP handshake is incomplete (SYN_SENT, SYN_SENT2, SYN_RECV): these count
    /// against the half-open caps.
    @inlinable
    public var isHalfOpen: Bool { rawValue &- 1 < 3 }
}
