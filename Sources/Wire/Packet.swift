/// A decoded IP packet: the facts the tracker and rules need, read once from the buffer.
///
/// A `Packet` holds no reference to the bytes it came from; offsets in it refer to that
/// buffer, which the caller keeps (for `Checksum.verifyTransport` or an ICMP quote).
public struct Packet: Sendable, Equatable, Hashable {
    /// IPv4 or IPv6.
    public let version: IPVersion
    /// Source address.
    public let source: IPAddress
    /// Destination address (for IPv6, the fixed header's, not a routing header's final one).
    public let destination: IPAddress
    /// The upper-layer protocol: IPv4's protocol field, or the IPv6 next-header value after
    /// the extension headers (for a non-first fragment, the fragment header's).
    public let protocolNumber: UInt8
    /// IPv4 TTL or IPv6 hop limit.
    public let hopLimit: UInt8
    /// IPv4 type of service or IPv6 traffic class (DSCP in the top six bits, ECN in the low two).
    public let trafficClass: UInt8
    /// Fragmentation facts.
    public let fragment: FragmentInfo
    /// Bytes before the transport header: the IPv4 header with options, or the IPv6 header
    /// with every extension header walked.
    public let ipHeaderLength: Int
    /// Offset in the buffer where the transport header (or a fragment's data) starts.
    public let transportOffset: Int
    /// The packet's length according to the IP header (IPv4 total length, IPv6 40 + payload
    /// length); may exceed `capturedLength` for a truncated copy.
    public let ipTotalLength: Int
    /// Bytes of the packet present in the buffer that was decoded.
    public let capturedLength: Int
    /// The transport header, or why there is none.
    public let transport: TransportHeader
    /// Offset of the first IPv6 routing header, or -1 (for the checksum's final destination).
    @usableFromInline let routingHeaderOffset: Int

    /// A packet from its field values (decoding fills these; tests may too).
    @inlinable
    public init(version: IPVersion, source: IPAddress, destination: IPAddress, protocolNumber: UInt8,
                hopLimit: UInt8, trafficClass: UInt8 = 0, fragment: FragmentInfo = .none, ipHeaderLength: Int,
                transportOffset: Int, ipTotalLength: Int, capturedLength: Int, transport: TransportHeader) {
        self.init(version: version, source: source, destination: destination, protocolNumber: protocolNumber,
                  hopLimit: hopLimit, trafficClass: trafficClass, fragment: fragment, ipHeaderLength: ipHeaderLength,
                  transportOffset: transportOffset, ipTotalLength: ipTotalLength, capturedLength: capturedLength,
                  transport: transport, routingHeaderOffset: -1)
    }

    @inlinable
    init(version: IPVersion, source: IPAddress, destination: IPAddress, protocolNumber: UInt8,
         hopLimit: UInt8, trafficClass: UInt8, fragment: FragmentInfo, ipHeaderLength: Int,
         transportOffset: Int, ipTotalLength: Int, capturedLength: Int, transport: TransportHeader,
         routingHeaderOffset: Int) {
        self.version = version
        self.source = source
        self.destination = destination
        self.protocolNumber = protocolNumber
        self.hopLimit = hopLimit
        self.trafficClass = trafficClass
        self.fragment = fragment
        self.ipHeaderLength = ipHeaderLength
        self.transportOffset = transportOffset
        self.ipTotalLength = ipTotalLength
        self.capturedLength = capturedLength
        self.transport = transport
        self.routingHeaderOffset = routingHeaderOffset
    }

    /// The TCP header, or nil.
    @inlinable
    public var tcp: TCPHeader? {
        if case .tcp(let header) = transport { return header }
        return nil
    }

    /// The UDP header, or nil.
    @inlinable
    public var udp: UDPHeader? {
        if case .udp(let header) = transport { return header }
        return nil
    }

    /// The ICMP or ICMPv6 header, or nil.
    @inlinable
    public var icmp: ICMPHeader? {
        switch transport {
        case .icmp(let header), .icmpv6(let header): return header
        default: return nil
        }
    }

    /// TCP or UDP source port; 0 for other transports.
    @inlinable
    public var sourcePort: UInt16 {
        switch transport {
        case .tcp(let header): return header.sourcePort
        case .udp(let header): return header.sourcePort
        default: return 0
        }
    }

    /// TCP or UDP destination port; 0 for other transports.
    @inlinable
    public var destinationPort: UInt16 {
        switch transport {
        case .tcp(let header): return header.destinationPort
        case .udp(let header): return header.destinationPort
        default: return 0
        }
    }

    /// True when the buffer holds less than the whole packet (a copy-range or snaplen cut).
    @inlinable
    public var isCaptureTruncated: Bool { capturedLength < ipTotalLength }
}
