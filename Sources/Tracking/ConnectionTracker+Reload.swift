/// What a reload decided for one live flow (see `ConnectionTracker.reviseFlows`).
public enum FlowRevision: Sendable, Equatable {
    /// Keep the flow, from now on counted as admitted by the rule at `ruleIndex` of the new
    /// ruleset (nil: by no rule).
    case keep(ruleIndex: Int?)
    /// Remove the flow from the table: its next packets are judged as if it never existed.
    case remove
}

extension ConnectionTracker {
    /// For a reload: hands every live flow (not expired at `now`), from entry `start` on, to
    /// `judge` with its snapshot and its origin (hook and interfaces of its first packet), and
    /// applies the answer. A kept flow's rule index is replaced; a removed flow leaves the table
    /// as a closed one does (counted in `statistics.removedByReload`, reported by
    /// `drainRemovedFlows`).
    ///
    /// Stops before a removal the departure ring has no room for, and returns the entry to go
    /// on from once the caller has drained it; nil when every flow was seen. Not for the packet
    /// path (it builds a snapshot per flow).
    ///
    /// `limit` bounds the entries looked at in this call (a reload spread over receive rounds):
    /// when it is reached the entry to go on from is returned the same way.
    public mutating func reviseFlows(from start: Int = 0, limit: Int = .max, now: UInt64,
                                     _ judge: (ConnectionSnapshot, FlowOrigin) throws -> FlowRevision) rethrows -> Int? {
        setClock(now)
        return try scanEntries(from: start, limit: limit) { tracker, index in
            try tracker.revise(index, judge)
        }
    }

    /// `reviseFlows` for the one flow of `key`, if it is live; true when it is kept.
    @discardableResult
    public mutating func reviseFlow(_ key: FlowKey, now: UInt64,
                                    _ judge: (ConnectionSnapshot, FlowOrigin) throws -> FlowRevision) rethrows -> Bool {
        setClock(now)
        guard let index = table.find(key, hash: table.hash(key)) else { return false }
        return try revise(index, judge)
    }

    /// Judges entry `index` (if live) and applies the answer; true when it is kept.
    @discardableResult
    private mutating func revise(_ index: Int,
                                 _ judge: (ConnectionSnapshot, FlowOrigin) throws -> FlowRevision) rethrows -> Bool {
        guard let snapshot = snapshot(at: index, nowSeconds: nowFloor) else { return false }
        switch try judge(snapshot, table[index].origin) {
        case .keep(let rule):
            table[index].ruleIndex = rule.map { UInt32(clamping: $0) } ?? FlowOrigin.noRule
            return true
        case .remove:
            removeEntry(index, end: .reload)
            statistics.removedByReload += 1
            return false
        }
    }

    /// The walk over the table that a reload's check and a flush share: hands `visit` each
    /// entry from `start` on (it may remove it), at most `limit` of them, and stops early
    /// while the departure ring is full. Returns the entry to go on from, nil when every entry
    /// was seen.
    mutating func scanEntries(from start: Int, limit: Int,
                              _ visit: (inout ConnectionTracker, Int) throws -> Void) rethrows -> Int? {
        var index = max(0, start)
        let end = limit >= table.highWater - index ? table.highWater : index + max(1, limit)
        while index < table.highWater {
            if removedCount >= Self.removedCapacity || index >= end { return index }
            try visit(&self, index)
            index += 1
        }
        return nil
    }
}
