import Wire

/// The direction-normalised identity of a flow: both directions of a connection give the same
/// key. The lower (address, port) endpoint comes first; `isReversed` on `FlowKey.make` says
/// whether the packet travels from the second endpoint to the first.
public struct FlowKey: Hashable, Sendable {
    public var lowAddress: IPAddress
    public var highAddress: IPAddress
    public var lowPort: UInt16
    public var highPort: UInt16
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).
    public var proto: UInt8

    @inlinable
    public init(lowAddress: IPAddress, highAddress: IPAddress, lowPort: UInt16, highPort: UInt16, proto: UInt8) {
        self.lowAddress = lowAddress
        self.highAddress = highAddress
        self.lowPort = lowPort
        self.highPort = highPort
        self.proto = proto
    }

    /// The key of a packet from `source:sourcePort` to `destination:destinationPort`, and whether
    /// the packet runs from the high endpoint to the low one.
    @inlinable
    public static func make(source: IPAddress, sourcePort: UInt16, destination: IPAddress,
                            destinationPort: UInt16, proto: UInt8) -> (key: FlowKey, isReversed: Bool)
    {
        if source < destination || (source == destination && sourcePort <= destinationPort) {
            return (FlowKey(lowAddress: source, highAddress: destination, lowPort: sourcePort,
                            highPort: destinationPort, proto: proto), false)
        }
        return (FlowKey(lowAddress: destination, highAddress: source, lowPort: destinationPort,
                        highPort: sourcePort, proto: proto), true)
    }

    /// The key of `packet`'s flow and whether it runs from the high endpoint to the low one:
    /// TCP and UDP by ports, an ICMP or ICMPv6 echo or echo reply by its identifier (as both
    /// ports), another protocol by its addresses alone (ports 0). Nil for a fragment and for
    /// ICMP messages other than echoes, which belong to no flow of their own.
    @inlinable
    public static func make(for packet: Packet) -> (key: FlowKey, isReversed: Bool)? {
        switch packet.transport {
        case .tcp(let header):
            return make(source: packet.source, sourcePort: header.sourcePort, destination: packet.destination,
                        destinationPort: header.destinationPort, proto: 6)
        case .udp(let header):
            return make(source: packet.source, sourcePort: header.sourcePort, destination: packet.destination,
                        destinationPort: header.destinationPort, proto: 17)
        case .icmp(let header) where header.isEcho || header.isEchoReply,
             .icmpv6(let header) where header.isEcho || header.isEchoReply:
            return make(source: packet.source, sourcePort: header.identifier, destination: packet.destination,
                        destinationPort: header.identifier, proto: packet.protocolNumber)
        case .other(let proto):
            return make(source: packet.source, sourcePort: 0, destination: packet.destination, destinationPort: 0,
                        proto: proto)
        case .icmp, .icmpv6, .fragment:
            return nil
        }
    }

    /// A stable 63-bit id for logs (`flow_id`): the same for both directions and across runs.
    @inlinable
    public var flowID: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func mix(_ v: UInt64) {
            h = (h ^ v) &* 0x0000_0100_0000_01B3
            h ^= h >> 29
        }
        mix(lowAddress.high); mix(lowAddress.low); mix(highAddress.high); mix(highAddress.low)
        mix(UInt64(lowPort) << 24 | UInt64(highPort) << 8 | UInt64(proto))
        return h & 0x7FFF_FFFF_FFFF_FFFF
    }
}
