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
    /// Events not handed to the log (per-round cap, full ring), by reason, until a
    /// `suppressed` record for them fits the ring.
    private var lostEvents = EventLossTally()
    static let maxEventsPerRound = 256
    /// The checkpoint this worker last started, and its share while it is being copied.
    private var checkpointGeneration = 0
    private var checkpoint: (id: Int, cursor: Int, part: WorkerStatePart)?
    /// Where this worker tells the checkpoint thread how many flows it holds.
    private let flowCounter: ManagedAtomic<Int>
    /// `block return…`: the shared sender, and this worker's buffer to build answers in.
    private let replies: ReplySender?
    private let replyBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ReplyBuilder.maximumLength, alignment: 8)
    /// Whether a trace runs (loaded once per round), its filter, and this round's matches.
    private var tracing = false
    private var traceGeneration = -1
    private var traceFilter: ConnectionFilter.Compiled?
    private var traced: [(decision: Decision, context: PacketContext, flowRule: Int?)] = []
    private var traceMatched = 0
    private var traceDropped = 0
    /// Decisions a worker keeps for the trace per round at most (the rest are counted).
    static let maxTracedPerRound = 256
    /// The offload marks of the rules attached at start (docs/offload.md); a reload changes
    /// whether new connections are offloaded, never the marks.
    private let offloadMarks: OffloadMarks?
    /// Where offloaded connections that synwall cuts are deleted in the kernel too (opened on
    /// the first such cut).
    private var conntrack: ConntrackSocket?
    /// Offloaded connections deleted in the kernel, and deletions the kernel refused.
    private(set) var offloadCutsDone = 0
    private(set) var offloadCutsFailed = 0

    init(socket: QueueSocket, pipeline: consuming Pipeline, log: EventQueue?, control: WorkerControl,
         replies: ReplySender? = nil, offload: OffloadMarks? = nil) {
        self.replies = replies
        queue = socket.configuration.queue
        self.socket = socket
        self.pipeline = pipeline
        self.log = log
        self.control = control
        rulesGeneration = control.rulesGeneration.load(ordering: .acquiring)
        self.pipeline.collectsEndedFlows = log != nil
        pendingEvents.reserveCapacity(Self.maxEventsPerRound)
        traced.reserveCapacity(Self.maxTracedPerRound)
        overloads.reserveCapacity(16)
        flowCounter = control.register(queue: queue)
        control.noteStartingRules(self.pipeline.ruleset)
        offloadMarks = offload
    }

    deinit { replyBuffer.deallocate() }

    var queueStatistics: QueueStatistics { socket.statistics }
    var pipelineCounters: PipelineCounters { pipeline.counters }
    var trackedFlows: Int { pipeline.trackedFlows }

    /// The worker loop: receive rounds until asked to stop, then drain what is still queued.
    func run() {
        var consecutiveFailures = 0
        while !control.stop.load(ordering: .relaxed) {
            roundTimestamp = Self.now()
            // The only cost of the trace while none runs: this load, once per round.
            tracing = control.trace.active.load(ordering: .relaxed)
            if tracing { refreshTrace() }
            let round = socket.receiveRound { packet in self.handle(packet) }
            writeEvents()
            cutOffloaded()
            if tracing { deliverTrace() }
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
                rulesGeneration = newRules.generation
                reloaded(pipeline.beginReplacingRules(newRules.rules, now: roundTimestamp, budget: budget))
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
        let context = PacketContext(queued: packet, at: roundTimestamp, offload: offloadMarks)
        let decision = pipeline.process(packet.payload, context: context)
        releaseFragments()
        if tracing, !decision.isHeld { trace(decision, context) }
        if let rule = decision.rule, let table = rule.overloadTable, let source = decision.summary?.source {
            var flushRule: Int?
            if rule.flushSource, case .rule(let index) = rule.origin { flushRule = index }
            overloads.append((table, source, roundTimestamp, flushRule))
        }
        if decision.verdict == .drop, let reply = decision.rule?.reply, let replies {
            // The refused sender's answer (rate-limited over every worker); the packet itself is dropped.
            replies.answer(reply, to: packet.payload, now: roundTimestamp, buffer: replyBuffer)
        }
        if decision.isEvent, log != nil {
            if pendingEvents.count < Self.maxEventsPerRound {
                pendingEvents.append((decision, context))
            } else {
                suppressedEvents += 1
                lostEvents.add(decision, at: roundTimestamp)
            }
        }
        if decision.isHeld { return .held }
        if decision.verdict == .accept, let change = decision.offload, let marks = offloadMarks {
            return marks.verdict(change, packetMark: packet.mark)
        }
        return decision.verdict == .accept ? .accept : .drop
    }

    /// Offloaded connections that left synwall's table (killed, flushed, cut by a reload, timed
    /// out): their connections in the kernel are deleted, so their next segments come to
    /// synwall again (and meet no entry). Between rounds; one netlink request each.
    private func cutOffloaded() {
        pipeline.drainOffloadCuts { flow in
            if conntrack == nil { conntrack = try? ConntrackSocket() }
            let deleted = conntrack?.deleteConnection(
                source: flow.initiatorAddress.networkBytes, sourcePort: flow.initiatorPort,
                destination: flow.responderAddress.networkBytes, destinationPort: flow.responderPort,
                proto: flow.key.proto) ?? false
            if deleted { offloadCutsDone += 1 } else { offloadCutsFailed += 1 }
        }
    }

    /// Gives held fragments the verdict their datagram got (or the drop of a datagram given
    /// up), and queues an event for each datagram given up.
    private func releaseFragments() {
        guard pipeline.hasFragmentNews else { return }
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
        part.tables = pipeline.runtimeTableEntries(now: reference).map {
            SavedTableEntry(table: $0.table, address: $0.prefix.address, addedAgoNanoseconds: reference &- min(reference, $0.time.since),
                            prefixLength: $0.prefix.isHost ? nil : UInt8($0.prefix.length),
                            lifetimeNanoseconds: $0.time.lifetime, manual: $0.time.manual)
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
            // Each is logged as the end of its flow (a `flow` record, reason `killed`) with
            // the other ended flows, after the next round.
            matched = pipeline.killFlows(now: now, matching: filter.matches) { connection in
                if connections.count < query.limit { connections.append(connection) }
            }
        } else if let filter = query.connections {
            pipeline.forEachConnection(now: Self.now()) { connection in
                guard filter.matches(connection) else { return }
                matched += 1
                if connections.count < query.limit { connections.append(connection) }
            }
        }
        // A table operation: the same change, with the same time, on every worker.
        let tableResult = query.table.map { $0.apply(to: &pipeline) }
        let report = WorkerReport(
            queue: queue, queueStatistics: socket.statistics, pipeline: pipeline.counters,
            tracker: pipeline.trackerStatistics, states: pipeline.trackedFlows, capacity: pipeline.trackerCapacity,
            halfOpen: pipeline.halfOpenFlows, ruleHits: pipeline.ruleHits, ruleset: pipeline.ruleset,
            suppressedEvents: suppressedEvents, connections: connections, matched: matched, table: tableResult)
        control.answer(report, to: id)
    }

    /// After the verdicts: hand the round's events to the log writer's ring. Building an event
    /// is the only per-event cost here; a full ring counts it as lost, never waits.
    ///
    /// Then the `flow` records of the connections that ended (unless `set log flows off`),
    /// and, when some events could not be handed over, one `suppressed` record counting them
    /// by reason (kept and tried again next round while the ring is full).
    private func writeEvents() {
        guard let log else { return }
        let rules = pipeline.ruleset
        if !pendingEvents.isEmpty {
            for (decision, context) in pendingEvents {
                let event = Event(decision: decision, timestampNanoseconds: roundTimestamp, queue: Int(queue),
                                  rules: rules, context: context, interfaceName: names.name(of: context.inInterface))
                if !log.post(event) { lostEvents.add(event) }
            }
            pendingEvents.removeAll(keepingCapacity: true)
        }
        if pipeline.hasEndedFlows {
            let flows = rules?.settings.logFlows ?? true
            let queue = Int(self.queue)
            pipeline.drainEndedFlows { flow in
                guard flows else { return }
                let event = Event(endedFlow: flow, queue: queue, rules: rules,
                                  interfaceName: flow.origin.inInterface == 0 ? nil : names.name(of: flow.origin.inInterface))
                if !log.post(event) { lostEvents.add(event) }
            }
        }
        if let record = lostEvents.record(queue: Int(queue)), log.offer(record) {
            lostEvents.reset()
        }
    }

    /// After the round: shares this round's `overload` additions with the other workers and
    /// takes theirs, so an address blocked on one queue is blocked on all of them (within a
    /// round). Nothing to do, and no lock taken, when no worker overloaded anything.
    private func exchangeTableAdditions() {
        if !overloads.isEmpty {
            if let ruleset = pipeline.ruleset {
                let generation = rulesGeneration
                let shared = overloads.compactMap { overload -> TableAddition? in
                    guard overload.table < ruleset.tables.count else { return nil }
                    return TableAddition(table: ruleset.tables[overload.table].name, address: overload.address,
                                         time: overload.time,
                                         flushRule: overload.flushRule.map { RuleReference(index: $0, generation: generation) })
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
            if let reference = addition.flushRule, let rules = pipeline.ruleset,
               let index = control.ruleIndex(of: reference, in: rules, generation: rulesGeneration) {
                pipeline.requestFlush(source: addition.address, rule: index)
            }
        }
    }

    // MARK: - Trace

    /// Takes the running trace's filter when it changed; ends a trace whose client stopped
    /// polling.
    private func refreshTrace() {
        let hub = control.trace
        if roundTimestamp > hub.deadline.load(ordering: .relaxed) {
            hub.expire(now: roundTimestamp)
        }
        let generation = hub.generation.load(ordering: .acquiring)
        if generation != traceGeneration {
            let current = hub.currentFilter()
            traceGeneration = current.generation
            traceFilter = current.filter
            traced.removeAll(keepingCapacity: true)
            traceMatched = 0
            traceDropped = 0
        }
        if traceFilter == nil { tracing = false }
    }

    /// Keeps a decision the trace's filter matches (packet path, while a trace runs: a filter
    /// test and a copy into reserved storage).
    @inline(__always)
    private func trace(_ decision: Decision, _ context: PacketContext) {
        guard let filter = traceFilter else { return }
        let matches: Bool
        if let summary = decision.summary {
            matches = filter.matches(source: summary.source, sourcePort: summary.hasPorts ? summary.sourcePort : nil,
                                     destination: summary.destination,
                                     destinationPort: summary.hasPorts ? summary.destinationPort : nil,
                                     proto: summary.proto, state: decision.state)
        } else {
            matches = filter.isAddressFree
        }
        guard matches else { return }
        traceMatched += 1
        if traced.count < Self.maxTracedPerRound {
            traced.append((decision, context, decision.rule == nil ? pipeline.lastPacketFlowRule : nil))
        } else {
            traceDropped += 1
        }
    }

    /// After the round's verdicts: the traced decisions as lines, to the trace hub.
    private func deliverTrace() {
        guard !traced.isEmpty || traceDropped > 0 else { return }
        let rules = pipeline.ruleset
        var lines: [TraceLine] = []
        lines.reserveCapacity(traced.count)
        for (decision, context, flowRule) in traced {
            lines.append(TraceLine(decision: decision, context: context, queue: Int(queue), timestamp: roundTimestamp,
                                   rules: rules, interfaceName: names.name(of: context.inInterface),
                                   flowRule: flowRule))
        }
        control.trace.deliver(lines, generation: traceGeneration, matched: traceMatched, dropped: traceDropped,
                              now: roundTimestamp)
        traced.removeAll(keepingCapacity: true)
        traceMatched = 0
        traceDropped = 0
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
