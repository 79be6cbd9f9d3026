import Atomics
import Control
import Foundation
import Rules

/// What the daemon's main thread tells its workers: stop, take new rules, answer a question;
/// and what workers tell each other: addresses `overload` put in a table. Workers look at the
/// generation counters once per receive round (an atomic load); only a change takes the lock,
/// so the packet path never waits on it.
final class WorkerControl: @unchecked Sendable {
    let stop = ManagedAtomic(false)
    let rulesGeneration = ManagedAtomic(0)
    /// Bumped for every question (`synwall stats`, `synwall conns`); the value is its id.
    let queryGeneration = ManagedAtomic(0)
    /// Bumped whenever a worker shares table additions.
    let tableGeneration = ManagedAtomic(0)
    private let lock = NSLock()
    private var pendingRules: CompiledRuleset?
    /// Per worker (queue): additions made by the others, not yet taken.
    private var inboxes: [UInt16: [TableAddition]] = [:]
    /// Beyond this many untaken additions a worker's inbox drops its oldest.
    static let inboxLimit = 65_536
    private let answered = NSCondition()
    private var query: WorkerQuery?
    private var answers: [UInt16: WorkerReport] = [:]

    /// Hands a newly compiled rule file to every worker.
    func publish(_ rules: CompiledRuleset) {
        lock.lock()
        pendingRules = rules
        lock.unlock()
        rulesGeneration.wrappingIncrement(ordering: .releasing)
    }

    /// Makes `queue` a worker that receives the others' table additions.
    func register(queue: UInt16) {
        lock.lock()
        if inboxes[queue] == nil { inboxes[queue] = [] }
        lock.unlock()
    }

    /// Hands `additions` (made by worker `queue`) to every other worker.
    func share(_ additions: [TableAddition], from queue: UInt16) {
        guard !additions.isEmpty else { return }
        lock.lock()
        for other in inboxes.keys where other != queue {
            inboxes[other]!.append(contentsOf: additions)
            let excess = inboxes[other]!.count - Self.inboxLimit
            if excess > 0 { inboxes[other]!.removeFirst(excess) }
        }
        lock.unlock()
        tableGeneration.wrappingIncrement(ordering: .releasing)
    }

    /// The additions the other workers shared with worker `queue` since it last asked.
    func takeAdditions(for queue: UInt16) -> [TableAddition] {
        lock.lock()
        defer { lock.unlock() }
        guard let taken = inboxes[queue], !taken.isEmpty else { return [] }
        inboxes[queue] = []
        return taken
    }

    /// The rules published last.
    func currentRules() -> CompiledRuleset? {
        lock.lock()
        defer { lock.unlock() }
        return pendingRules
    }

    /// Asks every worker in `queues` the question and waits up to `timeout` seconds for their
    /// answers; workers that did not answer in time are missing from the result. One question at
    /// a time (the control server is single-threaded).
    /// With `kill`, the workers remove the connections matching `connections` and report them.
    func ask(connections: ConnectionFilter.Compiled?, limit: Int, queues: [UInt16],
             timeout: TimeInterval, kill: Bool = false) -> [UInt16: WorkerReport]
    {
        answered.lock()
        let id = queryGeneration.load(ordering: .relaxed) &+ 1
        query = WorkerQuery(id: id, connections: connections, limit: limit, kill: kill && connections != nil)
        answers = [:]
        answered.unlock()
        queryGeneration.store(id, ordering: .releasing)

        let deadline = Date().addingTimeInterval(timeout)
        answered.lock()
        defer { answered.unlock() }
        while answers.count < queues.count {
            if !answered.wait(until: deadline) { break }
        }
        let result = answers
        query = nil
        answers = [:]
        return result
    }

    /// The question with id `id`, if it is still being asked.
    func pendingQuery(id: Int) -> WorkerQuery? {
        answered.lock()
        defer { answered.unlock() }
        guard let query, query.id == id else { return nil }
        return query
    }

    /// A worker's answer to question `id` (ignored when that question is over).
    func answer(_ report: WorkerReport, to id: Int) {
        answered.lock()
        defer { answered.unlock() }
        guard let query, query.id == id else { return }
        answers[report.queue] = report
        answered.broadcast()
    }
}

/// A question to the workers: counters, and the connections matching a filter if asked.
struct WorkerQuery: Sendable {
    let id: Int
    /// Nil: counters only.
    let connections: ConnectionFilter.Compiled?
    /// At most this many connections.
    let limit: Int
    /// Remove the matching connections (`synwall conns --kill`), reporting them as matches.
    var kill = false
}
