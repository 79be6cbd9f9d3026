import Wire

/// One direction's window-tracking values, for display.
public struct WindowSnapshot: Sendable, Equatable {
    /// Highest sequence number sent plus one (`seq + len`, SYN and FIN counted).
    public var end: UInt32
    /// Right edge the peer may send up to.
    public var maxEnd: UInt32
    /// Largest scaled window it advertised.
    public var maxWindow: UInt32
    /// Highest ack it sent (0 before any).
    public var maxAck: UInt32
    /// Window-scale shift in use.
    public var scale: UInt8
}

/// A copy of one tracked flow, for `synwall conns` (not for the packet path).
public struct ConnectionSnapshot: Sendable, Equatable {
    /// The direction-normalised key.
    public var key: FlowKey
    /// The flow's state.
    public var state: ConnectionState
    /// The side that opened the flow, and its port (for ICMP echo, the identifier).
    public var initiatorAddress: IPAddress
    public var initiatorPort: UInt16
    /// The other side.
    public var responderAddress: IPAddress
    public var responderPort: UInt16
    /// IP protocol number.
    public var proto: UInt8
    /// When it expires if idle: whole seconds of the injected clock.
    public var expiresAtSeconds: UInt64
    /// TCP only: each side's window tracking.
    public var initiatorWindow: WindowSnapshot?
    public var responderWindow: WindowSnapshot?
    /// When the flow was created: whole seconds of the injected clock (rounded down; Unix
    /// seconds in the daemon). Age is `now - createdSeconds`.
    public var createdSeconds: UInt64
    /// When the tracker last accepted a packet of the flow (same clock); idle time is
    /// `now - lastSeenSeconds`.
    public var lastSeenSeconds: UInt64
    /// Packets the tracker accepted from the initiator (the creating packet included), and
    /// their bytes (IP total length, headers included). Packet counts stop at 4,294,967,295.
    public var initiatorPackets: UInt64
    public var initiatorBytes: UInt64
    /// The same from the responder.
    public var responderPackets: UInt64
    public var responderBytes: UInt64
    /// Index into `CompiledRuleset.rules` of the rule that admitted the flow (after a reload:
    /// the new rules' passing rule); nil when no rule did (a policy, a pickup or no rule file).
    public var ruleIndex: Int?
    /// Offloaded to the kernel (docs/offload.md): its plain segments pass there, so its windows,
    /// idle time and counts are those of the segments synwall still saw.
    public var offloaded = false

    /// A snapshot from its parts.
    public init(key: FlowKey, state: ConnectionState, initiatorAddress: IPAddress, initiatorPort: UInt16,
                responderAddress: IPAddress, responderPort: UInt16, proto: UInt8, expiresAtSeconds: UInt64,
                initiatorWindow: WindowSnapshot? = nil, responderWindow: WindowSnapshot? = nil,
                createdSeconds: UInt64 = 0, lastSeenSeconds: UInt64 = 0, initiatorPackets: UInt64 = 0,
                initiatorBytes: UInt64 = 0, responderPackets: UInt64 = 0, responderBytes: UInt64 = 0,
                ruleIndex: Int? = nil) {
        self.key = key
        self.state = state
        self.initiatorAddress = initiatorAddress
        self.initiatorPort = initiatorPort
        self.responderAddress = responderAddress
        self.responderPort = responderPort
        self.proto = proto
        self.expiresAtSeconds = expiresAtSeconds
        self.initiatorWindow = initiatorWindow
        self.responderWindow = responderWindow
        self.createdSeconds = createdSeconds
        self.lastSeenSeconds = lastSeenSeconds
        self.initiatorPackets = initiatorPackets
        self.initiatorBytes = initiatorBytes
        self.responderPackets = responderPackets
        self.responderBytes = responderBytes
        self.ruleIndex = ruleIndex
    }
}
