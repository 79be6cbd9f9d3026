/// One live connection as `synwall conns` shows it: the initiator is the source.
public struct ConnectionRecord: Codable, Sendable, Equatable {
    /// The worker (NFQUEUE queue) that tracks it.
    public var queue: Int
    /// `tcp`, `udp`, `icmp`, `icmp6` or the protocol number.
    public var proto: String
    /// The side that opened the connection.
    public var src: String
    public var sport: Int
    /// The other side.
    public var dst: String
    public var dport: Int
    /// `ESTABLISHED`, `SYN_SENT`, `UNREPLIED`, …
    public var state: String
    /// Seconds since the first packet.
    public var ageSeconds: Int
    /// Seconds since the last packet.
    public var idleSeconds: Int
    /// Seconds until it expires if nothing more is seen.
    public var expiresInSeconds: Int
    /// Packets and bytes (IP length) from the initiator, and from the responder.
    public var packetsOut: Int
    public var bytesOut: Int
    public var packetsIn: Int
    public var bytesIn: Int
    /// The rule that admitted it (1-based, as `synwall rules list` numbers them), nil for the
    /// policy or when no rule file is in use.
    public var rule: Int?
    /// `FILE:LINE` of that rule.
    public var ruleLocation: String?
    /// The rule's text.
    public var ruleText: String?
    /// True when the connection is offloaded to the kernel (docs/offload.md); nil otherwise.
    public var offloaded: Bool?

    /// A record.
    public init(queue: Int, proto: String, src: String, sport: Int, dst: String, dport: Int, state: String,
                ageSeconds: Int, idleSeconds: Int, expiresInSeconds: Int, packetsOut: Int, bytesOut: Int,
                packetsIn: Int, bytesIn: Int, rule: Int? = nil, ruleLocation: String? = nil, ruleText: String? = nil) {
        self.queue = queue
        self.proto = proto
        self.src = src
        self.sport = sport
        self.dst = dst
        self.dport = dport
        self.state = state
        self.ageSeconds = ageSeconds
        self.idleSeconds = idleSeconds
        self.expiresInSeconds = expiresInSeconds
        self.packetsOut = packetsOut
        self.bytesOut = bytesOut
        self.packetsIn = packetsIn
        self.bytesIn = bytesIn
        self.rule = rule
        self.ruleLocation = ruleLocation
        self.ruleText = ruleText
    }
}
