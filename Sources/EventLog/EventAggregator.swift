/// Collapses floods of like events into a few records, and caps records per second. Pure: no
/// clock of its own, no I/O; every call takes `now` (nanoseconds, any monotonic or wall
/// clock, the same one throughout) and appends the records to write to `output`.
///
/// **Aggregation.** Events of the same type, `reason`, source address and destination port
/// form a key. The first event of a key is written at once (a rare event is never delayed);
/// repeats within the key's window are held and come out, when the window closes, as one
/// record with `count` (how many repeats), `first_seen` and `last_seen`, the fields of the
/// last repeat, and `timestamp` = `last_seen`. A window that held repeats opens again at once,
/// so a steady flood from one source gives one record per window; a window that closes with
/// no repeats forgets its key. Summing `count` over the output gives the number of events in.
///
/// **Cap.** At most ``Configuration/maxRecordsPerSecond`` records about packets leave per
/// second of `now` (first occurrences and aggregates alike), and at most
/// ``Configuration/maxFlowRecordsPerSecond`` flow records besides. What goes over is counted, and
/// when the second ends one `suppressed` record (`reason` `rate_limit`) says how many
/// occurrences were left out, by reason and by source (the 16 most frequent), so a review
/// still adds up to the daemon's counters. Records about the daemon (`start`, `stop`, `reload`,
/// `suppressed`) pass without aggregation or cap.
///
/// **Memory.** At most ``Configuration/maxKeys`` keys are tracked; a new key when all are in
/// use evicts the oldest window, writing what it held. Keys live in slots allocated at init.
public struct EventAggregator {
    /// Tunables; the defaults suit a daemon.
    public struct Configuration: Sendable, Equatable {
        /// How long repeats of one key are collected into one record, in nanoseconds; 1 s.
        public var windowNanoseconds: UInt64
        /// Records about packets written per second at most; 0 means no cap. 100 by default.
        public var maxRecordsPerSecond: Int
        /// `flow` records written per second at most, a budget of their own (so the end of a
        /// flood's thousand half-open entries does not crowd out the drops, nor the other way
        /// round); 0 means no cap. 1,000 by default.
        public var maxFlowRecordsPerSecond: Int
        /// Keys tracked at once (memory is fixed by this); 4096 by default.
        public var maxKeys: Int

        /// Creates a configuration; see the properties for the defaults.
        public init(windowNanoseconds: UInt64 = 1_000_000_000, maxRecordsPerSecond: Int = 100,
                    maxFlowRecordsPerSecond: Int = 1_000, maxKeys: Int = 4096) {
            self.windowNanoseconds = max(1, windowNanoseconds)
            self.maxRecordsPerSecond = max(0, maxRecordsPerSecond)
            self.maxFlowRecordsPerSecond = max(0, maxFlowRecordsPerSecond)
            self.maxKeys = max(1, maxKeys)
        }
    }

    /// Running totals, for counters and tests.
    public struct Statistics: Sendable, Equatable {
        /// Events handed to ``add(_:now:into:)`` (each counted with its `count`).
        public var occurrences = 0
        /// Records appended to the output, the `suppressed` ones included.
        public var records = 0
        /// Occurrences left out by the cap (each is in some `suppressed` record's count, or
        /// pending for the next one).
        public var suppressed = 0
        /// Occurrences reported lost through ``noteLost(_:at:)``.
        public var lost = 0
        /// Keys evicted early because all slots were in use.
        public var evictions = 0
    }

    /// The configuration in force.
    public let configuration: Configuration
    /// Totals so far.
    public private(set) var statistics = Statistics()
    /// Keys currently tracked.
    public var trackedKeys: Int { index.count }

    private struct Key: Hashable {
        var type: EventType
        var reason: String
        var source: String
        var port: UInt16?
    }

    private struct Entry {
        var key: Key
        var windowStart: UInt64
        /// The last repeat, whose fields the aggregate carries; nil while there is none.
        var last: Event?
        var repeats = 0
        var firstSeen: UInt64 = 0
        var lastSeen: UInt64 = 0
    }

    /// A running count of left-out occurrences, for one `suppressed` record: in all, by reason
    /// and by source (sources beyond ``maximumSources`` distinct ones are counted in the
    /// totals only).
    private struct Tally {
        var count = 0
        var first: UInt64 = 0
        var last: UInt64 = 0
        var reasons: [String: Int] = [:]
        var sources: [String: Int] = [:]

        /// Distinct sources counted per record at most (memory bound under a spoofed flood).
        static let maximumSources = 1_024

        mutating func add(_ count: Int, first: UInt64, last: UInt64, reason: String = "", source: String = "") {
            if self.count == 0 {
                self.first = first
                self.last = last
            } else {
                self.first = min(self.first, first)
                self.last = max(self.last, last)
            }
            self.count += count
            if !reason.isEmpty { reasons[reason, default: 0] += count }
            if !source.isEmpty, sources[source] != nil || sources.count < Self.maximumSources {
                sources[source, default: 0] += count
            }
        }

        /// The breakdown for the record, nil when nothing was counted by reason.
        var breakdown: SuppressedCounts? {
            guard !reasons.isEmpty || !sources.isEmpty else { return nil }
            return SuppressedCounts(reasons: SuppressedCounts.ranked(reasons),
                                    sources: SuppressedCounts.ranked(sources, limit: SuppressedCounts.maximumSources))
        }
    }

    private var slots: [Entry?]
    private var freeSlots: [Int]
    private var index: [Key: Int]
    /// Slot numbers in window-start order (a ring): windows close from the front.
    private var order: [Int]
    private var orderHead = 0
    private var orderCount = 0

    private var capSecond: UInt64 = .max
    private var recordsThisSecond = 0
    private var flowRecordsThisSecond = 0
    private var overCap = Tally()
    private var lostTally = Tally()

    /// Creates an aggregator with every slot allocated.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        slots = Array(repeating: nil, count: configuration.maxKeys)
        freeSlots = Array((0..<configuration.maxKeys).reversed())
        index = [:]
        index.reserveCapacity(configuration.maxKeys)
        order = Array(repeating: 0, count: configuration.maxKeys)
    }

    /// Takes one event seen at `now`; appends to `output` what is due now: the event itself
    /// when it is the first of its key (and within the cap), and anything that closed.
    public mutating func add(_ event: Event, now: UInt64, into output: inout [Event]) {
        advance(to: now, into: &output)
        guard event.eventType.isAboutPackets else {
            append(event, into: &output)
            return
        }
        statistics.occurrences += max(1, event.count)
        guard event.eventType.isAggregated else {
            emitCapped(event, into: &output)
            return
        }
        let key = Key(type: event.eventType, reason: event.reason, source: event.sourceIP, port: event.destinationPort)
        if let slot = index[key], var entry = slots[slot] {
            let first = event.firstSeenNanoseconds ?? event.timestampNanoseconds
            let last = event.lastSeenNanoseconds ?? event.timestampNanoseconds
            if entry.repeats == 0 {
                entry.firstSeen = first
                entry.lastSeen = last
            } else {
                entry.firstSeen = min(entry.firstSeen, first)
                entry.lastSeen = max(entry.lastSeen, last)
            }
            entry.repeats += max(1, event.count)
            entry.last = event
            slots[slot] = entry
            return
        }
        if freeSlots.isEmpty {
            statistics.evictions += 1
            closeFront(reopen: false, into: &output)
        }
        guard let slot = freeSlots.popLast() else { return }  // not reached: closeFront freed one
        slots[slot] = Entry(key: key, windowStart: now)
        index[key] = slot
        pushBack(slot)
        emitCapped(event, into: &output)
    }

    /// Records occurrences that never reached the aggregator (a full queue), noticed at
    /// `timestamp` (wall-clock ns, for the record's `first_seen`/`last_seen`); they come out
    /// in a `suppressed` record with `reason` `queue_full` when the current second ends.
    public mutating func noteLost(_ count: Int, at timestamp: UInt64) {
        guard count > 0 else { return }
        statistics.lost += count
        lostTally.add(count, first: timestamp, last: timestamp)
    }

    /// Moves time to `now`: ends the cap's second (writing `suppressed` records) and closes
    /// the windows that are due. Call it regularly even when no event comes, so held repeats
    /// are written within about a window.
    public mutating func advance(to now: UInt64, into output: inout [Event]) {
        let second = now / 1_000_000_000
        if second != capSecond {
            emitSuppressed(into: &output)
            capSecond = second
            recordsThisSecond = 0
            flowRecordsThisSecond = 0
        }
        while orderCount > 0, let entry = slots[order[orderHead]],
              now &- entry.windowStart >= configuration.windowNanoseconds, now >= entry.windowStart
        {
            closeFront(reopen: true, now: now, into: &output)
        }
    }

    /// Writes everything held (aggregates, then the pending `suppressed` records) and forgets
    /// every key: for shutdown, or before the log's file changes hands.
    public mutating func flush(now: UInt64, into output: inout [Event]) {
        advance(to: now, into: &output)
        while orderCount > 0 {
            closeFront(reopen: false, into: &output)
        }
        emitSuppressed(into: &output)
    }

    // MARK: - Internals

    private mutating func pushBack(_ slot: Int) {
        order[(orderHead + orderCount) % order.count] = slot
        orderCount += 1
    }

    /// Closes the oldest window: writes its repeats, then either forgets the key or (when it
    /// held repeats and `reopen`) starts a new window for it at `now`.
    private mutating func closeFront(reopen: Bool, now: UInt64 = 0, into output: inout [Event]) {
        let slot = order[orderHead]
        orderHead = (orderHead + 1) % order.count
        orderCount -= 1
        guard var entry = slots[slot] else { return }
        let held = entry.repeats > 0
        if held, var record = entry.last {
            record.count = entry.repeats
            record.firstSeenNanoseconds = entry.firstSeen
            record.lastSeenNanoseconds = entry.lastSeen
            record.timestampNanoseconds = entry.lastSeen
            emitCapped(record, into: &output)
        }
        if held && reopen {
            entry.windowStart = now
            entry.last = nil
            entry.repeats = 0
            slots[slot] = entry
            pushBack(slot)
        } else {
            index[entry.key] = nil
            slots[slot] = nil
            freeSlots.append(slot)
        }
    }

    private mutating func emitCapped(_ record: Event, into output: inout [Event]) {
        let isFlow = record.eventType == .flow
        let cap = isFlow ? configuration.maxFlowRecordsPerSecond : configuration.maxRecordsPerSecond
        let used = isFlow ? flowRecordsThisSecond : recordsThisSecond
        if cap == 0 || used < cap {
            if isFlow { flowRecordsThisSecond += 1 } else { recordsThisSecond += 1 }
            append(record, into: &output)
        } else {
            let count = max(1, record.count)
            statistics.suppressed += count
            overCap.add(count, first: record.firstSeenNanoseconds ?? record.timestampNanoseconds,
                        last: record.lastSeenNanoseconds ?? record.timestampNanoseconds, reason: record.reason,
                        source: record.sourceIP)
        }
    }

    private mutating func emitSuppressed(into output: inout [Event]) {
        if overCap.count > 0 {
            append(Event(timestampNanoseconds: overCap.last, eventType: .suppressed, reason: "rate_limit",
                         detail: "over the log's limit of \(configuration.maxRecordsPerSecond) records per second"
                             + " (\(configuration.maxFlowRecordsPerSecond) for flow records)",
                         count: overCap.count, firstSeenNanoseconds: overCap.first, lastSeenNanoseconds: overCap.last,
                         suppressedCounts: overCap.breakdown),
                   into: &output)
            overCap = Tally()
        }
        if lostTally.count > 0 {
            append(Event(timestampNanoseconds: lostTally.last, eventType: .suppressed, reason: "queue_full",
                         detail: "lost: the log writer fell behind",
                         count: lostTally.count, firstSeenNanoseconds: lostTally.first, lastSeenNanoseconds: lostTally.last),
                   into: &output)
            lostTally = Tally()
        }
    }

    private mutating func append(_ record: Event, into output: inout [Event]) {
        statistics.records += 1
        output.append(record)
    }
}
