import Wire

/// How a tracked flow ended: the `reason` of its `flow` record (a stable, public format).
public enum FlowEnd: String, Sendable, CaseIterable, Hashable {
    /// Both FINs were exchanged (the entry left TIME_WAIT, or was reused from it).
    case closed
    /// A valid RST ended it (also a handshake refused or aborted by RST).
    case reset
    /// Idle past its state's timeout (any state but TIME_WAIT and CLOSE).
    case timeout
    /// Evicted to make room for a new flow in a full table.
    case evicted
    /// Removed by `synwall conns --kill`.
    case killed
    /// Cut by `overload <table> flush` (its source overloaded the rule that admitted it).
    case flushed
    /// Cut on a reload because the new rules block it (`set reload recheck`).
    case reload
}

/// What the tracker remembers of a flow as it leaves the table: enough for its `flow` record
/// and for the rules' per-source counts. A plain value copied into a fixed ring (no
/// allocation); see `ConnectionTracker.drainEndedFlows`.
public struct EndedFlow: Sendable, Equatable {
    /// The flow's direction-normalised key.
    public var key: FlowKey
    /// The state it was in.
    public var state: ConnectionState
    /// How it ended.
    public var end: FlowEnd
    /// Whether the initiator is the key's high endpoint.
    public var initiatorIsHigh: Bool
    /// False when a new connection took the entry over on the same key (TIME_WAIT or CLOSE
    /// reuse): the key is still in the table.
    public var keyLeftTable: Bool
    /// When it was created and when the tracker last accepted a packet of it (whole seconds of
    /// the injected clock), and when it ended (nanoseconds of the same clock).
    public var createdSeconds: UInt32
    public var lastSeenSeconds: UInt32
    public var endedNanoseconds: UInt64
    /// Packets (the tracker accepted) and bytes (IP total length) each way.
    public var initiatorPackets: UInt32
    public var responderPackets: UInt32
    public var initiatorBytes: UInt64
    public var responderBytes: UInt64
    /// The admitting rule, hook and interfaces of its first packet.
    public var origin: FlowOrigin
    /// It left the table while offloaded (docs/offload.md): the kernel still passes its plain
    /// segments until its connection there is deleted too.
    public var wasOffloaded = false

    /// A record from its parts (for tests; the tracker fills it from an entry).
    public init(key: FlowKey, state: ConnectionState, end: FlowEnd, initiatorIsHigh: Bool = false,
                keyLeftTable: Bool = true, createdSeconds: UInt32 = 0, lastSeenSeconds: UInt32 = 0,
                endedNanoseconds: UInt64 = 0, initiatorPackets: UInt32 = 0, responderPackets: UInt32 = 0,
                initiatorBytes: UInt64 = 0, responderBytes: UInt64 = 0, origin: FlowOrigin = FlowOrigin()) {
        self.key = key
        self.state = state
        self.end = end
        self.initiatorIsHigh = initiatorIsHigh
        self.keyLeftTable = keyLeftTable
        self.createdSeconds = createdSeconds
        self.lastSeenSeconds = lastSeenSeconds
        self.endedNanoseconds = endedNanoseconds
        self.initiatorPackets = initiatorPackets
        self.responderPackets = responderPackets
        self.initiatorBytes = initiatorBytes
        self.responderBytes = responderBytes
        self.origin = origin
    }

    /// The side that opened the flow, and its port (for ICMP echo, the identifier).
    public var initiatorAddress: IPAddress { initiatorIsHigh ? key.highAddress : key.lowAddress }
    public var initiatorPort: UInt16 { initiatorIsHigh ? key.highPort : key.lowPort }
    /// The other side.
    public var responderAddress: IPAddress { initiatorIsHigh ? key.lowAddress : key.highAddress }
    public var responderPort: UInt16 { initiatorIsHigh ? key.lowPort : key.highPort }

    /// How a flow in `state` ends when nothing else removed it: TIME_WAIT `closed`, CLOSE
    /// `reset`, anything else `timeout`.
    public static func naturalEnd(of state: ConnectionState?) -> FlowEnd {
        switch state {
        case .timeWait?: return .closed
        case .close?: return .reset
        default: return .timeout
        }
    }
}
