extension ConnectionTracker {
    /// For `synwall conns --kill`: removes the live flows that `shouldKill` picks (it sees
    /// each as `forEachConnection` shows it), from entry `start` on, looking at no more than
    /// `limit` entries. A removed flow leaves the table as a closed one does (counted in
    /// `statistics.closed`, reported by `drainRemovedFlows`); its next packet is judged as the
    /// start of a new flow (a mid-stream TCP segment: `no_connection`, unless pickup).
    ///
    /// Returns the entry to go on from (the limit was reached, or the departure ring is full
    /// and must be drained first), nil when every entry was seen. Not for the packet path: it
    /// copies each live entry out to ask `shouldKill`.
    public mutating func killFlows(from start: Int = 0, limit: Int = .max, now: UInt64,
                                   _ shouldKill: (ConnectionSnapshot) -> Bool) -> Int? {
        setClock(now)
        return scanEntries(from: start, limit: limit) { tracker, index in
            guard let snapshot = tracker.snapshot(at: index, nowSeconds: tracker.nowFloor),
                  shouldKill(snapshot) else { return }
            tracker.removeEntry(index, end: .killed)
            tracker.statistics.closed += 1
        }
    }
}
