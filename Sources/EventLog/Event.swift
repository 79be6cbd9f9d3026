/// One event record, as a value. Built only when something happens (a drop, an anomaly, a
/// flow record), never per packet; ``JSONLinesEncoder`` turns it into one JSON line.
///
/// Addresses arrive already formatted (``AddressText`` formats raw 4- or 16-byte addresses).
public struct Event: Sendable, Equatable {
    /// When the packet was seen, in nanoseconds since the Unix epoch (UTC). Written with
    /// microseconds, see ``EventTimestamp``.
    public var timestampNanoseconds: UInt64
    /// What kind of record this is.
    public var eventType: EventType
    /// The NFQUEUE number the packet came from; nil in replay (the key is then left out).
    public var queue: Int?
    /// The transport protocol: `TCP`, `UDP`, `ICMP`, `IPv6-ICMP`, or the number as text; see
    /// ``protocolName(_:)``.
    public var proto: String
    /// Source address as text (`203.0.113.7`, `2001:db8::1`).
    public var sourceIP: String
    /// Source port; nil for protocols without ports (the key is then left out).
    public var sourcePort: UInt16?
    /// Destination address as text.
    public var destinationIP: String
    /// Destination port; nil for protocols without ports.
    public var destinationPort: UInt16?
    /// Stable snake_case reason (`malformed`, `no_connection`, `invalid_flags`…).
    public var reason: String
    /// Human detail (`tcp data offset 3 < 5`); nil leaves the key out.
    public var detail: String?
    /// The tracked connection's state name when there is one (`NONE`, `SYN_SENT`…).
    public var state: String?
    /// TCP header fields for TCP packets.
    public var tcp: TCPFields?
    /// How many occurrences this record stands for; written only when greater than 1.
    public var count: Int

    /// Creates an event; optional fields default to absent and `count` to 1.
    public init(timestampNanoseconds: UInt64, eventType: EventType, queue: Int? = nil, proto: String,
                sourceIP: String, sourcePort: UInt16? = nil, destinationIP: String, destinationPort: UInt16? = nil,
                reason: String, detail: String? = nil, state: String? = nil, tcp: TCPFields? = nil, count: Int = 1) {
        self.timestampNanoseconds = timestampNanoseconds
        self.eventType = eventType
        self.queue = queue
        self.proto = proto
        self.sourceIP = sourceIP
        self.sourcePort = sourcePort
        self.destinationIP = destinationIP
        self.destinationPort = destinationPort
        self.reason = reason
        self.detail = detail
        self.state = state
        self.tcp = tcp
        self.count = count
    }

    /// The `proto` text for an IP protocol number: 6 `TCP`, 17 `UDP`, 1 `ICMP`,
    /// 58 `IPv6-ICMP` (IANA's keyword), anything else the number in decimal.
    public static func protocolName(_ number: UInt8) -> String {
        switch number {
        case 6: return "TCP"
        case 17: return "UDP"
        case 1: return "ICMP"
        case 58: return "IPv6-ICMP"
        default: return String(number)
        }
    }
}
