import Tracking

/// One worker's share of the state file: its connections' records, its proven sources and the
/// addresses its rules put in tables, all timed relative to `referenceSeconds`.
struct WorkerStatePart: Sendable {
    /// The worker's NFQUEUE queue.
    let queue: UInt16
    /// The file's "written" time, in whole seconds of the tracker clock (CLOCK_REALTIME).
    let referenceSeconds: UInt32
    /// `SavedConnection` records.
    var records: [UInt8] = []
    var proven: [SavedProvenSource] = []
    var tables: [SavedTableEntry] = []
}
