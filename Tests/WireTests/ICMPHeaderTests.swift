import Testing
@testable import Wire

@Suite struct ICMPHeaderTests {
    @Test func echoRequestIPv4() throws {
        let packet = try #require(decode(Golden.icmpEchoV4).packet)
        guard case .icmp(let icmp) = packet.transport else { Issue.record("not ICMP: \(packet.transport)"); return }
        #expect(icmp.type == 8)
        #expect(icmp.code == 0)
        #expect(icmp.checksum == 0xFE22)
        #expect(icmp.identifier == 0x4242)
        #expect(icmp.sequence == 7)
        #expect(icmp.restOfHeader == 0x4242_0007)
        #expect(icmp.isEcho)
        #expect(!icmp.isEchoReply)
        #expect(!icmp.isError)
        #expect(icmp.quotedOffset == nil)
        #expect(icmp.payloadLength == 8)
        #expect(packet.sourcePort == 0)
    }

    @Test func echoRequestIPv6() throws {
        let packet = try #require(decode(Golden.icmpv6EchoV6).packet)
        guard case .icmpv6(let icmp) = packet.transport else { Issue.record("not ICMPv6: \(packet.transport)"); return }
        #expect(icmp.type == 128)
        #expect(icmp.identifier == 0x4242)
        #expect(icmp.sequence == 7)
        #expect(icmp.isEcho)
        #expect(packet.icmp == icmp)
    }

    @Test func echoReplies() throws {
        let v4 = PacketBuilder(source: v4a, destination: v4b).icmpEcho(reply: true, identifier: 9, sequence: 10)
        let reply4 = try #require(decode(v4).packet?.icmp)
        #expect(reply4.type == 0)
        #expect(reply4.isEchoReply && !reply4.isEcho)
        #expect(reply4.identifier == 9 && reply4.sequence == 10)
        let v6 = PacketBuilder(source: v6a, destination: v6b).icmpEcho(reply: true, identifier: 11, sequence: 12)
        let reply6 = try #require(decode(v6).packet?.icmp)
        #expect(reply6.type == 129)
        #expect(reply6.isEchoReply)
        #expect(reply6.identifier == 11 && reply6.sequence == 12)
    }

    @Test func otherMessagesHaveNoEchoFields() throws {
        let timestamp = PacketBuilder(source: v4a, destination: v4b).icmp(type: 13, restOfHeader: 0x0001_0002, body: [UInt8](repeating: 0, count: 12))
        let icmp = try #require(decode(timestamp).packet?.icmp)
        #expect(!icmp.isEcho && !icmp.isEchoReply && !icmp.isError)
        #expect(icmp.identifier == 0 && icmp.sequence == 0)
        #expect(icmp.restOfHeader == 0x0001_0002)
        let solicitation = PacketBuilder(source: v6a, destination: v6b).icmp(type: 135, body: [UInt8](repeating: 0, count: 16))
        let ndp = try #require(decode(solicitation).packet?.icmp)
        #expect(ndp.type == 135 && !ndp.isError && ndp.quotedOffset == nil)
    }

    @Test func destinationUnreachableIPv4() throws {
        let packet = try #require(decode(Golden.icmpUnreachV4).packet)
        let icmp = try #require(packet.icmp)
        #expect(icmp.type == 3 && icmp.code == 1)
        #expect(icmp.isError)
        #expect(icmp.quotedOffset == 28)
        let quoted = try #require(Golden.icmpUnreachV4.withUnsafeBytes {
            PacketDecoder.decodeQuoted(UnsafeRawBufferPointer(rebasing: $0[28...]))
        }.packet)
        #expect(quoted.source.description == "192.0.2.1")
        #expect(quoted.destination.description == "198.51.100.2")
        #expect(quoted.ipTotalLength == 40)
        #expect(quoted.capturedLength == 28)
        #expect(quoted.isCaptureTruncated)
        let tcp = try #require(quoted.tcp)
        #expect(tcp.sourcePort == 40000 && tcp.destinationPort == 443)
        #expect(tcp.sequenceNumber == 1000)
        #expect(tcp.acknowledgmentNumber == 0 && tcp.headerLength == 0 && tcp.flags.isEmpty)
    }

    @Test func destinationUnreachableIPv6QuotingAWholeSegment() throws {
        let packet = try #require(decode(Golden.icmpv6UnreachV6).packet)
        let icmp = try #require(packet.icmp)
        #expect(icmp.type == 1 && icmp.code == 4 && icmp.isError)
        #expect(icmp.quotedOffset == 48)
        #expect(icmp.payloadLength == 60)
        let quote = Array(Golden.icmpv6UnreachV6[48...])
        let quoted = try #require(decodeQuoted(quote).packet)
        #expect(quoted.version == .v6)
        #expect(quoted.tcp?.flags == .syn)
        #expect(quoted.tcp?.headerLength == 20)
        #expect(quoted.tcp?.window == 8192)
        #expect(quoted.tcp?.sequenceNumber == 1000)
    }

    @Test(arguments: [3, 4, 5, 11, 12] as [UInt8])
    func ipv4ErrorTypes(type: UInt8) throws {
        let quote = Array(Golden.tcpSynV4.prefix(28))
        let bytes = PacketBuilder(source: v4b, destination: v4a).icmp(type: type, body: quote)
        let icmp = try #require(decode(bytes).packet?.icmp)
        #expect(icmp.isError)
        #expect(icmp.quotedOffset == 28)
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt8])
    func ipv6ErrorTypes(type: UInt8) throws {
        let quote = Array(Golden.tcpSynAckV6.prefix(48))
        let bytes = PacketBuilder(source: v6b, destination: v6a).icmp(type: type, restOfHeader: 1280, body: quote)
        let icmp = try #require(decode(bytes).packet?.icmp)
        #expect(icmp.isError)
        #expect(icmp.quotedOffset == 48)
        #expect(icmp.restOfHeader == 1280)
    }

    @Test func shortMessage() {
        let bytes = ipv4Packet(protocolNumber: 1, [8, 0, 0, 0, 0, 0, 0])
        #expect(decode(bytes) == .malformed(.icmpTruncated(length: 7)))
        let v6 = PacketBuilder(source: v6a, destination: v6b).ip(protocolNumber: 58, transport: [128, 0, 0])
        #expect(decode(v6) == .malformed(.icmpTruncated(length: 3)))
    }

    @Test func errorQuotingTooLittle() {
        let v4 = PacketBuilder(source: v4b, destination: v4a).icmp(type: 3, code: 3, body: Array(Golden.tcpSynV4.prefix(19)))
        #expect(decode(v4) == .malformed(.icmpErrorQuoteTooShort(length: 19)))
        let v6 = PacketBuilder(source: v6b, destination: v6a).icmp(type: 1, body: Array(Golden.tcpSynAckV6.prefix(39)))
        #expect(decode(v6) == .malformed(.icmpErrorQuoteTooShort(length: 39)))
        // The quote is there, but a truncated copy ends before it.
        let whole = Golden.icmpUnreachV4
        #expect(decode(Array(whole.prefix(40)), originalLength: whole.count) == .malformed(.captureTruncated(needed: 48, captured: 40)))
    }
}

@Suite struct DecodeQuotedTests {
    @Test func quoteShorterThanAnIPHeader() {
        #expect(decodeQuoted([]) == .malformed(.quotedPacketTruncated(needed: 1, available: 0)))
        #expect(decodeQuoted(Array(Golden.tcpSynV4.prefix(19))) == .malformed(.quotedPacketTruncated(needed: 20, available: 19)))
        #expect(decodeQuoted(Array(Golden.tcpSynAckV6.prefix(39))) == .malformed(.quotedPacketTruncated(needed: 40, available: 39)))
        var options = Array(Golden.tcpSynV4.prefix(28))
        options[0] = 0x48  // a 32-byte header in a 28-byte quote
        #expect(decodeQuoted(options) == .malformed(.quotedPacketTruncated(needed: 32, available: 28)))
    }

    @Test func quoteWithoutEightTransportBytes() {
        #expect(decodeQuoted(Array(Golden.tcpSynV4.prefix(27))) == .malformed(.quotedPacketTruncated(needed: 28, available: 27)))
        #expect(decodeQuoted(Array(Golden.udpV4.prefix(20))) == .malformed(.quotedPacketTruncated(needed: 28, available: 20)))
        #expect(decodeQuoted(Array(Golden.tcpExtV6.prefix(60))) == .malformed(.quotedPacketTruncated(needed: 64, available: 60)))
    }

    @Test func stillRejectsNonsense() {
        var bytes = Array(Golden.tcpSynV4.prefix(28))
        bytes[0] = 0x44
        #expect(decodeQuoted(bytes) == .malformed(.ipv4HeaderLengthTooSmall(ihl: 4)))
        bytes[0] = 0x75
        #expect(decodeQuoted(bytes) == .malformed(.unknownIPVersion(7)))
    }

    @Test func lenientAboutLengthsPortsAndOptions() throws {
        var bytes = Golden.tcpSynV4
        put16(&bytes, 2, 3)       // total length below the header: ignored in a quote
        put16(&bytes, 20, 0)      // source port 0: accepted in a quote
        bytes[41] = 1             // MSS length 1: a strict decode fails here
        let packet = try #require(decodeQuoted(bytes).packet)
        #expect(packet.ipTotalLength == 20)
        let tcp = try #require(packet.tcp)
        #expect(tcp.sourcePort == 0)
        #expect(tcp.headerLength == 40)
        #expect(tcp.options.isEmpty)
        #expect(tcp.payloadLength == 0)
    }

    @Test func keepsOptionsBeforeABadOne() throws {
        var bytes = Golden.tcpSynV4
        bytes[47] = 1  // timestamp length 1
        let tcp = try #require(decodeQuoted(bytes).packet?.tcp)
        #expect(tcp.options.mss == 1460)
        #expect(tcp.options.sackPermitted)
        #expect(tcp.options.timestamp == nil)
        #expect(decode(bytes) == .malformed(.tcpOptionLengthTooSmall(kind: 8, length: 1)))
    }

    @Test func quotedUDPAndICMP() throws {
        let udp = try #require(decodeQuoted(Array(Golden.udpV4.prefix(28))).packet?.udp)
        #expect(udp.sourcePort == 5353 && udp.destinationPort == 53 && udp.length == 20 && udp.payloadLength == 12)
        let icmp = try #require(decodeQuoted(Array(Golden.icmpEchoV4.prefix(28))).packet?.icmp)
        #expect(icmp.isEcho && icmp.identifier == 0x4242 && icmp.sequence == 7)
        // An error quoted inside an error gives no further quote.
        let nested = try #require(decodeQuoted(Golden.icmpUnreachV4).packet?.icmp)
        #expect(nested.isError && nested.quotedOffset == nil)
    }

    @Test func quotedNonFirstFragment() throws {
        var bytes = Array(Golden.tcpSynV4.prefix(28))
        put16(&bytes, 6, 0x2001)  // MF, offset 8
        let packet = try #require(decodeQuoted(bytes).packet)
        #expect(packet.transport == .fragment)
        #expect(packet.fragment.offset == 8)
    }

    @Test func quotedIPv6WithExtensionHeaders() throws {
        let tcp = try #require(decodeQuoted(Array(Golden.tcpExtV6.prefix(64))).packet?.tcp)
        #expect(tcp.sourcePort == 1234 && tcp.destinationPort == 80 && tcp.sequenceNumber == 1)
    }
}
