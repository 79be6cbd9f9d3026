import Atomics
import Control
import Engine
import Tracking
import EventLog
import NetfilterQueue
import Rules
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// One NFQUEUE queue's worker: owns its socket, its pipeline (and so its share of the
/// connection state) and its event writer. Runs on a thread of its own; nothing on its packet
/// path takes a lock.
final class QueueWorker: @unchecked Sendable {
    let queue: UInt16
    private let socket: QueueSocket
    private var pipeline: Pipeline
    private let log: EventQueue?
    private let control: WorkerControl
    private var rulesGeneration = 0
    private var queryGeneration = 0
    private var tableGeneration = 0
    /// This round's `overload` additions (table index in this worker's rules, address, time),
    /// shared with the other workers after the round.
    private var overloads: [(table: Int, address: IPAddress, time: UInt64, flushRule: Int?)] = []
    private var names = InterfaceNames(resolver: QueueWorker.interfaceName)
    /// Decisions worth an event, kept until the round's verdicts are sent.
    private var pendingEvents: [(decision: Decision, context: PacketContext)] = []
    private var roundTimestamp: UInt64 = 0
    /// Events that did not fit the per-round cap.
    private(set) var suppressedEvents = 0
    static let maxEventsPerRound = 256
    /// The checkpoint this worker last started, and its share while it is being copied.
    private var checkpointGeneration = 0
    private var checkpoint: (id: Int, cursor: Int, part: WorkerStatePart)?
    /// Where this worker tells the checkpoint thread how many flows it holds.
    private let flowCounter: ManagedAtomic<Int>
    /// The offload marks while the rules in force say `set offload after N` (docs/offload.md).
    private var offloadMarks: OffloadMarks?

    init(socket: QueueSocket, pipeline: consuming Pipeline, log: EventQueue?, control: WorkerControl) {
        queue = socket.configuration.queue
        self.socket = socket
        self.pipeline = pipeline
        self.log = log
        self.control = control
        rulesGeneration = control.rulesGeneration.load(ordering: .acquiring)
        pendingEvents.reserveCapacity(Self.maxEventsPerRound)
        overloads.reserveCapacity(16)
        flowCounter = control.register(queue: queue)
        offloadMarks = Self.offloadMarks(self.pipeline.ruleset)
    }

    /// The offload marks the rules ask for, if any.
    static func offloadMarks(_ rules: CompiledRuleset?) -> OffloadMarks? {
        guard let settings = rules?.settings, settings.offloadAfter != nil else { return nil }
        return OffloadMarks(bit: settings.offloadMark)
    }

    var queueStatistics: QueueStatistics { socket.statistics }
    var pipelineCounters: PipelineCounters { pipeline.counters }
    var trackedFlows: Int { pipeline.trackedFlows }

    /// The worker loop: receive rounds until asked to stop, then drain what is still queued.
    func run() {
        var consecutiveFailures = 0
        while !control.stop.load(ordering: .relaxed) {
            roundTimestamp = Self.now()
            let round = socket.receiveRound { packet in self.handle(packet) }
            writeEvents()
            exchangeTableAdditions()
            if case .idle = round {
                // No traffic: let time pass for the connection table (bounded expiry) and
                // for fragments waiting for the rest of their datagram.
                pipeline.idle(now: roundTimestamp)
                releaseFragments()
                writeEvents()
            }
            if case .failed = round {
                // A persistent socket error must not spin a core: back off, bounded.
                consecutiveFailures += 1
                usleep(useconds_t(min(consecutiveFailures, 100) * 1000))
            } else {
                consecutiveFailures = 0
            }
            // A reload checks the live flows a budget per round (more when nothing is waiting).
            var budget = Self.revisionBudget
            if case .idle = round { budget *= 8 }
            let rules = control.rulesGeneration.load(ordering: .acquiring)
            if rules != rulesGeneration, let newRules = control.currentRules() {
                rulesGeneration = rules
                reloaded(pipeline.beginReplacingRules(newRules, now: roundTimestamp, budget: budget))
                offloadMarks = Self.offloadMarks(newRules)
            } else if pipeline.isRevising {
                reloaded(pipeline.continueRevision(now: roundTimestamp, budget: budget))
            }
            if pipeline.isFlushing {
                pipeline.continueFlush(now: roundTimestamp, budget: Pipeline.flushBudget)
            }
            let query = control.queryGeneration.load(ordering: .acquiring)
            if query != queryGeneration {
                queryGeneration = query
                answerQuery(query)
            }
            var light = true
            if case .packets(let count) = round, count >= Self.busyRound { light = false }
            continueCheckpoint(light: light)
        }
        // The queue rules are gone by now: give every packet still queued its verdict.
        roundTimestamp = Self.now()
        _ = socket.drain { packet in self.handle(packet) }
        // Fragments still waiting for their datagram's end are dropped (as closing the socket
        // would), with their events.
        pipeline.abandonFragments()
        releaseFragments()
        writeEvents()
        socket.close()
    }

    @inline(__always)
    private func handle(_ packet: QueuedPacket) -> PacketVerdict {
        let checksum: PacketContext.ChecksumState
        if packet.skbInfo.contains(.checksumNotReady) {
            checksum = .partial
        } else if packet.skbInfo.contains(.checksumNotVerified) {
            checksum = .unverified
        } else {
            checksum = .verified
        }
        let direction: Direction
        switch packet.hook {
        case 2: direction = .forward
        case 3, 4: direction = .out
        default: direction = .in
        }
        var context = PacketContext(timestampNanoseconds: roundTimestamp, checksum: checksum,
                                    originalLength: packet.originalLength, direction: direction,
                                    inInterface: packet.inInterface, outInterface: packet.outInterface)
        context.packetID = packet.id
        if let marks = offloadMarks { context.kernelInvalid = packet.mark & marks.invalid != 0 }
        let decision = pipeline.process(packet.payload, context: context)
        releaseFragments()
        if let rule = decision.rule, let table = rule.overloadTable, let source = decision.summary?.source {
            var flushRule: Int?
            if rule.flushSource, case .rule(let index) = rule.origin { flushRule = index }
            overloads.append((table, source, roundTimestamp, flushRule))
        }
        if decision.isEvent, log != nil {
            if pendingEvents.count < Self.maxEventsPerRound {
                pendingEvents.append((decision, context))
            } else {
                suppressedEvents += 1
            }
        }
        if decision.isHeld { return .held }
        if decision.verdict == .accept, let change = decision.offload, let marks = offloadMarks {
            return marks.verdict(change, packetMark: packet.mark)
        }
        return decision.verdict == .accept ? .accept : .drop
    }

    /// Gives held fragments the verdict their datagram got (or the drop of a datagram given
    /// up), and queues an event for each datagram given up.
    private func releaseFragments() {
        pipeline.takeFragmentVerdicts { id, verdict, _ in
            socket.release(id: id, verdict: verdict == .accept ? .accept : .drop)
        }
        guard log != nil else { return }
        pipeline.takeAbandonedDatagrams { decision in
            if pendingEvents.count < Self.maxEventsPerRound {
                pendingEvents.append((decision, PacketContext(timestampNanoseconds: roundTimestamp)))
            } else {
                suppressedEvents += 1
            }
        }
    }

    /// Table entries copied into a checkpoint after a busy receive round (each a 147-byte
    /// record; measured ~40 µs, p99 ~90 µs for 1,024 with a million connections, `TrackerBenchmark
    /// state`), so a checkpoint never holds a busy queue; eight times as many after a light or
    /// idle round, so a million connections are copied within 25 s even when rounds are 200 ms
    /// apart.
    static let checkpointBudget = 1_024
    /// A round with at least this many packets is busy.
    static let busyRound = 64

    /// Between rounds: starts this worker's share of a newly asked checkpoint, copies the next
    /// slice of its table, and hands the share over once the whole table was seen.
    private func continueCheckpoint(light: Bool) {
        flowCounter.store(pipeline.trackedFlows, ordering: .relaxed)
        let asked = control.checkpointGeneration.load(ordering: .acquiring)
        if asked != checkpointGeneration {
            checkpointGeneration = asked
            if let start = control.startCheckpoint(id: asked, queue: queue) {
                var part = WorkerStatePart(queue: queue, referenceSeconds: start.reference)
                part.records = start.buffer
                checkpoint = (asked, 0, part)
            }
        }
        guard var current = checkpoint else { return }
        checkpoint = nil
        let budget = light ? Self.checkpointBudget * 8 : Self.checkpointBudget
        let next = pipeline.saveConnections(from: current.cursor, limit: budget, now: roundTimestamp,
                                            referenceSeconds: current.part.referenceSeconds, queue: queue,
                                            into: &current.part.records)
        if let next {
            current.cursor = next
            checkpoint = current
            return
        }
        addSourcesAndTables(to: &current.part)
        control.deliverCheckpoint(current.part, id: current.id)
    }

    /// This worker's whole share of the state file, for the clean stop (call once the worker's
    /// thread has ended).
    func stateAtStop(referenceSeconds: UInt32) -> WorkerStatePart {
        var part = WorkerStatePart(queue: queue, referenceSeconds: referenceSeconds)
        let reference = UInt64(referenceSeconds) * 1_000_000_000
        _ = pipeline.saveConnections(from: 0, limit: .max, now: reference, referenceSeconds: referenceSeconds,
                                     queue: queue, into: &part.records)
        addSourcesAndTables(to: &part)
        return part
    }

    /// Completes a share with the proven sources and the table additions, timed relative to
    /// its reference.
    private func addSourcesAndTables(to part: inout WorkerStatePart) {
        let reference = UInt64(part.referenceSeconds) * 1_000_000_000
        part.proven = pipeline.provenSources(now: reference)
        part.tables = pipeline.dynamicTableEntries(now: reference).map {
            SavedTableEntry(table: $0.table, address: $0.address, addedAgoNanoseconds: reference &- min(reference, $0.since))
        }
    }

    /// Table entries a reload checks against the new rules per receive round: a few
    /// milliseconds of work, so a reload on a million connections never holds the queue for long.
    static let revisionBudget = 16_384

    /// Logs a finished reload check worth a record.
    private func reloaded(_ outcome: ReloadOutcome?) {
        guard let outcome, outcome.isWorthAnEvent, let log else { return }
        _ = log.post(Event(reload: outcome, timestampNanoseconds: Self.now(), queue: Int(queue)))
    }

    /// Answers the control socket's question `id` (counters, and connections if asked). Runs
    /// between rounds on this thread, so the copies are consistent and nothing is locked.
    private func answerQuery(_ id: Int) {
        guard let query = control.pendingQuery(id: id) else { return }
        var connections: [ConnectionSnapshot] = []
        var matched = 0
        if let filter = query.connections, query.kill {
            let now = Self.now()
            matched = pipeline.killFlows(now: now, matching: filter.matches) { connection in
                if connections.count < query.limit { connections.append(connection) }
                // Logged as the end of its flow: a `flow` record, reason `killed`.
                _ = log?.post(Event(killed: connection, timestampNanoseconds: now, queue: Int(queue)))
            }
        } else if let filter = query.connections {
            pipeline.forEachConnection(now: Self.now()) { connection in
                guard filter.matches(connection) else { return }
                matched += 1
                if connections.count < query.limit { connections.append(connection) }
            }
        }
        let report = WorkerReport(
            queue: queue, queueStatistics: socket.statistics, pipeline: pipeline.counters,
            tracker: pipeline.trackerStatistics, states: pipeline.trackedFlows, capacity: pipeline.trackerCapacity,
            halfOpen: pipeline.halfOpenFlows, ruleHits: pipeline.ruleHits, ruleset: pipeline.ruleset,
            suppressedEvents: suppressedEvents, connections: connections, matched: matched)
        control.answer(report, to: id)
    }

    /// After the verdicts: hand the round's events to the log writer's ring. Building an event
    /// is the only per-event cost here; a full ring counts it as lost, never waits.
    private func writeEvents() {
        guard let log, !pendingEvents.isEmpty else { return }
        let rules = pipeline.ruleset
        for (decision, context) in pendingEvents {
            log.post(Event(decision: decision, timestampNanoseconds: roundTimestamp, queue: Int(queue), rules: rules,
                           context: context, interfaceName: names.name(of: context.inInterface)))
        }
        pendingEvents.removeAll(keepingCapacity: true)
    }

    /// After the round: shares this round's `overload` additions with the other workers and
    /// takes theirs, so an address blocked on one queue is blocked on all of them (within a
    /// round). Nothing to do, and no lock taken, when no worker overloaded anything.
    private func exchangeTableAdditions() {
        if !overloads.isEmpty {
            if let ruleset = pipeline.ruleset {
                let shared = overloads.compactMap { overload -> TableAddition? in
                    guard overload.table < ruleset.tables.count else { return nil }
                    let flushRule = overload.flushRule.flatMap { $0 < ruleset.rules.count ? ruleset.rules[$0].text : nil }
                    return TableAddition(table: ruleset.tables[overload.table].name, address: overload.address,
                                         time: overload.time, flushRule: flushRule)
                }
                control.share(shared, from: queue)
            }
            overloads.removeAll(keepingCapacity: true)
        }
        let generation = control.tableGeneration.load(ordering: .acquiring)
        guard generation != tableGeneration else { return }
        tableGeneration = generation
        for addition in control.takeAdditions(for: queue) {
            pipeline.addToTable(addition.table, addition.address, now: addition.time)
            if let text = addition.flushRule, let index = pipeline.ruleset?.rules.firstIndex(where: { $0.text == text }) {
                pipeline.requestFlush(source: addition.address, rule: index)
            }
        }
    }

    /// `if_indextoname`, for rules that name interfaces (asked only for new flows, then cached).
    @Sendable static func interfaceName(_ index: UInt32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(index, &buffer) != nil else { return nil }
        return String(cString: buffer)
    }

    /// Wall-clock time in nanoseconds (vDSO, no system call).
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
