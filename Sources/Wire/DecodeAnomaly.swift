/// Why a buffer is not a well-formed packet: one case per malformation.
///
/// `name` is a stable snake_case identifier for event logs (a public format: never rename
/// one silently); `detail` is a sentence for people. Building either allocates, so call them
/// only when an event is written, never on the packet path.
public enum DecodeAnomaly: Sendable, Equatable, Hashable {
    /// The buffer has no bytes.
    case empty
    /// The version nibble is neither 4 nor 6.
    case unknownIPVersion(UInt8)
    /// The buffer is a truncated copy (`originalLength` larger) that ends before the headers
    /// do: the copy range or snaplen is too small for this packet.
    case captureTruncated(needed: Int, captured: Int)

    /// Fewer than 20 bytes for an IPv4 header.
    case ipv4Truncated(length: Int)
    /// IHL below 5 (the header length in 32-bit words).
    case ipv4HeaderLengthTooSmall(ihl: UInt8)
    /// The total length is smaller than the header length.
    case ipv4TotalLengthTooSmall(totalLength: Int, headerLength: Int)
    /// The total length runs past the end of the packet.
    case ipv4TotalLengthPastEnd(totalLength: Int, packetLength: Int)
    /// An IPv4 option has a length below 2 or runs past the header.
    case ipv4OptionInvalid(kind: UInt8)

    /// Fewer than 40 bytes for an IPv6 header.
    case ipv6Truncated(length: Int)
    /// Payload length 0 with a payload (a jumbogram or BIG TCP packet; not supported).
    case ipv6Jumbogram
    /// The payload length runs past the end of the packet.
    case ipv6PayloadLengthPastEnd(payloadLength: Int, available: Int)
    /// An extension header runs past the end of the packet.
    case ipv6ExtensionHeaderPastEnd(headerType: UInt8)
    /// More extension headers than the decoder walks.
    case ipv6TooManyExtensionHeaders(limit: Int)
    /// A hop-by-hop options header anywhere but directly after the fixed header.
    case ipv6HopByHopNotFirst
    /// A second fragment header.
    case ipv6DuplicateFragmentHeader

    /// A first fragment too short to hold the whole transport header (and, for IPv6, the
    /// whole header chain, RFC 7112): the tiny-fragment attack of RFC 1858.
    case fragmentTooShort(protocolNumber: UInt8, length: Int)
    /// Fragment offset plus length exceeds 65,535 bytes (the "ping of death").
    case fragmentPastMaximum(offset: Int, length: Int)
    /// A fragment that is not the last has a length that is not a multiple of 8.
    case fragmentMisaligned(length: Int)

    /// Fewer than 20 bytes for a TCP header.
    case tcpTruncated(length: Int)
    /// Data offset below 5.
    case tcpDataOffsetTooSmall(dataOffset: UInt8)
    /// The header length (data offset × 4) runs past the end of the segment.
    case tcpHeaderPastEnd(headerLength: Int, segmentLength: Int)
    /// A TCP option's length byte is below 2.
    case tcpOptionLengthTooSmall(kind: UInt8, length: UInt8)
    /// A TCP option (or its length byte) runs past the end of the header.
    case tcpOptionPastHeader(kind: UInt8)
    /// A known TCP option with a length it never has (MSS 4, window scale 3, SACK-permitted 2,
    /// timestamps 10, SACK 2 + 8n with n in 0…4 (n = 0 is ignored, as Linux does), MD5 18).
    case tcpOptionWrongLength(kind: UInt8, length: UInt8)
    /// Source or destination port 0.
    case tcpPortZero(sourcePort: UInt16, destinationPort: UInt16)
    /// A SYN to a multicast or broadcast address (RFC 9293 MUST-57).
    case tcpSynToMulticast

    /// Fewer than 8 bytes for a UDP header.
    case udpTruncated(length: Int)
    /// The UDP length field is below 8.
    case udpLengthTooSmall(length: UInt16)
    /// The UDP length field runs past the end of the packet.
    case udpLengthPastEnd(length: Int, available: Int)

    /// Fewer than 8 bytes for an ICMP or ICMPv6 header.
    case icmpTruncated(length: Int)
    /// An ICMP error that quotes less than an IP header (20 bytes, or 40 for ICMPv6).
    case icmpErrorQuoteTooShort(length: Int)

    /// An ICMP error's quote ends before the quoted IP header and 8 transport bytes do.
    case quotedPacketTruncated(needed: Int, available: Int)

    /// Stable snake_case identifier for event logs.
    public var name: String {
        switch self {
        case .empty: "empty_packet"
        case .unknownIPVersion: "ip_version_unknown"
        case .captureTruncated: "capture_truncated"
        case .ipv4Truncated: "ipv4_truncated"
        case .ipv4HeaderLengthTooSmall: "ipv4_hlen_too_small"
        case .ipv4TotalLengthTooSmall: "ipv4_len_too_small"
        case .ipv4TotalLengthPastEnd: "ipv4_len_past_end"
        case .ipv4OptionInvalid: "ipv4_opt_invalid_len"
        case .ipv6Truncated: "ipv6_truncated"
        case .ipv6Jumbogram: "ipv6_jumbogram"
        case .ipv6PayloadLengthPastEnd: "ipv6_plen_past_end"
        case .ipv6ExtensionHeaderPastEnd: "ipv6_exthdr_past_end"
        case .ipv6TooManyExtensionHeaders: "ipv6_exthdr_too_many"
        case .ipv6HopByHopNotFirst: "ipv6_hbh_not_first"
        case .ipv6DuplicateFragmentHeader: "ipv6_frag_hdr_duplicate"
        case .fragmentTooShort: "frag_tiny_first"
        case .fragmentPastMaximum: "frag_too_large"
        case .fragmentMisaligned: "frag_misaligned"
        case .tcpTruncated: "tcp_truncated"
        case .tcpDataOffsetTooSmall: "tcp_hlen_too_small"
        case .tcpHeaderPastEnd: "tcp_hlen_past_end"
        case .tcpOptionLengthTooSmall: "tcp_opt_invalid_len"
        case .tcpOptionPastHeader: "tcp_opt_past_header"
        case .tcpOptionWrongLength: "tcp_opt_wrong_len"
        case .tcpPortZero: "tcp_port_zero"
        case .tcpSynToMulticast: "syn_to_broadcast"
        case .udpTruncated: "udp_truncated"
        case .udpLengthTooSmall: "udp_len_too_small"
        case .udpLengthPastEnd: "udp_len_past_end"
        case .icmpTruncated: "icmp_truncated"
        case .icmpErrorQuoteTooShort: "icmp_quote_too_short"
        case .quotedPacketTruncated: "icmp_quote_truncated"
        }
    }

    /// True for the fragment anomalies, which the tracker reports under the `fragment` reason
    /// rather than `malformed`.
    public var isFragmentAnomaly: Bool {
        switch self {
        case .fragmentTooShort, .fragmentPastMaximum, .fragmentMisaligned: true
        default: false
        }
    }

    /// One sentence saying what is wrong, with the numbers involved.
    public var detail: String {
        switch self {
        case .empty:
            "the packet is empty"
        case .unknownIPVersion(let version):
            "IP version \(version) is neither 4 nor 6"
        case .captureTruncated(let needed, let captured):
            "the copy holds \(captured) bytes but the headers need \(needed); raise the queue copy range or the capture snaplen"
        case .ipv4Truncated(let length):
            "\(length) bytes is too short for an IPv4 header (20)"
        case .ipv4HeaderLengthTooSmall(let ihl):
            "IPv4 header length \(ihl) words is below the minimum of 5"
        case .ipv4TotalLengthTooSmall(let total, let header):
            "IPv4 total length \(total) is smaller than its \(header)-byte header"
        case .ipv4TotalLengthPastEnd(let total, let packet):
            "IPv4 total length \(total) runs past the \(packet)-byte packet"
        case .ipv4OptionInvalid(let kind):
            "IPv4 option \(kind) has a length below 2 or runs past the header"
        case .ipv6Truncated(let length):
            "\(length) bytes is too short for an IPv6 header (40)"
        case .ipv6Jumbogram:
            "IPv6 payload length 0 with a payload (jumbogram) is not supported"
        case .ipv6PayloadLengthPastEnd(let payload, let available):
            "IPv6 payload length \(payload) runs past the \(available) bytes after the header"
        case .ipv6ExtensionHeaderPastEnd(let type):
            "IPv6 extension header \(type) runs past the end of the packet"
        case .ipv6TooManyExtensionHeaders(let limit):
            "more than \(limit) IPv6 extension headers"
        case .ipv6HopByHopNotFirst:
            "IPv6 hop-by-hop options header not directly after the fixed header"
        case .ipv6DuplicateFragmentHeader:
            "IPv6 packet with two fragment headers"
        case .fragmentTooShort(let proto, let length):
            "first fragment carries \(length) bytes, too few for the whole protocol \(proto) header"
        case .fragmentPastMaximum(let offset, let length):
            "fragment at offset \(offset) with \(length) bytes reaches past 65535"
        case .fragmentMisaligned(let length):
            "non-last fragment length \(length) is not a multiple of 8"
        case .tcpTruncated(let length):
            "\(length) bytes is too short for a TCP header (20)"
        case .tcpDataOffsetTooSmall(let offset):
            "TCP data offset \(offset) is below the minimum of 5"
        case .tcpHeaderPastEnd(let header, let segment):
            "TCP header length \(header) runs past the \(segment)-byte segment"
        case .tcpOptionLengthTooSmall(let kind, let length):
            "TCP option \(kind) has length \(length), below 2"
        case .tcpOptionPastHeader(let kind):
            "TCP option \(kind) runs past the end of the header"
        case .tcpOptionWrongLength(let kind, let length):
            "TCP option \(kind) has length \(length), which that option never has"
        case .tcpPortZero(let source, let destination):
            "TCP port 0 (source \(source), destination \(destination))"
        case .tcpSynToMulticast:
            "TCP SYN to a multicast or broadcast address"
        case .udpTruncated(let length):
            "\(length) bytes is too short for a UDP header (8)"
        case .udpLengthTooSmall(let length):
            "UDP length \(length) is below the minimum of 8"
        case .udpLengthPastEnd(let length, let available):
            "UDP length \(length) runs past the \(available) bytes the IP header gives it"
        case .icmpTruncated(let length):
            "\(length) bytes is too short for an ICMP header (8)"
        case .icmpErrorQuoteTooShort(let length):
            "ICMP error quotes \(length) bytes, less than an IP header"
        case .quotedPacketTruncated(let needed, let available):
            "ICMP error quote holds \(available) bytes but its headers need \(needed)"
        }
    }
}
