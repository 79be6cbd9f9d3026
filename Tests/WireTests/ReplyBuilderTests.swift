import Testing
@testable import Wire

/// `block return…`'s answers: a RST that the sender's TCP accepts (sequence numbers per RFC 9293
/// 3.10.7.1), ICMP and ICMPv6 unreachables quoting the refused packet, valid checksums, and no
/// answer where none is due.
@Suite struct ReplyBuilderTests {
    /// Builds the answer of `kind` to `bytes`, decodes it and checks every checksum.
    func answer(_ kind: ReplyKind, to bytes: [UInt8]) throws -> (packet: Packet, bytes: [UInt8])? {
        let refused = try #require(bytes.withUnsafeBytes { PacketDecoder.decode($0).packet })
        var out = [UInt8](repeating: 0xEE, count: ReplyBuilder.maximumLength)
        let length = bytes.withUnsafeBytes { raw in
            out.withUnsafeMutableBytes { ReplyBuilder.build(kind, to: refused, bytes: raw, into: $0) }
        }
        guard length > 0 else { return nil }
        let reply = Array(out[..<length])
        let packet = try #require(reply.withUnsafeBytes { PacketDecoder.decode($0).packet })
        if packet.version == .v4 {
            #expect(reply.withUnsafeBytes { Checksum.verifyIPv4Header($0) })
        }
        #expect(reply.withUnsafeBytes { Checksum.verifyTransport(packet, in: $0) } == true, "transport checksum")
        return (packet, reply)
    }

    @Test(arguments: [("192.0.2.1", "198.51.100.2"), ("2001:db8::1", "2001:db8:1::2")])
    func aSYNGetsRSTACKFromTheAddressItTriedToReach(source: String, destination: String) throws {
        let syn = try #require(PacketBuilder(from: source, to: destination)).tcp(
            sourcePort: 40000, destinationPort: 22, sequence: 1000, flags: .syn)
        let (reply, _) = try #require(try answer(.tcpReset, to: syn))
        #expect(reply.source == IPAddress(destination)! && reply.destination == IPAddress(source)!)
        let tcp = try #require(reply.tcp)
        #expect(tcp.sourcePort == 22 && tcp.destinationPort == 40000)
        #expect(tcp.flags == [.rst, .ack] && tcp.sequenceNumber == 0 && tcp.acknowledgmentNumber == 1001)
    }

    @Test func aSegmentWithACKGetsARSTAtItsAcknowledgment() throws {
        let data = try #require(PacketBuilder(from: "192.0.2.1", to: "198.51.100.2")).tcp(
            sourcePort: 40000, destinationPort: 80, sequence: 5, acknowledgment: 77_000, flags: [.ack, .psh], payload: [1, 2, 3])
        let tcp = try #require(try answer(.tcpReset, to: data)?.packet.tcp)
        #expect(tcp.flags == .rst && tcp.sequenceNumber == 77_000)
    }

    @Test func noAnswerToARSTAnICMPErrorOrAMulticast() throws {
        let rst = try #require(PacketBuilder(from: "192.0.2.1", to: "198.51.100.2")).tcp(
            sourcePort: 1, destinationPort: 2, flags: .rst)
        #expect(try answer(.tcpReset, to: rst) == nil)
        let error = try #require(PacketBuilder(from: "192.0.2.1", to: "198.51.100.2")).icmp(type: 3, code: 1, body: Array(rst.prefix(28)))
        #expect(try answer(.icmpProhibited, to: error) == nil)
        let multicast = try #require(PacketBuilder(from: "192.0.2.1", to: "224.0.0.9")).udp(sourcePort: 520, destinationPort: 520)
        #expect(try answer(.icmpPortUnreachable, to: multicast) == nil)
        let udp = try #require(PacketBuilder(from: "192.0.2.1", to: "198.51.100.2")).udp(sourcePort: 5, destinationPort: 53)
        #expect(try answer(.tcpReset, to: udp) == nil, "no RST for UDP")
    }

    @Test(arguments: [("192.0.2.1", "198.51.100.2", UInt8(3), UInt8(3)), ("2001:db8::1", "2001:db8:1::2", UInt8(1), UInt8(4))])
    func aUDPDatagramGetsPortUnreachableQuotingIt(source: String, destination: String, type: UInt8, code: UInt8) throws {
        let datagram = try #require(PacketBuilder(from: source, to: destination)).udp(
            sourcePort: 5353, destinationPort: 9999, payload: Array(repeating: 0x41, count: 2000))
        let (reply, bytes) = try #require(try answer(.icmpPortUnreachable, to: datagram))
        let icmp = try #require(reply.icmp)
        #expect(icmp.type == type && icmp.code == code)
        #expect(reply.destination == IPAddress(source)!)
        // The quote starts with the refused packet's own header, and the answer stays within
        // 576 bytes (IPv4) or 1280 (IPv6).
        let header = reply.version == .v4 ? 28 : 48
        #expect(Array(bytes[header ..< header + 20]) == Array(datagram.prefix(20)))
        #expect(bytes.count == (reply.version == .v4 ? 576 : 1280))
    }

    @Test func otherProtocolsGetAdministrativelyProhibited() throws {
        let echo = try #require(PacketBuilder(from: "192.0.2.1", to: "198.51.100.2")).icmpEcho(identifier: 1, sequence: 1)
        let icmp = try #require(try answer(.icmpProhibited, to: echo)?.packet.icmp)
        #expect(icmp.type == 3 && icmp.code == 13)
    }
}
