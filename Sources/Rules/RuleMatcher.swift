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

    /// Per table index: the entries added while running (`overload`, `synwall table add`).
    private var added: [RuntimeTable]
    private var addedCount = 0
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
        added = ruleset.tables.map { RuntimeTable(expiry: RuleMatcher.expiry($0)) }
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
            return RuleDecision(verdict: outcome.verdict, origin: .rule(index), log: outcome.log, reply: outcome.reply)
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
            ruleset.firstMatch(packet, context, DynamicMembership(tables: tables))
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
        if let time = added[index].hosts[address], added[index].isLive(time, now: now) { return false }
        if added[index].hosts[address] == nil, added[index].count >= tableEntryLimit {
            addedCount -= added[index].purge(now: now)
            guard added[index].count < tableEntryLimit else { return false }
        }
        if added[index].hosts.updateValue(RuntimeEntryTime(since: now), forKey: address) == nil { addedCount += 1 }
        return true
    }

    /// Puts `prefix` in the table named `name` as an operator's entry (`synwall table add`):
    /// it stays `lifetime` nanoseconds (nil: as long as the table's `expire`, for ever without
    /// one). An entry already there (added while running) is renewed with this time.
    public mutating func addEntry(_ prefix: IPPrefix, toTable name: String, now: UInt64, lifetime: UInt64?,
                                  manual: Bool = true) -> TableChange {
        guard let index = ruleset.tableIndex(named: name), !ruleset.tables[index].isConst else { return .notChangeable }
        let time = RuntimeEntryTime(since: now, lifetime: lifetime, manual: manual)
        if prefix.isHost {
            if added[index].hosts[prefix.address] == nil, added[index].count >= tableEntryLimit {
                addedCount -= added[index].purge(now: now)
                guard added[index].count < tableEntryLimit else { return .full }
            }
            if added[index].hosts.updateValue(time, forKey: prefix.address) == nil {
                addedCount += 1
                return .added
            }
            return .renewed
        }
        if let at = added[index].prefixes.firstIndex(where: { $0.prefix == prefix }) {
            added[index].prefixes[at].time = time
            return .renewed
        }
        if added[index].count >= tableEntryLimit || added[index].prefixes.count >= RuntimeTable.maximumPrefixes {
            addedCount -= added[index].purge(now: now)
            guard added[index].count < tableEntryLimit, added[index].prefixes.count < RuntimeTable.maximumPrefixes else {
                return .full
            }
        }
        added[index].prefixes.append((prefix, time))
        addedCount += 1
        return .added
    }

    /// Removes a run-time addition; false when it was not there.
    @discardableResult
    public mutating func remove(_ address: IPAddress, fromTable name: String) -> Bool {
        guard let prefix = IPPrefix(address: address, length: address.isIPv4 ? 32 : 128) else { return false }
        return removeEntry(prefix, fromTable: name, now: 0) != nil
    }

    /// Removes the entry `prefix` added while running (exactly that address or prefix) from the
    /// table named `name`; returns it (nil when it was not there, or had expired).
    @discardableResult
    public mutating func removeEntry(_ prefix: IPPrefix, fromTable name: String, now: UInt64) -> RuntimeTableEntry? {
        guard let index = ruleset.tableIndex(named: name) else { return nil }
        let time: RuntimeEntryTime
        if prefix.isHost {
            guard let removed = added[index].hosts.removeValue(forKey: prefix.address) else { return nil }
            time = removed
        } else {
            guard let at = added[index].prefixes.firstIndex(where: { $0.prefix == prefix }) else { return nil }
            time = added[index].prefixes.remove(at: at).time
        }
        addedCount -= 1
        guard now == 0 || added[index].isLive(time, now: now) else { return nil }
        return RuntimeTableEntry(table: name, prefix: prefix, time: time, expiresAt: added[index].expiresAt(time))
    }

    /// Empties the entries added while running to the table named `name`; returns how many
    /// live ones went (the written entries stay: they are the rule file's).
    @discardableResult
    public mutating func flushTable(_ name: String, now: UInt64) -> Int {
        guard let index = ruleset.tableIndex(named: name) else { return 0 }
        addedCount -= added[index].purge(now: now)
        let count = added[index].count
        addedCount -= count
        added[index].hosts = [:]
        added[index].prefixes = []
        return count
    }

    /// The addresses added at run time to the table named `name` and not yet expired, sorted.
    public func addedEntries(ofTable name: String, now: UInt64) -> [IPAddress] {
        guard let index = ruleset.tableIndex(named: name) else { return [] }
        return added[index].hosts.filter { added[index].isLive($0.value, now: now) }.keys.sorted()
    }

    /// Every entry added while running (to the table named `table`, or to all) and not yet
    /// expired at `now`, sorted by table and address (for `synwall table show` and the state file).
    public func runtimeEntries(ofTable table: String? = nil, now: UInt64) -> [RuntimeTableEntry] {
        var result: [RuntimeTableEntry] = []
        for (index, entries) in added.enumerated() where entries.count > 0 {
            let name = ruleset.tables[index].name
            if let table, table != name { continue }
            var list: [RuntimeTableEntry] = []
            for (address, time) in entries.hosts where entries.isLive(time, now: now) {
                guard let prefix = IPPrefix(address: address, length: address.isIPv4 ? 32 : 128) else { continue }
                list.append(RuntimeTableEntry(table: name, prefix: prefix, time: time, expiresAt: entries.expiresAt(time)))
            }
            for (prefix, time) in entries.prefixes where entries.isLive(time, now: now) {
                list.append(RuntimeTableEntry(table: name, prefix: prefix, time: time, expiresAt: entries.expiresAt(time)))
            }
            list.sort { ($0.prefix.address, $0.prefix.length) < ($1.prefix.address, $1.prefix.length) }
            result += list
        }
        return result
    }

    /// Every run-time addition not yet expired at `now`: table name, address and when it was
    /// added (`add(_:toTable:now:)` with that time puts one back).
    public func dynamicEntries(now: UInt64) -> [(table: String, address: IPAddress, since: UInt64)] {
        runtimeEntries(now: now).filter { $0.prefix.isHost }.map { ($0.table, $0.prefix.address, $0.time.since) }
    }

    /// Puts back an entry saved earlier (state file), with its original time.
    @discardableResult
    public mutating func restoreEntry(_ entry: RuntimeTableEntry, now: UInt64) -> Bool {
        guard let index = ruleset.tableIndex(named: entry.table), !ruleset.tables[index].isConst,
              added[index].isLive(entry.time, now: now) else { return false }
        return addEntry(entry.prefix, toTable: entry.table, now: entry.time.since, lifetime: entry.time.lifetime,
                        manual: entry.time.manual) != .full
    }

    /// True when `address` is in the table: written there, or added and not expired.
    public func tableContains(_ name: String, _ address: IPAddress, now: UInt64) -> Bool {
        tableMatch(name, address, now: now) != nil
    }

    /// Where `address` is in the table named `name`: an entry added while running (the most
    /// specific), else the written range holding it; nil when it is not in the table.
    public func tableMatch(_ name: String, _ address: IPAddress, now: UInt64) -> TableMatch? {
        guard let index = ruleset.tableIndex(named: name) else { return nil }
        if let found = added[index].match(address, now: now) {
            return .runtime(RuntimeTableEntry(table: name, prefix: found.prefix, time: found.time,
                                              expiresAt: added[index].expiresAt(found.time)))
        }
        if let range = ruleset.tables[index].staticEntries.range(containing: address) {
            return .written(first: range.first, last: range.last)
        }
        return nil
    }

    // MARK: - Reload

    /// Puts `newRuleset` in force. Entries added while running stay in tables of the same
    /// name that can still take them (not `const`); hit counters and per-source limit state
    /// start afresh (rule numbers change, so old counts would be attributed to the wrong rules).
    public mutating func replaceRuleset(_ newRuleset: CompiledRuleset) {
        var carried = newRuleset.tables.map { RuntimeTable(expiry: RuleMatcher.expiry($0)) }
        for (index, table) in newRuleset.tables.enumerated() where table.isDynamic {
            if let old = ruleset.tableIndex(named: table.name) {
                carried[index].hosts = added[old].hosts
                carried[index].prefixes = added[old].prefixes
            }
        }
        self = RuleMatcher(ruleset: newRuleset)
        added = carried
        addedCount = carried.reduce(0) { $0 + $1.count }
    }
}

/// Answers table membership from the matcher's run-time additions.
struct DynamicMembership: TableMembership {
    let tables: UnsafeBufferPointer<RuntimeTable>

    @inline(__always)
    func contains(table: Int, address: IPAddress, now: UInt64) -> Bool {
        tables[table].contains(address, now: now)
    }
}
