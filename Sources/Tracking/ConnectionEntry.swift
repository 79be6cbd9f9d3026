/// One tracked flow, stored by value in the table's preallocated array and addressed by index.
///
/// Field order is chosen for size (112 bytes): the key's 37 bytes are followed by the one-byte
/// fields in its tail padding. For UDP and ICMP flows the direction fields are unused.
struct ConnectionEntry {
    /// The flow's direction-normalised key.
    var key: FlowKey
    /// The state; nil for a free entry (one byte: nil is a spare bit pattern).
    var state: ConnectionState?
    /// The timer list the entry is linked into (`TimerClass`).
    var listClass: UInt8
    /// `Flags` bits.
    var flags: UInt8
    /// Expiry, in whole seconds of the injected clock: expired when `now >= deadline`.
    var deadline: UInt32
    /// Timer list links (entry indices, `ConnectionTable.none` at the ends).
    var previous: UInt32
    var next: UInt32
    /// The initiator's direction (sent the first SYN; the first packet for UDP and ICMP).
    var initiator: DirectionState
    /// The responder's direction. In SYN_SENT its fields hold the SYN queue (see
    /// `ConnectionTracker+Handshake`) and a challenge ACK's ack.
    var responder: DirectionState
    /// A 16-bit digest of the last data segment (direction, seq, ack, end, window).
    var lastSegment: UInt16
    /// How many times in a row that segment was seen.
    var repeats: UInt8
    /// `MoreFlags` bits.
    var moreFlags: UInt8
    /// The timer class the entry's current timeout comes from (`TimerClass`).
    var timerClass: UInt8
    /// Highest TSval seen from the initiator and the responder (for TIME_WAIT reuse); in
    /// SYN_SENT and SYN_RECV these hold queued ISNs instead.
    var initiatorTimestamp: UInt32
    var responderTimestamp: UInt32

    /// Bits of `flags`.
    enum Flags {
        /// The initiator is the key's high endpoint.
        static let initiatorIsHigh: UInt8 = 0x01
        /// A packet from the responder was accepted.
        static let seenReply: UInt8 = 0x02
        /// The handshake completed.
        static let assured: UInt8 = 0x04
        /// SYNs crossed (simultaneous open or split handshake).
        static let simultaneous: UInt8 = 0x08
        /// Picked up mid-stream: loose window learning.
        static let liberal: UInt8 = 0x10
        /// In a simultaneous SYN_RECV, the initiator sent the (first) SYN-ACK.
        static let synAckByInitiator: UInt8 = 0x20
        /// `retransmission_excess` was reported for this flow.
        static let retransmissionLogged: UInt8 = 0x40
        /// The entry counts against its initiator's half-open number in the source table.
        static let sourceCounted: UInt8 = 0x80
    }

    /// Bits of `moreFlags`.
    enum MoreFlags {
        /// The initiator's RST closed the connection.
        static let resetByInitiator: UInt8 = 0x01
        /// The responder's RST closed the connection.
        static let resetByResponder: UInt8 = 0x02
        /// `rst_injection_suspected` was reported.
        static let injectionLogged: UInt8 = 0x04
    }

    @inline(__always)
    func has(_ bit: UInt8) -> Bool { flags & bit != 0 }

    @inline(__always)
    mutating func set(_ bit: UInt8, _ on: Bool = true) {
        if on { flags |= bit } else { flags &= ~bit }
    }

    /// The state, or nil for a free entry.
    @inline(__always)
    var connectionState: ConnectionState? { state }
}
