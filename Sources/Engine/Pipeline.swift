import Rules
import Tracking
import Wire

/// Settings of the pure pipeline.
public struct PipelineConfiguration: Sendable, Equatable {
    /// Whether new flows may start when no rule file decides: `.accept` admits every new
    /// connection (the tracker still enforces everything else); `.drop` refuses them all
    /// (reason `policy`).
    public var defaultVerdict: Verdict
    /// Verify checksums the source reports as unverified.
    public var verifyChecksums: Bool
    /// The connection tracker's limits, timeouts and modes.
    public var tracker: TrackerConfiguration
    /// Most fragments whose verdicts are held at once (each stays in the kernel's queue until
    /// then: keep it well below the queue's length).
    public var fragmentsHeldLimit: Int

    public init(defaultVerdict: Verdict = .accept, verifyChecksums: Bool = true,
                tracker: TrackerConfiguration = TrackerConfiguration(), fragmentsHeldLimit: Int = 2048)
    {
        self.defaultVerdict = defaultVerdict
        self.verifyChecksums = verifyChecksums
        self.tracker = tracker
        self.fragmentsHeldLimit = fragmentsHeldLimit
    }
}

/// Decode → track → decide, for one packet at a time. The same code runs live (one pipeline
/// per NFQUEUE worker, which owns that worker's share of the connection table) and offline
/// (`synwall replay`): a packet gets the same verdict either way.
///
/// Pure: no I/O, time comes in through `PacketContext`, nothing allocates per packet.
public struct Pipeline: ~Copyable {
    public let configuration: PipelineConfiguration
    public private(set) var counters = PipelineCounters()
    private var tracker: ConnectionTracker
    /// The rules (nil: `configuration.defaultVerdict` decides new flows).
    private var matcher: RuleMatcher?
    private var interfaceNames: InterfaceNames
    private var fragments: FragmentTable
    /// An unfinished reload check (see `beginReplacingRules`).
    private var revision: Revision?
    /// `overload … flush` requests not yet carried out: a source and the rule whose flows go.
    private var pendingFlushes: [(source: IPAddress, rule: UInt32)] = []
    /// The table entry the flush goes on from.
    private var flushCursor = 0
    /// Flush requests kept at once (beyond: ignored; the sources are blocked anyway).
    static let maxPendingFlushes = 256
    /// Table entries a flush looks at right after the overload (the rest: `continueFlush`).
    public static let flushBudget = 16_384
    /// Saved connections this pipeline may claim when the state file could not say which
    /// worker owns them (see `RestorePool`); nil when there are none.
    public var restorePool: RestorePool?
    /// Connections taken from the restore pool.
    public private(set) var claimedFromPool = 0
    /// Whether flows that end are kept for `drainEndedFlows` (for `flow` records); off by
    /// default, so a pipeline nobody drains keeps nothing.
    public var collectsEndedFlows = false {
        didSet { if collectsEndedFlows { endedFlows.reserveCapacity(Self.maxEndedFlows) } }
    }
    /// Flows that ended since the last drain (capacity reserved once: no allocation per packet).
    private var endedFlows: [EndedFlow] = []
    /// Flows that left the table while offloaded, for `drainOffloadCuts`.
    private var offloadCuts: [EndedFlow] = []
    /// Ended flows not kept because `maxEndedFlows` were waiting (counted, never written).
    public private(set) var endedFlowsLost = 0
    /// Ended flows kept between two drains at most (a worker drains after every receive round).
    public static let maxEndedFlows = 4_096

    /// A pipeline; with `rules`, new flows are admitted by the rule file, else by the default verdict.
    public init(configuration: PipelineConfiguration = PipelineConfiguration(), rules: CompiledRuleset? = nil,
                interfaceNames: InterfaceNames = InterfaceNames())
    {
        self.configuration = configuration
        tracker = ConnectionTracker(configuration: configuration.tracker)
        fragments = FragmentTable(heldLimit: configuration.fragmentsHeldLimit,
                                  seed: configuration.tracker.hashSeed ^ 0x6672_6167_6D65_6E74)
        matcher = rules.map { RuleMatcher(ruleset: $0) }
        self.interfaceNames = interfaceNames
    }

    /// The rules in force, if any.
    public var ruleset: CompiledRuleset? { matcher?.ruleset }
    /// Hits per rule (index as in `ruleset.rules`), when rules are in force.
    public var ruleHits: [UInt64] { matcher?.ruleHits ?? [] }

    /// Puts a newly compiled rule file in force; per-source tables filled at run time are kept
    /// by name. Then every live flow is judged by the new rules as if its first packet arrived
    /// at `now` (default: the time of the last packet or `idle` call), from its initiator, with
    /// the hook and interfaces that packet had. With `set reload recheck` the flows the new
    /// rules block are removed (their next packets are judged as new: a mid-stream TCP
    /// segment is `no_connection` unless `set tcp pickup`); with `keep` (the default) every
    /// flow stays. Either way each kept flow's rule becomes the new rules' passing rule (or
    /// none). Runs on the worker's thread; costs one rule decision per live flow.
    @discardableResult
    public mutating func replaceRules(_ rules: CompiledRuleset, now: UInt64? = nil) -> ReloadOutcome {
        let finished = beginReplacingRules(rules, now: now, budget: .max)
        return finished ?? ReloadOutcome(mode: rules.settings.reloadStates)
    }

    /// Like `replaceRules`, but looks at no more than `budget` table entries now: the rest of
    /// the check is done by `continueRevision` (one budget per receive round), so a reload on a
    /// large table never holds the queue's packets for long. New flows meet the new rules at
    /// once; live flows not yet checked keep going meanwhile. Returns the outcome once every
    /// flow was checked, nil while some are left. A reload during a check starts it again
    /// (the flows already cut stay counted).
    public mutating func beginReplacingRules(_ rules: CompiledRuleset, now: UInt64? = nil,
                                             budget: Int) -> ReloadOutcome? {
        if matcher == nil {
            matcher = RuleMatcher(ruleset: rules)
        } else {
            matcher?.replaceRuleset(rules)
        }
        var outcome = ReloadOutcome(mode: rules.settings.reloadStates)
        if let unfinished = revision?.outcome {
            outcome.cut = unfinished.cut
            outcome.cutExamples = unfinished.cutExamples
        }
        revision = Revision(cursor: 0, outcome: outcome)
        return continueRevision(now: now ?? tracker.lastTime, budget: budget)
    }

    /// Adds `address` to the dynamic table named `name` as of `now` (what `overload` does),
    /// for an addition another worker made. False when there are no rules, no such dynamic
    /// table, the address is already in it or the table is full.
    @discardableResult
    public mutating func addToTable(_ name: String, _ address: IPAddress, now: UInt64) -> Bool {
        matcher?.add(address, toTable: name, now: now) ?? false
    }

    /// Asks for the flows that `source` opened through the rule at `rule` to be cut (what
    /// `overload <table> flush` does; the daemon also asks it for another worker's overload).
    /// Carried out `flushBudget` entries at a time by `continueFlush` (and `idle`).
    public mutating func requestFlush(source: IPAddress, rule: Int) {
        let rule = UInt32(clamping: rule)
        guard pendingFlushes.count < Self.maxPendingFlushes,
              !pendingFlushes.contains(where: { $0.source == source && $0.rule == rule }) else { return }
        pendingFlushes.append((source, rule))
        flushCursor = 0  // from the start, so the new request sees every entry
    }

    /// True while some `overload … flush` is not carried out yet.
    public var isFlushing: Bool { !pendingFlushes.isEmpty }

    /// Carries out pending flushes over up to `budget` more table entries.
    public mutating func continueFlush(now: UInt64, budget: Int) {
        guard !pendingFlushes.isEmpty else { return }
        let requests = pendingFlushes
        let next = tracker.flushFlows(from: flushCursor, limit: budget, now: now) { address, rule in
            requests.contains { $0.source == address && $0.rule == rule }
        }
        forgetRemovedFlows()
        if let next {
            flushCursor = next
        } else {
            pendingFlushes.removeAll(keepingCapacity: true)
            flushCursor = 0
        }
    }

    /// True while a reload's check of the live flows is unfinished.
    public var isRevising: Bool { revision != nil }

    /// Checks up to `budget` more table entries of an unfinished reload; the outcome when that
    /// was the last of them, nil otherwise (also when no check is going on).
    public mutating func continueRevision(now: UInt64, budget: Int) -> ReloadOutcome? {
        guard let state = revision else { return nil }
        revision = nil
        var outcome = state.outcome
        let mode = outcome.mode
        forgetRemovedFlows()
        guard var rules = matcher.take() else { return outcome }
        var names = interfaceNames
        var cursor: Int? = state.cursor
        var left = max(1, budget)
        while let start = cursor, left > 0 {
            cursor = tracker.reviseFlows(from: start, limit: left, now: now) { flow, origin in
                Self.judge(flow, origin, rules: &rules, names: &names, mode: mode, now: now, outcome: &outcome)
            }
            if let next = cursor {
                left = budget == .max ? .max : left - max(1, next - start)
            }
            drainDepartures(&rules)
        }
        matcher = rules
        interfaceNames = names
        if let next = cursor {
            revision = Revision(cursor: next, outcome: outcome)
            return nil
        }
        return outcome
    }

    /// Like `beginReplacingRules` with the rules in force, after flows were restored from the
    /// state file: every restored flow is judged by the rules as on a reload — which registers
    /// it with the per-source limits and gives it the passing rule's index — and, when
    /// `recheck` is true (the rule file changed since the file was written) or the rules say
    /// `set reload recheck`, the flows the rules block are cut. Nothing when there are no rules.
    public mutating func checkRestoredFlows(recheck: Bool, now: UInt64, budget: Int) -> ReloadOutcome? {
        guard let rules = matcher?.ruleset else { return nil }
        var outcome = ReloadOutcome(mode: recheck ? .recheck : rules.settings.reloadStates)
        if let unfinished = revision?.outcome {
            outcome.cut = unfinished.cut
            outcome.cutExamples = unfinished.cutExamples
        }
        revision = Revision(cursor: 0, outcome: outcome)
        return continueRevision(now: now, budget: budget)
    }

    // MARK: State file

    /// Appends the state-file records of this pipeline's live flows (see
    /// `ConnectionTracker.saveConnections`); the entry to go on from, or nil when done.
    public func saveConnections(from start: Int, limit: Int, now: UInt64, referenceSeconds: UInt32, queue: UInt16,
                                into buffer: inout [UInt8]) -> Int? {
        tracker.saveConnections(from: start, limit: limit, now: now, referenceSeconds: referenceSeconds, queue: queue,
                                into: &buffer)
    }

    /// Puts back the saved flows `include` picks (see `ConnectionTracker.restoreConnections`).
    public mutating func restoreConnections(_ records: UnsafeRawBufferPointer, now: UInt64, elapsedSeconds: UInt32,
                                            include: (UnsafeRawPointer) -> Bool) -> RestoreCounts {
        tracker.restoreConnections(records, now: now, elapsedSeconds: elapsedSeconds, include: include)
    }

    /// Sources proven at `now`, with how long ago.
    public func provenSources(now: UInt64) -> [SavedProvenSource] { tracker.provenSources(now: now) }

    /// Puts back a saved proven source, `elapsedNanoseconds` after it was saved.
    public mutating func restoreProvenSource(_ source: SavedProvenSource, now: UInt64, elapsedNanoseconds: UInt64) {
        tracker.restoreProvenSource(source, now: now, elapsedNanoseconds: elapsedNanoseconds)
    }

    /// Addresses put in tables at run time (`overload`), not yet expired: table, address, when.
    public func dynamicTableEntries(now: UInt64) -> [(table: String, address: IPAddress, since: UInt64)] {
        matcher?.dynamicEntries(now: now) ?? []
    }

    /// Entries added to tables while running (`overload`, `synwall table add`), not yet
    /// expired: of the table named `table`, or of all.
    public func runtimeTableEntries(ofTable table: String? = nil, now: UInt64) -> [RuntimeTableEntry] {
        matcher?.runtimeEntries(ofTable: table, now: now) ?? []
    }

    /// `synwall table add`: see `RuleMatcher.addEntry`.
    public mutating func addTableEntry(_ prefix: IPPrefix, toTable name: String, now: UInt64, lifetime: UInt64?) -> TableChange {
        matcher?.addEntry(prefix, toTable: name, now: now, lifetime: lifetime) ?? .notChangeable
    }

    /// `synwall table delete`: removes an entry added while running; returns it, or nil.
    public mutating func removeTableEntry(_ prefix: IPPrefix, fromTable name: String, now: UInt64) -> RuntimeTableEntry? {
        matcher?.removeEntry(prefix, fromTable: name, now: now)
    }

    /// `synwall table flush`: removes every entry added while running; returns how many.
    public mutating func flushTable(_ name: String, now: UInt64) -> Int {
        matcher?.flushTable(name, now: now) ?? 0
    }

    /// `synwall table test`: where `address` is in the table, or nil.
    public func tableMatch(_ name: String, _ address: IPAddress, now: UInt64) -> TableMatch? {
        matcher?.tableMatch(name, address, now: now)
    }

    /// Puts back a table entry saved in the state file (its time as saved).
    @discardableResult
    public mutating func restoreTableEntry(_ entry: RuntimeTableEntry, now: UInt64) -> Bool {
        matcher?.restoreEntry(entry, now: now) ?? false
    }

    /// A reload's (or a restore's) verdict on one live flow: the new rules judge its first
    /// packet; blocked flows are cut in `recheck` mode and kept without a rule otherwise.
    private static func judge(_ flow: ConnectionSnapshot, _ origin: FlowOrigin, rules: inout RuleMatcher,
                              names: inout InterfaceNames, mode: RuleSettings.ReloadStates, now: UInt64,
                              outcome: inout ReloadOutcome) -> FlowRevision {
        let context = RuleContext(direction: direction(ofHook: origin.hook), inInterface: names.name(of: origin.inInterface),
                                  outInterface: names.name(of: origin.outInterface), now: now)
        let decision = rules.recheck(firstPacket(of: flow), key: flow.key, context: context)
        if decision.verdict == .accept {
            outcome.kept += 1
            return .keep(ruleIndex: decision.ruleIndex)
        }
        guard mode == .recheck else {
            outcome.kept += 1
            outcome.keptBlocked += 1
            return .keep(ruleIndex: nil)
        }
        outcome.cut += 1
        if outcome.cutExamples.count < ReloadOutcome.exampleLimit { outcome.cutExamples.append(flow) }
        return .remove
    }

    /// An unfinished reload check: where it goes on, and what it counted so far.
    private struct Revision {
        var cursor: Int
        var outcome: ReloadOutcome
    }

    /// Calls `body` with a copy of every flow in this pipeline's table (see
    /// `ConnectionTracker.forEachConnection`); with `now`, flows already expired are left out.
    /// Call it on the thread that owns the pipeline; not for the packet path.
    public func forEachConnection(now: UInt64?, _ body: (ConnectionSnapshot) throws -> Void) rethrows {
        try tracker.forEachConnection(now: now, body)
    }

    /// Judges one packet; `bytes` start at the IP header.
    public mutating func process(_ bytes: UnsafeRawBufferPointer, context: PacketContext) -> Decision {
        guard let rules = matcher.take() else {
            var admission = PolicyAdmission(verdict: configuration.defaultVerdict, origin: Self.origin(of: context))
            let decision = process(bytes, context: context, admission: &admission)
            forgetRemovedFlows()
            return decision
        }
        // The matcher moves into the admission and back, so it stays uniquely owned (no copy).
        var admission = RulesAdmission(matcher: rules, names: interfaceNames, direction: context.direction,
                                       inInterface: context.inInterface, outInterface: context.outInterface,
                                       now: context.timestampNanoseconds)
        var decision = decide(bytes, context: context, admission: &admission)
        matcher = admission.matcher
        interfaceNames = admission.names
        if decision.reason == .noConnection, restorePool != nil, claimRestored(decision, now: context.timestampNanoseconds),
           let again = matcher.take() {
            // Its connection was waiting in the restore pool: judged again, now with its entry.
            admission = RulesAdmission(matcher: again, names: interfaceNames, direction: context.direction,
                                       inInterface: context.inInterface, outInterface: context.outInterface,
                                       now: context.timestampNanoseconds)
            decision = decide(bytes, context: context, admission: &admission)
            matcher = admission.matcher
            interfaceNames = admission.names
        }
        forgetRemovedFlows()
        if let rule = decision.rule, rule.flushSource, rule.overloadTable != nil, case .rule(let index) = rule.origin,
           let source = decision.summary?.source {
            requestFlush(source: source, rule: index)
            continueFlush(now: context.timestampNanoseconds, budget: Self.flushBudget)
        }
        count(decision)
        return decision
    }

    /// Judges one packet without rules, asking `admission` (the default verdict) whether a new
    /// flow may start.
    private mutating func process(_ bytes: UnsafeRawBufferPointer, context: PacketContext,
                                  admission: inout PolicyAdmission) -> Decision {
        var decision = decide(bytes, context: context, admission: &admission)
        if decision.reason == .noConnection, restorePool != nil, claimRestored(decision, now: context.timestampNanoseconds) {
            decision = decide(bytes, context: context, admission: &admission)
        }
        count(decision)
        return decision
    }

    /// Removes every live flow that `matching` picks (`synwall conns --kill`), handing each
    /// to `killed` first; returns how many went. Their next packets are judged as new ones.
    /// Walks the whole table on the caller's thread (the worker's, between rounds): an
    /// operator's action, not for the packet path.
    @discardableResult
    public mutating func killFlows(now: UInt64, matching: (ConnectionSnapshot) -> Bool,
                                   killed: (ConnectionSnapshot) -> Void = { _ in }) -> Int {
        var count = 0
        var cursor: Int? = 0
        while let start = cursor {
            cursor = tracker.killFlows(from: start, now: now) { flow in
                guard matching(flow) else { return false }
                count += 1
                killed(flow)
                return true
            }
            forgetRemovedFlows()  // empties the departure ring, so the walk goes on
        }
        return count
    }

    /// Lets time pass without a packet (expires idle flows a bounded amount at a time).
    public mutating func idle(now: UInt64) {
        fragments.sweep(now: now, budget: .max)
        tracker.expire(now: now)
        forgetRemovedFlows()
        continueFlush(now: now, budget: Self.flushBudget)
    }

    /// Tells the rules about flows that left the table (for `max-src-conn`), or just forgets
    /// them; keeps the ended flows for their records when asked to.
    private mutating func forgetRemovedFlows() {
        guard tracker.hasRemovedFlows else { return }
        if var rules = matcher.take() {
            drainDepartures(&rules)
            matcher = rules
        } else {
            var none: RuleMatcher?
            drainDepartures(&none)
        }
    }

    private mutating func drainDepartures(_ rules: inout RuleMatcher) {
        var optional: RuleMatcher? = consume rules
        drainDepartures(&optional)
        rules = optional.take()!
    }

    /// Empties the tracker's departure ring: each flow whose key left the table goes to the
    /// rules' per-source counts, and (when collected) each ended flow to `endedFlows`.
    private mutating func drainDepartures(_ rules: inout RuleMatcher?) {
        var kept: [EndedFlow] = []
        swap(&kept, &endedFlows)  // a move: no copy, no allocation
        let collect = collectsEndedFlows
        var lost = 0
        tracker.drainEndedFlows { flow in
            if flow.keyLeftTable { rules?.connectionClosed(key: flow.key) }
            if flow.wasOffloaded, offloadCuts.count < Self.maxEndedFlows { offloadCuts.append(flow) }
            guard collect else { return }
            if kept.count < Self.maxEndedFlows { kept.append(flow) } else { lost += 1 }
        }
        swap(&kept, &endedFlows)
        endedFlowsLost += lost
    }

    /// Hands every flow that ended since the last call (closed, reset, timed out, evicted,
    /// killed, flushed, cut by a reload) to `body`, oldest first, and forgets them; only with
    /// `collectsEndedFlows`. Call it off the packet path (after a round's verdicts).
    public mutating func drainEndedFlows(_ body: (EndedFlow) -> Void) {
        guard !endedFlows.isEmpty else { return }
        for flow in endedFlows { body(flow) }
        endedFlows.removeAll(keepingCapacity: true)
    }

    /// Hands every flow that left the table while offloaded (killed, flushed, cut by a reload,
    /// timed out, evicted) to `body` and forgets them: the caller deletes their connections in
    /// the kernel, which otherwise goes on passing their plain segments (docs/offload.md).
    /// Collected whether or not `collectsEndedFlows` is set.
    public mutating func drainOffloadCuts(_ body: (EndedFlow) -> Void) {
        guard !offloadCuts.isEmpty else { return }
        for flow in offloadCuts { body(flow) }
        offloadCuts.removeAll(keepingCapacity: true)
    }

    /// Whether ended flows wait for `drainEndedFlows`.
    public var hasEndedFlows: Bool { !endedFlows.isEmpty }

    /// The rule that admitted the flow of the last packet processed, while the flow lives
    /// (nil: no flow, or no rule admitted it). For `synwall trace`: read only while tracing.
    public var lastPacketFlowRule: Int? { tracker.lastPacketFlowRule }

    /// Live flows in this pipeline's table.
    public var trackedFlows: Int { tracker.count }
    /// The tracker's counters (created, expired, evicted, rejected…).
    public var trackerStatistics: TrackerStatistics { tracker.statistics }
    /// Most flows the table holds.
    public var trackerCapacity: Int { tracker.capacity }
    /// TCP connections whose handshake is incomplete.
    public var halfOpenFlows: Int { tracker.halfOpenCount }

    @inline(__always)
    private mutating func decide<A: Admission>(_ bytes: UnsafeRawBufferPointer, context: PacketContext,
                                               admission: inout A) -> Decision where A.Ruling == NewFlowRuling
    {
        // Decode.
        let packet: Packet
        switch PacketDecoder.decode(bytes, originalLength: context.originalLength) {
        case .packet(let decoded):
            packet = decoded
        case .malformed(let anomaly):
            if case .fragmentTooShort = anomaly, let key = PacketDecoder.fragmentIdentity(bytes) {
                // A tiny first fragment: the rest of its datagram goes too.
                fragments.drop(FragmentKey(source: key.source, destination: key.destination,
                                           identification: key.identification, proto: key.protocolNumber),
                               now: context.timestampNanoseconds)
            }
            // What could still be read (the IP header, the first transport bytes) goes with
            // the drop, so its records name addresses, protocol and ports: the lenient reading
            // meant for ICMP quotes, which skips the checks that failed. No allocation.
            let readable = PacketDecoder.decodeQuoted(bytes).packet.map(PacketSummary.init)
            return Decision(verdict: .drop, reason: anomaly.dropReason, summary: readable, anomaly: anomaly)
        }
        let summary = PacketSummary(packet)
        if context.checksum == .unverified, configuration.verifyChecksums {
            counters.checksumsVerified += 1
            if packet.version == .v4, !Checksum.verifyIPv4Header(bytes) {
                return Decision(verdict: .drop, reason: .badChecksum, summary: summary)
            }
            if Checksum.verifyTransport(packet, in: bytes) == false {
                return Decision(verdict: .drop, reason: .badChecksum, summary: summary)
            }
        }
        // Fragments that reach the queue unreassembled: held until their datagram is
        // complete, which is then judged once (docs/fragments.md, "Held verdicts").
        if packet.fragment.isFragment {
            return fragment(packet, summary: summary, bytes: bytes, context: context, admission: &admission)
        }
        // Track, asking the admission (rules or policy) for packets that would start a flow.
        let tracked = tracker.trackWithRuling(packet, bytes: bytes, now: context.timestampNanoseconds,
                                              admission: &admission, kernelInvalid: context.kernelInvalid)
        return Decision(tracked: tracked.result, summary: summary, rule: tracked.ruling?.rule)
    }

    /// A fragment: dropped, passed (a duplicate of an accepted datagram's piece), held, or —
    /// when it completes its datagram — the datagram judged through the tracker and the rules,
    /// its verdict this piece's and, through `takeFragmentVerdicts`, the held pieces'.
    private mutating func fragment<A: Admission>(_ packet: Packet, summary: PacketSummary,
                                                 bytes: UnsafeRawBufferPointer, context: PacketContext,
                                                 admission: inout A) -> Decision where A.Ruling == NewFlowRuling {
        defer {
            counters.fragmentsHeld = fragments.heldTotal
            counters.datagramsReassembled = fragments.reassembled
            counters.datagramsAbandoned = fragments.abandoned
        }
        switch fragments.check(packet, bytes: bytes, id: context.packetID, context: context) {
        case .drop:
            return Decision(verdict: .drop, reason: .fragment, summary: summary)
        case .accept:
            return Decision(verdict: .accept, summary: summary)
        case .hold:
            var held = Decision(verdict: .drop, reason: .fragment, summary: summary)
            held.isHeld = true
            return held
        case .complete(let whole, let first):
            var tracked = tracker.trackWithRuling(whole, bytes: nil,
                                                  now: max(first.timestampNanoseconds, context.timestampNanoseconds),
                                                  admission: &admission)
            fragments.finish(verdict: tracked.result.verdict, reason: tracked.result.reason)
            // A datagram's verdict is not the place to start or end an offload (as before).
            tracked.result.offload = nil
            return Decision(tracked: tracked.result, summary: PacketSummary(whole), rule: tracked.ruling?.rule)
        }
    }

    /// Hands the verdicts of held fragments whose datagram was judged or given up since the
    /// last call — `(id, verdict, reason)`, the id as given in `PacketContext.packetID`, the
    /// reason the datagram's drop reason — to `body`, and counts them. Call it after every
    /// `process` and `idle` (nothing allocates).
    public mutating func takeFragmentVerdicts(_ body: (UInt32, Verdict, DropReason?) -> Void) {
        guard fragments.releaseCount > 0 else { return }
        var counters = self.counters
        fragments.takeReleases { release in
            counters.packets += 1
            if release.verdict == .accept {
                counters.accepted += 1
            } else {
                counters.dropped += 1
                counters.dropsByReason[PipelineCounters.index(of: release.reason ?? .fragment)] += 1
            }
            if release.isIPv6 { counters.ipv6 += 1 }
            switch release.proto {
            case 6: counters.tcp += 1
            case 17: counters.udp += 1
            case 1, 58: counters.icmp += 1
            default: counters.otherProtocols += 1
            }
            body(release.id, release.verdict, release.reason)
        }
        counters.datagramsAbandoned = fragments.abandoned
        self.counters = counters
    }

    /// Drop decisions, one per fragmented datagram given up incomplete since the last call
    /// (timed out, over a bound, or pushed out of the full table), for the event log; at most
    /// 64 between calls (the rest are counted in `datagramsAbandoned`).
    public mutating func takeAbandonedDatagrams(_ body: (Decision) -> Void) {
        fragments.takeExpired { packet in
            body(Decision(verdict: .drop, reason: .fragment, summary: PacketSummary(packet)))
        }
    }

    /// Gives up every incomplete fragmented datagram (at a stop): their held pieces are
    /// dropped, through `takeFragmentVerdicts`.
    public mutating func abandonFragments() {
        fragments.sweep(now: .max, budget: .max)
    }

    /// True when held fragments' verdicts or given-up datagrams wait to be taken: one check
    /// per packet, so the worker calls nothing else when there are none.
    public var hasFragmentNews: Bool { fragments.hasNews }

    /// Fragments held now.
    public var fragmentsHeldNow: Int { fragments.heldNow }
    /// The fragment table's fixed memory, in bytes.
    public var fragmentMemoryBytes: Int { fragments.memoryBytes }

    /// For a TCP segment without an entry (`no_connection`): takes its connection from the
    /// restore pool into this pipeline's table, if the pool has it, and lets the rules judge it
    /// as for the flows restored at start. True when the packet should be judged again. Drops
    /// the pool once it is spent.
    private mutating func claimRestored(_ decision: Decision, now: UInt64) -> Bool {
        guard let pool = restorePool else { return false }
        guard pool.isActive(now: now) else {
            restorePool = nil
            return false
        }
        guard let summary = decision.summary, summary.isTCP else { return false }
        let key = FlowKey.make(source: summary.source, sourcePort: summary.sourcePort, destination: summary.destination,
                               destinationPort: summary.destinationPort, proto: 6).key
        guard let record = pool.claim(key) else { return false }
        let elapsed = UInt32(clamping: (now &- min(now, pool.writtenNanoseconds)) / 1_000_000_000)
        let counts = record.withUnsafeBytes { tracker.restoreConnections($0, now: now, elapsedSeconds: elapsed) }
        claimedFromPool += counts.restored
        guard counts.restored > 0 else { return false }
        // As for the flows restored at start: the rules learn of it, and cut it when they
        // changed since and now block it.
        guard var rules = matcher.take() else { return true }
        var names = interfaceNames
        var outcome = ReloadOutcome(mode: pool.recheck ? .recheck : rules.ruleset.settings.reloadStates)
        let kept = tracker.reviseFlow(key, now: now) { flow, origin in
            Self.judge(flow, origin, rules: &rules, names: &names, mode: outcome.mode, now: now, outcome: &outcome)
        }
        drainDepartures(&rules)
        matcher = rules
        interfaceNames = names
        return kept
    }

    /// What the tracker keeps about a packet that starts a flow without rules.
    @inline(__always)
    static func origin(of context: PacketContext) -> FlowOrigin {
        FlowOrigin(hook: UInt8(truncatingIfNeeded: context.direction.index), inInterface: context.inInterface,
                   outInterface: context.outInterface)
    }

    /// The rules' direction for a stored hook number (`Direction.index`).
    static func direction(ofHook hook: UInt8) -> Direction {
        switch hook {
        case 1: return .out
        case 2: return .forward
        default: return .in
        }
    }

    /// The packet that would start `flow` now: from its initiator to its responder, a bare SYN
    /// for TCP, an empty datagram for UDP, an echo request for ICMP, a bare header otherwise.
    /// Built as a value (no bytes), which is all the rules read.
    static func firstPacket(of flow: ConnectionSnapshot) -> Packet {
        let v4 = flow.initiatorAddress.isIPv4
        let ipHeader = v4 ? 20 : 40
        let transport: TransportHeader
        let transportLength: Int
        switch flow.proto {
        case 6:
            transport = .tcp(TCPHeader(sourcePort: flow.initiatorPort, destinationPort: flow.responderPort,
                                       sequenceNumber: 0, acknowledgmentNumber: 0, headerLength: 20, flags: .syn,
                                       window: 65535, checksum: 0, urgentPointer: 0, options: TCPOptions(),
                                       payloadLength: 0))
            transportLength = 20
        case 17:
            transport = .udp(UDPHeader(sourcePort: flow.initiatorPort, destinationPort: flow.responderPort, length: 8,
                                       checksum: 0, payloadLength: 0))
            transportLength = 8
        case 1, 58:
            let echo = ICMPHeader(type: flow.proto == 1 ? 8 : 128, code: 0, checksum: 0,
                                  identifier: flow.initiatorPort, sequence: 0,
                                  restOfHeader: UInt32(flow.initiatorPort) << 16, isEcho: true, isEchoReply: false,
                                  isError: false, quotedOffset: nil, payloadLength: 0)
            transport = flow.proto == 1 ? .icmp(echo) : .icmpv6(echo)
            transportLength = 8
        default:
            transport = .other(flow.proto)
            transportLength = 0
        }
        return Packet(version: v4 ? .v4 : .v6, source: flow.initiatorAddress, destination: flow.responderAddress,
                      protocolNumber: flow.proto, hopLimit: 64, ipHeaderLength: ipHeader, transportOffset: ipHeader,
                      ipTotalLength: ipHeader + transportLength, capturedLength: ipHeader + transportLength,
                      transport: transport)
    }

    @inline(__always)
    private mutating func count(_ decision: Decision) {
        guard !decision.isHeld else { return }  // counted when its verdict comes
        counters.packets += 1
        if decision.verdict == .accept {
            counters.accepted += 1
        } else {
            counters.dropped += 1
            if let reason = decision.reason { counters.dropsByReason[PipelineCounters.index(of: reason)] += 1 }
        }
        guard let summary = decision.summary else { return }
        if summary.version == .v6 { counters.ipv6 += 1 }
        switch summary.proto {
        case 6: counters.tcp += 1
        case 17: counters.udp += 1
        case 1, 58: counters.icmp += 1
        default: counters.otherProtocols += 1
        }
    }
}
