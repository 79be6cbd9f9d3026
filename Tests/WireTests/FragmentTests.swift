import Testing
@testable import Wire

@Suite struct FragmentTests {
    func ipv4Fragment(offset: Int, more: Bool, protocolNumber: UInt8 = 6, _ data: [UInt8]) -> [UInt8] {
        var builder = PacketBuilder(source: v4a, destination: v4b)
        builder.dontFragment = false
        builder.moreFragments = more
        builder.fragmentOffset = offset
        builder.identification = 0xBEEF
        return builder.ip(protocolNumber: protocolNumber, transport: data)
    }

    func ipv6Fragment(offset: Int, more: Bool, before: [PacketBuilder.ExtensionHeader] = [],
                      after: [PacketBuilder.ExtensionHeader] = [], protocolNumber: UInt8 = 6, _ data: [UInt8]) -> [UInt8] {
        var builder = PacketBuilder(source: v6a, destination: v6b)
        builder.extensionHeaders = before + [.fragment(offset: offset, moreFragments: more, identification: 0xABCD_EF01)] + after
        return builder.ip(protocolNumber: protocolNumber, transport: data)
    }

    @Test func dontFragmentIsNotAFragment() throws {
        let packet = try #require(decode(Golden.tcpSynV4).packet)
        #expect(!packet.fragment.isFragment)
        #expect(packet.fragment.isFirst)
        #expect(packet.fragment.identification == 0x1234)
    }

    @Test func ipv4FirstFragmentWithAWholeHeader() throws {
        let data = tcpHeader(dataOffset: 6, options: [2, 4, 0x05, 0xB4]) + [UInt8](repeating: 0x55, count: 16)
        let bytes = ipv4Fragment(offset: 0, more: true, data)
        let packet = try #require(decode(bytes).packet)
        #expect(packet.fragment == FragmentInfo(offset: 0, moreFragments: true, identification: 0xBEEF))
        #expect(packet.fragment.isFragment && packet.fragment.isFirst)
        #expect(packet.tcp?.options.mss == 1460)
        #expect(packet.tcp?.payloadLength == 16)
        #expect(verifyTransport(bytes) == nil)  // a fragment's checksum covers bytes we do not have
    }

    @Test func ipv4NonFirstFragments() throws {
        let middle = try #require(decode(ipv4Fragment(offset: 8, more: true, [UInt8](repeating: 1, count: 16))).packet)
        #expect(middle.transport == .fragment)
        #expect(middle.protocolNumber == 6)
        #expect(middle.fragment.offset == 8)
        #expect(!middle.fragment.isFirst && middle.fragment.isFragment && middle.fragment.moreFragments)
        #expect(middle.sourcePort == 0)
        #expect(middle.tcp == nil)
        let last = try #require(decode(ipv4Fragment(offset: 1480, more: false, [1, 2, 3])).packet)
        #expect(last.transport == .fragment)
        #expect(last.fragment.isFragment && !last.fragment.moreFragments && last.fragment.offset == 1480)
        #expect(last.transportOffset == 20)
    }

    @Test func ipv4TinyFirstFragment() {
        #expect(decode(ipv4Fragment(offset: 0, more: true, Array(tcpHeader().prefix(8))))
                == .malformed(.fragmentTooShort(protocolNumber: 6, length: 8)))
        // 24 bytes, but the data offset says the header is 40.
        #expect(decode(ipv4Fragment(offset: 0, more: true, tcpHeader(dataOffset: 10, options: [1, 1, 1, 1])))
                == .malformed(.fragmentTooShort(protocolNumber: 6, length: 24)))
        #expect(decode(ipv4Fragment(offset: 0, more: true, protocolNumber: 17, []))
                == .malformed(.fragmentTooShort(protocolNumber: 17, length: 0)))
        // An ICMP error whose quote would continue in the next fragment.
        #expect(decode(ipv4Fragment(offset: 0, more: true, protocolNumber: 1, [3, 1, 0, 0, 0, 0, 0, 0] + [0x45, 0, 0, 0, 0, 0, 0, 0]))
                == .malformed(.fragmentTooShort(protocolNumber: 1, length: 16)))
    }

    @Test func ipv4FirstUDPFragment() throws {
        var udp: [UInt8] = [0, 53, 0, 53, 0x05, 0xDC, 0, 0]  // length 1500: continues in later fragments
        udp += [UInt8](repeating: 0, count: 16)
        let packet = try #require(decode(ipv4Fragment(offset: 0, more: true, protocolNumber: 17, udp)).packet)
        #expect(packet.udp?.length == 1500)
        #expect(packet.udp?.payloadLength == 16)
    }

    @Test func ipv4FragmentPastTheMaximum() {
        #expect(decode(ipv4Fragment(offset: 65_528, more: false, [UInt8](repeating: 0, count: 16)))
                == .malformed(.fragmentPastMaximum(offset: 65_528, length: 16)))
        #expect(decode(ipv4Fragment(offset: 65_528, more: false, [UInt8](repeating: 0, count: 7))).packet?.transport == .fragment)
    }

    @Test func ipv4MisalignedFragment() {
        #expect(decode(ipv4Fragment(offset: 8, more: true, [UInt8](repeating: 0, count: 13)))
                == .malformed(.fragmentMisaligned(length: 13)))
    }

    @Test func ipv6FirstFragmentWithAWholeHeader() throws {
        let bytes = ipv6Fragment(offset: 0, more: true, before: [.hopByHop], tcpHeader() + [1, 2, 3, 4])
        let packet = try #require(decode(bytes).packet)
        #expect(packet.fragment == FragmentInfo(offset: 0, moreFragments: true, identification: 0xABCD_EF01))
        #expect(packet.transportOffset == 56)
        #expect(packet.tcp?.payloadLength == 4)
        #expect(verifyTransport(bytes) == nil)
    }

    @Test func ipv6NonFirstFragment() throws {
        let packet = try #require(decode(ipv6Fragment(offset: 1232, more: true, [UInt8](repeating: 9, count: 64))).packet)
        #expect(packet.transport == .fragment)
        #expect(packet.protocolNumber == 6)
        #expect(packet.fragment.offset == 1232)
        #expect(packet.fragment.identification == 0xABCD_EF01)
        #expect(packet.transportOffset == 48)
        #expect(packet.ipHeaderLength == 48)
    }

    @Test func ipv6TinyFirstFragment() {
        #expect(decode(ipv6Fragment(offset: 0, more: true, Array(tcpHeader().prefix(8))))
                == .malformed(.fragmentTooShort(protocolNumber: 6, length: 8)))
        // The header chain itself continues past the first fragment (RFC 7112).
        let longOptions = PacketBuilder.ExtensionHeader(type: 60, bytes: [0, 1] + [UInt8](repeating: 0, count: 14))
        var builder = PacketBuilder(source: v6a, destination: v6b)
        builder.extensionHeaders = [.fragment(offset: 0, moreFragments: true, identification: 1)]
        let bytes = builder.ip(protocolNumber: 60, transport: Array(longOptions.bytes.prefix(8)))
        #expect(decode(bytes) == .malformed(.fragmentTooShort(protocolNumber: 60, length: 8)))
    }

    @Test func ipv6FragmentExtents() {
        #expect(decode(ipv6Fragment(offset: 65_528, more: false, [UInt8](repeating: 0, count: 16)))
                == .malformed(.fragmentPastMaximum(offset: 65_528, length: 16)))
        #expect(decode(ipv6Fragment(offset: 0, more: true, tcpHeader() + [1]))
                == .malformed(.fragmentMisaligned(length: 21)))
    }

    @Test func fragmentAnomaliesAreMarked() {
        #expect(DecodeAnomaly.fragmentTooShort(protocolNumber: 6, length: 8).isFragmentAnomaly)
        #expect(DecodeAnomaly.fragmentMisaligned(length: 3).isFragmentAnomaly)
        #expect(DecodeAnomaly.fragmentPastMaximum(offset: 1, length: 1).isFragmentAnomaly)
        #expect(!DecodeAnomaly.tcpTruncated(length: 3).isFragmentAnomaly)
        #expect(DecodeAnomaly.fragmentTooShort(protocolNumber: 6, length: 8).name == "frag_tiny_first")
    }
}
