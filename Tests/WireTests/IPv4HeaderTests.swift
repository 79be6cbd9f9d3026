import Testing
@testable import Wire

@Suite struct IPv4HeaderTests {
    @Test func decodesAllIPv4Fields() throws {
        let packet = try #require(decode(Golden.tcpSynV4).packet)
        #expect(packet.version == .v4)
        #expect(packet.source.description == "192.0.2.1")
        #expect(packet.destination.description == "198.51.100.2")
        #expect(packet.protocolNumber == 6)
        #expect(packet.hopLimit == 64)
        #expect(packet.trafficClass == 0)
        #expect(packet.fragment == FragmentInfo(offset: 0, moreFragments: false, identification: 0x1234))
        #expect(!packet.fragment.isFragment)
        #expect(packet.fragment.isFirst)
        #expect(packet.ipHeaderLength == 20)
        #expect(packet.transportOffset == 20)
        #expect(packet.ipTotalLength == 60)
        #expect(packet.capturedLength == 60)
        #expect(!packet.isCaptureTruncated)
        #expect(packet.sourcePort == 40000)
        #expect(packet.destinationPort == 443)
    }

    @Test func emptyBuffer() {
        #expect(decode([]) == .malformed(.empty))
        #expect(decode([], originalLength: 60) == .malformed(.captureTruncated(needed: 1, captured: 0)))
    }

    @Test(arguments: [0x00, 0x15, 0x55, 0xF5] as [UInt8])
    func unknownVersion(firstByte: UInt8) {
        var bytes = Golden.tcpSynV4
        bytes[0] = firstByte
        #expect(decode(bytes) == .malformed(.unknownIPVersion(firstByte >> 4)))
    }

    @Test func shorterThanTheFixedHeader() {
        let bytes = Array(Golden.tcpSynV4.prefix(19))
        #expect(decode(bytes) == .malformed(.ipv4Truncated(length: 19)))
        #expect(decode(bytes, originalLength: 60) == .malformed(.captureTruncated(needed: 20, captured: 19)))
    }

    @Test(arguments: [0, 1, 4] as [UInt8])
    func headerLengthBelowFive(ihl: UInt8) {
        var bytes = Golden.tcpSynV4
        bytes[0] = 0x40 | ihl
        #expect(decode(bytes) == .malformed(.ipv4HeaderLengthTooSmall(ihl: ihl)))
    }

    @Test func totalLengthBelowHeaderLength() {
        var bytes = Golden.tcpSynV4
        put16(&bytes, 2, 19)
        #expect(decode(bytes) == .malformed(.ipv4TotalLengthTooSmall(totalLength: 19, headerLength: 20)))
        bytes[0] = 0x46  // 24-byte header, total length 20
        put16(&bytes, 2, 20)
        #expect(decode(bytes) == .malformed(.ipv4TotalLengthTooSmall(totalLength: 20, headerLength: 24)))
    }

    @Test func totalLengthPastTheBuffer() {
        var bytes = Golden.tcpSynV4
        put16(&bytes, 2, 61)
        #expect(decode(bytes) == .malformed(.ipv4TotalLengthPastEnd(totalLength: 61, packetLength: 60)))
        // The same packet is fine when the buffer is a copy of a longer packet.
        let packet = decode(bytes, originalLength: 61).packet
        #expect(packet?.ipTotalLength == 61)
        #expect(packet?.capturedLength == 60)
        #expect(packet?.isCaptureTruncated == true)
        #expect(packet?.tcp?.payloadLength == 1)
        // But not when the original is shorter than the total length.
        #expect(decode(bytes, originalLength: 60) == .malformed(.ipv4TotalLengthPastEnd(totalLength: 61, packetLength: 60)))
        // An originalLength below the buffer length counts as the buffer length.
        #expect(decode(Golden.tcpSynV4, originalLength: 10).packet?.ipTotalLength == 60)
    }

    @Test func trailingPaddingIsIgnored() throws {
        let bytes = Golden.tcpDataV4 + [0, 0, 0, 0, 0]  // Ethernet minimum-frame padding
        let packet = try #require(decode(bytes).packet)
        #expect(packet.ipTotalLength == 65)
        #expect(packet.capturedLength == 65)
        #expect(packet.tcp?.payloadLength == 13)
        #expect(verifyTransport(bytes) == true)
    }

    /// Inserts `options` into the golden SYN's IPv4 header, fixing IHL and total length.
    func withOptions(_ options: [UInt8]) -> [UInt8] {
        var bytes = Golden.tcpSynV4
        bytes.insert(contentsOf: options, at: 20)
        bytes[0] = 0x40 | UInt8((20 + options.count) / 4)
        put16(&bytes, 2, UInt16(bytes.count))
        return bytes
    }

    @Test func optionsAreSkipped() throws {
        // Router alert (kind 148, length 4), NOP, NOP, EOL padding, then a record-route stub.
        let bytes = withOptions([148, 4, 0, 0, 1, 1, 7, 3, 4, 0, 0, 0])
        let packet = try #require(decode(bytes).packet)
        #expect(packet.ipHeaderLength == 32)
        #expect(packet.transportOffset == 32)
        #expect(packet.tcp?.sourcePort == 40000)
        #expect(packet.tcp?.options.mss == 1460)
        // Anything after end-of-list is padding and not parsed.
        #expect(decode(withOptions([0, 0xFF, 0, 0])).packet?.ipHeaderLength == 24)
    }

    @Test(arguments: [
        ([148, 1, 0, 0], UInt8(148)),   // length below 2
        ([148, 0, 0, 0], 148),          // length 0
        ([1, 1, 1, 7], 7),              // no room for the length byte
        ([7, 8, 0, 0], 7),              // runs past the header
        ([1, 131, 5, 1], 131),
    ] as [([UInt8], UInt8)])
    func badOptions(options: [UInt8], kind: UInt8) {
        #expect(decode(withOptions(options)) == .malformed(.ipv4OptionInvalid(kind: kind)))
    }

    @Test func headerOptionsPastTheCopy() {
        let bytes = withOptions([1, 1, 1, 1, 1, 1, 1, 1])
        #expect(decode(Array(bytes.prefix(24)), originalLength: bytes.count)
                == .malformed(.captureTruncated(needed: 28, captured: 24)))
    }

    @Test func trafficClassAndTTL() throws {
        var bytes = Golden.udpV4
        bytes[1] = 0xB8  // DSCP EF
        bytes[8] = 3
        let packet = try #require(decode(bytes).packet)
        #expect(packet.trafficClass == 0xB8)
        #expect(packet.hopLimit == 3)
    }

    @Test func otherProtocolsGiveOther() throws {
        var bytes = Golden.udpV4
        bytes[9] = 47  // GRE
        let packet = try #require(decode(bytes).packet)
        #expect(packet.transport == .other(47))
        #expect(packet.protocolNumber == 47)
        #expect(packet.sourcePort == 0)
        bytes[9] = 58  // ICMPv6 over IPv4 is not ICMP
        #expect(decode(bytes).packet?.transport == .other(58))
    }
}
