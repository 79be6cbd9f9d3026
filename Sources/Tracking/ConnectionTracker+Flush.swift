import Wire

extension ConnectionTracker {
    /// For `overload <table> flush`: removes the live flows that `shouldFlush` picks by their
    /// initiator's address and admitting rule index (`FlowOrigin.noRule` for none), from entry
    /// `start` on, looking at no more than `limit` entries. A removed flow leaves the table as
    /// a closed one does (counted in `statistics.closed` and `statistics.flushed`, reported by
    /// `drainRemovedFlows`).
    ///
    /// Returns the entry to go on from (the limit was reached, or the departure ring is full
    /// and must be drained first), nil when every entry was seen. Cheap per entry (no copy).
    public mutating func flushFlows(from start: Int = 0, limit: Int = .max, now: UInt64,
                                    _ shouldFlush: (IPAddress, UInt32) -> Bool) -> Int? {
        setClock(now)
        return scanEntries(from: start, limit: limit) { tracker, index in
            let entry = tracker.table[index]
            guard entry.connectionState != nil, tracker.nowFloor < entry.deadline,
                  shouldFlush(entry.initiatorAddress, entry.ruleIndex) else { return }
            tracker.removeEntry(index, end: .flushed)
            tracker.statistics.closed += 1
            tracker.statistics.flushed += 1
        }
    }
}
