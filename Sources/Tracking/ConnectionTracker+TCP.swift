import Wire

// The TCP state machine (tcp-tracking.md §3.2, the strict synwall table): one function per
// state, every refusal a drop with a reason and an event, state changes through `setState`.

extension ConnectionTracker {
    typealias Entry = UnsafeMutablePointer<ConnectionEntry>
    typealias DirectionFlags = DirectionState.Flags
    typealias EntryFlags = ConnectionEntry.Flags
    typealias MoreFlags = ConnectionEntry.MoreFlags

    @inline(__always)
    mutating func trackTCP(_ packet: Packet, _ header: TCPHeader, kernelInvalid: Bool = false) -> TrackerEvaluation {
        let classified = TCPFlagCheck.classify(header.flags)
        guard let kind = classified.kind else { return .drop(.invalidFlags, classified.event) }
        let (key, reversed) = FlowKey.make(source: packet.source, sourcePort: header.sourcePort,
                                           destination: packet.destination, destinationPort: header.destinationPort,
                                           proto: 6)
        let hash = table.hash(key)
        let segment = TCPSegment(header, kind: kind)
        guard let index = lookup(key, hash: hash) else {
            return tcpWithoutEntry(segment, key: key, hash: hash, reversed: reversed)
        }
        let entry = table.entries + index
        let fromInitiator = entry.pointee.has(EntryFlags.initiatorIsHigh) == reversed
        belongs(to: index, fromInitiator: fromInitiator)
        var offloaded = entry.pointee.moreFlags & ConnectionEntry.MoreFlags.offloaded != 0
        if offloaded, configuration.offloadAfter == 0 {
            // Offloaded before a reload or restart that turned offload off: the attach rules no
            // longer pass its segments; its windows are learned again once, then checked.
            entry.pointee.moreFlags &= ~ConnectionEntry.MoreFlags.offloaded
            entry.pointee.resumeFlags |= ConnectionEntry.ResumeFlags.resuming | ConnectionEntry.ResumeFlags.logged
            offloaded = false
        }
        if offloaded {
            // The kernel passed its plain segments meanwhile: what synwall saved is behind.
            if kernelInvalid {
                statistics.offloadKernelInvalid += 1
                return .drop(.badSeq, .kernelInvalid, state: entry.pointee.connectionState)
            }
            entry.pointee.resumeFlags |= ConnectionEntry.ResumeFlags.resuming | ConnectionEntry.ResumeFlags.logged
        }
        var result: TrackResult
        switch entry.pointee.connectionState {
        case .synSent?:
            result = synSent(index, segment, fromInitiator)
        case .synSent2?:
            result = synSent2(index, segment, fromInitiator)
        case .synRecv?:
            result = entry.pointee.has(EntryFlags.simultaneous)
                ? simultaneousSynRecv(index, segment, fromInitiator) : synRecv(index, segment, fromInitiator)
        case .close?:
            if segment.kind == .syn {
                return .needsAdmission(NewFlowRequest(kind: .tcpSyn, key: key, hash: hash, reversed: reversed,
                                                      reuseIndex: index))
            }
            result = closed(index, segment, fromInitiator)
        case .timeWait? where segment.kind == .syn:
            return timeWaitSYN(index, segment, fromInitiator, key: key, hash: hash, reversed: reversed)
        case .established?, .finWait?, .closeWait?, .lastAck?, .timeWait?:
            result = synchronized(index, segment, fromInitiator)
        default:
            return .drop(.noConnection, .noconData)
        }
        if result.verdict == .accept && result.event == nil { result.event = segment.anomaly }
        if configuration.offloadAfter > 0 { considerOffload(index, segment, offloaded: offloaded, &result) }
        return .decided(result)
    }

    /// Offload (docs/offload.md): an ESTABLISHED connection that passed `offloadAfter` packets
    /// each way with no anomaly starts; a FIN or RST of an offloaded one ends it, so its close is
    /// synwall's to follow packet by packet. An anomaly rules a connection out for good.
    @inline(__always)
    private mutating func considerOffload(_ index: Int, _ segment: TCPSegment, offloaded: Bool,
                                          _ result: inout TrackResult) {
        let entry = table.entries + index
        guard entry.pointee.connectionState != nil else { return }
        if offloaded {
            if result.verdict == .accept, segment.kind == .fin || segment.kind == .rst {
                entry.pointee.moreFlags &= ~ConnectionEntry.MoreFlags.offloaded
                statistics.offloadEnded += 1
                result.offload = .end
            }
            return
        }
        guard entry.pointee.moreFlags & ConnectionEntry.MoreFlags.offloadRefused == 0 else { return }
        if result.event?.isOffloadBarrier == true || result.verdict == .drop {
            entry.pointee.moreFlags |= ConnectionEntry.MoreFlags.offloadRefused
            return
        }
        let after = configuration.offloadAfter
        guard result.verdict == .accept, result.state == .established, segment.kind == .ack,
              entry.pointee.initiatorPackets >= after, entry.pointee.responderPackets >= after,
              entry.pointee.resumeFlags & ConnectionEntry.ResumeFlags.resuming == 0 else { return }
        entry.pointee.moreFlags |= ConnectionEntry.MoreFlags.offloaded
        statistics.offloaded += 1
        result.offload = .start
    }

    /// A packet with no entry: only a SYN (or, with pickup, an ACK) may start one.
    private mutating func tcpWithoutEntry(_ segment: TCPSegment, key: FlowKey, hash: UInt64,
                                          reversed: Bool) -> TrackerEvaluation {
        switch segment.kind {
        case .syn:
            return .needsAdmission(NewFlowRequest(kind: .tcpSyn, key: key, hash: hash, reversed: reversed))
        case .synAck:
            return .drop(.noConnection, .noconSynack)
        case .fin:
            return .drop(.noConnection, .noconFin)
        case .rst:
            return .drop(.noConnection, .noconRst)
        case .ack:
            if configuration.pickup {
                return .needsAdmission(NewFlowRequest(kind: .tcpPickup, key: key, hash: hash, reversed: reversed))
            }
            return .drop(.noConnection, segment.length > 0 ? .noconData : .noconAck)
        }
    }

    // MARK: Handshake

    /// SYN_SENT: only the initiator's SYN was seen. The responder's fields hold the queue of
    /// the initiator's earlier ISNs and the ack of a challenge ACK.
    private mutating func synSent(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackResult {
        let entry = table.entries + index
        switch segment.kind {
        case .syn:
            if fromInitiator {
                Self.noteSYNTimestamp(entry, segment, first: false)
                // Same ISN: a retransmission (no timer refresh, else retries keep it alive).
                if segment.seq == entry.pointee.initiator.isn { return .accept(.synSent) }
                let flooded = Self.queueSYN(entry, entry.pointee.initiator.isn)
                entry.pointee.initiator = Self.direction(fromSYN: segment)
                refresh(index)
                return .accept(.synSent, flooded ? .synFloodOnFlow : .synResendDiffSeq)
            }
            // The responder's own SYN: simultaneous open (or a split handshake).
            entry.pointee.responder = Self.direction(fromSYN: segment)
            Self.settleScale(entry)
            entry.pointee.set(EntryFlags.simultaneous)
            entry.pointee.set(EntryFlags.seenReply)
            entry.pointee.moreFlags &= ~MoreFlags.synTimestamp
            entry.pointee.initiatorTimestamp = 0
            entry.pointee.lastSegment = 0
            setState(index, .synSent2)
            refresh(index)
            return .accept(.synSent2, .simultaneousOpen)
        case .synAck:
            guard !fromInitiator else { return .drop(.handshakeOrder, .synackWrongDir, state: .synSent) }
            guard Self.matchSYN(entry, ack: segment.ack) else {
                return .drop(.badAck, .synackWrongAck, state: .synSent)
            }
            entry.pointee.responder = Self.direction(fromSYN: segment)
            Self.settleScale(entry)
            // The SYN's (unscaled) window already lets the responder send past its SYN-ACK.
            let edge = segment.seq &+ 1 &+ entry.pointee.initiator.maxWindow
            if SequenceNumber.after(edge, entry.pointee.responder.maxEnd) { entry.pointee.responder.maxEnd = edge }
            TCPWindow.update(sender: &entry.pointee.responder, receiver: &entry.pointee.initiator, segment)
            if entry.pointee.moreFlags & MoreFlags.synTimestamp != 0 && segment.options.timestamp != nil {
                entry.pointee.moreFlags |= MoreFlags.timestampsNegotiated
            }
            entry.pointee.initiatorTimestamp = 0
            entry.pointee.responderTimestamp = 0
            entry.pointee.lastSegment = 0
            entry.pointee.moreFlags &= ~(MoreFlags.synTimestamp | MoreFlags.synAfterSynAck)
            entry.pointee.set(EntryFlags.seenReply)
            setState(index, .synRecv)
            refresh(index)
            return .accept(.synRecv, Self.clampEvent(segment))
        case .rst:
            if fromInitiator {
                let initiator = entry.pointee.initiator
                let challenge = entry.pointee.responder.has(DirectionFlags.maxAckSet)
                    && segment.seq == entry.pointee.responder.maxAck
                guard segment.seq == initiator.isn || segment.seq == initiator.isn &+ 1 || challenge else {
                    return .drop(.rstInvalid, .rstOutOfWindow, state: .synSent)
                }
            } else {
                guard segment.ackFlag else {
                    return .drop(.rstInvalid, .rstNoAckInSynSent, state: .synSent)
                }
                // Timestamps first (as Linux): matchSYN may re-synchronise the initiator.
                guard Self.echoesSYN(entry, segment) else {
                    return .drop(.rstInvalid, .rstTimestampMismatch, state: .synSent)
                }
                guard Self.matchSYN(entry, ack: segment.ack) else {
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
            entry.pointee.responder.maxAck = segment.ack
            entry.pointee.responder.set(DirectionFlags.maxAckSet)
            return .accept(.synSent, .challengeAck)
        }
    }

    /// SYN_SENT2: bare SYNs crossed; a SYN-ACK must carry its sender's ISN and ack the other's.
    private mutating func synSent2(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackResult {
        let entry = table.entries + index
        let sender = fromInitiator ? entry.pointee.initiator : entry.pointee.responder
        let receiver = fromInitiator ? entry.pointee.responder : entry.pointee.initiator
        switch segment.kind {
        case .syn:
            if segment.seq == sender.isn { return .accept(.synSent2) }
            return .drop(.badSeq, .handshakeWrongSeq, state: .synSent2)
        case .synAck:
            guard segment.seq == sender.isn else {
                return .drop(.handshakeOrder, .fourWHSSynackWrongSyn, state: .synSent2)
            }
            guard segment.ack == receiver.isn &+ 1 else { return .drop(.badAck, .synackWrongAck, state: .synSent2) }
            updateWindow(entry, segment, fromInitiator)
            entry.pointee.set(EntryFlags.synAckByInitiator, fromInitiator)
            entry.pointee.lastSegment = 0
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
    private mutating func synRecv(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackResult {
        let entry = table.entries + index
        switch segment.kind {
        case .syn:
            guard fromInitiator else { return .drop(.handshakeOrder, .synToclientOnSynRecv, state: .synRecv) }
            if segment.seq == entry.pointee.initiator.isn {
                // The initiator has not got (or lost) the SYN-ACK: the responder may answer
                // this newer SYN with another ISN (a SYN-cookie responder does, in a new slot).
                entry.pointee.moreFlags |= MoreFlags.synAfterSynAck
                return .accept(.synRecv)
            }
            // A new ISN: the client started over; back to SYN_SENT with it.
            entry.pointee.initiator = Self.direction(fromSYN: segment)
            entry.pointee.responder = DirectionState()
            entry.pointee.initiatorTimestamp = 0
            entry.pointee.responderTimestamp = 0
            entry.pointee.lastSegment = 0
            entry.pointee.moreFlags &= ~MoreFlags.synAfterSynAck
            Self.noteSYNTimestamp(entry, segment, first: true)
            entry.pointee.set(EntryFlags.seenReply, false)
            setState(index, .synSent)
            refresh(index)
            return .accept(.synSent, .synResendDiffSeq)
        case .synAck:
            guard !fromInitiator else { return .drop(.handshakeOrder, .synackWrongDir, state: .synRecv) }
            let initiator = entry.pointee.initiator
            let ackValid = SequenceNumber.within(segment.ack, initiator.isn &+ 1, initiator.end)
            if segment.seq == entry.pointee.responder.isn {
                return ackValid ? .accept(.synRecv) : .drop(.badAck, .synackResendDiffAck, state: .synRecv)
            }
            guard ackValid else { return .drop(.badAck, .synackWrongAck, state: .synRecv) }
            // A retransmission of a SYN-ACK already seen (an alternate) passes unchanged.
            if Self.synAckAlternate(entry, ack: segment.seq &+ 1) != nil { return .accept(.synRecv) }
            // Another ISN answers only a SYN the initiator sent after the SYN-ACK was seen
            // (RFC 9293 §3.10.7.3): otherwise it is out of the handshake's order.
            guard entry.pointee.moreFlags & MoreFlags.synAfterSynAck != 0 else {
                return .drop(.handshakeOrder, .synackOtherISN, state: .synRecv)
            }
            entry.pointee.moreFlags &= ~MoreFlags.synAfterSynAck
            // Keep the earlier one as an alternate: the initiator may answer either.
            Self.queueSynAck(entry, entry.pointee.responder.isn)
            entry.pointee.responder = Self.direction(fromSYN: segment)
            Self.settleScale(entry)
            updateWindow(entry, segment, false)
            refresh(index)
            return .accept(.synRecv)
        case .rst:
            return reset(index, .synRecv, segment, fromInitiator)
        case .ack, .fin:
            if fromInitiator { return finalAck(index, segment, fromInitiator: true) }
            if segment.length > 0 && !entry.pointee.initiator.has(DirectionFlags.fastOpen) {
                return .drop(.handshakeOrder, .serverDataBeforeAck, state: .synRecv)
            }
            if segment.kind == .ack && segment.length == 0 {
                return .drop(.handshakeOrder, .ackWrongDir, state: .synRecv)
            }
            // Fast Open data from the responder, or the responder closing at once.
            let checked = checkWindow(entry, segment, fromInitiator: false, checkAck: true)
            if let reason = checked.reason { return .drop(reason, checked.event, state: .synRecv) }
            updateWindow(entry, segment, false)
            var state = ConnectionState.synRecv
            if segment.kind == .fin {
                entry.pointee.responder.set(DirectionFlags.finSent)
                entry.pointee.initiatorTimestamp = 0
                entry.pointee.responderTimestamp = 0
                entry.pointee.lastSegment = 0
                state = .finWait
                setState(index, state)
            }
            refresh(index)
            return .accept(state, checked.event)
        }
    }

    /// SYN_RECV after crossed SYNs: either side may complete with an ACK of the other's ISN.
    private mutating func simultaneousSynRecv(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackResult {
        let entry = table.entries + index
        let sender = fromInitiator ? entry.pointee.initiator : entry.pointee.responder
        let receiver = fromInitiator ? entry.pointee.responder : entry.pointee.initiator
        switch segment.kind {
        case .syn:
            if segment.seq == sender.isn { return .accept(.synRecv) }
            return .drop(.badSeq, .handshakeWrongSeq, state: .synRecv)
        case .synAck:
            guard segment.seq == sender.isn else {
                return .drop(.handshakeOrder, .fourWHSSynackWrongSyn, state: .synRecv)
            }
            guard segment.ack == receiver.isn &+ 1 else {
                let repeated = entry.pointee.has(EntryFlags.synAckByInitiator) == fromInitiator
                return .drop(.badAck, repeated ? .synackResendDiffAck : .synackWrongAck, state: .synRecv)
            }
            updateWindow(entry, segment, fromInitiator)
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
        let entry = table.entries + index
        let receiver = fromInitiator ? entry.pointee.responder : entry.pointee.initiator
        if !SequenceNumber.within(segment.ack, receiver.isn &+ 1, receiver.end) {
            guard fromInitiator && !entry.pointee.has(EntryFlags.simultaneous),
                  let alternate = Self.synAckAlternate(entry, ack: segment.ack) else {
                return .drop(.badAck, .finalAckWrong, state: .synRecv)
            }
            entry.pointee.responder.isn = alternate
            entry.pointee.responder.end = alternate &+ 1
            entry.pointee.responder.maxEnd = alternate &+ 1
        }
        let checked = checkWindow(entry, segment, fromInitiator: fromInitiator, checkAck: true)
        if let reason = checked.reason { return .drop(reason, checked.event, state: .synRecv) }
        updateWindow(entry, segment, fromInitiator)
        entry.pointee.initiatorTimestamp = 0
        entry.pointee.responderTimestamp = 0
        entry.pointee.lastSegment = 0
        entry.pointee.moreFlags &= ~MoreFlags.synAfterSynAck
        entry.pointee.set(EntryFlags.assured)
        entry.pointee.set(EntryFlags.seenReply)
        if segment.kind == .fin {
            if fromInitiator {
                entry.pointee.initiator.set(DirectionFlags.finSent)
            } else {
                entry.pointee.responder.set(DirectionFlags.finSent)
            }
        }
        recordTimestamp(entry, segment, fromInitiator)
        let state = Self.closingState(entry)
        setState(index, state)
        refresh(index)
        return .accept(state, checked.event)
    }

    // MARK: Synchronised states

    /// ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT (a TIME_WAIT SYN goes to
    /// `timeWaitSYN`).
    @inline(__always)
    private mutating func synchronized(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackResult {
        let entry = table.entries + index
        let state = entry.pointee.connectionState ?? .established
        switch segment.kind {
        case .ack, .fin:
            if configuration.paws || configuration.timestampsStrict,
               let event = timestampRefusal(entry, segment, fromInitiator) {
                return .drop(.badTimestamp, event, state: state)
            }
            return dataSegment(index, state, segment, fromInitiator)
        case .rst:
            return reset(index, state, segment, fromInitiator)
        case .syn:
            if !fromInitiator { return .drop(.synInEstablished, .synToclient, state: state) }
            if state != .established { return .drop(.synInEstablished, .synInClosing, state: state) }
            let resend = segment.seq == entry.pointee.initiator.isn
            return .drop(.synInEstablished, resend ? .synResend : .synNewISN, state: state)
        case .synAck:
            if fromInitiator || state == .timeWait {
                return .drop(.handshakeOrder, .synackWrongDir, state: state)
            }
            // A repeat of the handshake's SYN-ACK (its ACK was lost) is let through unchanged.
            let initiator = entry.pointee.initiator
            if segment.seq == entry.pointee.responder.isn
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
        let entry = table.entries + index
        var checkAck = true
        var resumeEvent: TrackerEvent?
        if entry.pointee.resumeFlags & ConnectionEntry.ResumeFlags.resuming != 0 {
            let step = resume(index, state, segment, fromInitiator: fromInitiator)
            if let drop = step.drop { return drop }
            checkAck = step.checkAck
            resumeEvent = step.event
        }
        if entry.pointee.has(EntryFlags.liberal) && !entry.pointee.has(EntryFlags.seenReply) {
            // Picked up mid-stream and the other side has not spoken: skip S3/S4, and learn
            // the other side from its first segment.
            if fromInitiator {
                checkAck = false
            } else if entry.pointee.responder.maxWindow == 0 {
                Self.pickUp(&entry.pointee.responder, segment)
            }
        }
        let checked = fromInitiator
            ? TCPWindow.apply(sender: &entry.pointee.initiator, receiver: &entry.pointee.responder, segment,
                              checkAck: checkAck)
            : TCPWindow.apply(sender: &entry.pointee.responder, receiver: &entry.pointee.initiator, segment,
                              checkAck: checkAck)
        if let reason = checked.reason {
            let bounds = fromInitiator
                ? WindowBounds.data(sender: entry.pointee.initiator, receiver: entry.pointee.responder)
                : WindowBounds.data(sender: entry.pointee.responder, receiver: entry.pointee.initiator)
            return .drop(reason, checked.event, state: state, bounds: bounds)
        }
        var event = resumeEvent ?? checked.event
        if fromInitiator {
            if segment.kind == .fin { entry.pointee.initiator.set(DirectionFlags.finSent) }
            if segment.hasAck && entry.pointee.responder.flags & (DirectionFlags.finSent | DirectionFlags.finAcked)
                == DirectionFlags.finSent && segment.ack == entry.pointee.responder.end {
                entry.pointee.responder.set(DirectionFlags.finAcked)
            }
        } else {
            if segment.kind == .fin { entry.pointee.responder.set(DirectionFlags.finSent) }
            if segment.hasAck && entry.pointee.initiator.flags & (DirectionFlags.finSent | DirectionFlags.finAcked)
                == DirectionFlags.finSent && segment.ack == entry.pointee.initiator.end {
                entry.pointee.initiator.set(DirectionFlags.finAcked)
            }
            entry.pointee.set(EntryFlags.seenReply)
        }
        if segment.length > 0 && countRepeat(entry, segment, fromInitiator)
            && !entry.pointee.has(EntryFlags.retransmissionLogged) {
            entry.pointee.set(EntryFlags.retransmissionLogged)
            if event == nil { event = .retransmissionExcess }
        }
        recordTimestamp(entry, segment, fromInitiator)
        let newState = Self.closingState(entry)
        if newState != state { setState(index, newState) }
        refresh(index)
        return .accept(newState, event)
    }

    /// A SYN in TIME_WAIT: a new connection when its seq is after the sender's old end, or
    /// its TSval after the sender's last (RFC 9293, RFC 6191); else `syn_in_established`.
    private mutating func timeWaitSYN(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool, key: FlowKey,
                                      hash: UInt64, reversed: Bool) -> TrackerEvaluation {
        let entry = table.entries + index
        let sender = fromInitiator ? entry.pointee.initiator : entry.pointee.responder
        let lastTimestamp = fromInitiator ? entry.pointee.initiatorTimestamp : entry.pointee.responderTimestamp
        var newer = SequenceNumber.after(segment.seq, sender.end)
        if !newer, let timestamp = segment.options.timestamp, sender.has(DirectionFlags.timestampSeen),
           SequenceNumber.after(timestamp.value, lastTimestamp) {
            newer = true
        }
        guard newer else { return .drop(.synInEstablished, .timeWaitOldISN, state: .timeWait) }
        return .needsAdmission(NewFlowRequest(kind: .tcpSyn, key: key, hash: hash, reversed: reversed, reuseIndex: index,
                                event: .timeWaitReuse))
    }

    /// CLOSE (after a valid RST): stragglers in the window pass without refreshing the timer;
    /// new data from the side that sent the RST is suspicious.
    private mutating func closed(_ index: Int, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackResult {
        let entry = table.entries + index
        switch segment.kind {
        case .rst:
            return .accept(.close)
        case .syn, .synAck:
            return .drop(.handshakeOrder, .synackWrongDir, state: .close)
        case .ack, .fin:
            let checked = checkWindow(entry, segment, fromInitiator: fromInitiator, checkAck: true)
            if let reason = checked.reason { return .drop(reason, checked.event, state: .close) }
            updateWindow(entry, segment, fromInitiator)
            let resetBit = fromInitiator ? ConnectionEntry.MoreFlags.resetByInitiator
                : ConnectionEntry.MoreFlags.resetByResponder
            if segment.length > 0 && entry.pointee.moreFlags & resetBit != 0
                && entry.pointee.moreFlags & ConnectionEntry.MoreFlags.injectionLogged == 0 {
                entry.pointee.moreFlags |= ConnectionEntry.MoreFlags.injectionLogged
                return .accept(.close, .rstInjectionSuspected)
            }
            return .accept(.close, checked.event)
        }
    }

    /// A RST in any state after SYN_SENT (§6.1): exact closes, in the window but inexact
    /// passes with the timeout cut (or is dropped with `rstExact`), anything else is invalid.
    private mutating func reset(_ index: Int, _ state: ConnectionState, _ segment: TCPSegment,
                                _ fromInitiator: Bool) -> TrackResult {
        let entry = table.entries + index
        if entry.pointee.resumeFlags & ConnectionEntry.ResumeFlags.resuming != 0,
           let result = resumingReset(index, state, segment, fromInitiator: fromInitiator) {
            return result
        }
        let outcome = fromInitiator
            ? TCPWindow.checkReset(sender: entry.pointee.initiator, receiver: entry.pointee.responder, segment,
                                   exactOnly: configuration.rstExact)
            : TCPWindow.checkReset(sender: entry.pointee.responder, receiver: entry.pointee.initiator, segment,
                                   exactOnly: configuration.rstExact)
        switch outcome {
        case .invalid(let event):
            let bounds = fromInitiator
                ? WindowBounds.reset(sender: entry.pointee.initiator, receiver: entry.pointee.responder)
                : WindowBounds.reset(sender: entry.pointee.responder, receiver: entry.pointee.initiator)
            return .drop(.rstInvalid, event, state: state, bounds: bounds)
        case .inexact:
            cutTimeout(index)
            return .accept(state, .rstInWindowInexact)
        case .exact:
            if state == .synRecv || state == .synSent2 {
                // A RST ends a handshake (RFC 9293 §3.10.7.3): the entry goes at once, and
                // later non-SYN packets of the 4-tuple are `no_connection`.
                removeEntry(index, end: .reset)
                statistics.closed += 1
                return .accept(.close)
            }
            entry.pointee.moreFlags |= fromInitiator ? ConnectionEntry.MoreFlags.resetByInitiator
                : ConnectionEntry.MoreFlags.resetByResponder
            setState(index, .close)
            refresh(index)
            return .accept(.close)
        }
    }

    // MARK: Helpers

    @inline(__always)
    func checkWindow(_ entry: Entry, _ segment: TCPSegment, fromInitiator: Bool,
                     checkAck: Bool) -> (reason: DropReason?, event: TrackerEvent?) {
        fromInitiator
            ? TCPWindow.check(sender: entry.pointee.initiator, receiver: entry.pointee.responder, segment,
                              checkAck: checkAck)
            : TCPWindow.check(sender: entry.pointee.responder, receiver: entry.pointee.initiator, segment,
                              checkAck: checkAck)
    }

    @inline(__always)
    func updateWindow(_ entry: Entry, _ segment: TCPSegment, _ fromInitiator: Bool) {
        if fromInitiator {
            TCPWindow.update(sender: &entry.pointee.initiator, receiver: &entry.pointee.responder, segment)
        } else {
            TCPWindow.update(sender: &entry.pointee.responder, receiver: &entry.pointee.initiator, segment)
        }
    }

    /// Both shifts are 0 unless both SYNs carried window scaling (RFC 7323).
    static func settleScale(_ entry: Entry) {
        if !(entry.pointee.initiator.has(DirectionFlags.windowScaleSeen)
            && entry.pointee.responder.has(DirectionFlags.windowScaleSeen)) {
            entry.pointee.initiator.scale = 0
            entry.pointee.responder.scale = 0
        }
    }

    /// The state the FIN flags describe (no FIN: ESTABLISHED).
    @inline(__always)
    static func closingState(_ entry: Entry) -> ConnectionState {
        let initiator = entry.pointee.initiator.flags
        let responder = entry.pointee.responder.flags
        let initiatorFin = initiator & DirectionFlags.finSent != 0
        let responderFin = responder & DirectionFlags.finSent != 0
        if !initiatorFin && !responderFin { return .established }
        let initiatorAcked = initiator & DirectionFlags.finAcked != 0
        let responderAcked = responder & DirectionFlags.finAcked != 0
        if initiatorFin && responderFin { return initiatorAcked && responderAcked ? .timeWait : .lastAck }
        return (initiatorFin ? initiatorAcked : responderAcked) ? .closeWait : .finWait
    }

    /// Counts identical data segments in a row (direction, seq, ack, end, window); true at three.
    @inline(__always)
    func countRepeat(_ entry: Entry, _ segment: TCPSegment, _ fromInitiator: Bool) -> Bool {
        var mixed = segment.seq &* 0x9E37_79B1
        mixed ^= segment.ack &* 0x85EB_CA77
        mixed ^= segment.end &* 0xC2B2_AE3D
        mixed ^= UInt32(segment.window) &* 0x27D4_EB2F
        mixed ^= fromInitiator ? 0x1656_67B1 : 0
        let digest = UInt16(truncatingIfNeeded: mixed ^ (mixed >> 16))
        if entry.pointee.repeats > 0 && entry.pointee.lastSegment == digest {
            if entry.pointee.repeats < 255 { entry.pointee.repeats += 1 }
        } else {
            entry.pointee.lastSegment = digest
            entry.pointee.repeats = 1
        }
        return entry.pointee.repeats >= 3
    }

    /// Keeps each side's TS.Recent (for TIME_WAIT reuse and PAWS): RFC 7323 §4.3 takes a TSval
    /// that is not older than the one kept from a segment that is in order, its seq at or
    /// before the peer's highest ack (Last.ACK.sent), so a segment that overtook an earlier one
    /// does not move it.
    @inline(__always)
    func recordTimestamp(_ entry: Entry, _ segment: TCPSegment, _ fromInitiator: Bool) {
        guard let timestamp = segment.options.timestamp else { return }
        let peer = fromInitiator ? entry.pointee.responder : entry.pointee.initiator
        if peer.has(DirectionFlags.maxAckSet) && SequenceNumber.after(segment.seq, peer.maxAck) { return }
        if fromInitiator {
            if !entry.pointee.initiator.has(DirectionFlags.timestampSeen)
                || !SequenceNumber.before(timestamp.value, entry.pointee.initiatorTimestamp) {
                entry.pointee.initiatorTimestamp = timestamp.value
                entry.pointee.initiator.set(DirectionFlags.timestampSeen)
            }
        } else if !entry.pointee.responder.has(DirectionFlags.timestampSeen)
            || !SequenceNumber.before(timestamp.value, entry.pointee.responderTimestamp) {
            entry.pointee.responderTimestamp = timestamp.value
            entry.pointee.responder.set(DirectionFlags.timestampSeen)
        }
    }

    /// Seconds after which a side's TS.Recent is too old to judge by (RFC 7323 §5.5: 24 days).
    static let pawsIdleSeconds: UInt32 = 24 * 86_400

    /// `set tcp paws` and `set tcp timestamps strict` on an ACK or FIN of a synchronised
    /// connection: the event of its refusal, or nil. PAWS allows Linux's one tick of slack
    /// (TCP_PAWS_WINDOW) and skips a connection idle for 24 days (judged by its last accepted
    /// packet, either way).
    func timestampRefusal(_ entry: Entry, _ segment: TCPSegment, _ fromInitiator: Bool) -> TrackerEvent? {
        guard let timestamp = segment.options.timestamp else {
            let negotiated = entry.pointee.moreFlags & MoreFlags.timestampsNegotiated != 0
            return configuration.timestampsStrict && negotiated ? .timestampMissing : nil
        }
        guard configuration.paws else { return nil }
        let sender = fromInitiator ? entry.pointee.initiator : entry.pointee.responder
        guard sender.has(DirectionFlags.timestampSeen),
              nowFloor &- entry.pointee.lastSeenSeconds <= Self.pawsIdleSeconds else { return nil }
        let recent = fromInitiator ? entry.pointee.initiatorTimestamp : entry.pointee.responderTimestamp
        return SequenceNumber.before(timestamp.value, recent &- 1) ? .pawsOldTimestamp : nil
    }

    // MARK: SYN and SYN-ACK queues

    /// Earlier ISNs of the initiator kept in SYN_SENT (§6.3), in the responder's unused fields.
    static let queuedSYNLimit = 5

    static func queuedSYN(_ entry: Entry, _ slot: Int) -> UInt32 {
        switch slot {
        case 0: entry.pointee.responder.end
        case 1: entry.pointee.responder.maxEnd
        case 2: entry.pointee.responder.maxWindow
        case 3: entry.pointee.responder.isn
        default: entry.pointee.responderTimestamp
        }
    }

    static func setQueuedSYN(_ entry: Entry, _ slot: Int, _ isn: UInt32) {
        switch slot {
        case 0: entry.pointee.responder.end = isn
        case 1: entry.pointee.responder.maxEnd = isn
        case 2: entry.pointee.responder.maxWindow = isn
        case 3: entry.pointee.responder.isn = isn
        default: entry.pointee.responderTimestamp = isn
        }
    }

    /// Queues an earlier ISN; true when the queue was full and its oldest was forgotten.
    static func queueSYN(_ entry: Entry, _ isn: UInt32) -> Bool {
        let count = Int(entry.pointee.responder.scale)
        if count < queuedSYNLimit {
            setQueuedSYN(entry, count, isn)
            entry.pointee.responder.scale = UInt8(count + 1)
            return false
        }
        for slot in 0..<(queuedSYNLimit - 1) { setQueuedSYN(entry, slot, queuedSYN(entry, slot + 1)) }
        setQueuedSYN(entry, queuedSYNLimit - 1, isn)
        return true
    }

    /// True when `ack` acknowledges the initiator's SYN: in `[isn + 1, end]`, or exactly a
    /// queued ISN + 1 (the initiator is then re-synchronised to that SYN).
    static func matchSYN(_ entry: Entry, ack: UInt32) -> Bool {
        let initiator = entry.pointee.initiator
        if SequenceNumber.within(ack, initiator.isn &+ 1, initiator.end) { return true }
        for slot in 0..<Int(min(entry.pointee.responder.scale, UInt8(queuedSYNLimit))) {
            let isn = queuedSYN(entry, slot)
            if ack == isn &+ 1 {
                entry.pointee.initiator.isn = isn
                entry.pointee.initiator.end = isn &+ 1
                entry.pointee.initiator.maxEnd = isn &+ 1
                return true
            }
        }
        return false
    }

    /// Earlier responder ISNs kept in SYN_RECV (two, in the timestamp fields; count in
    /// `lastSegment`). An ISN already kept is not kept twice; when both are taken the older is
    /// forgotten: a SYN-ACK already seen is never refused because the queue is full.
    static func queueSynAck(_ entry: Entry, _ isn: UInt32) {
        let count = entry.pointee.lastSegment
        if count >= 1 && entry.pointee.initiatorTimestamp == isn { return }
        if count >= 2 && entry.pointee.responderTimestamp == isn { return }
        switch count {
        case 0: entry.pointee.initiatorTimestamp = isn
        case 1: entry.pointee.responderTimestamp = isn
        default:
            entry.pointee.initiatorTimestamp = entry.pointee.responderTimestamp
            entry.pointee.responderTimestamp = isn
            return
        }
        entry.pointee.lastSegment += 1
    }

    // MARK: The SYN's timestamps (SYN_SENT)

    /// Remembers the TSval of the initiator's SYNs in SYN_SENT: the first in
    /// `initiatorTimestamp` (free in SYN_SENT), how far later SYNs' go past it in `lastSegment`
    /// (saturating at 0xFFFF: no upper bound then), `MoreFlags.synTimestamp` set.
    static func noteSYNTimestamp(_ entry: Entry, _ segment: TCPSegment, first: Bool) {
        guard let timestamp = segment.options.timestamp else { return }
        if first || entry.pointee.moreFlags & MoreFlags.synTimestamp == 0 {
            entry.pointee.initiatorTimestamp = timestamp.value
            entry.pointee.lastSegment = 0
            entry.pointee.moreFlags |= MoreFlags.synTimestamp
            return
        }
        let span = timestamp.value &- entry.pointee.initiatorTimestamp
        guard span < 0x8000_0000 else { return }
        entry.pointee.lastSegment = max(entry.pointee.lastSegment, UInt16(min(span, 0xFFFF)))
    }

    /// True unless the segment's timestamp echo contradicts the initiator's SYNs: a non-zero
    /// TSecr when no SYN offered timestamps, or one outside the SYNs' TSvals (Linux's check in
    /// SYN-SENT, RFC 7323 §3.2).
    static func echoesSYN(_ entry: Entry, _ segment: TCPSegment) -> Bool {
        guard let timestamp = segment.options.timestamp, timestamp.echoReply != 0 else { return true }
        guard entry.pointee.moreFlags & MoreFlags.synTimestamp != 0 else { return false }
        let span = timestamp.echoReply &- entry.pointee.initiatorTimestamp
        let limit = entry.pointee.lastSegment
        return limit == 0xFFFF ? span < 0x8000_0000 : span <= UInt32(limit)
    }

    /// The queued responder ISN that `ack` acknowledges exactly, or nil.
    static func synAckAlternate(_ entry: Entry, ack: UInt32) -> UInt32? {
        let count = entry.pointee.lastSegment
        if count >= 1 && ack == entry.pointee.initiatorTimestamp &+ 1 { return entry.pointee.initiatorTimestamp }
        if count >= 2 && ack == entry.pointee.responderTimestamp &+ 1 { return entry.pointee.responderTimestamp }
        return nil
    }
}
