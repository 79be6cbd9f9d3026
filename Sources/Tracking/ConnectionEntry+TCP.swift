// What a TCP entry can tell and update about itself: the window checks and updates on its two
// directions, the state its FIN flags describe, the repeat counter and TS.Recent. No table,
// clock or configuration: those are the tracker's (ConnectionTracker+TCP.swift).

extension ConnectionEntry {
    /// S1–S5 on a segment from the initiator or the responder (`TCPWindow.check`).
    @inline(__always)
    func checkWindow(_ segment: TCPSegment, fromInitiator: Bool,
                     checkAck: Bool) -> (reason: DropReason?, event: TrackerEvent?) {
        fromInitiator
            ? TCPWindow.check(sender: initiator, receiver: responder, segment,
                              checkAck: checkAck)
            : TCPWindow.check(sender: responder, receiver: initiator, segment,
                              checkAck: checkAck)
    }

    /// `check` then, when it passes, `update`, in one pass (`TCPWindow.apply`): the data path.
    @inline(__always)
    mutating func applyWindow(_ segment: TCPSegment, fromInitiator: Bool,
                              checkAck: Bool) -> (reason: DropReason?, event: TrackerEvent?) {
        fromInitiator
            ? TCPWindow.apply(sender: &initiator, receiver: &responder, segment, checkAck: checkAck)
            : TCPWindow.apply(sender: &responder, receiver: &initiator, segment, checkAck: checkAck)
    }

    /// How a RST from the initiator or the responder fares (`TCPWindow.checkReset`).
    @inline(__always)
    func checkReset(_ segment: TCPSegment, fromInitiator: Bool, exactOnly: Bool) -> TCPWindow.ResetOutcome {
        fromInitiator
            ? TCPWindow.checkReset(sender: initiator, receiver: responder, segment, exactOnly: exactOnly)
            : TCPWindow.checkReset(sender: responder, receiver: initiator, segment, exactOnly: exactOnly)
    }

    /// The ranges a data segment from one side was judged against, for the drop's record.
    func dataBounds(fromInitiator: Bool) -> WindowBounds {
        fromInitiator ? WindowBounds.data(sender: initiator, receiver: responder)
            : WindowBounds.data(sender: responder, receiver: initiator)
    }

    /// The ranges a RST from one side was judged against, for the drop's record.
    func resetBounds(fromInitiator: Bool) -> WindowBounds {
        fromInitiator ? WindowBounds.reset(sender: initiator, receiver: responder)
            : WindowBounds.reset(sender: responder, receiver: initiator)
    }

    /// Linux's window update after a segment passed (`TCPWindow.update`).
    @inline(__always)
    mutating func updateWindow(_ segment: TCPSegment, _ fromInitiator: Bool) {
        if fromInitiator {
            TCPWindow.update(sender: &initiator, receiver: &responder, segment)
        } else {
            TCPWindow.update(sender: &responder, receiver: &initiator, segment)
        }
    }

    /// Both shifts are 0 unless both SYNs carried window scaling (RFC 7323).
    mutating func settleScale() {
        if !(initiator.has(DirectionState.Flags.windowScaleSeen)
            && responder.has(DirectionState.Flags.windowScaleSeen)) {
            initiator.scale = 0
            responder.scale = 0
        }
    }

    /// The state the FIN flags describe (no FIN: ESTABLISHED).
    @inline(__always)
    var closingState: ConnectionState {
        let initiatorFlags = initiator.flags
        let responderFlags = responder.flags
        let initiatorFin = initiatorFlags & DirectionState.Flags.finSent != 0
        let responderFin = responderFlags & DirectionState.Flags.finSent != 0
        if !initiatorFin && !responderFin { return .established }
        let initiatorAcked = initiatorFlags & DirectionState.Flags.finAcked != 0
        let responderAcked = responderFlags & DirectionState.Flags.finAcked != 0
        if initiatorFin && responderFin { return initiatorAcked && responderAcked ? .timeWait : .lastAck }
        return (initiatorFin ? initiatorAcked : responderAcked) ? .closeWait : .finWait
    }

    /// What an accepted ACK or FIN of a synchronised connection changes besides the windows:
    /// the FIN flags (a FIN marks its sender's end, an ACK of exactly the other's FIN end marks
    /// that FIN acknowledged), the reply flag, the repeat counter and TS.Recent. True when the
    /// segment is the third identical data segment in a row, reported once per flow.
    @inline(__always)
    mutating func noteAccepted(_ segment: TCPSegment, _ fromInitiator: Bool) -> Bool {
        let finSent = DirectionState.Flags.finSent, finAcked = DirectionState.Flags.finAcked
        if fromInitiator {
            if segment.kind == .fin { initiator.set(finSent) }
            if segment.hasAck && responder.flags & (finSent | finAcked) == finSent && segment.ack == responder.end {
                responder.set(finAcked)
            }
        } else {
            if segment.kind == .fin { responder.set(finSent) }
            if segment.hasAck && initiator.flags & (finSent | finAcked) == finSent && segment.ack == initiator.end {
                initiator.set(finAcked)
            }
            set(Flags.seenReply)
        }
        var excess = false
        if segment.length > 0 && countRepeat(segment, fromInitiator) && !has(Flags.retransmissionLogged) {
            set(Flags.retransmissionLogged)
            excess = true
        }
        recordTimestamp(segment, fromInitiator)
        return excess
    }

    /// Counts identical data segments in a row (direction, seq, ack, end, window); true at three.
    @inline(__always)
    mutating func countRepeat(_ segment: TCPSegment, _ fromInitiator: Bool) -> Bool {
        var mixed = segment.seq &* 0x9E37_79B1
        mixed ^= segment.ack &* 0x85EB_CA77
        mixed ^= segment.end &* 0xC2B2_AE3D
        mixed ^= UInt32(segment.window) &* 0x27D4_EB2F
        mixed ^= fromInitiator ? 0x1656_67B1 : 0
        let digest = UInt16(truncatingIfNeeded: mixed ^ (mixed >> 16))
        if repeats > 0 && lastSegment == digest {
            if repeats < 255 { repeats += 1 }
        } else {
            lastSegment = digest
            repeats = 1
        }
        return repeats >= 3
    }

    /// Keeps each side's TS.Recent (for TIME_WAIT reuse and PAWS): RFC 7323 §4.3 takes a TSval
    /// that is not older than the one kept from a segment that is in order, its seq at or
    /// before the peer's highest ack (Last.ACK.sent), so a segment that overtook an earlier one
    /// does not move it.
    @inline(__always)
    mutating func recordTimestamp(_ segment: TCPSegment, _ fromInitiator: Bool) {
        guard let timestamp = segment.options.timestamp else { return }
        let peer = fromInitiator ? responder : initiator
        if peer.has(DirectionState.Flags.maxAckSet) && SequenceNumber.after(segment.seq, peer.maxAck) { return }
        if fromInitiator {
            if !initiator.has(DirectionState.Flags.timestampSeen)
                || !SequenceNumber.before(timestamp.value, initiatorTimestamp) {
                initiatorTimestamp = timestamp.value
                initiator.set(DirectionState.Flags.timestampSeen)
            }
        } else if !responder.has(DirectionState.Flags.timestampSeen)
            || !SequenceNumber.before(timestamp.value, responderTimestamp) {
            responderTimestamp = timestamp.value
            responder.set(DirectionState.Flags.timestampSeen)
        }
    }
}
