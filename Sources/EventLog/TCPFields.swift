import Wire

/// The TCP header fields an event record carries in its `tcp` object.
public struct TCPFields: Sendable, Equatable {
    /// The raw TCP flag bits of header byte 13: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08,
    /// ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80. Written as letters, see ``flagsText``.
    public var flags: UInt8
    /// Sequence number.
    public var seq: UInt32
    /// Acknowledgment number (written even when ACK is not set, as the packet carried it).
    public var ack: UInt32
    /// The window field as carried in the header (not scaled).
    public var win: UInt16
    /// The sequence numbers the tracker would have accepted, when the packet failed that check
    /// (`bad_seq`, `rst_invalid`): written as `seq_min` and `seq_max`.
    public var seqWindow: TCPWindowBounds?
    /// The acknowledgment numbers the tracker would have accepted, when the packet failed that
    /// check (`bad_ack`): written as `ack_min` and `ack_max`.
    public var ackWindow: TCPWindowBounds?

    /// Creates the TCP fields of an event; the window bounds default to absent.
    public init(flags: UInt8, seq: UInt32, ack: UInt32, win: UInt16, seqWindow: TCPWindowBounds? = nil,
                ackWindow: TCPWindowBounds? = nil) {
        self.flags = flags
        self.seq = seq
        self.ack = ack
        self.win = win
        self.seqWindow = seqWindow
        self.ackWindow = ackWindow
    }

    /// The flags as the log writes them, one letter per flag in bit order (`"SA"`, `"FPU"`,
    /// `""`): `Wire.TCPFlags`'s letters.
    public var flagsText: String { TCPFlags(rawValue: UInt16(flags)).description }

    /// The flag bits for letters as ``flagsText`` writes them (any order); nil when a letter is
    /// not one of `FSRPAUEC` (the byte holds no AE, so no `N`).
    @inlinable
    public static func flags(fromText text: some Sequence<UInt8>) -> UInt8? {
        guard let flags = TCPFlags(letters: text), flags.rawValue <= 0xFF else { return nil }
        return UInt8(flags.rawValue)
    }
}
