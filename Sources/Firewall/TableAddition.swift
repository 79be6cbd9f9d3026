import Wire

/// An address an `overload` rule added to a table on one worker, handed to the other workers
/// so that a source blocked on one queue is blocked on every queue (the kernel spreads a
/// source's connections to different destinations over the queues).
struct TableAddition: Sendable, Equatable {
    /// The table's name (workers may briefly run different rule files during a reload).
    var table: String
    var address: IPAddress
    /// When it was added (ns, the worker's clock), so it expires at the same time everywhere.
    var time: UInt64
    /// With `overload … flush`: the rule whose flows from the address are cut, as its index in
    /// the sharing worker's rules and their generation (`WorkerControl.ruleIndex` finds it in
    /// the receiver's).
    var flushRule: RuleReference? = nil
}

/// A rule as workers name it to each other: its index in the rule file published as
/// `generation` (0: the file the daemon started with). During a reload workers briefly run
/// different generations, and a reload renumbers rules.
struct RuleReference: Sendable, Equatable {
    var index: Int
    var generation: Int
}
