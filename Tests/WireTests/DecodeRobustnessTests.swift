import Testing
@testable import Wire
import TestSupport

/// Decodes ~200,000 random and mutated buffers: nothing may trap (a bounds bug trips the
/// reader's assertion in test builds) and every result must be self-consistent.
@Suite struct DecodeRobustnessTests {
    /// Valid packets of every kind, mutated below.
    static func seeds() -> [[UInt8]] {
        var seeds: [[UInt8]] = [
            Golden.tcpSynV4, Golden.tcpSynAckV6, Golden.tcpDataV4, Golden.udpV4, Golden.udpV6, Golden.icmpEchoV4,
            Golden.icmpv6EchoV6, Golden.icmpUnreachV4, Golden.icmpv6UnreachV6, Golden.tcpExtV6,
            Golden.tcpRouting0V6, Golden.udpSRHV6,
        ]
        var v4 = PacketBuilder(source: v4a, destination: v4b)
        v4.ipv4Options = [148, 4, 0, 0, 1, 7, 7, 4, 0, 0, 0, 0]
        var sack = TCPOptions()
        sack.timestamp = (1, 2)
        sack.appendSACKBlock(left: 10, right: 20)
        sack.appendSACKBlock(left: 30, right: 40)
        seeds.append(v4.tcp(sourcePort: 1, destinationPort: 2, flags: .ack, options: sack, payload: [1, 2, 3]))
        v4.ipv4Options = []
        v4.dontFragment = false
        v4.moreFragments = true
        seeds.append(v4.ip(protocolNumber: 6, transport: tcpHeader() + [UInt8](repeating: 0, count: 12)))
        v4.fragmentOffset = 64
        seeds.append(v4.ip(protocolNumber: 6, transport: [UInt8](repeating: 0, count: 16)))
        var v6 = PacketBuilder(source: v6a, destination: v6b)
        let ah = PacketBuilder.ExtensionHeader(type: 51, bytes: [0, 4] + [UInt8](repeating: 0, count: 22))
        v6.extensionHeaders = [.hopByHop, .routing(routingType: 0, segmentsLeft: 1, addresses: [v6a]), ah,
                               .fragment(offset: 0, moreFragments: true, identification: 5), .destinationOptions]
        seeds.append(v6.tcp(sourcePort: 3, destinationPort: 4, flags: .syn, options: sack, payload: [9, 9, 9, 9]))
        v6.extensionHeaders = [.fragment(offset: 512, moreFragments: false, identification: 6)]
        seeds.append(v6.ip(protocolNumber: 17, transport: [1, 2, 3, 4, 5]))
        v6.extensionHeaders = []
        seeds.append(v6.icmp(type: 2, restOfHeader: 1280, body: Golden.tcpExtV6))
        return seeds
    }

    struct Checker {
        var failures = 0
        mutating func check(_ condition: Bool, _ message: @autoclosure () -> String) {
            guard !condition else { return }
            failures += 1
            if failures <= 20 { Issue.record(Comment(rawValue: message())) }
        }
    }

    @Test func randomAndMutatedBuffersAreHandled() {
        let seeds = Self.seeds()
        var random = SplitMix64(seed: 0x5359_4E57_414C_4C21)
        var checker = Checker()
        var decodedCount = 0
        var anomalyNames = Set<String>()
        let iterations = 200_000

        for iteration in 0..<iterations {
            var bytes: [UInt8]
            let mode = random.next() % 8
            if mode == 0 {
                // Random bytes behind a plausible version nibble.
                let count = Int(random.next() % 140)
                bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if !bytes.isEmpty {
                    bytes[0] = random.next() % 2 == 0 ? 0x45 | (bytes[0] & 0x0F) : 0x60 | (bytes[0] & 0x0F)
                }
            } else {
                bytes = seeds[Int(random.next() % UInt64(seeds.count))]
                let flips = 1 + Int(random.next() % 4)
                for _ in 0..<flips where mode != 1 && !bytes.isEmpty {
                    let position = Int(random.next() % UInt64(bytes.count))
                    if random.next() % 3 == 0 {
                        bytes[position] = UInt8(truncatingIfNeeded: random.next())
                    } else {
                        bytes[position] ^= 1 << UInt8(random.next() % 8)
                    }
                }
                if mode <= 3 {
                    bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count + 1))))
                }
            }
            var originalLength: Int?
            switch random.next() % 4 {
            case 0: originalLength = bytes.count + Int(random.next() % 3000)
            case 1: originalLength = Int(random.next() % 100)
            default: originalLength = nil
            }

            let result = decode(bytes, originalLength: originalLength)
            let context = "iteration \(iteration) bytes \(bytes) originalLength \(String(describing: originalLength))"
            switch result {
            case .packet(let packet):
                decodedCount += 1
                checkPacket(packet, bytes: bytes, originalLength: originalLength, quoted: false, &checker, context)
                let verdict = bytes.withUnsafeBytes { Checksum.verifyTransport(packet, in: $0) }
                if packet.fragment.isFragment || packet.isCaptureTruncated {
                    checker.check(verdict == nil, "checksum verdict for an uncheckable packet: \(context)")
                }
                if let quotedOffset = packet.icmp?.quotedOffset {
                    let quote = Array(bytes[quotedOffset...])
                    if case .packet(let quoted) = decodeQuoted(quote) {
                        checkPacket(quoted, bytes: quote, originalLength: nil, quoted: true, &checker, "quote of \(context)")
                    }
                }
            case .malformed(let anomaly):
                if anomalyNames.insert(anomaly.name).inserted {
                    checker.check(!anomaly.detail.isEmpty, "empty detail for \(anomaly)")
                }
            }
            if case .packet(let quoted) = decodeQuoted(bytes) {
                checkPacket(quoted, bytes: bytes, originalLength: nil, quoted: true, &checker, "quoted \(context)")
            }
        }
        // The fuzz must reach deep: many packets decode and most anomaly kinds occur.
        #expect(decodedCount > iterations / 10)
        #expect(anomalyNames.count >= 25, "anomalies seen: \(anomalyNames.sorted())")
        #expect(checker.failures == 0)
    }

    func checkPacket(_ packet: Packet, bytes: [UInt8], originalLength: Int?, quoted: Bool,
                     _ checker: inout Checker, _ context: @autoclosure () -> String) {
        let count = bytes.count
        checker.check(packet.transportOffset <= count, "transportOffset past the buffer: \(context())")
        checker.check(packet.transportOffset == packet.ipHeaderLength, "offsets differ: \(context())")
        checker.check(packet.transportOffset <= packet.ipTotalLength, "transportOffset past the IP length: \(context())")
        checker.check(packet.capturedLength == min(count, packet.ipTotalLength), "capturedLength wrong: \(context())")
        checker.check((packet.version == .v4) == (bytes[0] >> 4 == 4), "version wrong: \(context())")
        if !quoted {
            checker.check(packet.ipTotalLength <= max(originalLength ?? count, count), "IP length past the packet: \(context())")
        }
        switch packet.transport {
        case .fragment:
            checker.check(!packet.fragment.isFirst, ".fragment for a first fragment: \(context())")
        case .tcp(let tcp):
            checker.check(packet.fragment.isFirst, "TCP in a non-first fragment: \(context())")
            checker.check(packet.protocolNumber == 6, "TCP with protocol \(packet.protocolNumber): \(context())")
            checker.check(tcp.flags.rawValue < 0x200 && tcp.reservedBits < 8, "flag bits: \(context())")
            checker.check(tcp.options.sackBlockCount <= 4, "SACK count: \(context())")
            checker.check(tcp.payloadLength >= 0, "negative TCP payload: \(context())")
            checker.check(packet.transportOffset + 8 <= count, "TCP ports past the buffer: \(context())")
            if !quoted {
                checker.check((20...60).contains(tcp.headerLength) && tcp.headerLength % 4 == 0, "TCP header length: \(context())")
                checker.check(packet.transportOffset + tcp.headerLength <= count, "TCP header past the buffer: \(context())")
                checker.check(tcp.payloadLength == packet.ipTotalLength - packet.transportOffset - tcp.headerLength,
                              "TCP payload length: \(context())")
                checker.check(tcp.sourcePort != 0 && tcp.destinationPort != 0, "TCP port 0: \(context())")
            }
        case .udp(let udp):
            checker.check(packet.fragment.isFirst && packet.protocolNumber == 17, "UDP placement: \(context())")
            checker.check(packet.transportOffset + 8 <= count, "UDP header past the buffer: \(context())")
            checker.check(udp.payloadLength >= 0, "negative UDP payload: \(context())")
            if !quoted { checker.check(udp.length >= 8, "UDP length: \(context())") }
        case .icmp(let icmp), .icmpv6(let icmp):
            checker.check(packet.fragment.isFirst, "ICMP in a non-first fragment: \(context())")
            checker.check(packet.transportOffset + 8 <= count, "ICMP header past the buffer: \(context())")
            checker.check(icmp.payloadLength >= 0, "negative ICMP payload: \(context())")
            if let quotedOffset = icmp.quotedOffset {
                checker.check(!quoted && icmp.isError, "quote outside an error: \(context())")
                checker.check(quotedOffset == packet.transportOffset + 8, "quote offset: \(context())")
                checker.check(quotedOffset + (packet.version == .v4 ? 20 : 40) <= count, "quote past the buffer: \(context())")
            }
        case .other(let number):
            checker.check(number == packet.protocolNumber, "other protocol mismatch: \(context())")
        }
    }

    @Test func everyPrefixOfEverySeedIsHandled() {
        var checker = Checker()
        for seed in Self.seeds() {
            for length in 0...seed.count {
                let prefix = Array(seed.prefix(length))
                for originalLength in [nil, seed.count] as [Int?] {
                    if case .packet(let packet) = decode(prefix, originalLength: originalLength) {
                        checkPacket(packet, bytes: prefix, originalLength: originalLength, quoted: false, &checker, "prefix \(length) of \(seed)")
                    }
                }
                if case .packet(let packet) = decodeQuoted(prefix) {
                    checkPacket(packet, bytes: prefix, originalLength: nil, quoted: true, &checker, "quoted prefix \(length) of \(seed)")
                }
            }
            // The whole seed decodes, and a copy cut anywhere inside the headers says so.
            #expect(decode(seed).packet != nil, "seed \(seed)")
        }
        #expect(checker.failures == 0)
    }
}
