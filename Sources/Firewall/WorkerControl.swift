import Atomics
import Control
import Foundation
import Rules
import Synchronization
import Tracking

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
    /// The live trace (`synwall trace`), if one runs.
    let trace = TraceHub()
    /// What workers and the main thread exchange under one lock: rule files, table additions
    /// and each worker's flow counter.
    private struct Shared {
        var pendingRules: CompiledRuleset?
        /// The rule files workers may be running, by generation, oldest first (the starting
        /// file as 0, then the last few published): for `ruleIndex(of:in:generation:)`.
        var ruleHistory: [(generation: Int, rules: CompiledRuleset)] = []
        /// Per worker (queue): additions made by the others, not yet taken.
        var inboxes: [UInt16: [TableAddition]] = [:]
        /// Per worker: the flows in its table as of its last round (sizes the checkpoint
        /// buffers).
        var flowCounters: [UInt16: ManagedAtomic<Int>] = [:]
    }

    private let shared = Mutex(Shared())
    /// Generations kept in `ruleHistory`.
    static let ruleHistoryLimit = 4
    /// Beyond this many untaken additions a worker's inbox drops its oldest.
    static let inboxLimit = 65_536
    private let answered = NSCondition()
    private var query: WorkerQuery?
    private var answers: [UInt16: WorkerReport] = [:]
    /// Bumped to ask every worker for its share of a checkpoint; the value is its id.
    let checkpointGeneration = ManagedAtomic(0)
    private let checkpointed = NSCondition()
    private var checkpointReference: UInt32 = 0
    private var checkpointParts: [UInt16: WorkerStatePart] = [:]
    /// Per worker: buffers for its next checkpoint share, their pages already touched by the
    /// checkpoint thread so the worker's copy never waits on a page fault or a reallocation.
    private var checkpointBuffers: [UInt16: [UInt8]] = [:]

    /// Hands a newly compiled rule file to every worker, as the next generation.
    func publish(_ rules: CompiledRuleset) {
        shared.withLock { shared in
            let generation = rulesGeneration.load(ordering: .relaxed) &+ 1
            shared.pendingRules = rules
            shared.ruleHistory.append((generation, rules))
            if shared.ruleHistory.count > Self.ruleHistoryLimit { shared.ruleHistory.removeFirst() }
            rulesGeneration.store(generation, ordering: .releasing)
        }
    }

    /// Notes the rule file the workers start with (generation 0); the first call counts.
    func noteStartingRules(_ rules: CompiledRuleset?) {
        guard let rules else { return }
        shared.withLock { if $0.ruleHistory.isEmpty { $0.ruleHistory.append((0, rules)) } }
    }

    /// The index in `rules` (the receiver's, of generation `generation`) of the rule another
    /// worker named by `reference`: the same index within a generation; across a reload, the
    /// rule with the same text (a reload renumbers rules, the text is what a rule keeps). Nil
    /// when there is no such rule, or the referenced generation is no longer known.
    func ruleIndex(of reference: RuleReference, in rules: CompiledRuleset, generation: Int) -> Int? {
        if reference.generation == generation {
            return reference.index < rules.rules.count ? reference.index : nil
        }
        let referenced = shared.withLock { $0.ruleHistory.last { $0.generation == reference.generation }?.rules }
        guard let referenced, reference.index < referenced.rules.count else { return nil }
        let text = referenced.rules[reference.index].text
        return rules.rules.firstIndex { $0.text == text }
    }

    /// Makes `queue` a worker that receives the others' table additions; returns the counter
    /// where it publishes how many flows its table holds.
    @discardableResult
    func register(queue: UInt16) -> ManagedAtomic<Int> {
        shared.withLock { shared in
            if shared.inboxes[queue] == nil { shared.inboxes[queue] = [] }
            if let counter = shared.flowCounters[queue] { return counter }
            let counter = ManagedAtomic(0)
            shared.flowCounters[queue] = counter
            return counter
        }
    }

    /// Hands `additions` (made by worker `queue`) to every other worker.
    func share(_ additions: [TableAddition], from queue: UInt16) {
        guard !additions.isEmpty else { return }
        shared.withLock { shared in
            for other in shared.inboxes.keys where other != queue {
                shared.inboxes[other]!.append(contentsOf: additions)
                let excess = shared.inboxes[other]!.count - Self.inboxLimit
                if excess > 0 { shared.inboxes[other]!.removeFirst(excess) }
            }
        }
        tableGeneration.wrappingIncrement(ordering: .releasing)
    }

    /// The additions the other workers shared with worker `queue` since it last asked.
    func takeAdditions(for queue: UInt16) -> [TableAddition] {
        shared.withLock { shared in
            guard let taken = shared.inboxes[queue], !taken.isEmpty else { return [] }
            shared.inboxes[queue] = []
            return taken
        }
    }

    /// The rules published last, and their generation (read together).
    func currentRules() -> (rules: CompiledRuleset, generation: Int)? {
        shared.withLock { shared in
            guard let rules = shared.pendingRules else { return nil }
            return (rules, rulesGeneration.load(ordering: .relaxed))
        }
    }

    /// Asks every worker in `queues` the question and waits up to `timeout` seconds for their
    /// answers; workers that did not answer in time are missing from the result. One question at
    /// a time (the control server is single-threaded).
    /// With `kill`, the workers remove the connections matching `connections` and report them.
    func ask(connections: ConnectionFilter.Compiled?, limit: Int, queues: [UInt16],
             timeout: TimeInterval, kill: Bool = false, table: TableOperation? = nil) -> [UInt16: WorkerReport]
    {
        answered.lock()
        let id = queryGeneration.load(ordering: .relaxed) &+ 1
        query = WorkerQuery(id: id, connections: connections, limit: limit, kill: kill && connections != nil, table: table)
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

extension WorkerControl {
    /// Asks every worker for its share of a checkpoint with times relative to
    /// `referenceSeconds`, and waits up to `timeout` seconds for `workers` of them; nil when
    /// some did not deliver in time (the checkpoint is then skipped).
    func collectCheckpoint(referenceSeconds: UInt32, workers: Int, timeout: TimeInterval) -> [WorkerStatePart]? {
        let counts = shared.withLock { $0.flowCounters.mapValues { $0.load(ordering: .relaxed) } }
        var buffers: [UInt16: [UInt8]] = [:]
        for (queue, flows) in counts {
            // Touched here, on this thread: page faults are paid off the packet path.
            var buffer = [UInt8](repeating: 0, count: (flows + flows / 8 + 64) * SavedConnection.size)
            buffer.removeAll(keepingCapacity: true)
            buffers[queue] = buffer
        }
        checkpointed.lock()
        checkpointReference = referenceSeconds
        checkpointParts = [:]
        checkpointBuffers = buffers
        let id = checkpointGeneration.load(ordering: .relaxed) &+ 1
        checkpointed.unlock()
        checkpointGeneration.store(id, ordering: .releasing)
        let deadline = Date().addingTimeInterval(timeout)
        checkpointed.lock()
        defer {
            checkpointParts = [:]
            checkpointed.unlock()
        }
        while checkpointParts.count < workers {
            if !checkpointed.wait(until: deadline) { return nil }
        }
        return checkpointParts.keys.sorted().compactMap { checkpointParts[$0] }
    }

    /// The reference time of checkpoint `id` and the buffer prepared for worker `queue`'s
    /// share (for a worker starting it); nil when that checkpoint is over.
    func startCheckpoint(id: Int, queue: UInt16) -> (reference: UInt32, buffer: [UInt8])? {
        checkpointed.lock()
        defer { checkpointed.unlock() }
        guard checkpointGeneration.load(ordering: .relaxed) == id else { return nil }
        return (checkpointReference, checkpointBuffers.removeValue(forKey: queue) ?? [])
    }

    /// A worker's finished share of checkpoint `id` (ignored when a newer one was asked).
    func deliverCheckpoint(_ part: WorkerStatePart, id: Int) {
        checkpointed.lock()
        defer { checkpointed.unlock() }
        guard checkpointGeneration.load(ordering: .relaxed) == id else { return }
        checkpointParts[part.queue] = part
        checkpointed.broadcast()
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
    /// Show, change or test a table (`synwall table`).
    var table: TableOperation? = nil
}
