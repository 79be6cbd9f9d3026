import Wire

/// The connection tracker: one entry per flow in a table of fixed capacity, the TCP state
/// machine with window tracking, UDP and ICMP echo flows, ICMP errors, timeouts and the flood
/// limits. Pure: no I/O, time comes in as nanoseconds (`now`), results are values; the same
/// packets at the same times always give the same results.
///
/// Not thread-safe: each NFQUEUE worker owns its own tracker (its shard of the flows).
/// Nothing is allocated per packet: the entries live in storage sized at `init`.
public struct ConnectionTracker: ~Copyable, @unchecked Sendable {
    /// The settings the tracker was made with.
    public let configuration: TrackerConfiguration
    var table: ConnectionTable
    var sources: SourceTable
    /// Timeout in seconds per `TimerClass`.
    let timeouts: UnsafeMutablePointer<UInt32>
    /// Counters since the tracker was made.
    public internal(set) var statistics = TrackerStatistics()
    /// Half-open TCP connections (SYN_SENT, SYN_SENT2, SYN_RECV) in the table.
    public internal(set) var halfOpenCount = 0

    // The current packet's clock, set once per `track`.
    var lastNow: UInt64 = 0
    var nowNanoseconds: UInt64 = 0
    /// Whole seconds, rounded down: an entry is expired when this reaches its deadline.
    var nowFloor: UInt32 = 0
    /// Whole seconds, rounded up: deadlines count from here, so expiry is never early.
    var nowCeiling: UInt32 = 0

    /// The entry the current packet belongs to (-1: none, or it was removed), and whether the
    /// packet comes from its initiator: set when the packet's flow is found or created, read
    /// to count an accepted packet.
    var flowIndex = -1
    var flowFromInitiator = false

    /// Flows that left the table since the last drain (a fixed ring: the rules' per-source
    /// connection counts need to hear of every departure, and the log writes a `flow` record
    /// for each).
    let removedKeys: UnsafeMutablePointer<EndedFlow>
    var removedCount = 0
    /// Departures that did not fit the ring before it was drained.
    public internal(set) var removedOverflow: UInt64 = 0
    static let removedCapacity = 1_024

    /// Expiry steps (list heads looked at) spent per packet.
    static let sweepBudgetPerPacket = 4

    /// A tracker with the table and source storage for `configuration` reserved (memory is
    /// touched only as flows arrive).
    public init(configuration: TrackerConfiguration) {
        self.configuration = configuration
        table = ConnectionTable(capacity: configuration.maxStates, seed: configuration.hashSeed)
        sources = SourceTable(capacity: configuration.sourceTableCapacity,
                              seed: ConnectionTable.fold(configuration.hashSeed, 0x5851_F42D_4C95_7F2D),
                              rate: configuration.synRatePerSource,
                              provenMemory: UInt64(configuration.provenSourceMemorySeconds) * 1_000_000_000)
        timeouts = .allocate(capacity: TimerClass.count)
        removedKeys = .allocate(capacity: Self.removedCapacity)
        let t = configuration.timeouts
        for timerClass in TimerClass.allCases {
            let duration: Duration
            switch timerClass {
            case .synSent: duration = t.tcpSynSent
            case .synRecv: duration = t.tcpSynRecv
            case .established: duration = t.tcpEstablished
            case .finWait: duration = t.tcpFinWait
            case .closeWait: duration = t.tcpCloseWait
            case .lastAck: duration = t.tcpLastAck
            case .timeWait: duration = t.tcpTimeWait
            case .close, .resetPending: duration = t.tcpClose
            case .tcpCapped: duration = t.tcpUnacknowledged
            case .udpUnreplied, .udpReplied: duration = t.udp
            case .udpStream: duration = t.udpStream
            case .icmpUnreplied, .icmpReplied: duration = t.icmp
            case .otherUnreplied, .otherReplied: duration = t.other
            case .tcpPickup: duration = t.tcpPickup
            }
            (timeouts + Int(timerClass.rawValue)).initialize(to: TrackerTimeouts.seconds(duration))
        }
    }

    deinit {
        table.deallocate()
        sources.deallocate()
        timeouts.deallocate()
        removedKeys.deinitialize(count: removedCount)
        removedKeys.deallocate()
    }

    /// Whether flows left the table since the last drain.
    @inlinable
    public var hasRemovedFlows: Bool { removedCountPublic > 0 }

    @usableFromInline var removedCountPublic: Int { removedCount }

    /// Hands the key of every flow that left the table (closed, expired, evicted, cut by a
    /// reload) since the last drain to `body`, oldest first, and forgets them. A TIME_WAIT or
    /// CLOSE entry replaced by a new connection on the same key is not handed over: the key
    /// stays in the table (the rules' `max-src-conn` bookkeeping is keyed by flow and counts it
    /// once).
    public mutating func drainRemovedFlows(_ body: (FlowKey) -> Void) {
        drainEndedFlows { flow in
            if flow.keyLeftTable { body(flow.key) }
        }
    }

    /// Hands every flow that ended since the last drain to `body`, oldest first, and forgets
    /// them: those that left the table, and the old connection of a TIME_WAIT or CLOSE entry
    /// a new one took over (`keyLeftTable` false). No allocation.
    public mutating func drainEndedFlows(_ body: (EndedFlow) -> Void) {
        for i in 0 ..< removedCount { body(removedKeys[i]) }
        removedKeys.deinitialize(count: removedCount)
        removedCount = 0
    }

    /// The latest time the tracker has been given (nanoseconds of the injected clock): the last
    /// packet's, or the last `expire`'s, whichever is later.
    public var lastTime: UInt64 { lastNow }

    /// Flows in the table (some may have expired and not yet been swept).
    public var count: Int { table.count }

    /// The table's fixed capacity (`maxStates`, clamped).
    public var capacity: Int { table.capacity }

    // MARK: Tracking

    /// Judges one packet at time `now` (nanoseconds of the injected clock) and updates the
    /// flow's state. `admission` is asked only when the packet would create a flow.
    ///
    /// - Parameters:
    ///   - packet: the decoded packet.
    ///   - bytes: the buffer `packet` was decoded from; read only for an ICMP error's quote (an
    ///     ICMP error without it is `icmp_unrelated`).
    ///   - now: time of the packet; a time before the previous packet's counts as that time.
    ///   - admission: the rules' say on new flows.
    ///   - kernelInvalid: the kernel's connection tracking found the packet out of window (the
    ///     offload rules mark such packets, docs/offload.md): an offloaded connection's packet
    ///     is then dropped as `bad_seq` (`kernel_invalid`); for others it means nothing.
    @inlinable
    public mutating func track<A: Admission>(_ packet: Packet, bytes: UnsafeRawBufferPointer? = nil, now: UInt64,
                                             admission: inout A, kernelInvalid: Bool = false) -> TrackResult {
        trackWithRuling(packet, bytes: bytes, now: now, admission: &admission, kernelInvalid: kernelInvalid).result
    }

    /// `track`, also handing back the admission's ruling when it was asked (nil when the
    /// packet did not ask to start a flow): the caller learns what the rules decided as a value.
    @inlinable
    public mutating func trackWithRuling<A: Admission>(_ packet: Packet, bytes: UnsafeRawBufferPointer? = nil,
                                                       now: UInt64, admission: inout A,
                                                       kernelInvalid: Bool = false)
        -> (result: TrackResult, ruling: A.Ruling?) {
        switch evaluate(packet, bytes: bytes, now: now, kernelInvalid: kernelInvalid) {
        case .decided(let result):
            return (result, nil)
        case .needsAdmission(let request):
            // A packet that asks to start a flow has a flow key.
            guard let key = FlowKey.make(for: packet)?.key else { return (.drop(.noConnection, nil), nil) }
            let ruling = admission.admit(packet, key: key)
            return (createFlow(request, key: key, packet, origin: ruling.admittedOrigin), ruling)
        }
    }

    /// `track` admitting every new flow (no rules).
    @inlinable
    public mutating func track(_ packet: Packet, bytes: UnsafeRawBufferPointer? = nil, now: UInt64) -> TrackResult {
        var admission = AdmitAll()
        return track(packet, bytes: bytes, now: now, admission: &admission)
    }

    /// Removes flows whose timeout has passed, looking at most at `budget` list heads; for
    /// idle moments (the packet path already does a few per packet). Returns how many expired.
    @discardableResult
    public mutating func expire(now: UInt64, budget: Int = 1_024) -> Int {
        setClock(now)
        return expireSome(budget: budget)
    }

    /// The first phase of `track`: everything but asking the admission. Says in its type
    /// whether it decided or the packet needs the admission's say (`createFlow` then).
    @usableFromInline
    mutating func evaluate(_ packet: Packet, bytes: UnsafeRawBufferPointer?, now: UInt64,
                           kernelInvalid: Bool = false) -> TrackerEvaluation {
        flowIndex = -1
        setClock(now)
        if nowFloor >= table.nextDue { expireSome(budget: Self.sweepBudgetPerPacket) }
        let evaluation: TrackerEvaluation
        switch packet.transport {
        case .tcp(let header):
            evaluation = trackTCP(packet, header, kernelInvalid: kernelInvalid)
        case .udp(let header):
            evaluation = trackUDP(packet, header)
        case .icmp(let header), .icmpv6(let header):
            evaluation = trackICMP(packet, header, bytes: bytes)
        case .other(let proto):
            evaluation = trackOther(packet, proto: proto)
        case .fragment:
            evaluation = .decided(TrackResult(verdict: .accept))
        }
        if case .decided(let result) = evaluation, result.verdict == .accept { account(packet) }
        return evaluation
    }

    /// The admitting rule's index of the flow the last packet belonged to, while that flow is
    /// still in the table; nil when it had none, or no rule admitted it. Read after `track`,
    /// off the packet path (`synwall trace`).
    public var lastPacketFlowRule: Int? {
        guard flowIndex >= 0, table[flowIndex].connectionState != nil else { return nil }
        return table[flowIndex].origin.rule
    }

    // MARK: Accounting

    /// Notes that the current packet belongs to entry `index` (sent by its initiator or not).
    @inline(__always)
    mutating func belongs(to index: Int, fromInitiator: Bool) {
        flowIndex = index
        flowFromInitiator = fromInitiator
    }

    /// Counts an accepted packet against its flow, if it has one: last seen, packets (saturating
    /// at `UInt32.max`) and bytes (IP total length) in its direction.
    @inline(__always)
    mutating func account(_ packet: Packet) {
        guard flowIndex >= 0 else { return }
        let bytes = UInt64(truncatingIfNeeded: packet.ipTotalLength)
        table[flowIndex].lastSeenSeconds = nowFloor
        if flowFromInitiator {
            let (packets, overflow) = table[flowIndex].initiatorPackets.addingReportingOverflow(1)
            table[flowIndex].initiatorPackets = overflow ? .max : packets
            table[flowIndex].initiatorBytes &+= bytes
        } else {
            let (packets, overflow) = table[flowIndex].responderPackets.addingReportingOverflow(1)
            table[flowIndex].responderPackets = overflow ? .max : packets
            table[flowIndex].responderBytes &+= bytes
        }
    }

    // MARK: Clock and timers

    @inline(__always)
    mutating func setClock(_ now: UInt64) {
        let time = max(now, lastNow)
        lastNow = time
        nowNanoseconds = time
        let seconds = time / 1_000_000_000
        let fraction = time - seconds * 1_000_000_000
        nowFloor = UInt32(clamping: seconds)
        nowCeiling = UInt32(clamping: seconds + (fraction == 0 ? 0 : 1))
    }

    @inline(__always)
    func timeout(_ timerClass: TimerClass) -> UInt32 { timeouts[Int(timerClass.rawValue)] }

    @inline(__always)
    func deadline(after seconds: UInt32) -> UInt32 {
        let (sum, overflow) = nowCeiling.addingReportingOverflow(seconds)
        return overflow ? .max - 1 : min(sum, .max - 1)
    }

    /// The timer class an entry's state and flags call for: `tcp.pickup` for a picked-up
    /// connection until the other side speaks, else Linux's 300 s cap while data is
    /// unacknowledged or after repeated retransmissions; each only when shorter than the
    /// state's own timeout.
    @inline(__always)
    func wantedTimerClass(_ index: Int) -> TimerClass {
        guard let state = table[index].connectionState else { return .close }
        let base = TimerClass.of(state)
        guard state.isTCP else { return base }
        if table[index].flags & (ConnectionEntry.Flags.liberal | ConnectionEntry.Flags.seenReply)
            == ConnectionEntry.Flags.liberal {
            return timeout(.tcpPickup) < timeout(base) ? .tcpPickup : base
        }
        if timeout(base) > timeout(.tcpCapped) {
            let capped = table[index].initiator.has(DirectionState.Flags.dataUnacked)
                || table[index].responder.has(DirectionState.Flags.dataUnacked)
                || table[index].repeats >= 3
            if capped { return .tcpCapped }
        }
        return base
    }

    /// Restarts the entry's timeout for its state. It changes timer list only when the new
    /// timeout is shorter or its kind differs; a longer timeout of the same kind is left for
    /// the sweep to re-file, so a busy flow costs no list work per packet.
    @inline(__always)
    mutating func refresh(_ index: Int) {
        let wanted = wantedTimerClass(index)
        table[index].timerClass = wanted.rawValue
        table[index].deadline = deadline(after: timeout(wanted))
        let current = table[index].listClass
        if current != wanted.rawValue {
            let lazy = Self.isEstablishedFamily(current) && Self.isEstablishedFamily(wanted.rawValue)
                && timeout(wanted) >= timeouts[Int(current)]
            if !lazy { table.move(index, to: wanted.rawValue) }
        }
    }

    @inline(__always)
    static func isEstablishedFamily(_ timerClass: UInt8) -> Bool {
        timerClass == TimerClass.established.rawValue || timerClass == TimerClass.tcpCapped.rawValue
            || timerClass == TimerClass.resetPending.rawValue || timerClass == TimerClass.tcpPickup.rawValue
    }

    /// Cuts the entry's timeout to the close timeout without changing its state (a RST in
    /// the window but not exact); the next valid packet restores it.
    mutating func cutTimeout(_ index: Int) {
        table[index].timerClass = TimerClass.resetPending.rawValue
        table[index].deadline = deadline(after: timeout(.resetPending))
        if table[index].listClass != TimerClass.resetPending.rawValue {
            table.move(index, to: TimerClass.resetPending.rawValue)
        }
    }

    /// Expires up to `budget` steps' worth of due entries.
    @discardableResult
    mutating func expireSome(budget: Int) -> Int {
        var remaining = budget
        var expired = 0
        while let index = table.nextExpired(now: nowFloor, budget: &remaining) {
            removeEntry(index, end: EndedFlow.naturalEnd(of: table[index].connectionState))
            statistics.expired += 1
            expired += 1
        }
        return expired
    }

    // MARK: Entries

    /// The live entry for `key`, or nil; an entry found past its deadline is removed first.
    @inline(__always)
    mutating func lookup(_ key: FlowKey, hash: UInt64) -> Int? {
        guard let index = table.find(key, hash: hash) else { return nil }
        if nowFloor >= table[index].deadline {
            removeEntry(index, end: EndedFlow.naturalEnd(of: table[index].connectionState))
            statistics.expired += 1
            return nil
        }
        return index
    }

    /// The one place an entry's state changes: keeps the half-open counts right, and marks
    /// the initiator proven when its handshake completes.
    @inline(__always)
    mutating func setState(_ index: Int, _ state: ConnectionState) {
        let wasHalfOpen = table[index].connectionState?.isHalfOpen ?? false
        if wasHalfOpen && !state.isHalfOpen {
            releaseHalfOpen(index)
            if state == .established { sources.markProven(table[index].initiatorAddress, now: nowNanoseconds) }
        } else if !wasHalfOpen && state.isHalfOpen {
            halfOpenCount += 1
        }
        table[index].state = state
    }

    private mutating func releaseHalfOpen(_ index: Int) {
        halfOpenCount -= 1
        if table[index].has(ConnectionEntry.Flags.sourceCounted) {
            table[index].set(ConnectionEntry.Flags.sourceCounted, false)
            sources.releaseHalfOpen(table[index].initiatorAddress)
        }
    }

    /// Removes entry `index` from the table, releasing what it counted against; its flow
    /// ended as `end`.
    mutating func removeEntry(_ index: Int, end: FlowEnd) {
        if index == flowIndex { flowIndex = -1 }
        if table[index].connectionState?.isHalfOpen ?? false { releaseHalfOpen(index) }
        noteEnded(index, end: end, keyLeftTable: true)
        table.remove(index)
    }

    /// Puts entry `index`'s flow in the departure ring (or counts it in `removedOverflow`).
    @inline(__always)
    mutating func noteEnded(_ index: Int, end: FlowEnd, keyLeftTable: Bool) {
        guard removedCount < Self.removedCapacity else {
            removedOverflow &+= 1
            return
        }
        let entry = table[index]
        (removedKeys + removedCount).initialize(to: EndedFlow(
            key: entry.key, state: entry.connectionState ?? .close, end: end,
            initiatorIsHigh: entry.has(ConnectionEntry.Flags.initiatorIsHigh), keyLeftTable: keyLeftTable,
            createdSeconds: entry.createdSeconds, lastSeenSeconds: entry.lastSeenSeconds,
            endedNanoseconds: nowNanoseconds, initiatorPackets: entry.initiatorPackets,
            responderPackets: entry.responderPackets, initiatorBytes: entry.initiatorBytes,
            responderBytes: entry.responderBytes, origin: entry.origin))
        removedKeys[removedCount].wasOffloaded = entry.moreFlags & ConnectionEntry.MoreFlags.offloaded != 0
        removedCount += 1
    }

    // MARK: Snapshots

    /// Calls `body` with a copy of every flow, in table order; with `now`, flows already
    /// expired at that time are left out. Not for the packet path.
    public func forEachConnection(now: UInt64? = nil, _ body: (ConnectionSnapshot) throws -> Void) rethrows {
        let nowSeconds = now.map { UInt32(clamping: $0 / 1_000_000_000) }
        for index in 0..<table.highWater {
            guard let snapshot = snapshot(at: index, nowSeconds: nowSeconds) else { continue }
            try body(snapshot)
        }
    }

    /// A copy of entry `index`, or nil when it is free or (with `nowSeconds`) expired.
    func snapshot(at index: Int, nowSeconds: UInt32?) -> ConnectionSnapshot? {
        let entry = table[index]
        guard let state = entry.connectionState else { return nil }
        if let nowSeconds, nowSeconds >= entry.deadline { return nil }
        let high = entry.has(ConnectionEntry.Flags.initiatorIsHigh)
        let key = entry.key
        func window(_ direction: DirectionState) -> WindowSnapshot? {
            state.isTCP ? WindowSnapshot(end: direction.end, maxEnd: direction.maxEnd,
                                         maxWindow: direction.maxWindow, maxAck: direction.maxAck,
                                         scale: direction.scale) : nil
        }
        var snapshot = ConnectionSnapshot(
            key: key, state: state,
            initiatorAddress: high ? key.highAddress : key.lowAddress,
            initiatorPort: high ? key.highPort : key.lowPort,
            responderAddress: high ? key.lowAddress : key.highAddress,
            responderPort: high ? key.lowPort : key.highPort,
            proto: key.proto, expiresAtSeconds: UInt64(entry.deadline),
            initiatorWindow: window(entry.initiator), responderWindow: window(entry.responder),
            createdSeconds: UInt64(entry.createdSeconds), lastSeenSeconds: UInt64(entry.lastSeenSeconds),
            initiatorPackets: UInt64(entry.initiatorPackets), initiatorBytes: entry.initiatorBytes,
            responderPackets: UInt64(entry.responderPackets), responderBytes: entry.responderBytes,
            ruleIndex: entry.origin.rule)
        snapshot.offloaded = entry.moreFlags & ConnectionEntry.MoreFlags.offloaded != 0
        return snapshot
    }

    /// Copies of up to `limit` flows (see `forEachConnection`).
    public func snapshot(now: UInt64? = nil, limit: Int = .max) -> [ConnectionSnapshot] {
        var result: [ConnectionSnapshot] = []
        forEachConnection(now: now) { snapshot in
            if result.count < limit { result.append(snapshot) }
        }
        return result
    }
}
