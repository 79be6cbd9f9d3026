import Rules
import EventLog
import Tracking
import Wire

/// The few facts about a packet that verdict output and events need, copied out of the
/// decoded view (so they outlive the receive buffer). A plain value: no allocation.
public struct PacketSummary: Sendable, Equatable {
    public var version: IPVersion
    public var source: IPAddress
    public var destination: IPAddress
    /// IP protocol number after any IPv6 extension headers.
    public var proto: UInt8
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// TCP only (empty otherwise).
    public var flags: TCPFlags
    public var sequence: UInt32
    public var acknowledgment: UInt32
    public var window: UInt16
    /// Whether the transport header was present (false for non-first fragments, unknown protocols).
    public var hasPorts: Bool
    public var isTCP: Bool

    @inlinable
    public init(_ packet: Packet) {
        version = packet.version
        source = packet.source
        destination = packet.destination
        proto = packet.protocolNumber
        sourcePort = 0
        destinationPort = 0
        flags = []
        sequence = 0
        acknowledgment = 0
        window = 0
        hasPorts = false
        isTCP = false
        switch packet.transport {
        case .tcp(let tcp):
            sourcePort = tcp.sourcePort
            destinationPort = tcp.destinationPort
            flags = tcp.flags
            sequence = tcp.sequenceNumber
            acknowledgment = tcp.acknowledgmentNumber
            window = tcp.window
            hasPorts = true
            isTCP = true
        case .udp(let udp):
            sourcePort = udp.sourcePort
            destinationPort = udp.destinationPort
            hasPorts = true
        case .icmp(let icmp), .icmpv6(let icmp):
            // For echo flows the identifier plays the part of a port, as in Linux conntrack.
            sourcePort = icmp.identifier
            destinationPort = 0
        case .fragment, .other:
            break
        }
    }

    /// The protocol's display name, as the event log and replay print it.
    public var protocolName: String { Event.protocolName(proto) }
}

/// The decision for one packet, with what is needed to report it.
public struct Decision: Sendable {
    public var verdict: Verdict
    /// Set when `verdict` is `.drop`.
    public var reason: DropReason?
    /// nil when the packet could not be decoded.
    public var summary: PacketSummary?
    /// The decoder's complaint when `reason` is `.malformed` or `.fragment`.
    public var anomaly: DecodeAnomaly?
    /// The flow's state after the packet, when the tracker found or made one.
    public var state: ConnectionState?
    /// The tracker's finer event (why it dropped, or an anomaly on an accepted packet).
    public var trackerEvent: TrackerEvent?
    /// What the rules decided, when this packet asked them (a new flow).
    public var rule: RuleDecision?
    /// The ranges the packet failed, when a window check dropped it.
    public var windowBounds: WindowBounds?
    /// A fragment whose verdict waits for the rest of its datagram: give it no verdict now
    /// (`verdict` says drop only so that nothing can pass it by mistake); it comes later
    /// through `Pipeline.takeFragmentVerdicts`.
    public var isHeld = false
    /// Set when this packet starts or ends its connection's offload (docs/offload.md).
    public var offload: OffloadChange?

    @inlinable
    public init(verdict: Verdict, reason: DropReason? = nil, summary: PacketSummary? = nil,
                anomaly: DecodeAnomaly? = nil, state: ConnectionState? = nil, trackerEvent: TrackerEvent? = nil)
    {
        self.verdict = verdict
        self.reason = reason
        self.summary = summary
        self.anomaly = anomaly
        self.state = state
        self.trackerEvent = trackerEvent
    }

    /// Whether this decision is worth an event in the log: every drop, a new connection whose
    /// rule says `log`, and a passed packet the tracker found suspicious.
    public var isEvent: Bool {
        !isHeld && (verdict == .drop || rule?.log == true || trackerEvent?.isSuspicious == true)
    }
}
