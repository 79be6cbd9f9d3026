/// Counters of the tracker's table (cumulative since it was made).
public struct TrackerStatistics: Sendable, Equatable {
    /// Entries created: new connections and flows, TIME_WAIT and CLOSE reuse included.
    public var created: UInt64 = 0
    /// Entries removed because their timeout passed.
    public var expired: UInt64 = 0
    /// Entries removed by the state machine: a handshake refused or aborted by RST, or an old
    /// connection replaced by a new one on reuse.
    public var closed: UInt64 = 0
    /// Entries evicted to make room, by kind: CLOSE, TIME_WAIT, other closing states
    /// (FIN_WAIT, CLOSE_WAIT, LAST_ACK), half-open TCP, unreplied UDP or ICMP flows.
    public var evictedClose: UInt64 = 0
    public var evictedTimeWait: UInt64 = 0
    public var evictedClosing: UInt64 = 0
    public var evictedHalfOpen: UInt64 = 0
    public var evictedUnreplied: UInt64 = 0
    /// New flows refused: table full of entries that may not be evicted (`table_full`).
    public var rejectedTableFull: UInt64 = 0
    /// New connections refused by a half-open cap, overall or per source.
    public var rejectedHalfOpenCap: UInt64 = 0
    /// New connections from proven sources (a handshake of theirs completed lately) let in over
    /// the overall half-open cap, each in place of the oldest half-open connection (counted in
    /// ``evictedHalfOpen`` too).
    public var provenOverHalfOpenCap: UInt64 = 0
    /// New connections refused by the per-source SYN rate.
    public var rejectedRateLimited: UInt64 = 0
    /// New flows the admission (rules) refused.
    public var rejectedPolicy: UInt64 = 0
    /// Of the `closed` entries: flows cut by `overload <table> flush` (their source overloaded
    /// the rule that admitted them).
    public var flushed: UInt64 = 0
    /// Live flows removed on a reload because the new rules block them (`set reload recheck`).
    public var removedByReload: UInt64 = 0
    /// Flows put back from a state file at start.
    public var restored: UInt64 = 0
    /// Restored TCP connections whose traffic resumed (their windows learned again).
    public var resumed: UInt64 = 0
    /// Segments refused on a restored connection before its window was learned again: their
    /// sequence or acknowledgment numbers lie behind what was saved.
    public var resumeRefused: UInt64 = 0
    /// Connections offloaded to the kernel, offloads ended by a FIN or RST, and segments of
    /// offloaded connections the kernel found out of window (docs/offload.md).
    public var offloaded: UInt64 = 0
    public var offloadEnded: UInt64 = 0
    public var offloadKernelInvalid: UInt64 = 0

    /// No counts.
    public init() {}

    /// All evictions.
    public var evicted: UInt64 {
        evictedClose + evictedTimeWait + evictedClosing + evictedHalfOpen + evictedUnreplied
    }
}
