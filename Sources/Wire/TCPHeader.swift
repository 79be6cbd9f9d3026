/// A decoded TCP header. Values are in host byte order.
public struct TCPHeader: Sendable, Equatable, Hashable {
    /// Source port (never 0 in a packet from `PacketDecoder.decode`).
    public let sourcePort: UInt16
    /// Destination port (never 0 in a packet from `PacketDecoder.decode`).
    public let destinationPort: UInt16
    /// Sequence number.
    public let sequenceNumber: UInt32
    /// Acknowledgment number (meaningful only with ACK, but reported as sent).
    public let acknowledgmentNumber: UInt32
    /// Header length in bytes (data offset × 4), 20…60; options included.
    public let headerLength: Int
    /// The flag bits, AE included.
    public let flags: TCPFlags
    /// The three reserved bits of the flag field (bits 9…11), 0…7.
    public let reservedBits: UInt8
    /// Raw (unscaled) receive window.
    public let window: UInt16
    /// Checksum as sent.
    public let checksum: UInt16
    /// Urgent pointer as sent (significant only with URG).
    public let urgentPointer: UInt16
    /// The options this header carries.
    public let options: TCPOptions
    /// Payload bytes this packet carries, from the IP length (not the captured buffer): a
    /// GSO super-packet or a truncated copy reports its real length.
    public let payloadLength: Int

    /// A header from its field values.
    @inlinable
    public init(sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: UInt32,
                acknowledgmentNumber: UInt32, headerLength: Int, flags: TCPFlags, reservedBits: UInt8 = 0,
                window: UInt16, checksum: UInt16, urgentPointer: UInt16, options: TCPOptions,
                payloadLength: Int) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.headerLength = headerLength
        self.flags = flags
        self.reservedBits = reservedBits
        self.window = window
        self.checksum = checksum
        self.urgentPointer = urgentPointer
        self.options = options
        self.payloadLength = payloadLength
    }
}
