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
    /// With `overload … flush`: the text of the rule whose flows from the address are cut (the
    /// other workers find the rule by its text, which survives a reload's renumbering).
    var flushRule: String? = nil
}
