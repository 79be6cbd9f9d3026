import Testing
@testable import Wire
import TestSupport

@Suite struct ChecksumTests {
    static let goldens: [(String, [UInt8])] = [
        ("tcpSynV4", Golden.tcpSynV4), ("tcpSynAckV6", Golden.tcpSynAckV6), ("tcpDataV4", Golden.tcpDataV4),
        ("udpV4", Golden.udpV4), ("udpV6", Golden.udpV6), ("icmpEchoV4", Golden.icmpEchoV4),
        ("icmpv6EchoV6", Golden.icmpv6EchoV6), ("icmpUnreachV4", Golden.icmpUnreachV4),
        ("icmpv6UnreachV6", Golden.icmpv6UnreachV6), ("tcpExtV6", Golden.tcpExtV6),
        ("tcpRouting0V6", Golden.tcpRouting0V6), ("udpSRHV6", Golden.udpSRHV6),
    ]

    /// A straightforward RFC 1071 reference to compare the fast sum with.
    static func reference(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index < bytes.count {
            let high = UInt32(bytes[index]) << 8
            let low = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            sum += high | low
            sum = (sum & 0xFFFF) + (sum >> 16)
            index += 2
        }
        return ~UInt16(sum)
    }

    @Test(arguments: goldens)
    func scapyPacketsVerify(name: String, bytes: [UInt8]) {
        #expect(verifyTransport(bytes) == true, "\(name)")
        if bytes[0] >> 4 == 4 { #expect(verifyIPv4Header(bytes), "\(name)") }
    }

    @Test(arguments: goldens)
    func fillReproducesScapy(name: String, bytes: [UInt8]) throws {
        var copy = bytes
        let packet = try #require(decode(bytes).packet)
        let field: Int
        switch packet.transport {
        case .tcp: field = 16
        case .udp: field = 6
        default: field = 2
        }
        copy[packet.transportOffset + field] = 0
        copy[packet.transportOffset + field + 1] = 0
        if packet.version == .v4 { copy[10] = 0; copy[11] = 0 }
        let filled = Checksum.fill(&copy)
        #expect(filled)
        #expect(copy == bytes, "\(name)")
    }

    @Test(arguments: goldens)
    func anyFlippedTransportByteFails(name: String, bytes: [UInt8]) throws {
        let packet = try #require(decode(bytes).packet)
        for offset in packet.transportOffset..<bytes.count {
            var copy = bytes
            copy[offset] ^= 0x10
            guard let decoded = decode(copy).packet else { continue }  // some flips make it malformed
            let verdict = copy.withUnsafeBytes { Checksum.verifyTransport(decoded, in: $0) }
            #expect(verdict == false, "\(name) byte \(offset)")
        }
    }

    @Test func pseudoHeaderIsCovered() {
        var bytes = Golden.tcpSynV4
        bytes[15] ^= 1  // source address
        #expect(verifyTransport(bytes) == false)
        #expect(!verifyIPv4Header(bytes))
        var v6 = Golden.tcpSynAckV6
        v6[39] ^= 1     // destination address
        #expect(verifyTransport(v6) == false)
    }

    @Test func ipv4HeaderChecksum() {
        var bytes = Golden.udpV4
        #expect(verifyIPv4Header(bytes))
        bytes[8] = 63  // TTL changed without fixing the checksum
        #expect(!verifyIPv4Header(bytes))
        let filled = bytes.withUnsafeMutableBytes { Checksum.fillIPv4Header($0) }
        #expect(filled)
        #expect(verifyIPv4Header(bytes))
        #expect(!verifyIPv4Header(Array(bytes.prefix(19))))
        #expect(!verifyIPv4Header(Golden.udpV6))
        var options = bytes
        options[0] = 0x46  // IHL changed: the sum now covers 24 bytes and no longer adds up
        #expect(!verifyIPv4Header(options))
        options[0] = 0x4F
        #expect(!verifyIPv4Header(Array(options.prefix(59))))
    }

    @Test func udpZeroChecksum() {
        var v4 = Golden.udpV4
        put16(&v4, 26, 0)
        #expect(verifyTransport(v4) == nil)  // "not computed" on IPv4
        var v6 = Golden.udpV6
        put16(&v6, 46, 0)
        #expect(verifyTransport(v6) == false)  // mandatory on IPv6
    }

    @Test func filledUDPChecksumIsNeverZero() throws {
        // Find a payload whose checksum computes to 0, which UDP must send as 0xFFFF.
        let builder = PacketBuilder(source: v4a, destination: v4b)
        var found = false
        for value in 0...0xFFFF {
            let bytes = builder.udp(sourcePort: 1, destinationPort: 2, payload: [UInt8(value >> 8), UInt8(value & 0xFF)])
            if bytes[26] == 0xFF && bytes[27] == 0xFF {
                #expect(verifyTransport(bytes) == true)
                found = true
                break
            }
            #expect(!(bytes[26] == 0 && bytes[27] == 0))
        }
        #expect(found)
    }

    @Test func cannotCheckTruncatedCopiesOrOthers() throws {
        let bytes = Golden.tcpDataV4
        let packet = try #require(decode(Array(bytes.prefix(52)), originalLength: bytes.count).packet)
        #expect(bytes.withUnsafeBytes { Checksum.verifyTransport(packet, in: UnsafeRawBufferPointer(rebasing: $0[0..<52])) } == nil)
        var gre = Golden.udpV4
        gre[9] = 47
        #expect(verifyTransport(gre) == nil)
    }

    @Test func routingHeaderFinalDestination() throws {
        // Scapy computed these over the final destination; with segments left 0 the fixed
        // header's destination is final instead.
        #expect(verifyTransport(Golden.tcpRouting0V6) == true)
        #expect(verifyTransport(Golden.udpSRHV6) == true)
        var done = Golden.tcpRouting0V6
        done[43] = 0  // segments left
        #expect(verifyTransport(done) == false)
        var unknown = Golden.tcpRouting0V6
        unknown[42] = 3  // RPL routing header: compressed addresses, not read
        #expect(verifyTransport(unknown) == nil)
        // Built with segments left 0, the checksum uses the fixed destination.
        var builder = PacketBuilder(source: v6a, destination: v6b)
        builder.extensionHeaders = [.routing(routingType: 4, segmentsLeft: 0, addresses: [v6b, v6a])]
        #expect(verifyTransport(builder.udp(sourcePort: 5, destinationPort: 6, payload: [1])) == true)
    }

    @Test func internetChecksumMatchesRFC1071() {
        // RFC 1071 §3 example: the sum of 0001 f203 f4f5 f6f7 is ddf2.
        let bytes: [UInt8] = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]
        #expect(bytes.withUnsafeBytes { Checksum.internetChecksum($0) } == ~UInt16(0xDDF2))
        #expect([UInt8]().withUnsafeBytes { Checksum.internetChecksum($0) } == 0xFFFF)
        #expect(([0xAB] as [UInt8]).withUnsafeBytes { Checksum.internetChecksum($0) } == ~UInt16(0xAB00))
    }

    @Test func fastSumMatchesTheReference() {
        var random = SplitMix64(seed: 0x5EED_C0DE)
        for _ in 0..<2000 {
            let count = Int(random.next() % 2100)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            #expect(bytes.withUnsafeBytes { Checksum.internetChecksum($0) } == Self.reference(bytes))
            // Unaligned starts too.
            if count > 3 {
                let sliced = bytes.withUnsafeBytes { Checksum.internetChecksum(UnsafeRawBufferPointer(rebasing: $0[1...])) }
                #expect(sliced == Self.reference(Array(bytes[1...])))
            }
        }
        let ones = [UInt8](repeating: 0xFF, count: 65_535)
        #expect(ones.withUnsafeBytes { Checksum.internetChecksum($0) } == Self.reference(ones))
    }

    @Test func fillRefusesWhatItCannotChecksum() {
        var fragment = Golden.tcpSynV4
        put16(&fragment, 6, 0x2000)  // MF
        let filledFragment = Checksum.fill(&fragment)
        #expect(!filledFragment)
        #expect(verifyIPv4Header(fragment))  // the IPv4 header checksum is still written
        var garbage: [UInt8] = [0x45, 0]
        let filledGarbage = Checksum.fill(&garbage)
        #expect(!filledGarbage)
    }

    /// Found by the decode fuzzer: an all-zero ICMP message sums to zero, and `fill` wrote 0,
    /// which does not verify (a receiver folds the sum to 0xFFFF's complement); 0xFFFF does.
    @Test func fillAnAllZeroICMPMessage() throws {
        // The fuzzer's input: IPv4 with 8 bytes of options, ICMP (15 bytes of zeros), then padding.
        var found: [UInt8] = [0x47, 0x00, 0x00, 0x2B, 0x31, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                              0xD5, 0xD5, 0x28, 0x01, 0x00, 0x20, 0x00, 0xF7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        found += [UInt8](repeating: 0, count: 28) + [0xD5, 0x28, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x20, 0x00,
                                                    0xF7, 0xFF, 0x02, 0x23, 0xFF, 0xD5, 0xFF]
        #expect(found.count == 73)
        let filled = Checksum.fill(&found)
        #expect(filled)
        #expect(found[30] == 0xFF && found[31] == 0xFF)
        #expect(verifyTransport(found) == true)
        #expect(verifyIPv4Header(found))

        // The same through the builder: an echo reply with identifier and sequence 0.
        let reply = try #require(PacketBuilder(from: "192.0.2.1", to: "192.0.2.2"))
            .icmpEcho(reply: true, identifier: 0, sequence: 0)
        #expect(verifyTransport(reply) == true)
        #expect(reply[20 + 2] == 0xFF && reply[20 + 3] == 0xFF)
    }
}
