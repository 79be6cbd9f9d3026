/// How long an idle flow is kept, per state (Linux conntrack's defaults). Each is settable in
/// the rule file (`set timeout tcp.established 5d`). Timeouts are kept at one-second
/// resolution (rounded up, at least 1 s) and expiry is never early, at most one second late.
public struct TrackerTimeouts: Sendable, Equatable {
    /// `tcp.syn_sent`: SYN_SENT and SYN_SENT2 (120 s).
    public var tcpSynSent: Duration = .seconds(120)
    /// `tcp.syn_recv`: SYN_RECV (60 s).
    public var tcpSynRecv: Duration = .seconds(60)
    /// `tcp.established`: ESTABLISHED (5 days).
    public var tcpEstablished: Duration = .seconds(432_000)
    /// `tcp.fin_wait` (120 s).
    public var tcpFinWait: Duration = .seconds(120)
    /// `tcp.close_wait` (60 s).
    public var tcpCloseWait: Duration = .seconds(60)
    /// `tcp.last_ack` (30 s).
    public var tcpLastAck: Duration = .seconds(30)
    /// `tcp.time_wait` (120 s).
    public var tcpTimeWait: Duration = .seconds(120)
    /// `tcp.close`: after a valid RST, and after a RST in the window but not exact (10 s).
    public var tcpClose: Duration = .seconds(10)
    /// `tcp.unacknowledged` (also `tcp.retrans`): the cap while data is unacknowledged, or after
    /// three identical data segments (300 s).
    public var tcpUnacknowledged: Duration = .seconds(300)
    /// `tcp.pickup`: a connection picked up mid-stream (`set tcp pickup`) until a packet from
    /// the other side is seen; it applies when shorter than the state's own timeout (300 s).
    public var tcpPickup: Duration = .seconds(300)
    /// `udp`: a UDP flow without reply, or with a single exchange (30 s).
    public var udp: Duration = .seconds(30)
    /// `udp.stream`: a UDP flow with traffic both ways after the first answer (120 s).
    public var udpStream: Duration = .seconds(120)
    /// `icmp`: ICMP and ICMPv6 echo flows (30 s).
    public var icmp: Duration = .seconds(30)
    /// `other`: flows of protocols other than TCP, UDP, ICMP and ICMPv6 (GRE, ESP, SCTP…),
    /// one per address pair and protocol, replied or not (600 s, Linux's generic timeout).
    public var other: Duration = .seconds(600)

    /// Linux's defaults.
    public init() {}

    /// Whole seconds for `duration`: rounded up, between 1 s and ten years.
    static func seconds(_ duration: Duration) -> UInt32 {
        let (whole, fraction) = duration.components
        if whole < 0 || (whole == 0 && fraction <= 0) { return 1 }
        let rounded = whole + (fraction > 0 ? 1 : 0)
        return UInt32(min(rounded, 315_360_000))
    }
}
