/// The transport layer of a decoded packet.
public enum TransportHeader: Sendable, Equatable, Hashable {
    /// TCP (protocol 6).
    case tcp(TCPHeader)
    /// UDP (protocol 17).
    case udp(UDPHeader)
    /// ICMP (protocol 1) over IPv4.
    case icmp(ICMPHeader)
    /// ICMPv6 (protocol 58) over IPv6.
    case icmpv6(ICMPHeader)
    /// A non-first fragment: its bytes continue a transport payload and carry no header.
    /// `Packet.protocolNumber` still names the protocol.
    case fragment
    /// Any other upper-layer protocol, by number (ICMPv6 over IPv4 and ICMP over IPv6 land
    /// here too; 59 is IPv6 "no next header").
    case other(UInt8)
}
