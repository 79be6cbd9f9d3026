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
