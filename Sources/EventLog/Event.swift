import Wire

/// One event record, as a value. Built only when something happens (a drop, an anomaly, a
/// reload), never per accepted packet; ``JSONLinesEncoder`` turns it into one JSON line and
/// `LogLineParser` (module `LogReview`) reads such a line back.
///
/// Addresses arrive already formatted (`Wire.IPAddress`'s text: dotted quads, RFC 5952 IPv6).
/// Field names in the file follow Suricata's EVE JSON where they mean the same, and the fields
/// proper to one type (`reason`, `detail`, `state`, `rule`, a flow's counts, a suppressed
/// record's breakdown) are nested in an object named after the type, as EVE nests them;
/// docs/event-log.md documents every key.
public struct Event: Sendable, Equatable {
    /// When the packet was seen, in nanoseconds since the Unix epoch (UTC). Written with
    /// microseconds, see ``EventTimestamp``. For an aggregated record: the last occurrence.
    public var timestampNanoseconds: UInt64
    /// What kind of record this is (`event_type`).
    public var eventType: EventType
    /// A number that names the connection (`flow_id`); nil when there is none.
    public var flowID: UInt64?
    /// The NFQUEUE number the packet came from; nil in replay (the key is then left out).
    public var queue: Int?
    /// The interface the packet came in on (`in_iface`); nil when unknown.
    public var inInterface: String?
    /// Which way the packet was going (`direction`); nil when unknown.
    public var direction: Direction?
    /// The transport protocol: `TCP`, `UDP`, `ICMP`, `IPv6-ICMP`, or the number as text; see
    /// ``protocolName(_:)``. Empty for records about the daemon (`start`, `reload`…): the key
    /// is then left out.
    public var proto: String
    /// Source address as text (`203.0.113.7`, `2001:db8::1`); empty leaves the key out.
    public var sourceIP: String
    /// Source port; nil for protocols without ports (the key is then left out).
    public var sourcePort: UInt16?
    /// Destination address as text; empty leaves the key out.
    public var destinationIP: String
    /// Destination port; nil for protocols without ports.
    public var destinationPort: UInt16?
    /// Stable snake_case reason (`malformed`, `no_connection`, `invalid_flags`…); empty leaves
    /// the key out.
    public var reason: String
    /// Human detail (`tcp data offset 3 < 5`); nil leaves the key out. The log writes at
    /// most `maximumDetailBytes` of it (see `cappedDetail`).
    public var detail: String?

    /// The most bytes of `detail` a record holds: a reload's diagnostics or a host tool's
    /// output can be long, and one record must stay a line that readers take whole.
    public static let maximumDetailBytes = 4096

    /// `text` if it fits in `limit` bytes of UTF-8, else its first characters and
    /// `… (N bytes cut)`, together within `limit`.
    public static func cappedDetail(_ text: String, limit: Int = maximumDetailBytes) -> String {
        let total = text.utf8.count
        guard total > limit else { return text }
        var kept = String.UnicodeScalarView()
        var bytes = 0
        let budget = max(0, limit - 32)
        for scalar in text.unicodeScalars {
            let size = String(scalar).utf8.count
            guard bytes + size <= budget else { break }
            kept.append(scalar)
            bytes += size
        }
        return String(kept) + "… (\(total - bytes) bytes cut)"
    }
    /// The tracked connection's state name when there is one (`NONE`, `SYN_SENT`…).
    public var state: String?
    /// The rule that decided, when a rule did.
    public var rule: EventRule?
    /// TCP header fields for TCP packets.
    public var tcp: TCPFields?
    /// How many occurrences this record stands for; written only when greater than 1.
    public var count: Int
    /// For an aggregated record: when the first occurrence it counts was seen (ns since the
    /// epoch). Written only when present.
    public var firstSeenNanoseconds: UInt64?
    /// For an aggregated record: when the last occurrence it counts was seen.
    public var lastSeenNanoseconds: UInt64?
    /// For a `flow` record: packets, bytes and times of the connection that ended.
    public var flow: FlowFields?
    /// For a `suppressed` record: what it left out, by reason and by source.
    public var suppressedCounts: SuppressedCounts?

    /// Creates an event; optional fields default to absent and `count` to 1. Inlinable, so a
    /// worker builds the value in place rather than through a call and copies.
    @inlinable
    public init(timestampNanoseconds: UInt64, eventType: EventType, flowID: UInt64? = nil, queue: Int? = nil,
                inInterface: String? = nil, direction: Direction? = nil, proto: String = "",
                sourceIP: String = "", sourcePort: UInt16? = nil, destinationIP: String = "",
                destinationPort: UInt16? = nil, reason: String = "", detail: String? = nil, state: String? = nil,
                rule: EventRule? = nil, tcp: TCPFields? = nil, count: Int = 1, firstSeenNanoseconds: UInt64? = nil,
                lastSeenNanoseconds: UInt64? = nil, flow: FlowFields? = nil,
                suppressedCounts: SuppressedCounts? = nil) {
        self.timestampNanoseconds = timestampNanoseconds
        self.eventType = eventType
        self.flowID = flowID
        self.queue = queue
        self.inInterface = inInterface
        self.direction = direction
        self.proto = proto
        self.sourceIP = sourceIP
        self.sourcePort = sourcePort
        self.destinationIP = destinationIP
        self.destinationPort = destinationPort
        self.reason = reason
        self.detail = detail
        self.state = state
        self.rule = rule
        self.tcp = tcp
        self.count = count
        self.firstSeenNanoseconds = firstSeenNanoseconds
        self.lastSeenNanoseconds = lastSeenNanoseconds
        self.flow = flow
        self.suppressedCounts = suppressedCounts
    }

    /// The `proto` text for an IP protocol number: `IPProtocol.eventName` (6 `TCP`, 17 `UDP`,
    /// 1 `ICMP`, 58 `IPv6-ICMP`, anything else the number in decimal).
    public static func protocolName(_ number: UInt8) -> String {
        IPProtocol(rawValue: number).eventName
    }
}
