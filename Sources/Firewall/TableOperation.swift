import Control
import Engine
import Rules
import Wire

/// A `synwall table` request as every worker carries it out: parsed and timed once by the
/// control thread, so every worker applies the very same change (same entries, same time).
struct TableOperation: Sendable {
    let table: String
    let action: TableRequest.Action
    /// `add`, `delete`: the entries; `test`: the addresses (full-length prefixes).
    let prefixes: [IPPrefix]
    /// `add`: nanoseconds the entries stay, nil: the table's `expire`.
    let lifetime: UInt64?
    /// The time of the change (ns, the workers' clock).
    let now: UInt64
}

/// One worker's outcome of a ``TableOperation``, in the order of its prefixes.
struct WorkerTableResult: Sendable {
    var changes: [TableChange] = []
    var removed: [RuntimeTableEntry?] = []
    var flushed = 0
    var matches: [TableMatch?] = []
    /// `show`: the entries added while running.
    var entries: [RuntimeTableEntry] = []
}

extension TableOperation {
    /// Carries the operation out on one worker's pipeline.
    func apply(to pipeline: inout Pipeline) -> WorkerTableResult {
        var result = WorkerTableResult()
        switch action {
        case .show:
            result.entries = pipeline.runtimeTableEntries(ofTable: table, now: now)
        case .add:
            result.changes = prefixes.map { pipeline.addTableEntry($0, toTable: table, now: now, lifetime: lifetime) }
        case .delete:
            result.removed = prefixes.map { pipeline.removeTableEntry($0, fromTable: table, now: now) }
        case .flush:
            result.flushed = pipeline.flushTable(table, now: now)
        case .test:
            result.matches = prefixes.map { pipeline.tableMatch(table, $0.address, now: now) }
        }
        return result
    }
}
