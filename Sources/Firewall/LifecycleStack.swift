/// The daemon's parts in the order they started, each with what undoes it. Stopping undoes
/// them in reverse, each exactly once, whatever the path: a start that fails half-way undoes
/// what it had started, and the stop after a signal undoes everything. A part is pushed just
/// before the step that may leave something behind (an attachment that failed half-way is
/// still removed).
///
/// Used by one thread (the daemon's main thread).
final class LifecycleStack {
    /// The daemon's parts, in start order.
    enum Part: String, Sendable {
        /// The NFQUEUE sockets (closed; a worker closes its own first).
        case queues
        /// The event log's writer thread.
        case eventLog
        /// The worker threads (stopped after they verdicted what is still queued).
        case workers
        /// The control socket.
        case controlSocket
        /// The nft/iptables rules that send packets to the queues.
        case attachment
        /// The pid file.
        case pidFile
        /// The periodic state checkpoints.
        case checkpoints
        /// The service manager's READY=1 and the status thread.
        case readiness
    }

    private var started: [(part: Part, stop: () -> Void)] = []

    /// The parts started and not yet stopped, in start order.
    var parts: [Part] { started.map(\.part) }

    /// Records that `part` started (or is about to); `stop` undoes it.
    func started(_ part: Part, stop: @escaping () -> Void) {
        started.append((part, stop))
    }

    /// Stops the parts in reverse order down to `part` (included), leaving those started
    /// before it; stops nothing when `part` is not running.
    func stop(through part: Part) {
        guard started.contains(where: { $0.part == part }) else { return }
        while let last = started.popLast() {
            last.stop()
            if last.part == part { return }
        }
    }

    /// Stops every part still running, in reverse order.
    func stopAll() {
        while let last = started.popLast() { last.stop() }
    }
}
