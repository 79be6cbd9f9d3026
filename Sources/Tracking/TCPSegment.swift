import Wire

/// Linux's packet classes, in its priority: RST, SYN-ACK, SYN, FIN, ACK.
enum TCPSegmentKind: UInt8 {
    case rst
    case synAck
    case syn
    case fin
    case ack
}

/// The facts about one TCP segment the state machine reads, computed once per packet.
struct TCPSegment {
    let header: TCPHeader
    let kind: TCPSegmentKind
    let seq: UInt32
    let ack: UInt32
    /// Payload bytes (from the IP length; GSO super-packets report their real length).
    let length: UInt32
    /// `seq + length + SYN + FIN`, modulo 2^32.
    let end: UInt32
    /// The ACK flag is set and the ack is meaningful (a RST+ACK with ack 0, sent by broken
    /// stacks, counts as no ACK, as in Linux).
    let hasAck: Bool

    @inline(__always)
    init(_ header: TCPHeader, kind: TCPSegmentKind) {
        self.header = header
        self.kind = kind
        seq = header.sequenceNumber
        ack = header.acknowledgmentNumber
        length = UInt32(clamping: header.payloadLength)
        let flags = header.flags
        end = seq &+ length &+ (flags.contains(.syn) ? 1 : 0) &+ (flags.contains(.fin) ? 1 : 0)
        hasAck = flags.contains(.ack) && !(kind == .rst && ack == 0)
    }

    @inline(__always)
    var isSyn: Bool { kind == .syn || kind == .synAck }

    /// An anomaly of an accepted packet worth logging (tcp-tracking.md §4.2), or nil.
    var anomaly: TrackerEvent? {
        if header.options.hasDuplicates { return .tcpOptDuplicate }
        if kind == .rst && length > 0 { return .rstWithData }
        if !header.flags.contains(.ack) && ack != 0 { return .brokenAck }
        return nil
    }
}

/// The flag-combination check (tcp-tracking.md §4.1), run before any state lookup.
enum TCPFlagCheck {
    /// The segment's kind, or the `invalid_flags` event. ECE, CWR, AE, the reserved bits and
    /// PSH are ignored; of U A R S F the valid sets are exactly S, SA, A, AU, FA, FAU, R, RA.
    @inline(__always)
    static func classify(_ flags: TCPFlags) -> (kind: TCPSegmentKind?, event: TrackerEvent?) {
        let syn = flags.contains(.syn), ack = flags.contains(.ack), rst = flags.contains(.rst)
        let fin = flags.contains(.fin), urg = flags.contains(.urg)
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
            return (nil, urg && flags.contains(.psh) ? .flagsXmas : .flagsFinNoAck)
        }
        if ack { return (.ack, nil) }
        return (nil, urg ? .flagsUrgNoAck : .flagsNull)
    }
}
