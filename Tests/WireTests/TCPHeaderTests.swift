import Testing
@testable import Wire

/// A hand-built IPv4 header (192.0.2.1 > 198.51.100.2, protocol `protocolNumber`) in front of
/// `transport`, total length set, checksums left as they are.
func ipv4Packet(protocolNumber: UInt8 = 6, _ transport: [UInt8], destination: [UInt8] = [198, 51, 100, 2]) -> [UInt8] {
    var bytes = hex("45000000 0001 4000 40 00 0000 c0000201") + destination
    bytes[9] = protocolNumber
    put16(&bytes, 2, UInt16(20 + transport.count))
    return bytes + transport
}

/// A hand-built TCP header: ports 40000 > 443, seq 1000, ack 0, the given data offset and
/// flags, window 512, then `options`.
func tcpHeader(dataOffset: UInt8 = 5, flags: UInt8 = 0x02, sourcePort: UInt16 = 40000, destinationPort: UInt16 = 443,
               options: [UInt8] = []) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 20)
    put16(&bytes, 0, sourcePort)
    put16(&bytes, 2, destinationPort)
    put16(&bytes, 6, 1000)
    bytes[12] = dataOffset << 4
    bytes[13] = flags
    put16(&bytes, 14, 512)
    return bytes + options
}

@Suite struct TCPHeaderTests {
    @Test func decodesASynWithEveryCommonOption() throws {
        let tcp = try #require(decode(Golden.tcpSynV4).packet?.tcp)
        #expect(tcp.sourcePort == 40000)
        #expect(tcp.destinationPort == 443)
        #expect(tcp.sequenceNumber == 1000)
        #expect(tcp.acknowledgmentNumber == 0)
        #expect(tcp.headerLength == 40)
        #expect(tcp.flags == .syn)
        #expect(tcp.reservedBits == 0)
        #expect(tcp.window == 64240)
        #expect(tcp.checksum == 0xDCB2)
        #expect(tcp.urgentPointer == 0)
        #expect(tcp.payloadLength == 0)
        #expect(tcp.options.mss == 1460)
        #expect(tcp.options.sackPermitted)
        #expect(tcp.options.timestamp?.value == 123_456)
        #expect(tcp.options.timestamp?.echoReply == 0)
        #expect(tcp.options.windowScale == 7)
        #expect(!tcp.options.hasDuplicates)
        #expect(!tcp.options.hasSACK)
    }

    @Test func decodesAnIPv6SynAck() throws {
        let tcp = try #require(decode(Golden.tcpSynAckV6).packet?.tcp)
        #expect(tcp.sequenceNumber == 5000)
        #expect(tcp.acknowledgmentNumber == 1001)
        #expect(tcp.flags == [.syn, .ack])
        #expect(tcp.window == 65535)
        #expect(tcp.options.mss == 1440)
        #expect(tcp.options.windowScale == 8)
        #expect(tcp.options.timestamp?.value == 999)
        #expect(tcp.options.timestamp?.echoReply == 123_456)
    }

    @Test func decodesDataSegments() throws {
        let tcp = try #require(decode(Golden.tcpDataV4).packet?.tcp)
        #expect(tcp.flags == [.psh, .ack])
        #expect(tcp.headerLength == 32)
        #expect(tcp.payloadLength == 13)
        #expect(tcp.options.mss == nil)
        #expect(tcp.options.timestamp?.value == 123_457)
    }

    @Test func shortSegment() {
        let bytes = ipv4Packet(Array(tcpHeader().prefix(12)))
        #expect(decode(bytes) == .malformed(.tcpTruncated(length: 12)))
        #expect(decode(ipv4Packet([])) == .malformed(.tcpTruncated(length: 0)))
    }

    @Test(arguments: [0, 1, 4] as [UInt8])
    func dataOffsetBelowFive(offset: UInt8) {
        #expect(decode(ipv4Packet(tcpHeader(dataOffset: offset))) == .malformed(.tcpDataOffsetTooSmall(dataOffset: offset)))
    }

    @Test func headerLongerThanTheSegment() {
        #expect(decode(ipv4Packet(tcpHeader(dataOffset: 15)))
                == .malformed(.tcpHeaderPastEnd(headerLength: 60, segmentLength: 20)))
        #expect(decode(ipv4Packet(tcpHeader(dataOffset: 6, options: [1, 1, 1])))
                == .malformed(.tcpHeaderPastEnd(headerLength: 24, segmentLength: 23)))
    }

    @Test func portZero() {
        #expect(decode(ipv4Packet(tcpHeader(sourcePort: 0))) == .malformed(.tcpPortZero(sourcePort: 0, destinationPort: 443)))
        #expect(decode(ipv4Packet(tcpHeader(destinationPort: 0))) == .malformed(.tcpPortZero(sourcePort: 40000, destinationPort: 0)))
    }

    @Test func synToMulticastOrBroadcast() throws {
        #expect(decode(ipv4Packet(tcpHeader(), destination: [224, 0, 0, 1])) == .malformed(.tcpSynToMulticast))
        #expect(decode(ipv4Packet(tcpHeader(), destination: [255, 255, 255, 255])) == .malformed(.tcpSynToMulticast))
        #expect(decode(ipv4Packet(tcpHeader(flags: 0x12), destination: [239, 1, 2, 3])) == .malformed(.tcpSynToMulticast))
        // Not a SYN: decodes (the tracker decides what to do with it).
        #expect(decode(ipv4Packet(tcpHeader(flags: 0x10), destination: [224, 0, 0, 1])).packet?.tcp?.flags == .ack)
        let builder = try #require(PacketBuilder(from: "2001:db8::1", to: "ff02::1"))
        #expect(decode(builder.tcp(sourcePort: 1, destinationPort: 2, flags: .syn)) == .malformed(.tcpSynToMulticast))
    }

    @Test func payloadLengthComesFromTheIPHeader() throws {
        let builder = PacketBuilder(source: v4a, destination: v4b)
        let full = builder.tcp(sourcePort: 40000, destinationPort: 443, flags: [.psh, .ack],
                               payload: [UInt8](repeating: 0x61, count: 1448))
        #expect(full.count == 1488)
        // A 128-byte NFQUEUE copy of it.
        let packet = try #require(decode(Array(full.prefix(128)), originalLength: full.count).packet)
        #expect(packet.tcp?.payloadLength == 1448)
        #expect(packet.ipTotalLength == 1488)
        #expect(packet.capturedLength == 128)
        #expect(packet.isCaptureTruncated)
        // The same copy without the original length is malformed: the IP length runs past it.
        #expect(decode(Array(full.prefix(128))) == .malformed(.ipv4TotalLengthPastEnd(totalLength: 1488, packetLength: 128)))
    }

    @Test func gsoSuperPacket() throws {
        let builder = PacketBuilder(source: v4a, destination: v4b)
        let bytes = builder.tcp(sourcePort: 40000, destinationPort: 443, sequence: 7, flags: .ack,
                                payload: [UInt8](repeating: 0, count: 65_000))
        let packet = try #require(decode(bytes).packet)
        #expect(packet.tcp?.payloadLength == 65_000)
        #expect(packet.ipTotalLength == 65_040)
        #expect(verifyTransport(bytes) == true)
    }

    @Test func headerPastTheCopy() {
        let bytes = Golden.tcpSynV4
        #expect(decode(Array(bytes.prefix(30)), originalLength: 60) == .malformed(.captureTruncated(needed: 40, captured: 30)))
        #expect(decode(Array(bytes.prefix(50)), originalLength: 60) == .malformed(.captureTruncated(needed: 60, captured: 50)))
        #expect(decode(Array(bytes.prefix(60)), originalLength: 60).packet?.tcp?.options.windowScale == 7)
    }
}
