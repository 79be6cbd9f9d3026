import Engine
import NetfilterQueue
import Rules
import Tracking

/// One worker's answer to a ``WorkerQuery``, taken on the worker's own thread between rounds.
struct WorkerReport: Sendable {
    let queue: UInt16
    let queueStatistics: QueueStatistics
    let pipeline: PipelineCounters
    let tracker: TrackerStatistics
    let states: Int
    let capacity: Int
    let halfOpen: Int
    /// Hits per rule of `ruleset`.
    let ruleHits: [UInt64]
    /// The rules this worker runs (rule indices in `connections` refer to them).
    let ruleset: CompiledRuleset?
    let suppressedEvents: Int
    /// The connections that matched (at most the query's limit), and how many matched in all.
    let connections: [ConnectionSnapshot]
    let matched: Int
    /// The outcome of the question's table operation, if it had one.
    var table: WorkerTableResult? = nil
}
