import Wire

// The synchronised states (docs/tracking.md, "Synchronised states"): ESTABLISHED and the
// closing states, a SYN in TIME_WAIT, CLOSE after a RST, and the timestamp checks.

extension ConnectionTracker {
    /// ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT (a TIME_WAIT SYN goes to
    /// `timeWaitSYN`).
    @inline(__always)
    mutating func synchronized(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackResult {
        let state = table[index].connectionState ?? .established
        switch segment.kind {
        case .ack, .fin:
            if configuration.paws || configuration.timestampsStrict,
               let event = timestampRefusal(index, segment, fromInitiator) {
                return .drop(.badTimestamp, event, state: state)
            }
            return dataSegment(index, state, segment, fromInitiator)
        case .rst:
            return reset(index, state, segment, fromInitiator)
        case .syn:
            if !fromInitiator { return .drop(.synInEstablished, .synToclient, state: state) }
            if state != .established { return .drop(.synInEstablished, .synInClosing, state: state) }
            let resend = segment.seq == table[index].initiator.isn
            return .drop(.synInEstablished, resend ? .synResend : .synNewISN, state: state)
        case .synAck:
            if fromInitiator || state == .timeWait {
                return .drop(.handshakeOrder, .synackWrongDir, state: state)
            }
            // A repeat of the handshake's SYN-ACK (its ACK was lost) is let through unchanged.
            let initiator = table[index].initiator
            if segment.seq == table[index].responder.isn
                && SequenceNumber.after(segment.ack, initiator.isn)
                && !SequenceNumber.after(segment.ack, initiator.end) {
                return .accept(state)
            }
            return .drop(.synInEstablished, .synackDiff, state: state)
        }
    }

    /// An ACK or FIN (with or without data) on a synchronised connection.
    @inline(__always)
    private mutating func dataSegment(_ index: Int, _ state: ConnectionState, _ segment: TCPSegment,
                                      _ fromInitiator: Bool) -> TrackResult {
        var checkAck = true
        var resumeEvent: TrackerEvent?
        if table[index].resumeFlags & ConnectionEntry.ResumeFlags.resuming != 0 {
            let step = resume(index, state, segment, fromInitiator: fromInitiator)
            if let drop = step.drop { return drop }
            checkAck = step.checkAck
            resumeEvent = step.event
        }
        if table[index].has(EntryFlags.liberal) && !table[index].has(EntryFlags.seenReply) {
            // Picked up mid-stream and the other side has not spoken: skip S3/S4, and learn
            // the other side from its first segment.
            if fromInitiator {
                checkAck = false
            } else if table[index].responder.maxWindow == 0 {
                Self.pickUp(&table[index].responder, segment)
            }
        }
        let checked = table[index].applyWindow(segment, fromInitiator: fromInitiator, checkAck: checkAck)
        if let reason = checked.reason {
            return .drop(reason, checked.event, state: state,
                         bounds: table[index].dataBounds(fromInitiator: fromInitiator))
        }
        var event = resumeEvent ?? checked.event
        if table[index].noteAccepted(segment, fromInitiator), event == nil { event = .retransmissionExcess }
        let newState = table[index].closingState
        if newState != state { setState(index, newState) }
        refresh(index)
        return .accept(newState, event)
    }

    /// A SYN in TIME_WAIT: a new connection when its seq is after the sender's old end, or
    /// its TSval after the sender's last (RFC 9293, RFC 6191); else `syn_in_established`.
    mutating func timeWaitSYN(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool, key: FlowKey,
                                      hash: UInt64, reversed: Bool) -> TrackerEvaluation {
        let sender = fromInitiator ? table[index].initiator : table[index].responder
        let lastTimestamp = fromInitiator ? table[index].initiatorTimestamp : table[index].responderTimestamp
        var newer = SequenceNumber.after(segment.seq, sender.end)
        if !newer, let timestamp = segment.options.timestamp, sender.has(DirectionFlags.timestampSeen),
           SequenceNumber.after(timestamp.value, lastTimestamp) {
            newer = true
        }
        guard newer else { return .drop(.synInEstablished, .timeWaitOldISN, state: .timeWait) }
        return .needsAdmission(NewFlowRequest(kind: .tcpSyn, hash: hash, reversed: reversed, reuseIndex: Int32(index),
                                event: .timeWaitReuse))
    }

    /// CLOSE (after a valid RST): stragglers in the window pass without refreshing the timer;
    /// new data from the side that sent the RST is suspicious.
    mutating func closed(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackResult {
        switch segment.kind {
        case .rst:
            return .accept(.close)
        case .syn, .synAck:
            return .drop(.handshakeOrder, .synackWrongDir, state: .close)
        case .ack, .fin:
            let checked = table[index].checkWindow(segment, fromInitiator: fromInitiator, checkAck: true)
            if let reason = checked.reason { return .drop(reason, checked.event, state: .close) }
            table[index].updateWindow(segment, fromInitiator)
            let resetBit = fromInitiator ? ConnectionEntry.MoreFlags.resetByInitiator
                : ConnectionEntry.MoreFlags.resetByResponder
            if segment.length > 0 && table[index].moreFlags & resetBit != 0
                && table[index].moreFlags & ConnectionEntry.MoreFlags.injectionLogged == 0 {
                table[index].moreFlags |= ConnectionEntry.MoreFlags.injectionLogged
                return .accept(.close, .rstInjectionSuspected)
            }
            return .accept(.close, checked.event)
        }
    }


    /// Seconds after which a side's TS.Recent is too old to judge by (RFC 7323 §5.5: 24 days).
    static let pawsIdleSeconds: UInt32 = 24 * 86_400

    /// `set tcp paws` and `set tcp timestamps strict` on an ACK or FIN of a synchronised
    /// connection: the event of its refusal, or nil. PAWS allows Linux's one tick of slack
    /// (TCP_PAWS_WINDOW) and skips a connection idle for 24 days (judged by its last accepted
    /// packet, either way).
    func timestampRefusal(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackerEvent? {
        guard let timestamp = segment.options.timestamp else {
            let negotiated = table[index].moreFlags & MoreFlags.timestampsNegotiated != 0
            return configuration.timestampsStrict && negotiated ? .timestampMissing : nil
        }
        guard configuration.paws else { return nil }
        let sender = fromInitiator ? table[index].initiator : table[index].responder
        guard sender.has(DirectionFlags.timestampSeen),
              nowFloor &- table[index].lastSeenSeconds <= Self.pawsIdleSeconds else { return nil }
        let recent = fromInitiator ? table[index].initiatorTimestamp : table[index].responderTimestamp
        return SequenceNumber.before(timestamp.value, recent &- 1) ? .pawsOldTimestamp : nil
    }
}
