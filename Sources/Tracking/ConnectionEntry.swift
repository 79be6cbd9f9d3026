import Wire

/// One tracked flow, stored by value in the table's preallocated array and addressed by index.
///
/// Field order is chosen for size (160 bytes, 156 used): the key's 37 bytes are followed by the
/// one-byte fields in its tail padding; the tracking fields the packet path reads first fill the
/// first 112 bytes; the accounting (times, counts, origin) follows. For UDP, ICMP and other
/// protocols' flows the direction fields are unused.
///
/// Times are whole seconds of the injected clock (`now / 1e9`, rounded down) in `UInt32`, like
/// `deadline`: enough until 2106 on a Unix-epoch clock. Counts are of packets the tracker
/// accepted for the flow; bytes are IP total lengths.
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
    /// `ResumeFlags` bits: a connection restored from the state file, its directions not yet
    /// learned again (ConnectionTracker+Resume.swift). In the initiator's tail padding.
    var resumeFlags: UInt8
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
    /// The first packet's hook (`FlowOrigin.hook`: 0 in, 1 out, 2 forward).
    var hook: UInt8
    /// Highest TSval seen from the initiator and the responder (for TIME_WAIT reuse); in
    /// SYN_SENT and SYN_RECV these hold queued ISNs instead.
    var initiatorTimestamp: UInt32
    var responderTimestamp: UInt32
    /// When the flow was created, and when the tracker last accepted a packet of it (seconds).
    var createdSeconds: UInt32
    var lastSeenSeconds: UInt32
    /// Packets accepted from the initiator and from the responder.
    var initiatorPackets: UInt32
    var responderPackets: UInt32
    /// Bytes (IP total length) of those packets.
    var initiatorBytes: UInt64
    var responderBytes: UInt64
    /// The first packet's interface indexes (`FlowOrigin`).
    var inInterface: UInt32
    var outInterface: UInt32
    /// The admitting rule's index in the ruleset in force, or `FlowOrigin.noRule`.
    var ruleIndex: UInt32

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
        /// SYN_SENT: a SYN carried timestamps (its TSval in `initiatorTimestamp`).
        static let synTimestamp: UInt8 = 0x08
        /// SYN_RECV: the initiator repeated its SYN after the SYN-ACK: the responder may answer
        /// it with another ISN.
        static let synAfterSynAck: UInt8 = 0x10
        /// Both the SYN and the SYN-ACK carried timestamps (RFC 7323 §3.2).
        static let timestampsNegotiated: UInt8 = 0x20
        /// Offloaded: its plain segments pass in the kernel; the windows are learned again
        /// from every segment synwall still sees (docs/offload.md). Kept in the state file, so
        /// a restart knows the kernel still passes them.
        static let offloaded: UInt8 = 0x40
        /// Never to be offloaded: a packet on it was dropped or had an anomaly.
        static let offloadRefused: UInt8 = 0x80
    }

    /// Bits of `resumeFlags`.
    enum ResumeFlags {
        /// Restored from a state file: the initiator's window is learned again from its next
        /// segment (its sequence numbers moved on while the daemon was down).
        static let initiator: UInt8 = 0x01
        /// The same for the responder.
        static let responder: UInt8 = 0x02
        /// `state_resumed` was reported.
        static let logged: UInt8 = 0x04
        /// Either direction still to be learned again.
        static let resuming: UInt8 = initiator | responder
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

    /// A free entry's contents for `key`: all zero, no state, no links, no rule.
    static func empty(_ key: FlowKey) -> ConnectionEntry {
        ConnectionEntry(
            key: key, state: nil, listClass: 0, flags: 0, deadline: 0, previous: ConnectionTable.none,
            next: ConnectionTable.none, initiator: DirectionState(), resumeFlags: 0, responder: DirectionState(), lastSegment: 0,
            repeats: 0, moreFlags: 0, timerClass: 0, hook: 0, initiatorTimestamp: 0, responderTimestamp: 0,
            createdSeconds: 0, lastSeenSeconds: 0, initiatorPackets: 0, responderPackets: 0, initiatorBytes: 0,
            responderBytes: 0, inInterface: 0, outInterface: 0, ruleIndex: FlowOrigin.noRule)
    }

    /// Starts the flow's accounting at `seconds` with its origin (counts at zero: the creating
    /// packet is counted like any other accepted one).
    @inline(__always)
    mutating func begin(at seconds: UInt32, origin: FlowOrigin) {
        createdSeconds = seconds
        lastSeenSeconds = seconds
        initiatorPackets = 0
        responderPackets = 0
        initiatorBytes = 0
        responderBytes = 0
        hook = origin.hook
        inInterface = origin.inInterface
        outInterface = origin.outInterface
        ruleIndex = origin.ruleIndex
    }

    /// The address of the endpoint that started the flow.
    @inline(__always)
    var initiatorAddress: IPAddress { has(Flags.initiatorIsHigh) ? key.highAddress : key.lowAddress }

    /// The flow's origin as stored.
    var origin: FlowOrigin {
        FlowOrigin(ruleIndex: ruleIndex, hook: hook, inInterface: inInterface, outInterface: outInterface)
    }
}
