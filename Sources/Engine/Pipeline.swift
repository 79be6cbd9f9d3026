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

    public init(defaultVerdict: Verdict = .accept, verifyChecksums: Bool = true,
                tracker: TrackerConfiguration = TrackerConfiguration())
    {
        self.defaultVerdict = defaultVerdict
        self.verifyChecksums = verifyChecksums
        self.tracker = tracker
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
    private var fragments = FragmentTable()

    /// A pipeline; with `rules`, new flows are admitted by the rule file, else by the default verdict.
    public init(configuration: PipelineConfiguration = PipelineConfiguration(), rules: CompiledRuleset? = nil,
                interfaceNames: InterfaceNames = InterfaceNames())
    {
        self.configuration = configuration
        tracker = ConnectionTracker(configuration: configuration.tracker)
        matcher = rules.map { RuleMatcher(ruleset: $0) }
        self.interfaceNames = interfaceNames
    }

    /// The rules in force, if any.
    public var ruleset: CompiledRuleset? { matcher?.ruleset }
    /// Hits per rule (index as in `ruleset.rules`), when rules are in force.
    public var ruleHits: [UInt64] { matcher?.ruleHits ?? [] }

    /// Puts a newly compiled rule file in force. Live connections keep their state; per-source
    /// tables filled at run time are kept by name.
    public mutating func replaceRules(_ rules: CompiledRuleset) {
        if matcher == nil {
            matcher = RuleMatcher(ruleset: rules)
        } else {
            matcher?.replaceRuleset(rules)
        }
    }

    /// Judges one packet; `bytes` start at the IP header.
    public mutating func process(_ bytes: UnsafeRawBufferPointer, context: PacketContext) -> Decision {
        guard let rules = matcher.take() else {
            var admission = PolicyAdmission(verdict: configuration.defaultVerdict)
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
        forgetRemovedFlows()
        if let rule = admission.decision {
            decision.rule = rule
            if decision.reason == .policy, let reason = rule.dropReason { decision.reason = reason }
        }
        count(decision)
        return decision
    }

    /// Judges one packet, asking `admission` (the rules) whether a new flow may start.
    public mutating func process<A: Admission>(_ bytes: UnsafeRawBufferPointer, context: PacketContext,
                                               admission: inout A) -> Decision
    {
        let decision = decide(bytes, context: context, admission: &admission)
        count(decision)
        return decision
    }

    /// Lets time pass without a packet (expires idle flows a bounded amount at a time).
    public mutating func idle(now: UInt64) {
        tracker.expire(now: now)
        forgetRemovedFlows()
    }

    /// Tells the rules about flows that left the table (for `max-src-conn`), or just forgets them.
    private mutating func forgetRemovedFlows() {
        guard tracker.hasRemovedFlows else { return }
        if var rules = matcher.take() {
            tracker.drainRemovedFlows { rules.connectionClosed(key: $0) }
            matcher = rules
        } else {
            tracker.drainRemovedFlows { _ in }
        }
    }

    /// Live flows in this pipeline's table.
    public var trackedFlows: Int { tracker.count }
    /// The tracker's counters (created, expired, evicted, rejected…).
    public var trackerStatistics: TrackerStatistics { tracker.statistics }
    /// Most flows the table holds.
    public var trackerCapacity: Int { tracker.capacity }
    /// TCP connections whose handshake is incomplete.
    public var halfOpenFlows: Int { tracker.halfOpenCount }

    /// Calls `body` with a copy of every live flow (for `synwall conns`; not the packet path).
    public func forEachConnection(now: UInt64? = nil, _ body: (ConnectionSnapshot) throws -> Void) rethrows {
        try tracker.forEachConnection(now: now, body)
    }

    @inline(__always)
    private mutating func decide<A: Admission>(_ bytes: UnsafeRawBufferPointer, context: PacketContext,
                                               admission: inout A) -> Decision
    {
        // Decode.
        let packet: Packet
        switch PacketDecoder.decode(bytes, originalLength: context.originalLength) {
        case .packet(let decoded):
            packet = decoded
        case .malformed(let anomaly):
            return Decision(verdict: .drop, reason: anomaly.dropReason, anomaly: anomaly)
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
        // Fragments that reach the queue unreassembled: overlaps and the rest of a dropped
        // datagram go; a non-first fragment (no transport header) otherwise passes untracked.
        if packet.fragment.isFragment {
            if fragments.check(packet, now: context.timestampNanoseconds) == .drop {
                return Decision(verdict: .drop, reason: .fragment, summary: summary)
            }
            if !packet.fragment.isFirst {
                return Decision(verdict: .accept, summary: summary)
            }
        }
        // Track, asking the admission (rules or policy) for packets that would start a flow.
        let result = tracker.track(packet, bytes: bytes, now: context.timestampNanoseconds, admission: &admission)
        if packet.fragment.isFragment {
            fragments.record(first: packet, verdict: result.verdict, now: context.timestampNanoseconds)
        }
        var decision = Decision(verdict: result.verdict, reason: result.reason, summary: summary, state: result.state,
                                trackerEvent: result.event)
        if result.verdict == .drop { decision.windowBounds = tracker.lastWindowBounds }
        return decision
    }

    @inline(__always)
    private mutating func count(_ decision: Decision) {
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

/// Admission without a rule file: every new flow, or none.
public struct PolicyAdmission: Admission, Sendable {
    public var verdict: Verdict

    @inlinable
    public init(verdict: Verdict) { self.verdict = verdict }

    @inlinable
    public mutating func admit(_ packet: Packet, key: FlowKey) -> Bool { verdict == .accept }
}
