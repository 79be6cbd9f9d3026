/// The event log's running totals, for `synwall stats` and the daemon's own log.
public struct EventLogCounters: Sendable, Equatable {
    /// Events posted by workers into their rings.
    public var posted = 0
    /// Events dropped because a ring was full (the writer fell behind); they are also
    /// reported in the log by a `suppressed` record with `reason` `queue_full`.
    public var lost = 0
    /// Records (lines) written to the file.
    public var written = 0
    /// Occurrences left out by the records-per-second cap.
    public var suppressed = 0
    /// Records that could not be written (no file, failed write).
    public var droppedRecords = 0
    /// Failed attempts to open, write or rotate the file.
    public var writeFailures = 0
    /// Rotations done.
    public var rotations = 0
    /// Reopens done (``EventLogService/reopen()``, or the retry after a failed open).
    public var reopens = 0

    /// Creates counters, all zero.
    public init() {}
}
