import Synchronization
import Tracking
import Wire

/// Saved TCP connections waiting for the worker that will see their packets, when the state
/// file cannot say which worker that is: it was written with a different number of queues, or
/// before a reboot (the kernel spreads flows over queues with a hash seeded at boot). The
/// first worker whose tracker finds no entry for a segment looks its key up here and, on a
/// match, takes the record into its own table (docs/state-file.md, "Queues").
///
/// Shared by every worker; a lock guards it, taken only on the `no_connection` path while
/// records are left, so an established flow never touches it. It empties itself once every
/// record was claimed or has timed out.
public final class RestorePool: Sendable {
    private struct State {
        var records: [UInt8]
        var index: [FlowKey: Int]
    }

    private let state: Mutex<State>
    /// When the records were written (CLOCK_REALTIME, ns): their times are relative to it.
    public let writtenNanoseconds: UInt64
    /// After this time (ns) every record has timed out.
    public let expiresNanoseconds: UInt64
    private let remaining: Atomic<Int>
    /// The rule file changed since the records were written: a claimed flow the rules block is
    /// cut (as `set reload recheck` does).
    public let recheck: Bool

    /// A pool of the TCP records among `records` (whole `SavedConnection.size` records)
    /// written at `writtenNanoseconds`.
    public init(records: [UInt8], writtenNanoseconds: UInt64, recheck: Bool) {
        self.recheck = recheck
        var index: [FlowKey: Int] = [:]
        var longest: UInt64 = 0
        records.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            for offset in stride(from: 0, to: raw.count - SavedConnection.size + 1, by: SavedConnection.size) {
                let key = SavedConnection.key(of: base + offset)
                guard key.proto == 6 else { continue }
                index[key] = offset
                longest = max(longest, UInt64(SavedConnection.remainingSeconds(of: base + offset)))
            }
        }
        state = Mutex(State(records: records, index: index))
        self.writtenNanoseconds = writtenNanoseconds
        expiresNanoseconds = writtenNanoseconds &+ longest * 1_000_000_000
        remaining = Atomic(index.count)
    }

    /// Records not yet claimed.
    public var count: Int { remaining.load(ordering: .relaxed) }

    /// True while a lookup may still find something at `now`.
    @inline(__always)
    public func isActive(now: UInt64) -> Bool {
        remaining.load(ordering: .relaxed) > 0 && now < expiresNanoseconds
    }

    /// Takes the record of `key` out of the pool (nil when it is not there, or was claimed).
    public func claim(_ key: FlowKey) -> [UInt8]? {
        let record: [UInt8]? = state.withLock { state in
            guard let offset = state.index.removeValue(forKey: key) else { return nil }
            return Array(state.records[offset ..< offset + SavedConnection.size])
        }
        if record != nil {
            let left = remaining.subtract(1, ordering: .relaxed).newValue
            if left == 0 { state.withLock { $0 = State(records: [], index: [:]) } }
        }
        return record
    }
}
