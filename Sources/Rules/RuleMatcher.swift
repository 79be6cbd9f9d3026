import Tracking
import Wire

/// A compiled ruleset plus its run-time state: hit counters, per-source limit state and the
/// addresses `overload` added to tables. One per worker; a value type, mutated in place.
///
/// The tracker calls `admit` for each packet that would start a new flow, and
/// `connectionClosed(key:)` when a flow it admitted leaves its table (for any reason), so
/// `max-src-conn` counts stay true. Time comes in through `RuleContext.now`.
///
/// Per packet, matching allocates nothing; a limited rule's bookkeeping may grow a
/// dictionary now and then (amortised).
public struct RuleMatcher: Sendable {
    /// The ruleset in force.
    public private(set) var ruleset: CompiledRuleset
    /// How many times each rule decided, indexed like `ruleset.rules`.
    public private(set) var ruleHits: [UInt64]
    /// How many times each direction's policy decided, indexed by `Direction.index`.
    public private(set) var policyHits: [UInt64] = [0, 0, 0]

    /// Per table index: address → time it was added (run-time additions only).
    private var added: [[IPAddress: UInt64]]
    private var addedCount = 0
    /// Per table index: nanoseconds an addition stays (`expire`), or `UInt64.max`.
    private var expiry: [UInt64]
    private var sources: [SourceKey: SourceState] = [:]
    private var connections: [FlowKey: SourceKey] = [:]
    private var sourceNodeLimit: Int
    private var tableEntryLimit: Int

    struct SourceKey: Hashable, Sendable {
        var rule: Int32
        var address: IPAddress
    }

    struct SourceState: Sendable {
        /// Open connections admitted through the rule (for `max-src-conn`).
        var connections: Int32 = 0
        /// Leaky-bucket level (for `max-src-conn-rate`), in connections.
        var rate: Double = 0
        var lastUpdate: UInt64 = 0
    }

    /// A matcher with fresh state for `ruleset`.
    public init(ruleset: CompiledRuleset) {
        self.ruleset = ruleset
        ruleHits = [UInt64](repeating: 0, count: ruleset.rules.count)
        added = [[IPAddress: UInt64]](repeating: [:], count: ruleset.tables.count)
        expiry = ruleset.tables.map(RuleMatcher.expiry)
        sourceNodeLimit = ruleset.settings.sourceNodeLimit ?? RuleSettings.defaultSourceNodeLimit
        tableEntryLimit = ruleset.settings.tableEntryLimit ?? RuleSettings.defaultTableEntryLimit
    }

    private static func expiry(_ table: TableInfo) -> UInt64 {
        guard let expire = table.expire else { return UInt64.max }
        let (seconds, attoseconds) = expire.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    // MARK: - Deciding

    /// Decides for a packet that would start a new flow: the first matching rule (its limits
    /// applied), else the policy. `key` is the tracker's flow key, used again by
    /// `connectionClosed(key:)`; nil derives one from the packet's addresses and ports.
    public mutating func admit(_ packet: Packet, key: FlowKey? = nil, context: RuleContext) -> RuleDecision {
        let found = firstMatch(packet, context)
        guard let index = found else {
            let direction = context.direction
            policyHits[direction.index] &+= 1
            let policy = ruleset.policyOutcomes[direction.index]
            return RuleDecision(verdict: policy.verdict, origin: .policy(direction), log: policy.log)
        }
        ruleHits[index] &+= 1
        let outcome = ruleset.outcomes[index]
        guard outcome.hasLimits, outcome.verdict == .accept else {
            return RuleDecision(verdict: outcome.verdict, origin: .rule(index), log: outcome.log)
        }
        return applyLimits(index, outcome, packet, key, context.now)
    }

    /// For a reload (`set reload`): decides for a live flow as if its first packet (`packet`)
    /// arrived now, under the ruleset in force. Unlike `admit` it counts no hit and applies no
    /// per-source limit (a live flow is not a new connection): the first matching rule's
    /// action, else the policy. A flow a `max-src-conn` rule passes is counted as one of its
    /// source's connections (counts start afresh with a new ruleset), and released as usual
    /// by `connectionClosed(key:)`.
    public mutating func recheck(_ packet: Packet, key: FlowKey, context: RuleContext) -> RuleDecision {
        let found = firstMatch(packet, context)
        guard let index = found else {
            let policy = ruleset.policyOutcomes[context.direction.index]
            return RuleDecision(verdict: policy.verdict, origin: .policy(context.direction), log: false)
        }
        let outcome = ruleset.outcomes[index]
        if outcome.verdict == .accept, outcome.maxConnections > 0 {
            let sourceKey = SourceKey(rule: Int32(truncatingIfNeeded: index), address: packet.source)
            if sources[sourceKey] != nil || sources.count < sourceNodeLimit {
                var state = sources[sourceKey] ?? SourceState(lastUpdate: context.now)
                if let previous = connections.updateValue(sourceKey, forKey: key) {
                    release(previous)
                    if previous == sourceKey { state = sources[sourceKey] ?? state }
                }
                state.connections += 1
                sources[sourceKey] = state
            }
        }
        return RuleDecision(verdict: outcome.verdict, origin: .rule(index), log: false)
    }

    /// The first rule matching `packet`, tables' run-time additions included; nil: none.
    @inline(__always)
    private func firstMatch(_ packet: Packet, _ context: RuleContext) -> Int? {
        if addedCount == 0 { return ruleset.firstMatch(packet, context, StaticMembership()) }
        return added.withUnsafeBufferPointer { tables in
            expiry.withUnsafeBufferPointer { expiry in
                ruleset.firstMatch(packet, context, DynamicMembership(tables: tables, expiry: expiry))
            }
        }
    }

    /// The same as `admit` without a flow key.
    public mutating func evaluate(_ packet: Packet, context: RuleContext) -> RuleDecision {
        admit(packet, key: nil, context: context)
    }

    private mutating func applyLimits(_ index: Int, _ outcome: RuleOutcome, _ packet: Packet, _ key: FlowKey?,
                                      _ now: UInt64) -> RuleDecision {
        let sourceKey = SourceKey(rule: Int32(truncatingIfNeeded: index), address: packet.source)
        var state: SourceState
        if let existing = sources[sourceKey] {
            state = existing
        } else {
            if sources.count >= sourceNodeLimit { pruneSources(now) }
            guard sources.count < sourceNodeLimit else {
                return RuleDecision(verdict: .drop, origin: .rule(index), log: true, limit: .sourceTrackingFull)
            }
            state = SourceState(lastUpdate: now)
        }
        var exceeded: RuleDecision.LimitExceeded?
        if outcome.rateCount > 0 {
            let elapsed = now >= state.lastUpdate ? now - state.lastUpdate : 0
            if elapsed >= outcome.rateWindow {
                state.rate = 0
            } else if elapsed > 0 {
                state.rate -= state.rate * Double(elapsed) / Double(outcome.rateWindow)
            }
            state.rate += 1
            state.lastUpdate = now
            if state.rate > Double(outcome.rateCount) { exceeded = .maxSourceConnectionRate }
        }
        if exceeded == nil, outcome.maxConnections > 0 {
            if Int(state.connections) >= outcome.maxConnections {
                exceeded = .maxSourceConnections
            } else {
                state.connections += 1
                let flow = key ?? FlowKey.make(source: packet.source, sourcePort: packet.sourcePort,
                                               destination: packet.destination, destinationPort: packet.destinationPort,
                                               proto: packet.protocolNumber).key
                if let previous = connections.updateValue(sourceKey, forKey: flow) {
                    release(previous)
                    if previous == sourceKey { state.connections -= 1 }
                }
            }
        }
        sources[sourceKey] = state
        guard let exceeded else {
            return RuleDecision(verdict: .accept, origin: .rule(index), log: outcome.log)
        }
        var overloaded: Int?
        if outcome.overloadTable >= 0, add(packet.source, toTableAt: outcome.overloadTable, now: now) {
            overloaded = outcome.overloadTable
        }
        return RuleDecision(verdict: .drop, origin: .rule(index), log: true, limit: exceeded, overloadTable: overloaded,
                            flushSource: outcome.flush)
    }

    /// Tells the matcher that a flow it admitted is gone (closed, reset, expired or evicted),
    /// so `max-src-conn` stops counting it. Unknown keys are ignored; cheap when no rule
    /// has `max-src-conn`.
    public mutating func connectionClosed(key: FlowKey) {
        guard !connections.isEmpty, let sourceKey = connections.removeValue(forKey: key) else { return }
        release(sourceKey)
    }

    private mutating func release(_ sourceKey: SourceKey) {
        guard var state = sources[sourceKey] else { return }
        state.connections = max(0, state.connections - 1)
        sources[sourceKey] = state
    }

    /// Open connections counted for `source` under rule `ruleIndex` (for tests and status).
    public func openConnections(from source: IPAddress, rule ruleIndex: Int) -> Int {
        Int(sources[SourceKey(rule: Int32(truncatingIfNeeded: ruleIndex), address: source)]?.connections ?? 0)
    }

    /// Forgets sources with no open connection whose rate bucket has drained.
    private mutating func pruneSources(_ now: UInt64) {
        let outcomes = ruleset.outcomes
        sources = sources.filter { key, state in
            guard state.connections == 0 else { return true }
            let window = Int(key.rule) < outcomes.count ? outcomes[Int(key.rule)].rateWindow : 0
            return now >= state.lastUpdate ? now - state.lastUpdate < window : true
        }
    }

    // MARK: - Tables

    /// Adds `address` to the table named `name` (as `overload` does). False when there is no
    /// such table, it is `const`, the address is already in it, or it is full.
    @discardableResult
    public mutating func add(_ address: IPAddress, toTable name: String, now: UInt64) -> Bool {
        guard let index = ruleset.tableIndex(named: name), !ruleset.tables[index].isConst else { return false }
        return add(address, toTableAt: index, now: now)
    }

    private mutating func add(_ address: IPAddress, toTableAt index: Int, now: UInt64) -> Bool {
        if let since = added[index][address], now - min(now, since) < expiry[index] { return false }
        if added[index][address] == nil, added[index].count >= tableEntryLimit {
            purgeExpired(table: index, now: now)
            guard added[index].count < tableEntryLimit else { return false }
        }
        if added[index].updateValue(now, forKey: address) == nil { addedCount += 1 }
        return true
    }

    /// Removes a run-time addition; false when it was not there.
    @discardableResult
    public mutating func remove(_ address: IPAddress, fromTable name: String) -> Bool {
        guard let index = ruleset.tableIndex(named: name), added[index].removeValue(forKey: address) != nil else { return false }
        addedCount -= 1
        return true
    }

    /// The addresses added at run time to the table named `name` and not yet expired, sorted.
    public func addedEntries(ofTable name: String, now: UInt64) -> [IPAddress] {
        guard let index = ruleset.tableIndex(named: name) else { return [] }
        return added[index].filter { now - min(now, $0.value) < expiry[index] }.keys.sorted()
    }

    /// Every run-time addition not yet expired at `now`: table name, address and when it was
    /// added (for the state file; `add(_:toTable:now:)` with that time puts one back).
    public func dynamicEntries(now: UInt64) -> [(table: String, address: IPAddress, since: UInt64)] {
        var result: [(table: String, address: IPAddress, since: UInt64)] = []
        for (index, entries) in added.enumerated() where !entries.isEmpty {
            for (address, since) in entries where now - min(now, since) < expiry[index] {
                result.append((ruleset.tables[index].name, address, since))
            }
        }
        return result
    }

    /// True when `address` is in the table: written there, or added and not expired.
    public func tableContains(_ name: String, _ address: IPAddress, now: UInt64) -> Bool {
        guard let index = ruleset.tableIndex(named: name) else { return false }
        if ruleset.tables[index].staticEntries.contains(address) { return true }
        guard let since = added[index][address] else { return false }
        return now - min(now, since) < expiry[index]
    }

    private mutating func purgeExpired(table index: Int, now: UInt64) {
        let before = added[index].count
        let limit = expiry[index]
        added[index] = added[index].filter { now - min(now, $0.value) < limit }
        addedCount -= before - added[index].count
    }

    // MARK: - Reload

    /// Puts `newRuleset` in force. Addresses added at run time stay in tables of the same
    /// name that are still dynamic; hit counters and per-source limit state start afresh
    /// (rule numbers change, so old counts would be attributed to the wrong rules).
    public mutating func replaceRuleset(_ newRuleset: CompiledRuleset) {
        var carried = [[IPAddress: UInt64]](repeating: [:], count: newRuleset.tables.count)
        for (index, table) in newRuleset.tables.enumerated() where table.isDynamic {
            if let old = ruleset.tableIndex(named: table.name) { carried[index] = added[old] }
        }
        self = RuleMatcher(ruleset: newRuleset)
        added = carried
        addedCount = carried.reduce(0) { $0 + $1.count }
    }
}

/// Answers table membership from the matcher's run-time additions.
struct DynamicMembership: TableMembership {
    let tables: UnsafeBufferPointer<[IPAddress: UInt64]>
    let expiry: UnsafeBufferPointer<UInt64>

    @inline(__always)
    func contains(table: Int, address: IPAddress, now: UInt64) -> Bool {
        guard let since = tables[table][address] else { return false }
        return now - min(now, since) < expiry[table]
    }
}
