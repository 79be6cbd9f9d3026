/// A decoded UDP header. Values are in host byte order.
public struct UDPHeader: Sendable, Equatable, Hashable {
    /// Source port (0 is allowed: "no reply expected").
    public let sourcePort: UInt16
    /// Destination port.
    public let destinationPort: UInt16
    /// The length field: header plus payload, in bytes (≥ 8 in a decoded packet).
    public let length: UInt16
    /// Checksum as sent (0 on IPv4 means "not computed").
    public let checksum: UInt16
    /// Payload bytes this packet carries: the length field minus 8, or for a first fragment
    /// the fragment's bytes after the header.
    public let payloadLength: Int

    /// A header from its field values.
    @inlinable
    public init(sourcePort: UInt16, destinationPort: UInt16, length: UInt16, checksum: UInt16, payloadLength: Int) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.length = length
        self.checksum = checksum
        self.payloadLength = payloadLength
    }
}
