import Testing
@testable import Wire

@Suite struct DecodeAnomalyTests {
    static let all: [DecodeAnomaly] = [
        .empty, .unknownIPVersion(5), .captureTruncated(needed: 40, captured: 20), .ipv4Truncated(length: 3),
        .ipv4HeaderLengthTooSmall(ihl: 4), .ipv4TotalLengthTooSmall(totalLength: 10, headerLength: 20),
        .ipv4TotalLengthPastEnd(totalLength: 100, packetLength: 60), .ipv4OptionInvalid(kind: 7),
        .ipv6Truncated(length: 39), .ipv6Jumbogram, .ipv6PayloadLengthPastEnd(payloadLength: 10, available: 5),
        .ipv6ExtensionHeaderPastEnd(headerType: 60), .ipv6TooManyExtensionHeaders(limit: 16), .ipv6HopByHopNotFirst,
        .ipv6DuplicateFragmentHeader, .fragmentTooShort(protocolNumber: 6, length: 8),
        .fragmentPastMaximum(offset: 65_528, length: 16), .fragmentMisaligned(length: 13), .tcpTruncated(length: 12),
        .tcpDataOffsetTooSmall(dataOffset: 4), .tcpHeaderPastEnd(headerLength: 60, segmentLength: 20),
        .tcpOptionLengthTooSmall(kind: 8, length: 0), .tcpOptionPastHeader(kind: 2),
        .tcpOptionWrongLength(kind: 3, length: 4), .tcpPortZero(sourcePort: 0, destinationPort: 80), .tcpSynToMulticast,
        .udpTruncated(length: 7), .udpLengthTooSmall(length: 7), .udpLengthPastEnd(length: 30, available: 20),
        .icmpTruncated(length: 7), .icmpErrorQuoteTooShort(length: 19), .quotedPacketTruncated(needed: 28, available: 27),
    ]

    @Test func namesAreStableUniqueSnakeCase() {
        let names = Self.all.map(\.name)
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(name)")
        }
        // Names the tracker's event taxonomy already uses.
        #expect(DecodeAnomaly.tcpTruncated(length: 0).name == "tcp_truncated")
        #expect(DecodeAnomaly.tcpPortZero(sourcePort: 0, destinationPort: 0).name == "tcp_port_zero")
        #expect(DecodeAnomaly.tcpOptionLengthTooSmall(kind: 0, length: 0).name == "tcp_opt_invalid_len")
        #expect(DecodeAnomaly.tcpSynToMulticast.name == "syn_to_broadcast")
    }

    @Test func detailsCarryTheNumbers() {
        for anomaly in Self.all { #expect(!anomaly.detail.isEmpty) }
        #expect(DecodeAnomaly.tcpHeaderPastEnd(headerLength: 60, segmentLength: 20).detail
                == "TCP header length 60 runs past the 20-byte segment")
        #expect(DecodeAnomaly.captureTruncated(needed: 40, captured: 20).detail.contains("raise the queue copy range"))
    }
}
