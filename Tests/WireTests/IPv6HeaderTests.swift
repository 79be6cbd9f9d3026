import Testing
@testable import Wire

@Suite struct IPv6HeaderTests {
    let builder = PacketBuilder(source: v6a, destination: v6b)

    func tcpSyn(_ headers: [PacketBuilder.ExtensionHeader]) -> [UInt8] {
        var builder = builder
        builder.extensionHeaders = headers
        return builder.tcp(sourcePort: 1234, destinationPort: 80, sequence: 1, flags: .syn)
    }

    @Test func decodesAllIPv6Fields() throws {
        let packet = try #require(decode(Golden.tcpSynAckV6).packet)
        #expect(packet.version == .v6)
        #expect(packet.source == v6a)
        #expect(packet.destination == v6b)
        #expect(packet.protocolNumber == 6)
        #expect(packet.hopLimit == 64)
        #expect(packet.fragment == .none)
        #expect(packet.ipHeaderLength == 40)
        #expect(packet.transportOffset == 40)
        #expect(packet.ipTotalLength == 80)
        #expect(packet.sourcePort == 443)
        #expect(packet.destinationPort == 40000)
    }

    @Test func trafficClassSpansTwoBytes() throws {
        var bytes = Golden.tcpSynAckV6
        bytes[0] = 0x6A
        bytes[1] = 0xB0
        #expect(decode(bytes).packet?.trafficClass == 0xAB)
    }

    @Test func shorterThanTheFixedHeader() {
        let bytes = Array(Golden.tcpSynAckV6.prefix(39))
        #expect(decode(bytes) == .malformed(.ipv6Truncated(length: 39)))
        #expect(decode(bytes, originalLength: 80) == .malformed(.captureTruncated(needed: 40, captured: 39)))
    }

    @Test func payloadLengthZero() throws {
        var bytes = Golden.tcpSynAckV6
        put16(&bytes, 4, 0)
        #expect(decode(bytes) == .malformed(.ipv6Jumbogram))
        bytes[6] = 59  // no next header: an empty packet is fine
        let packet = try #require(decode(bytes).packet)
        #expect(packet.transport == .other(59))
        #expect(packet.ipTotalLength == 40)
        #expect(packet.transportOffset == 40)
    }

    @Test func payloadLengthPastTheBuffer() {
        var bytes = Golden.tcpSynAckV6
        put16(&bytes, 4, 41)
        #expect(decode(bytes) == .malformed(.ipv6PayloadLengthPastEnd(payloadLength: 41, available: 40)))
        #expect(decode(bytes, originalLength: 81).packet?.tcp?.payloadLength == 1)
    }

    @Test func walksHopByHopAndDestinationOptions() throws {
        let packet = try #require(decode(Golden.tcpExtV6).packet)
        #expect(packet.protocolNumber == 6)
        #expect(packet.ipHeaderLength == 56)
        #expect(packet.transportOffset == 56)
        #expect(packet.tcp?.sourcePort == 1234)
        #expect(packet.tcp?.destinationPort == 80)
        #expect(packet.tcp?.flags == .syn)
    }

    @Test func walksEveryExtensionHeaderKind() throws {
        // AH: 12 bytes of fixed fields + 12-byte ICV = 24 bytes, length field (24 / 4) - 2 = 4.
        let ah = PacketBuilder.ExtensionHeader(type: 51, bytes: [0, 4, 0, 0] + [0, 0, 1, 0] + [0, 0, 0, 1] + [UInt8](repeating: 0xAA, count: 12))
        let mobility = PacketBuilder.ExtensionHeader(type: 135, bytes: [0, 1, 0, 0] + [UInt8](repeating: 0, count: 12))
        let hip = PacketBuilder.ExtensionHeader(type: 139, bytes: [0, 0, 0, 0, 0, 0, 0, 0])
        let shim6 = PacketBuilder.ExtensionHeader(type: 140, bytes: [0, 0, 0, 0, 0, 0, 0, 0])
        let routing = PacketBuilder.ExtensionHeader.routing(routingType: 2, segmentsLeft: 0, addresses: [v6b])
        let bytes = tcpSyn([.hopByHop, .destinationOptions, routing, .fragment(offset: 0, moreFragments: false, identification: 9),
                            ah, mobility, hip, shim6, .destinationOptions])
        let packet = try #require(decode(bytes).packet)
        let expected = 40 + 8 + 8 + 24 + 8 + 24 + 16 + 8 + 8 + 8
        #expect(packet.transportOffset == expected)
        #expect(packet.ipHeaderLength == expected)
        #expect(packet.protocolNumber == 6)
        #expect(packet.tcp?.sequenceNumber == 1)
        #expect(packet.routingHeaderOffset == 56)
        // An atomic fragment (offset 0, no more fragments) is not a fragment, but keeps its id.
        #expect(!packet.fragment.isFragment)
        #expect(packet.fragment.identification == 9)
        #expect(verifyTransport(bytes) == true)
    }

    @Test func noNextHeaderAfterAnExtension() throws {
        var builder = builder
        builder.extensionHeaders = [.destinationOptions]
        let bytes = builder.ip(protocolNumber: 59, transport: [])
        let packet = try #require(decode(bytes).packet)
        #expect(packet.transport == .other(59))
        #expect(packet.transportOffset == 48)
        #expect(packet.ipTotalLength == 48)
    }

    @Test func espEndsTheWalk() throws {
        var builder = builder
        builder.extensionHeaders = [.hopByHop]
        let bytes = builder.ip(protocolNumber: 50, transport: [0, 0, 1, 0, 0, 0, 0, 1, 0xEE, 0xEE])
        let packet = try #require(decode(bytes).packet)
        #expect(packet.transport == .other(50))
        #expect(packet.transportOffset == 48)
    }

    @Test func hopByHopMustComeFirst() {
        #expect(decode(tcpSyn([.destinationOptions, .hopByHop])) == .malformed(.ipv6HopByHopNotFirst))
        #expect(decode(tcpSyn([.hopByHop, .hopByHop])) == .malformed(.ipv6HopByHopNotFirst))
    }

    @Test func chainLengthIsBounded() {
        let sixteen = [PacketBuilder.ExtensionHeader](repeating: .destinationOptions, count: 16)
        #expect(decode(tcpSyn(sixteen)).packet?.transportOffset == 40 + 16 * 8)
        #expect(decode(tcpSyn(sixteen + [.destinationOptions])) == .malformed(.ipv6TooManyExtensionHeaders(limit: 16)))
    }

    @Test func extensionHeaderPastTheEnd() {
        // Destination options claiming 16 bytes with only 8 in the packet.
        var builder = builder
        builder.extensionHeaders = [PacketBuilder.ExtensionHeader(type: 60, bytes: [0, 1, 1, 4, 0, 0, 0, 0])]
        let bytes = builder.ip(protocolNumber: 59, transport: [])
        #expect(decode(bytes) == .malformed(.ipv6ExtensionHeaderPastEnd(headerType: 60)))
        // Only the first byte of a header present.
        var short = Array(Golden.tcpSynAckV6.prefix(41))
        put16(&short, 4, 1)
        short[6] = 0
        #expect(decode(short) == .malformed(.ipv6ExtensionHeaderPastEnd(headerType: 0)))
        // AH length counts 4-byte units + 2.
        builder.extensionHeaders = [PacketBuilder.ExtensionHeader(type: 51, bytes: [0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]
        #expect(decode(builder.ip(protocolNumber: 59, transport: [])) == .malformed(.ipv6ExtensionHeaderPastEnd(headerType: 51)))
    }

    @Test func chainPastTheCopy() {
        let bytes = Golden.tcpExtV6
        #expect(decode(Array(bytes.prefix(50)), originalLength: bytes.count)
                == .malformed(.captureTruncated(needed: 56, captured: 50)))
        #expect(decode(Array(bytes.prefix(41)), originalLength: bytes.count)
                == .malformed(.captureTruncated(needed: 42, captured: 41)))
        #expect(decode(Array(bytes.prefix(60)), originalLength: bytes.count)
                == .malformed(.captureTruncated(needed: 76, captured: 60)))
    }

    @Test func secondFragmentHeader() {
        let fragment = PacketBuilder.ExtensionHeader.fragment(offset: 0, moreFragments: false, identification: 1)
        #expect(decode(tcpSyn([fragment, fragment])) == .malformed(.ipv6DuplicateFragmentHeader))
    }

    @Test func icmpOverIPv6IsNotICMP() {
        let bytes = builder.ip(protocolNumber: 1, transport: [8, 0, 0, 0, 0, 0, 0, 0])
        #expect(decode(bytes).packet?.transport == .other(1))
    }
}
