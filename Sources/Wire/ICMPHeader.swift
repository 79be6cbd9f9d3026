/// A decoded ICMP (RFC 792) or ICMPv6 (RFC 4443) header. Which one is said by the
/// `TransportHeader` case that holds it.
public struct ICMPHeader: Sendable, Equatable, Hashable {
    /// Message type.
    public let type: UInt8
    /// Message code.
    public let code: UInt8
    /// Checksum as sent.
    public let checksum: UInt16
    /// Echo identifier (echo request or reply only, else 0).
    public let identifier: UInt16
    /// Echo sequence number (echo request or reply only, else 0).
    public let sequence: UInt16
    /// The four bytes after the checksum (identifier and sequence, MTU, pointer, gateway…).
    public let restOfHeader: UInt32
    /// Echo request: ICMP type 8, ICMPv6 type 128.
    public let isEcho: Bool
    /// Echo reply: ICMP type 0, ICMPv6 type 129.
    public let isEchoReply: Bool
    /// Error message quoting an offending packet: ICMP types 3, 4, 5, 11, 12; ICMPv6 types
    /// 1 (unreachable), 2 (packet too big), 3 (time exceeded), 4 (parameter problem).
    public let isError: Bool
    /// For an error, the offset in the packet buffer of the quoted IP header (decode it with
    /// `PacketDecoder.decodeQuoted`); nil for other messages and inside a quote.
    public let quotedOffset: Int?
    /// Bytes after the 8-byte ICMP header (the quote, for an error), from the IP length.
    public let payloadLength: Int

    /// A header from its field values.
    @inlinable
    public init(type: UInt8, code: UInt8, checksum: UInt16, identifier: UInt16, sequence: UInt16,
                restOfHeader: UInt32, isEcho: Bool, isEchoReply: Bool, isError: Bool, quotedOffset: Int?,
                payloadLength: Int) {
        self.type = type
        self.code = code
        self.checksum = checksum
        self.identifier = identifier
        self.sequence = sequence
        self.restOfHeader = restOfHeader
        self.isEcho = isEcho
        self.isEchoReply = isEchoReply
        self.isError = isError
        self.quotedOffset = quotedOffset
        self.payloadLength = payloadLength
    }
}
