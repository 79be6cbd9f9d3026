import Wire

// The handshake (docs/tracking.md, "The handshake"): SYN_SENT, SYN_SENT2, SYN_RECV (after a
// SYN-ACK, or after crossed SYNs) and the ACK that completes it. What the handshake keeps in
// the entry's otherwise unused fields is named in ConnectionEntry+Handshake.swift.

extension ConnectionTracker {
    /// SYN_SENT: only the initiator's SYN was seen. The responder's fields hold the queue of
    /// the initiator's earlier ISNs and the ack of a challenge ACK.
    mutating func synSent(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackResult {
        switch segment.kind {
        case .syn:
            if fromInitiator {
                table[index].noteSYNTimestamp(segment, first: false)
                // Same ISN: a retransmission (no timer refresh, else retries keep it alive).
                if segment.seq == table[index].initiator.isn { return .accept(.synSent) }
                let flooded = table[index].queueSYN(table[index].initiator.isn)
                table[index].initiator = Self.direction(fromSYN: segment)
                refresh(index)
                return .accept(.synSent, flooded ? .synFloodOnFlow : .synResendDiffSeq)
            }
            // The responder's own SYN: simultaneous open (or a split handshake).
            table[index].responder = Self.direction(fromSYN: segment)
            table[index].settleScale()
            table[index].set(EntryFlags.simultaneous)
            table[index].set(EntryFlags.seenReply)
            table[index].forgetSYNTimestamps()
            setState(index, .synSent2)
            refresh(index)
            return .accept(.synSent2, .simultaneousOpen)
        case .synAck:
            guard !fromInitiator else { return .drop(.handshakeOrder, .synackWrongDir, state: .synSent) }
            guard table[index].matchSYN(ack: segment.ack) else {
                return .drop(.badAck, .synackWrongAck, state: .synSent)
            }
            table[index].responder = Self.direction(fromSYN: segment)
            table[index].settleScale()
            // The SYN's (unscaled) window already lets the responder send past its SYN-ACK.
            let edge = segment.seq &+ 1 &+ table[index].initiator.maxWindow
            if SequenceNumber.after(edge, table[index].responder.maxEnd) { table[index].responder.maxEnd = edge }
            table[index].updateWindow(segment, false)
            if table[index].moreFlags & MoreFlags.synTimestamp != 0 && segment.options.timestamp != nil {
                table[index].moreFlags |= MoreFlags.timestampsNegotiated
            }
            table[index].clearHandshakeScratch()
            table[index].moreFlags &= ~(MoreFlags.synTimestamp | MoreFlags.synAfterSynAck)
            table[index].set(EntryFlags.seenReply)
            setState(index, .synRecv)
            refresh(index)
            return .accept(.synRecv, Self.clampEvent(segment))
        case .rst:
            if fromInitiator {
                let initiator = table[index].initiator
                let challenge = table[index].challengeAck == segment.seq
                guard segment.seq == initiator.isn || segment.seq == initiator.isn &+ 1 || challenge else {
                    return .drop(.rstInvalid, .rstOutOfWindow, state: .synSent)
                }
            } else {
                guard segment.ackFlag else {
                    return .drop(.rstInvalid, .rstNoAckInSynSent, state: .synSent)
                }
                // Timestamps first (as Linux): matchSYN may re-synchronise the initiator.
                guard table[index].echoesSYN(segment) else {
                    return .drop(.rstInvalid, .rstTimestampMismatch, state: .synSent)
                }
                guard table[index].matchSYN(ack: segment.ack) else {
                    return .drop(.rstInvalid, .rstBadAck, state: .synSent)
                }
            }
            // Refused or aborted: the entry goes at once.
            removeEntry(index, end: .reset)
            statistics.closed += 1
            return .accept(.close)
        case .fin:
            return .drop(.handshakeOrder, .finBeforeEstablished, state: .synSent)
        case .ack:
            if segment.length > 0 { return .drop(.handshakeOrder, .dataBeforeEstablished, state: .synSent) }
            guard !fromInitiator else { return .drop(.handshakeOrder, .ackBeforeSynack, state: .synSent) }
            // A bare ACK from the responder: a challenge ACK from a stale connection. Let it
            // through unchanged, and remember its ack for the initiator's RST.
            table[index].challengeAck = segment.ack
            return .accept(.synSent, .challengeAck)
        }
    }

    /// SYN_SENT2: bare SYNs crossed; a SYN-ACK must carry its sender's ISN and ack the other's.
    mutating func synSent2(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackResult {
        let sender = fromInitiator ? table[index].initiator : table[index].responder
        let receiver = fromInitiator ? table[index].responder : table[index].initiator
        switch segment.kind {
        case .syn:
            if segment.seq == sender.isn { return .accept(.synSent2) }
            return .drop(.badSeq, .handshakeWrongSeq, state: .synSent2)
        case .synAck:
            guard segment.seq == sender.isn else {
                return .drop(.handshakeOrder, .fourWHSSynackWrongSyn, state: .synSent2)
            }
            guard segment.ack == receiver.isn &+ 1 else { return .drop(.badAck, .synackWrongAck, state: .synSent2) }
            table[index].updateWindow(segment, fromInitiator)
            table[index].set(EntryFlags.synAckByInitiator, fromInitiator)
            table[index].lastSegment = 0
            setState(index, .synRecv)
            refresh(index)
            return .accept(.synRecv)
        case .rst:
            return reset(index, .synSent2, segment, fromInitiator)
        case .fin:
            return .drop(.handshakeOrder, .finBeforeEstablished, state: .synSent2)
        case .ack:
            return .drop(.handshakeOrder, segment.length > 0 ? .dataBeforeEstablished : .ackBeforeSynack,
                         state: .synSent2)
        }
    }

    /// SYN_RECV after a normal SYN, SYN-ACK: the initiator's final ACK is awaited.
    mutating func synRecv(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackResult {
        switch segment.kind {
        case .syn:
            guard fromInitiator else { return .drop(.handshakeOrder, .synToclientOnSynRecv, state: .synRecv) }
            if segment.seq == table[index].initiator.isn {
                // The initiator has not got (or lost) the SYN-ACK: the responder may answer
                // this newer SYN with another ISN (a SYN-cookie responder does, in a new slot).
                table[index].moreFlags |= MoreFlags.synAfterSynAck
                return .accept(.synRecv)
            }
            // A new ISN: the client started over; back to SYN_SENT with it.
            table[index].initiator = Self.direction(fromSYN: segment)
            table[index].responder = DirectionState()
            table[index].clearHandshakeScratch()
            table[index].moreFlags &= ~MoreFlags.synAfterSynAck
            table[index].noteSYNTimestamp(segment, first: true)
            table[index].set(EntryFlags.seenReply, false)
            setState(index, .synSent)
            refresh(index)
            return .accept(.synSent, .synResendDiffSeq)
        case .synAck:
            guard !fromInitiator else { return .drop(.handshakeOrder, .synackWrongDir, state: .synRecv) }
            let initiator = table[index].initiator
            let ackValid = SequenceNumber.within(segment.ack, initiator.isn &+ 1, initiator.end)
            if segment.seq == table[index].responder.isn {
                return ackValid ? .accept(.synRecv) : .drop(.badAck, .synackResendDiffAck, state: .synRecv)
            }
            guard ackValid else { return .drop(.badAck, .synackWrongAck, state: .synRecv) }
            // A retransmission of a SYN-ACK already seen (an alternate) passes unchanged.
            if table[index].synAckAlternate(ack: segment.seq &+ 1) != nil { return .accept(.synRecv) }
            // Another ISN answers only a SYN the initiator sent after the SYN-ACK was seen
            // (RFC 9293 §3.10.7.3): otherwise it is out of the handshake's order.
            guard table[index].moreFlags & MoreFlags.synAfterSynAck != 0 else {
                return .drop(.handshakeOrder, .synackOtherISN, state: .synRecv)
            }
            table[index].moreFlags &= ~MoreFlags.synAfterSynAck
            // Keep the earlier one as an alternate: the initiator may answer either.
            table[index].queueSynAck(table[index].responder.isn)
            table[index].responder = Self.direction(fromSYN: segment)
            table[index].settleScale()
            table[index].updateWindow(segment, false)
            refresh(index)
            return .accept(.synRecv)
        case .rst:
            return reset(index, .synRecv, segment, fromInitiator)
        case .ack, .fin:
            if fromInitiator { return finalAck(index, segment, fromInitiator: true) }
            if segment.length > 0 && !table[index].initiator.has(DirectionFlags.fastOpen) {
                return .drop(.handshakeOrder, .serverDataBeforeAck, state: .synRecv)
            }
            if segment.kind == .ack && segment.length == 0 {
                return .drop(.handshakeOrder, .ackWrongDir, state: .synRecv)
            }
            // Fast Open data from the responder, or the responder closing at once.
            let checked = table[index].checkWindow(segment, fromInitiator: false, checkAck: true)
            if let reason = checked.reason { return .drop(reason, checked.event, state: .synRecv) }
            table[index].updateWindow(segment, false)
            var state = ConnectionState.synRecv
            if segment.kind == .fin {
                table[index].responder.set(DirectionFlags.finSent)
                table[index].clearHandshakeScratch()
                state = .finWait
                setState(index, state)
            }
            refresh(index)
            return .accept(state, checked.event)
        }
    }

    /// SYN_RECV after crossed SYNs: either side may complete with an ACK of the other's ISN.
    mutating func simultaneousSynRecv(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackResult {
        let sender = fromInitiator ? table[index].initiator : table[index].responder
        let receiver = fromInitiator ? table[index].responder : table[index].initiator
        switch segment.kind {
        case .syn:
            if segment.seq == sender.isn { return .accept(.synRecv) }
            return .drop(.badSeq, .handshakeWrongSeq, state: .synRecv)
        case .synAck:
            guard segment.seq == sender.isn else {
                return .drop(.handshakeOrder, .fourWHSSynackWrongSyn, state: .synRecv)
            }
            guard segment.ack == receiver.isn &+ 1 else {
                let repeated = table[index].has(EntryFlags.synAckByInitiator) == fromInitiator
                return .drop(.badAck, repeated ? .synackResendDiffAck : .synackWrongAck, state: .synRecv)
            }
            table[index].updateWindow(segment, fromInitiator)
            return .accept(.synRecv)
        case .rst:
            return reset(index, .synRecv, segment, fromInitiator)
        case .ack, .fin:
            return finalAck(index, segment, fromInitiator: fromInitiator)
        }
    }

    /// The ACK that completes the handshake: it must ack the other side's ISN + 1 (up to the
    /// data of its SYN-ACK) and pass the window checks; data and FIN may ride on it.
    private mutating func finalAck(_ index: Int, _ segment: TCPSegment, fromInitiator: Bool) -> TrackResult {
        let receiver = fromInitiator ? table[index].responder : table[index].initiator
        if !SequenceNumber.within(segment.ack, receiver.isn &+ 1, receiver.end) {
            guard fromInitiator && !table[index].has(EntryFlags.simultaneous),
                  let alternate = table[index].synAckAlternate(ack: segment.ack) else {
                return .drop(.badAck, .finalAckWrong, state: .synRecv)
            }
            table[index].responder.isn = alternate
            table[index].responder.end = alternate &+ 1
            table[index].responder.maxEnd = alternate &+ 1
        }
        let checked = table[index].checkWindow(segment, fromInitiator: fromInitiator, checkAck: true)
        if let reason = checked.reason { return .drop(reason, checked.event, state: .synRecv) }
        table[index].updateWindow(segment, fromInitiator)
        table[index].clearHandshakeScratch()
        table[index].moreFlags &= ~MoreFlags.synAfterSynAck
        table[index].set(EntryFlags.assured)
        table[index].set(EntryFlags.seenReply)
        if segment.kind == .fin {
            if fromInitiator {
                table[index].initiator.set(DirectionFlags.finSent)
            } else {
                table[index].responder.set(DirectionFlags.finSent)
            }
        }
        table[index].recordTimestamp(segment, fromInitiator)
        let state = table[index].closingState
        setState(index, state)
        refresh(index)
        return .accept(state, checked.event)
    }
}
