/// The nine TCP flag bits: the low byte of the header's flag field plus AE (formerly NS,
/// RFC 3540; AccECN, RFC 9768) at bit 8 of the 12-bit field. The three reserved bits are not
/// flags and are not kept.
public struct TCPFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    /// FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80, AE 0x100.
    public let rawValue: UInt16

    /// Flags from their bit values (see `rawValue`).
    @inlinable
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// FIN: the sender has no more data.
    public static let fin = TCPFlags(rawValue: 0x001)
    /// SYN: synchronise sequence numbers.
    public static let syn = TCPFlags(rawValue: 0x002)
    /// RST: reset the connection.
    public static let rst = TCPFlags(rawValue: 0x004)
    /// PSH: push buffered data to the application.
    public static let psh = TCPFlags(rawValue: 0x008)
    /// ACK: the acknowledgment number is significant.
    public static let ack = TCPFlags(rawValue: 0x010)
    /// URG: the urgent pointer is significant.
    public static let urg = TCPFlags(rawValue: 0x020)
    /// ECE: ECN echo (RFC 3168).
    public static let ece = TCPFlags(rawValue: 0x040)
    /// CWR: congestion window reduced (RFC 3168).
    public static let cwr = TCPFlags(rawValue: 0x080)
    /// AE: accurate ECN (RFC 9768), the former NS bit.
    public static let ae = TCPFlags(rawValue: 0x100)

    /// One letter per set flag in the order F S R P A U E C N (AE is `N`), e.g. `"S"`, `"SA"`,
    /// `"FPU"`; the empty string when no flag is set. See ``letters``.
    public var description: String {
        var text = ""
        for bit in 0..<TCPFlags.letters.count where rawValue & (1 << UInt16(bit)) != 0 {
            text.unicodeScalars.append(Unicode.Scalar(TCPFlags.letters[bit]))
        }
        return text
    }
}
