// The handshake's scratch fields (docs/tracking.md, "The handshake's scratch fields"). Before
// a connection is synchronised some entry fields have no use yet, and the handshake keeps
// what it must remember in them: this file is the one place that says which field holds what,
// so the state machine (ConnectionTracker+Handshake.swift) speaks only of the names below.
//
//   SYN_SENT   responder.end, .maxEnd, .maxWindow, .isn, responderTimestamp: the initiator's
//              earlier ISNs (`queuedSYN`), responder.scale their count;
//              responder.maxAck (with maxAckSet): a challenge ACK's ack;
//              initiatorTimestamp: the first SYN's TSval, lastSegment how far later SYNs'
//              TSvals go past it (`firstSYNTimestamp`, `synTimestampSpan`).
//   SYN_RECV   initiatorTimestamp, responderTimestamp: earlier responder ISNs (alternate
//              SYN-ACKs, `synAckAlternate`), lastSegment their count.
//
// `clearHandshakeScratch` hands the fields back to their own use when the state moves on.

extension ConnectionEntry {
    // MARK: SYN_SENT: the initiator's earlier ISNs

    /// Earlier ISNs of the initiator kept in SYN_SENT (RFC 9293 §3.10.7.3 lets a client send a
    /// new SYN; the responder may answer any of them).
    static let queuedSYNLimit = 5

    /// How many earlier ISNs are queued (in `responder.scale`, unused before the SYN-ACK).
    var queuedSYNCount: Int {
        get { Int(min(responder.scale, UInt8(Self.queuedSYNLimit))) }
        set { responder.scale = UInt8(newValue) }
    }

    /// The queued ISN in `slot` (0 the oldest).
    func queuedSYN(_ slot: Int) -> UInt32 {
        switch slot {
        case 0: responder.end
        case 1: responder.maxEnd
        case 2: responder.maxWindow
        case 3: responder.isn
        default: responderTimestamp
        }
    }

    private mutating func setQueuedSYN(_ slot: Int, _ isn: UInt32) {
        switch slot {
        case 0: responder.end = isn
        case 1: responder.maxEnd = isn
        case 2: responder.maxWindow = isn
        case 3: responder.isn = isn
        default: responderTimestamp = isn
        }
    }

    /// Queues an earlier ISN; true when the queue was full and its oldest was forgotten.
    mutating func queueSYN(_ isn: UInt32) -> Bool {
        let count = Int(responder.scale)
        if count < Self.queuedSYNLimit {
            setQueuedSYN(count, isn)
            responder.scale = UInt8(count + 1)
            return false
        }
        for slot in 0..<(Self.queuedSYNLimit - 1) { setQueuedSYN(slot, queuedSYN(slot + 1)) }
        setQueuedSYN(Self.queuedSYNLimit - 1, isn)
        return true
    }

    /// True when `ack` acknowledges the initiator's SYN: in `[isn + 1, end]`, or exactly a
    /// queued ISN + 1 (the initiator is then re-synchronised to that SYN).
    mutating func matchSYN(ack: UInt32) -> Bool {
        if SequenceNumber.within(ack, initiator.isn &+ 1, initiator.end) { return true }
        for slot in 0..<queuedSYNCount {
            let isn = queuedSYN(slot)
            if ack == isn &+ 1 {
                initiator.isn = isn
                initiator.end = isn &+ 1
                initiator.maxEnd = isn &+ 1
                return true
            }
        }
        return false
    }

    /// The ack of a challenge ACK the responder sent in SYN_SENT (nil when none was seen): the
    /// initiator's RST may carry it as its seq.
    var challengeAck: UInt32? {
        get { responder.has(DirectionState.Flags.maxAckSet) ? responder.maxAck : nil }
        set {
            responder.maxAck = newValue ?? 0
            responder.set(DirectionState.Flags.maxAckSet, newValue != nil)
        }
    }

    // MARK: SYN_SENT: the SYNs' timestamps

    /// The TSval of the initiator's first SYN (with `MoreFlags.synTimestamp`).
    var firstSYNTimestamp: UInt32 {
        get { initiatorTimestamp }
        set { initiatorTimestamp = newValue }
    }

    /// How far later SYNs' TSvals go past the first's (saturating at 0xFFFF: no upper bound).
    var synTimestampSpan: UInt16 {
        get { lastSegment }
        set { lastSegment = newValue }
    }

    /// Remembers the TSval of an initiator's SYN in SYN_SENT: the first, then how far later
    /// ones go past it; `MoreFlags.synTimestamp` set.
    mutating func noteSYNTimestamp(_ segment: TCPSegment, first: Bool) {
        guard let timestamp = segment.options.timestamp else { return }
        if first || moreFlags & MoreFlags.synTimestamp == 0 {
            firstSYNTimestamp = timestamp.value
            synTimestampSpan = 0
            moreFlags |= MoreFlags.synTimestamp
            return
        }
        let span = timestamp.value &- firstSYNTimestamp
        guard span < 0x8000_0000 else { return }
        synTimestampSpan = max(synTimestampSpan, UInt16(min(span, 0xFFFF)))
    }

    /// Forgets the SYNs' timestamps (the responder's SYN crossed them: simultaneous open).
    mutating func forgetSYNTimestamps() {
        moreFlags &= ~MoreFlags.synTimestamp
        firstSYNTimestamp = 0
        synTimestampSpan = 0
    }

    /// True unless the segment's timestamp echo contradicts the initiator's SYNs: a non-zero
    /// TSecr when no SYN offered timestamps, or one outside the SYNs' TSvals (Linux's check in
    /// SYN-SENT, RFC 7323 §3.2).
    func echoesSYN(_ segment: TCPSegment) -> Bool {
        guard let timestamp = segment.options.timestamp, timestamp.echoReply != 0 else { return true }
        guard moreFlags & MoreFlags.synTimestamp != 0 else { return false }
        let span = timestamp.echoReply &- firstSYNTimestamp
        let limit = synTimestampSpan
        return limit == 0xFFFF ? span < 0x8000_0000 : span <= UInt32(limit)
    }

    // MARK: SYN_RECV: alternate SYN-ACKs

    /// Earlier responder ISNs kept in SYN_RECV (two, in the timestamp fields; count in
    /// `lastSegment`). An ISN already kept is not kept twice; when both are taken the older is
    /// forgotten: a SYN-ACK already seen is never refused because the queue is full.
    mutating func queueSynAck(_ isn: UInt32) {
        let count = lastSegment
        if count >= 1 && initiatorTimestamp == isn { return }
        if count >= 2 && responderTimestamp == isn { return }
        switch count {
        case 0: initiatorTimestamp = isn
        case 1: responderTimestamp = isn
        default:
            initiatorTimestamp = responderTimestamp
            responderTimestamp = isn
            return
        }
        lastSegment += 1
    }

    /// The queued responder ISN that `ack` acknowledges exactly, or nil.
    func synAckAlternate(ack: UInt32) -> UInt32? {
        let count = lastSegment
        if count >= 1 && ack == initiatorTimestamp &+ 1 { return initiatorTimestamp }
        if count >= 2 && ack == responderTimestamp &+ 1 { return responderTimestamp }
        return nil
    }

    // MARK: Leaving the handshake

    /// Hands the scratch fields back to their own use (TS.Recent each way, the repeat
    /// digest): zero, as a new connection's.
    mutating func clearHandshakeScratch() {
        initiatorTimestamp = 0
        responderTimestamp = 0
        lastSegment = 0
    }
}
