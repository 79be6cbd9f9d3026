import Wire

extension ConnectionTracker {
    /// Phase two of `track`, right after `evaluate` asked for it: the admission let the flow
    /// start with `origin` to keep (nil: refused); apply the flood limits, find room and
    /// create the flow.
    @usableFromInline
    mutating func createFlow(_ request: NewFlowRequest, key: FlowKey, _ packet: Packet,
                             origin: FlowOrigin?) -> TrackResult {
        let oldState = request.reuseIndex >= 0 ? table[Int(request.reuseIndex)].connectionState : nil
        guard let origin else {
            statistics.rejectedPolicy += 1
            return .drop(.policy, nil, state: oldState)
        }
        flowIndex = -1
        var result = TrackResult.drop(.noConnection, nil)
        switch request.kind {
        case .tcpSyn:
            guard case .tcp(let header) = packet.transport else { break }
            result = createConnection(packet, TCPSegment(header, kind: .syn), request, key: key, oldState: oldState)
        case .tcpPickup:
            guard case .tcp(let header) = packet.transport else { break }
            result = pickUpConnection(TCPSegment(header, kind: .ack), request, key: key)
        case .udp:
            result = createDatagramFlow(request, key: key, state: .udpUnreplied)
        case .icmpEcho:
            result = createDatagramFlow(request, key: key, state: .icmpUnreplied)
        case .other:
            result = createDatagramFlow(request, key: key, state: .otherUnreplied)
        }
        if result.created, flowIndex >= 0 {
            table[flowIndex].begin(at: nowFloor, origin: origin)
            account(packet)
        }
        return result
    }

    // MARK: Flood limits and room

    /// Checks the half-open caps and the SYN rate for a new connection from `source`; returns
    /// the refusal, or nil and the source slot to count the connection against (-1: none).
    ///
    /// Over the overall cap, a *proven* source (one whose handshake completed within
    /// ``TrackerConfiguration/provenSourceMemorySeconds``: its address is real, since it
    /// answered a SYN-ACK) is not refused: once its own limits pass, its connection takes the
    /// place of the oldest half-open one. So a spoofed SYN flood that fills the cap keeps new
    /// sources out until it times out, but not the clients that have connected before.
    mutating func checkSYNLimits(from source: IPAddress) -> (refusal: TrackResult?, slot: Int) {
        let overCap = halfOpenCount >= configuration.maxHalfOpen
        if overCap && !sources.isProven(source, now: nowNanoseconds) {
            statistics.rejectedHalfOpenCap += 1
            return (.drop(.tableFull, .halfOpenCap), -1)
        }
        guard let slot = sources.findOrInsert(source, now: nowNanoseconds) else {
            return overCap ? (.drop(.tableFull, .halfOpenCap), -1) : (nil, -1)
        }
        if configuration.maxHalfOpenPerSource > 0
            && Int(sources.slots[slot].halfOpen) >= configuration.maxHalfOpenPerSource {
            statistics.rejectedHalfOpenCap += 1
            return (.drop(.rateLimited, .halfOpenCap), -1)
        }
        if !sources.takeToken(slot, now: nowNanoseconds) {
            statistics.rejectedRateLimited += 1
            return (.drop(.rateLimited, .synRate), -1)
        }
        if overCap {
            guard evictOldestHalfOpen() else {
                statistics.rejectedHalfOpenCap += 1
                return (.drop(.tableFull, .halfOpenCap), -1)
            }
            statistics.provenOverHalfOpenCap += 1
        }
        return (nil, slot)
    }

    /// A free entry for `key`: expiring due entries, then evicting one that may be evicted
    /// (CLOSE, TIME_WAIT, other closing states, the oldest half-open, unreplied UDP/ICMP/other;
    /// never an established connection or a flow with replies). Nil when there is none.
    mutating func allocate(_ key: FlowKey, hash: UInt64) -> Int? {
        if table.isFull { expireSome(budget: 16) }
        if table.isFull && !evictOne() { return nil }
        return table.insert(key, hash: hash)
    }

    private mutating func evictOne() -> Bool {
        // CLOSE, then TIME_WAIT, then the other closing states (no array: nothing allocates).
        for step in 0..<5 {
            let list: TimerClass
            switch step {
            case 0: list = .close
            case 1: list = .timeWait
            case 2: list = .lastAck
            case 3: list = .closeWait
            default: list = .finWait
            }
            guard let index = table.head(list) else { continue }
            switch list {
            case .close: statistics.evictedClose += 1
            case .timeWait: statistics.evictedTimeWait += 1
            default: statistics.evictedClosing += 1
            }
            removeEntry(index, end: .evicted)
            return true
        }
        if evictOldestHalfOpen() { return true }
        if let index = table.head(.udpUnreplied) ?? table.head(.icmpUnreplied) ?? table.head(.otherUnreplied) {
            statistics.evictedUnreplied += 1
            removeEntry(index, end: .evicted)
            return true
        }
        return false
    }

    /// Evicts the oldest half-open connection (the list head refreshed longest ago); false
    /// when there is none.
    private mutating func evictOldestHalfOpen() -> Bool {
        let synSent = table.head(.synSent)
        let synRecv = table.head(.synRecv)
        var victim: Int?
        switch (synSent, synRecv) {
        case (let a?, let b?):
            let sinceA = table[a].deadline &- timeout(.synSent)
            let sinceB = table[b].deadline &- timeout(.synRecv)
            victim = sinceA <= sinceB ? a : b
        case (let a?, nil): victim = a
        case (nil, let b?): victim = b
        case (nil, nil): victim = nil
        }
        guard let victim else { return false }
        statistics.evictedHalfOpen += 1
        removeEntry(victim, end: .evicted)
        return true
    }

    // MARK: Creation

    /// A new TCP connection from a SYN (or one replacing a TIME_WAIT or CLOSE entry).
    private mutating func createConnection(_ packet: Packet, _ segment: TCPSegment, _ request: NewFlowRequest,
                                           key: FlowKey, oldState: ConnectionState?) -> TrackResult {
        let limits = checkSYNLimits(from: packet.source)
        if let refusal = limits.refusal {
            var result = refusal
            result.state = oldState
            return result
        }
        let index: Int
        if request.reuseIndex >= 0 {
            index = Int(request.reuseIndex)
            statistics.closed += 1
            // The old connection ends here: its record goes out, its key stays in the table.
            noteEnded(index, end: EndedFlow.naturalEnd(of: oldState), keyLeftTable: false)
            table[index].flags = 0
            table[index].moreFlags = 0
            table[index].repeats = 0
            table[index].lastSegment = 0
            table[index].initiatorTimestamp = 0
            table[index].responderTimestamp = 0
        } else {
            guard let fresh = allocate(key, hash: request.hash) else {
                statistics.rejectedTableFull += 1
                return .drop(.tableFull, .tableFull)
            }
            index = fresh
        }
        belongs(to: index, fromInitiator: true)
        if request.reversed { table[index].set(ConnectionEntry.Flags.initiatorIsHigh) }
        table[index].initiator = Self.direction(fromSYN: segment)
        table[index].responder = DirectionState()
        table[index].noteSYNTimestamp(segment, first: true)
        setState(index, .synSent)
        if limits.slot >= 0 {
            sources.slots[limits.slot].halfOpen += 1
            table[index].set(ConnectionEntry.Flags.sourceCounted)
        }
        if request.reuseIndex < 0 {
            table[index].deadline = deadline(after: timeout(.synSent))
            table[index].timerClass = TimerClass.synSent.rawValue
            table.link(index, TimerClass.synSent.rawValue)
        } else {
            refresh(index)
        }
        statistics.created += 1
        let event = request.event ?? Self.clampEvent(segment) ?? segment.anomaly
        return .accept(.synSent, event, created: true)
    }

    /// A connection picked up mid-stream from an ACK (`pickup`): windows learned as Linux does,
    /// shift 14 assumed, ACK checks skipped until the other side speaks, `tcp.pickup` until then.
    private mutating func pickUpConnection(_ segment: TCPSegment, _ request: NewFlowRequest, key: FlowKey) -> TrackResult {
        guard let index = allocate(key, hash: request.hash) else {
            statistics.rejectedTableFull += 1
            return .drop(.tableFull, .tableFull)
        }
        belongs(to: index, fromInitiator: true)
        table[index].flags = ConnectionEntry.Flags.liberal | ConnectionEntry.Flags.assured
        if request.reversed { table[index].set(ConnectionEntry.Flags.initiatorIsHigh) }
        var sender = DirectionState()
        Self.pickUp(&sender, segment)
        var receiver = DirectionState()
        receiver.scale = 14
        receiver.set(DirectionState.Flags.sackPermitted)
        receiver.end = segment.ack
        receiver.maxEnd = segment.ack
        table[index].initiator = sender
        table[index].responder = receiver
        setState(index, .established)
        table[index].timerClass = wantedTimerClass(index).rawValue
        table[index].deadline = deadline(after: timeouts[Int(table[index].timerClass)])
        table.link(index, table[index].timerClass)
        statistics.created += 1
        return .accept(.established, .midstreamPickup, created: true)
    }

    /// Learns a picked-up direction from its first segment (Linux: end, window << scale, right
    /// edge). A zero-length ACK may be a keep-alive probe, whose seq is one below the sender's
    /// next: its reply acknowledges seq + 1, so the end is taken one further (else every
    /// keep-alive reply of an idle picked-up connection would be `ack_above_sent`).
    static func pickUp(_ direction: inout DirectionState, _ segment: TCPSegment) {
        direction.scale = 14
        direction.set(DirectionState.Flags.sackPermitted)
        direction.end = segment.length == 0 && segment.kind == .ack ? segment.end &+ 1 : segment.end
        direction.maxWindow = max(UInt32(segment.window) << 14, 1)
        direction.maxEnd = segment.end &+ direction.maxWindow
    }

    /// A new UDP, ICMP echo or other protocol's flow.
    private mutating func createDatagramFlow(_ request: NewFlowRequest, key: FlowKey, state: ConnectionState) -> TrackResult {
        guard let index = allocate(key, hash: request.hash) else {
            statistics.rejectedTableFull += 1
            return .drop(.tableFull, .tableFull)
        }
        belongs(to: index, fromInitiator: true)
        if request.reversed { table[index].set(ConnectionEntry.Flags.initiatorIsHigh) }
        setState(index, state)
        let timerClass = TimerClass.of(state)
        table[index].timerClass = timerClass.rawValue
        table[index].deadline = deadline(after: timeout(timerClass))
        table.link(index, timerClass.rawValue)
        statistics.created += 1
        return .accept(state, created: true)
    }

    /// A direction initialised from its SYN or SYN-ACK (Linux: end and right edge at the
    /// segment's end, the unscaled window, the options).
    static func direction(fromSYN segment: TCPSegment) -> DirectionState {
        var direction = DirectionState()
        direction.isn = segment.seq
        direction.end = segment.end
        direction.maxEnd = segment.end
        direction.maxWindow = max(UInt32(segment.window), 1)
        let options = segment.options
        if let shift = options.windowScale {
            direction.scale = min(shift, 14)
            direction.set(DirectionState.Flags.windowScaleSeen)
        }
        if options.sackPermitted { direction.set(DirectionState.Flags.sackPermitted) }
        if options.fastOpen { direction.set(DirectionState.Flags.fastOpen) }
        return direction
    }

    /// `wscale_clamped` when the segment's window-scale shift is above 14.
    @inline(__always)
    static func clampEvent(_ segment: TCPSegment) -> TrackerEvent? {
        if let shift = segment.options.windowScale, shift > 14 { return .wscaleClamped }
        return nil
    }
}
