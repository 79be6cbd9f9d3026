import Wire

// The TCP state machine (docs/tracking.md, "TCP states"): the entry point, offload, a segment
// without an entry, and the RST rule every state after SYN_SENT shares. One function per
// state, in ConnectionTracker+Handshake.swift and ConnectionTracker+Synchronized.swift; every
// refusal a drop with a reason and an event, state changes through `setState`.

extension ConnectionTracker {
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
        let fromInitiator = table[index].has(EntryFlags.initiatorIsHigh) == reversed
        belongs(to: index, fromInitiator: fromInitiator)
        var offloaded = table[index].moreFlags & ConnectionEntry.MoreFlags.offloaded != 0
        if offloaded, configuration.offloadAfter == 0 {
            // Offloaded before a reload or restart that turned offload off: the attach rules no
            // longer pass its segments; its windows are learned again once, then checked.
            table[index].moreFlags &= ~ConnectionEntry.MoreFlags.offloaded
            table[index].resumeFlags |= ConnectionEntry.ResumeFlags.resuming | ConnectionEntry.ResumeFlags.logged
            offloaded = false
        }
        if offloaded {
            // The kernel passed its plain segments meanwhile: what synwall saved is behind.
            if kernelInvalid {
                statistics.offloadKernelInvalid += 1
                return .drop(.badSeq, .kernelInvalid, state: table[index].connectionState)
            }
            table[index].resumeFlags |= ConnectionEntry.ResumeFlags.resuming | ConnectionEntry.ResumeFlags.logged
        }
        var result: TrackResult
        switch table[index].connectionState {
        case .synSent?:
            result = synSent(index, segment, fromInitiator)
        case .synSent2?:
            result = synSent2(index, segment, fromInitiator)
        case .synRecv?:
            result = table[index].has(EntryFlags.simultaneous)
                ? simultaneousSynRecv(index, segment, fromInitiator) : synRecv(index, segment, fromInitiator)
        case .close?:
            if segment.kind == .syn {
                return .needsAdmission(NewFlowRequest(kind: .tcpSyn, hash: hash, reversed: reversed,
                                                      reuseIndex: Int32(index)))
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
        guard table[index].connectionState != nil else { return }
        if offloaded {
            if result.verdict == .accept, segment.kind == .fin || segment.kind == .rst {
                table[index].moreFlags &= ~ConnectionEntry.MoreFlags.offloaded
                statistics.offloadEnded += 1
                result.offload = .end
            }
            return
        }
        guard table[index].moreFlags & ConnectionEntry.MoreFlags.offloadRefused == 0 else { return }
        if result.event?.isOffloadBarrier == true || result.verdict == .drop {
            table[index].moreFlags |= ConnectionEntry.MoreFlags.offloadRefused
            return
        }
        let after = configuration.offloadAfter
        guard result.verdict == .accept, result.state == .established, segment.kind == .ack,
              table[index].initiatorPackets >= after, table[index].responderPackets >= after,
              table[index].resumeFlags & ConnectionEntry.ResumeFlags.resuming == 0 else { return }
        table[index].moreFlags |= ConnectionEntry.MoreFlags.offloaded
        statistics.offloaded += 1
        result.offload = .start
    }

    /// A packet with no entry: only a SYN (or, with pickup, an ACK) may start one.
    private mutating func tcpWithoutEntry(_ segment: TCPSegment, key: FlowKey, hash: UInt64,
                                          reversed: Bool) -> TrackerEvaluation {
        switch segment.kind {
        case .syn:
            return .needsAdmission(NewFlowRequest(kind: .tcpSyn, hash: hash, reversed: reversed))
        case .synAck:
            return .drop(.noConnection, .noconSynack)
        case .fin:
            return .drop(.noConnection, .noconFin)
        case .rst:
            return .drop(.noConnection, .noconRst)
        case .ack:
            if configuration.pickup {
                return .needsAdmission(NewFlowRequest(kind: .tcpPickup, hash: hash, reversed: reversed))
            }
            return .drop(.noConnection, segment.length > 0 ? .noconData : .noconAck)
        }
    }

    // MARK: RST

    /// A RST in any state after SYN_SENT (docs/tracking.md, "RST"): exact closes, in the window but inexact
    /// passes with the timeout cut (or is dropped with `rstExact`), anything else is invalid.
    mutating func reset(_ index: Int, _ state: ConnectionState, _ segment: TCPSegment,
                        _ fromInitiator: Bool) -> TrackResult {
        if table[index].resumeFlags & ConnectionEntry.ResumeFlags.resuming != 0,
           let result = resumingReset(index, state, segment, fromInitiator: fromInitiator) {
            return result
        }
        switch table[index].checkReset(segment, fromInitiator: fromInitiator, exactOnly: configuration.rstExact) {
        case .invalid(let event):
            return .drop(.rstInvalid, event, state: state, bounds: table[index].resetBounds(fromInitiator: fromInitiator))
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
            table[index].moreFlags |= fromInitiator ? ConnectionEntry.MoreFlags.resetByInitiator
                : ConnectionEntry.MoreFlags.resetByResponder
            setState(index, .close)
            refresh(index)
            return .accept(.close)
        }
    }
}
