/// What the tracker knows about the peer that sends in one direction (Linux `td_*`). All
/// sequence values are modulo 2^32.
struct DirectionState {
    /// Highest `seq + len (+SYN +FIN)` this peer has sent (Linux td_end).
    var end: UInt32 = 0
    /// Right edge this peer may send up to: the other side's highest `ack + scaled window`
    /// (td_maxend).
    var maxEnd: UInt32 = 0
    /// Largest window this peer advertised, scaled, grown by SACK spans and overruns
    /// (td_maxwin); 0 while the peer has sent nothing.
    var maxWindow: UInt32 = 0
    /// Highest ACK number this peer has sent (valid with `Flags.maxAckSet`).
    var maxAck: UInt32 = 0
    /// The peer's initial sequence number.
    var isn: UInt32 = 0
    /// Window-scale shift, 0…14 (0 unless both SYNs carried the option).
    var scale: UInt8 = 0
    /// `Flags` bits.
    var flags: UInt8 = 0

    /// Bits of `flags`.
    enum Flags {
        static let sackPermitted: UInt8 = 0x01
        static let windowScaleSeen: UInt8 = 0x02
        static let finSent: UInt8 = 0x04
        static let finAcked: UInt8 = 0x08
        static let dataUnacked: UInt8 = 0x10
        static let maxAckSet: UInt8 = 0x20
        static let fastOpen: UInt8 = 0x40
        static let timestampSeen: UInt8 = 0x80
    }

    @inline(__always)
    func has(_ bit: UInt8) -> Bool { flags & bit != 0 }

    @inline(__always)
    mutating func set(_ bit: UInt8, _ on: Bool = true) {
        if on { flags |= bit } else { flags &= ~bit }
    }
}
