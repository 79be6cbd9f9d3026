import Testing
@testable import Wire

@Suite struct UDPHeaderTests {
    @Test func decodesIPv4() throws {
        let packet = try #require(decode(Golden.udpV4).packet)
        let udp = try #require(packet.udp)
        #expect(udp.sourcePort == 5353)
        #expect(udp.destinationPort == 53)
        #expect(udp.length == 20)
        #expect(udp.checksum == 0xC33D)
        #expect(udp.payloadLength == 12)
        #expect(packet.sourcePort == 5353)
        #expect(packet.destinationPort == 53)
        #expect(packet.tcp == nil)
        #expect(packet.icmp == nil)
    }

    @Test func decodesIPv6ToMulticast() throws {
        let packet = try #require(decode(Golden.udpV6).packet)
        #expect(packet.destination.description == "ff02::fb")
        #expect(packet.destination.isMulticast)
        #expect(packet.udp?.payloadLength == 3)
        #expect(packet.udp?.length == 11)
    }

    @Test func shortDatagram() {
        let bytes = ipv4Packet(protocolNumber: 17, [0x14, 0xE9, 0, 53, 0, 8, 0])
        #expect(decode(bytes) == .malformed(.udpTruncated(length: 7)))
    }

    @Test(arguments: [0, 1, 7] as [UInt16])
    func lengthFieldBelowEight(length: UInt16) {
        var bytes = Golden.udpV4
        put16(&bytes, 24, length)
        #expect(decode(bytes) == .malformed(.udpLengthTooSmall(length: length)))
    }

    @Test func lengthFieldPastTheEnd() {
        var bytes = Golden.udpV4
        put16(&bytes, 24, 21)
        #expect(decode(bytes) == .malformed(.udpLengthPastEnd(length: 21, available: 20)))
    }

    @Test func lengthFieldShorterThanThePacket() throws {
        // Bytes after the UDP length are not UDP payload (RFC 768); the length field rules.
        var bytes = Golden.udpV4
        put16(&bytes, 24, 12)
        #expect(decode(bytes).packet?.udp?.payloadLength == 4)
    }

    @Test func truncatedCopyKeepsTheRealLength() throws {
        let builder = PacketBuilder(source: v4a, destination: v4b)
        let bytes = builder.udp(sourcePort: 1000, destinationPort: 2000, payload: [UInt8](repeating: 1, count: 1000))
        let packet = try #require(decode(Array(bytes.prefix(64)), originalLength: bytes.count).packet)
        #expect(packet.udp?.payloadLength == 1000)
        #expect(decode(Array(bytes.prefix(27)), originalLength: bytes.count) == .malformed(.captureTruncated(needed: 28, captured: 27)))
    }

    @Test func portZeroIsAllowed() throws {
        var bytes = Golden.udpV4
        put16(&bytes, 20, 0)
        #expect(decode(bytes).packet?.udp?.sourcePort == 0)
    }
}
