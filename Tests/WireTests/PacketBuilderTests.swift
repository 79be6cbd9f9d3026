import Testing
@testable import Wire

@Suite struct PacketBuilderTests {
    @Test func buildsWhatScapyBuilds() throws {
        // Same fields as Golden.tcpSynV4.
        var builder = try #require(PacketBuilder(from: "192.0.2.1", to: "198.51.100.2"))
        builder.identification = 0x1234
        var options = TCPOptions()
        options.mss = 1460
        options.sackPermitted = true
        options.timestamp = (123_456, 0)
        options.windowScale = 7
        let bytes = builder.tcp(sourcePort: 40000, destinationPort: 443, sequence: 1000, flags: .syn, window: 64240,
                                options: options)
        #expect(bytes == Golden.tcpSynV4)
        // And the IPv6 echo request.
        let v6 = try #require(PacketBuilder(from: "2001:db8::1", to: "2001:db8::2"))
        #expect(v6.icmpEcho(identifier: 0x4242, sequence: 7, payload: Array("pingdata".utf8)) == Golden.icmpv6EchoV6)
        let udp = try #require(PacketBuilder(from: "fe80::1", to: "ff02::fb")).udp(sourcePort: 5353, destinationPort: 5353, payload: Array("abc".utf8))
        #expect(udp == Golden.udpV6)
    }

    @Test func extensionHeadersAreChained() throws {
        var builder = PacketBuilder(source: v6a, destination: v6b)
        builder.extensionHeaders = [.hopByHop, .destinationOptions]
        let bytes = builder.tcp(sourcePort: 1234, destinationPort: 80, sequence: 1, flags: .syn, window: 8192)
        #expect(bytes == Golden.tcpExtV6)
    }

    @Test func rawOptionsAreWrittenAsGiven() throws {
        let bytes = PacketBuilder(source: v4a, destination: v4b)
            .tcp(sourcePort: 1, destinationPort: 2, flags: .syn, rawOptions: [3, 3, 15])
        #expect(bytes.count == 44)
        #expect(Array(bytes[40...]) == [3, 3, 15, 0])
        #expect(decode(bytes).packet?.tcp?.options.windowScale == 15)
    }

    @Test func invalidAddressTextGivesNil() {
        #expect(PacketBuilder(from: "192.0.2.1", to: "nope") == nil)
    }
}
