import Wire

/// TCP flag bits as plain constants: `TCPFlags.syn` and friends are `static let`s of another
/// module, reached through a lazy-initialisation accessor on every use.
enum FlagBits {
    static let fin: UInt16 = 0x001
    static let syn: UInt16 = 0x002
    static let rst: UInt16 = 0x004
    static let psh: UInt16 = 0x008
    static let ack: UInt16 = 0x010
    static let urg: UInt16 = 0x020
}

/// Linux's packet classes, in its priority: RST, SYN-ACK, SYN, FIN, ACK.
enum TCPSegmentKind: UInt8 {
    case rst
    case synAck
    case syn
    case fin
    case ack
}

/// The facts about one TCP segment the state machine reads, computed once per packet (the
/// header's fields it needs, not the whole 96-byte header).
struct TCPSegment {
    let kind: TCPSegmentKind
    let seq: UInt32
    let ack: UInt32
    /// Payload bytes (from the IP length; GSO super-packets report their real length).
    let length: UInt32
    /// `seq + length + SYN + FIN`, modulo 2^32.
    let end: UInt32
    /// The raw (unscaled) window.
    let window: UInt16
    /// The flag bits (`TCPFlags.rawValue`).
    let flagBits: UInt16
    /// The ACK flag is set and the ack is meaningful (a RST+ACK with ack 0, sent by broken
    /// stacks, counts as no ACK, as in Linux).
    let hasAck: Bool
    let options: TCPOptions

    @inline(__always)
    init(_ header: TCPHeader, kind: TCPSegmentKind) {
        self.kind = kind
        seq = header.sequenceNumber
        ack = header.acknowledgmentNumber
        length = UInt32(clamping: header.payloadLength)
        window = header.window
        let flags = header.flags.rawValue
        flagBits = flags
        let synAndFin = ((flags & FlagBits.syn) >> 1) + (flags & FlagBits.fin)
        end = seq &+ length &+ UInt32(truncatingIfNeeded: synAndFin)
        hasAck = flags & FlagBits.ack != 0 && !(kind == .rst && ack == 0)
        options = header.options
    }

    @inline(__always)
    var isSyn: Bool { kind == .syn || kind == .synAck }

    /// The ACK flag is set.
    @inline(__always)
    var ackFlag: Bool { flagBits & FlagBits.ack != 0 }

    /// An anomaly of an accepted packet worth logging (docs/tracking.md, "Events"), or nil.
    @inline(__always)
    var anomaly: TrackerEvent? {
        if options.hasDuplicates { return .tcpOptDuplicate }
        if options.emptySACK { return .tcpOptEmptySack }
        if kind == .rst && length > 0 { return .rstWithData }
        if !ackFlag && ack != 0 { return .brokenAck }
        return nil
    }
}

/// The flag-combination check (docs/tracking.md, "Flags first"), run before any state lookup.
enum TCPFlagCheck {
    /// The segment's kind, or the `invalid_flags` event. ECE, CWR, AE, the reserved bits and
    /// PSH are ignored; of U A R S F the valid sets are exactly S, SA, A, AU, FA, FAU, R, RA.
    @inline(__always)
    static func classify(_ flags: TCPFlags) -> (kind: TCPSegmentKind?, event: TrackerEvent?) {
        let bits = flags.rawValue
        let syn = bits & FlagBits.syn != 0, ack = bits & FlagBits.ack != 0, rst = bits & FlagBits.rst != 0
        let fin = bits & FlagBits.fin != 0, urg = bits & FlagBits.urg != 0
        if syn {
            if fin { return (nil, .flagsSynFin) }
            if rst { return (nil, .flagsSynRst) }
            if urg { return (nil, .flagsSynUrg) }
            return (ack ? .synAck : .syn, nil)
        }
        if rst {
            if fin { return (nil, .flagsRstFin) }
            if urg { return (nil, .flagsRstUrg) }
            return (.rst, nil)
        }
        if fin {
            if ack { return (.fin, nil) }
            return (nil, urg && bits & FlagBits.psh != 0 ? .flagsXmas : .flagsFinNoAck)
        }
        if ack { return (.ack, nil) }
        return (nil, urg ? .flagsUrgNoAck : .flagsNull)
    }
}
