/// Builds raw IP packets with correct lengths and checksums, for tests, fixtures and demos.
///
/// It allocates arrays: never use it on the packet path. The IP version follows the
/// addresses (both IPv4, or both IPv6). A misuse that could only be a programming error
/// (mixed families, more than 40 bytes of TCP options, a packet over 65,535 bytes) stops with
/// a precondition failure.
public struct PacketBuilder: Sendable {
    /// An IPv6 extension header to place between the fixed header and the transport.
    public struct ExtensionHeader: Sendable, Equatable {
        /// Its next-header value (0 hop-by-hop, 43 routing, 44 fragment, 51 AH, 60 destination
        /// options, …), written into the byte before it.
        public var type: UInt8
        /// Its bytes, length field included; byte 0 (next header) is filled in by the builder.
        public var bytes: [UInt8]

        /// A header from its type and bytes.
        public init(type: UInt8, bytes: [UInt8]) {
            self.type = type
            self.bytes = bytes
        }

        /// Hop-by-hop options (type 0) holding only padding: 8 bytes.
        public static let hopByHop = ExtensionHeader(type: 0, bytes: [0, 0, 1, 4, 0, 0, 0, 0])
        /// Destination options (type 60) holding only padding: 8 bytes.
        public static let destinationOptions = ExtensionHeader(type: 60, bytes: [0, 0, 1, 4, 0, 0, 0, 0])

        /// A fragment header (type 44). `offset` is in bytes (a multiple of 8).
        public static func fragment(offset: Int, moreFragments: Bool, identification: UInt32) -> ExtensionHeader {
            let field = UInt16(truncatingIfNeeded: offset) & 0xFFF8 | (moreFragments ? 1 : 0)
            var bytes: [UInt8] = [0, 0]
            bytes.appendBigEndian(field)
            bytes.appendBigEndian(identification)
            return ExtensionHeader(type: 44, bytes: bytes)
        }

        /// A routing header (type 43) of `routingType` listing `addresses`.
        public static func routing(routingType: UInt8, segmentsLeft: UInt8, addresses: [IPAddress]) -> ExtensionHeader {
            var bytes: [UInt8] = [0, UInt8(truncatingIfNeeded: addresses.count * 2), routingType, segmentsLeft, 0, 0, 0, 0]
            for address in addresses {
                bytes.appendBigEndian(address.high)
                bytes.appendBigEndian(address.low)
            }
            return ExtensionHeader(type: 43, bytes: bytes)
        }
    }

    /// Source address.
    public var source: IPAddress
    /// Destination address.
    public var destination: IPAddress
    /// TTL or hop limit.
    public var hopLimit: UInt8 = 64
    /// IPv4 TOS or IPv6 traffic class.
    public var trafficClass: UInt8 = 0
    /// IPv4 identification.
    public var identification: UInt16 = 0x1234
    /// IPv4 DF flag.
    public var dontFragment = true
    /// IPv4 MF flag (no transport checksum is filled for a fragment).
    public var moreFragments = false
    /// IPv4 fragment offset in bytes (a multiple of 8).
    public var fragmentOffset = 0
    /// IPv4 options (padded with zeros to a multiple of 4).
    public var ipv4Options: [UInt8] = []
    /// IPv6 extension headers, in order.
    public var extensionHeaders: [ExtensionHeader] = []

    /// A builder for packets from `source` to `destination`.
    public init(source: IPAddress, destination: IPAddress) {
        self.source = source
        self.destination = destination
    }

    /// A builder from address text; nil when either does not parse.
    public init?(from source: String, to destination: String) {
        guard let source = IPAddress(source), let destination = IPAddress(destination) else { return nil }
        self.init(source: source, destination: destination)
    }

    /// A TCP segment. `options` are written in Linux's order (MSS, SACK-permitted,
    /// timestamps, window scale, SACK blocks, Fast Open request), 4-aligned; `rawOptions`,
    /// when given, is written instead, as is (padded with zeros to a multiple of 4).
    public func tcp(sourcePort: UInt16, destinationPort: UInt16, sequence: UInt32 = 0, acknowledgment: UInt32 = 0,
                    flags: TCPFlags, window: UInt16 = 65535, urgentPointer: UInt16 = 0,
                    options: TCPOptions = TCPOptions(), rawOptions: [UInt8]? = nil,
                    payload: [UInt8] = []) -> [UInt8] {
        var optionBytes = rawOptions ?? Self.encode(options)
        while optionBytes.count % 4 != 0 { optionBytes.append(0) }
        precondition(optionBytes.count <= 40, "TCP options take at most 40 bytes")
        var segment: [UInt8] = []
        segment.appendBigEndian(sourcePort)
        segment.appendBigEndian(destinationPort)
        segment.appendBigEndian(sequence)
        segment.appendBigEndian(acknowledgment)
        let dataOffset = UInt16(5 + optionBytes.count / 4)
        segment.appendBigEndian(dataOffset << 12 | flags.rawValue & 0x01FF)
        segment.appendBigEndian(window)
        segment.appendBigEndian(UInt16(0))
        segment.appendBigEndian(urgentPointer)
        segment += optionBytes
        segment += payload
        return ip(protocolNumber: 6, transport: segment)
    }

    /// A UDP datagram.
    public func udp(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8] = []) -> [UInt8] {
        var datagram: [UInt8] = []
        datagram.appendBigEndian(sourcePort)
        datagram.appendBigEndian(destinationPort)
        datagram.appendBigEndian(UInt16(truncatingIfNeeded: 8 + payload.count))
        datagram.appendBigEndian(UInt16(0))
        datagram += payload
        return ip(protocolNumber: 17, transport: datagram)
    }

    /// An ICMP (IPv4) or ICMPv6 (IPv6) message: type, code, the four rest-of-header bytes and
    /// a body (for an error, the quoted packet).
    public func icmp(type: UInt8, code: UInt8 = 0, restOfHeader: UInt32 = 0, body: [UInt8] = []) -> [UInt8] {
        var message: [UInt8] = [type, code, 0, 0]
        message.appendBigEndian(restOfHeader)
        message += body
        return ip(protocolNumber: source.isIPv4 ? 1 : 58, transport: message)
    }

    /// An echo request (or reply) for the builder's IP version.
    public func icmpEcho(reply: Bool = false, identifier: UInt16, sequence: UInt16, payload: [UInt8] = []) -> [UInt8] {
        let type: UInt8 = source.isIPv4 ? (reply ? 0 : 8) : (reply ? 129 : 128)
        return icmp(type: type, restOfHeader: UInt32(identifier) << 16 | UInt32(sequence), body: payload)
    }

    /// An IP packet carrying `transport` as protocol `protocolNumber`, with lengths set and
    /// checksums filled (the transport's only when it is TCP, UDP, ICMP or ICMPv6, whole,
    /// and not a fragment).
    public func ip(protocolNumber: UInt8, transport: [UInt8]) -> [UInt8] {
        precondition(source.isIPv4 == destination.isIPv4, "source and destination must be the same IP version")
        var packet: [UInt8] = []
        if source.isIPv4 {
            var options = ipv4Options
            while options.count % 4 != 0 { options.append(0) }
            let headerLength = 20 + options.count
            precondition(headerLength <= 60 && headerLength + transport.count <= 65535, "IPv4 packet too large")
            packet.append(0x40 | UInt8(headerLength / 4))
            packet.append(trafficClass)
            packet.appendBigEndian(UInt16(headerLength + transport.count))
            packet.appendBigEndian(identification)
            let flags: UInt16 = (dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0)
            packet.appendBigEndian(flags | UInt16(truncatingIfNeeded: fragmentOffset / 8) & 0x1FFF)
            packet.append(hopLimit)
            packet.append(protocolNumber)
            packet.appendBigEndian(UInt16(0))
            packet.appendBigEndian(source.ipv4 ?? 0)
            packet.appendBigEndian(destination.ipv4 ?? 0)
            packet += options
        } else {
            var chain: [UInt8] = []
            for (index, header) in extensionHeaders.enumerated() {
                var bytes = header.bytes
                if !bytes.isEmpty {
                    bytes[0] = index + 1 < extensionHeaders.count ? extensionHeaders[index + 1].type : protocolNumber
                }
                chain += bytes
            }
            let payloadLength = chain.count + transport.count
            precondition(payloadLength <= 65535, "IPv6 payload too large")
            packet.append(0x60 | trafficClass >> 4)
            packet.append(trafficClass << 4)
            packet += [0, 0]
            packet.appendBigEndian(UInt16(payloadLength))
            packet.append(extensionHeaders.first?.type ?? protocolNumber)
            packet.append(hopLimit)
            packet.appendBigEndian(source.high)
            packet.appendBigEndian(source.low)
            packet.appendBigEndian(destination.high)
            packet.appendBigEndian(destination.low)
            packet += chain
        }
        packet += transport
        Checksum.fill(&packet)
        return packet
    }

    /// Option bytes for `options`, in Linux's order and alignment.
    public static func encode(_ options: TCPOptions) -> [UInt8] {
        var bytes: [UInt8] = []
        if let mss = options.mss {
            bytes += [2, 4]
            bytes.appendBigEndian(mss)
        }
        if let timestamp = options.timestamp {
            bytes += options.sackPermitted ? [4, 2, 8, 10] : [1, 1, 8, 10]
            bytes.appendBigEndian(timestamp.value)
            bytes.appendBigEndian(timestamp.echoReply)
        } else if options.sackPermitted {
            bytes += [1, 1, 4, 2]
        }
        if let shift = options.windowScale {
            bytes += [1, 3, 3, shift]
        }
        if options.sackBlockCount > 0 {
            bytes += [1, 1, 5, UInt8(2 + 8 * options.sackBlockCount)]
            for index in 0..<options.sackBlockCount {
                let block = options.sackBlock(index)
                bytes.appendBigEndian(block.left)
                bytes.appendBigEndian(block.right)
            }
        }
        if options.emptySACK {
            bytes += [1, 1, 5, 2]
        }
        if options.fastOpen {
            bytes += [1, 1, 34, 2]
        }
        if options.md5Signature {
            bytes += [1, 1, 19, 18] + [UInt8](repeating: 0, count: 16)
        }
        return bytes
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` in network byte order.
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var remaining = T.bitWidth
        while remaining > 0 {
            remaining -= 8
            append(UInt8(truncatingIfNeeded: value >> remaining))
        }
    }
}
