import Atomics
import Control
import Foundation
import Synchronization

/// The daemon's live trace (`synwall trace`): at most one at a time, started, polled and ended
/// over the control socket. Workers load ``active`` once per receive round (the only cost to
/// the packet path while no trace runs) and, while it is true, keep the decisions the filter
/// matches and hand them over after the round (``deliver(_:matched:dropped:)``).
///
/// Bounds: at most ``TraceBatch/rate`` lines a second (the client's `--rate`, default 1,000,
/// at most 10,000), at most 256 per worker per round, at most ``TraceLimits/bufferedLines``
/// waiting for the next poll; the rest are counted in ``TraceBatch/dropped``. A trace not
/// polled for ``TraceLimits/idleSeconds`` ends by itself.
final class TraceHub: Sendable {
    /// True while a trace runs: workers look at it once per round.
    let active = ManagedAtomic(false)
    /// Bumped whenever the trace (and so its filter) changes.
    let generation = ManagedAtomic(0)
    /// When the running trace ends unless polled (ns of the wall clock); workers compare it
    /// once per round while tracing.
    let deadline = ManagedAtomic<UInt64>(0)

    /// Whether a trace runs now.
    var isActive: Bool { active.load(ordering: .relaxed) }

    /// The running trace, if any, and the next trace's number.
    private let state = Mutex(State())

    private struct State {
        var session: Session?
        var nextID = 1
    }

    private struct Session {
        let id: Int
        let filter: ConnectionFilter.Compiled
        let rate: Int
        var lines: [TraceLine] = []
        var matched = 0
        var dropped = 0
        var second: UInt64 = 0
        var thisSecond = 0
    }

    /// Starts a trace with `filter`, at most `rate` lines a second; its number, or why not.
    func start(filter: ConnectionFilter.Compiled, rate: Int, now: UInt64) -> Result<TraceBatch, TraceError> {
        state.withLock { state in start(&state, filter: filter, rate: rate, now: now) }
    }

    private func start(_ state: inout State, filter: ConnectionFilter.Compiled, rate: Int, now: UInt64)
        -> Result<TraceBatch, TraceError>
    {
        expire(&state, now: now)
        if state.session != nil {
            return .failure(TraceError("another synwall trace is running; it ends when it is stopped, or "
                + "\(TraceLimits.idleSeconds) s after its client went away"))
        }
        let id = state.nextID
        state.nextID += 1
        let bounded = min(max(1, rate), TraceLimits.maximumRate)
        state.session = Session(id: id, filter: filter, rate: bounded)
        deadline.store(now &+ UInt64(TraceLimits.idleSeconds) * 1_000_000_000, ordering: .relaxed)
        generation.wrappingIncrement(ordering: .releasing)
        active.store(true, ordering: .releasing)
        return .success(TraceBatch(session: id, lines: [], matched: 0, dropped: 0, rate: bounded))
    }

    /// The lines of trace `id` since the last poll; the trace's deadline moves on.
    func poll(id: Int, now: UInt64) -> Result<TraceBatch, TraceError> {
        state.withLock { state in poll(&state, id: id, now: now) }
    }

    private func poll(_ state: inout State, id: Int, now: UInt64) -> Result<TraceBatch, TraceError> {
        expire(&state, now: now)
        guard var current = state.session, current.id == id else {
            return .failure(TraceError("trace \(id) is not running (it ends \(TraceLimits.idleSeconds) s after "
                + "its last poll); start a new one"))
        }
        let batch = TraceBatch(session: id, lines: current.lines, matched: current.matched, dropped: current.dropped,
                               rate: current.rate)
        current.lines.removeAll(keepingCapacity: true)
        state.session = current
        deadline.store(now &+ UInt64(TraceLimits.idleSeconds) * 1_000_000_000, ordering: .relaxed)
        return .success(batch)
    }

    /// Ends trace `id` (nothing when it is not the running one); its last lines.
    func end(id: Int) -> TraceBatch? {
        state.withLock { state in
            guard let current = state.session, current.id == id else { return nil }
            stop(&state)
            return TraceBatch(session: id, lines: current.lines, matched: current.matched, dropped: current.dropped,
                              rate: current.rate)
        }
    }

    /// The running trace's filter and generation, for a worker that saw ``generation`` change.
    func currentFilter() -> (generation: Int, filter: ConnectionFilter.Compiled?) {
        state.withLock { (generation.load(ordering: .acquiring), $0.session?.filter) }
    }

    /// A worker's lines of one round (taken under the trace of `generation`), with the
    /// matching decisions it counted and those it could not keep.
    func deliver(_ lines: [TraceLine], generation: Int, matched: Int, dropped: Int, now: UInt64) {
        state.withLock { state in
            deliver(&state, lines, generation: generation, matched: matched, dropped: dropped, now: now)
        }
    }

    private func deliver(_ state: inout State, _ lines: [TraceLine], generation: Int, matched: Int, dropped: Int,
                         now: UInt64) {
        guard var current = state.session, self.generation.load(ordering: .relaxed) == generation else { return }
        current.matched += matched
        current.dropped += dropped
        let second = now / 1_000_000_000
        if second != current.second {
            current.second = second
            current.thisSecond = 0
        }
        for line in lines {
            if current.thisSecond < current.rate && current.lines.count < TraceLimits.bufferedLines {
                current.thisSecond += 1
                current.lines.append(line)
            } else {
                current.dropped += 1
            }
        }
        state.session = current
    }

    /// Ends the trace when its client stopped polling (a worker calls it once its deadline passed).
    func expire(now: UInt64) {
        state.withLock { expire(&$0, now: now) }
    }

    private func expire(_ state: inout State, now: UInt64) {
        guard state.session != nil, now > deadline.load(ordering: .relaxed) else { return }
        stop(&state)
    }

    private func stop(_ state: inout State) {
        state.session = nil
        active.store(false, ordering: .releasing)
        generation.wrappingIncrement(ordering: .releasing)
    }
}

/// Why a trace request was refused.
struct TraceError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
