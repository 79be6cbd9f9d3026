import Atomics
import Foundation
import Rules

/// What the daemon's main thread tells its workers: stop, take new rules.
/// Workers look at the generation counters once per receive round (an atomic load); only a
/// change takes the lock, so the packet path never waits on it.
final class WorkerControl: @unchecked Sendable {
    let stop = ManagedAtomic(false)
    let rulesGeneration = ManagedAtomic(0)
    private let lock = NSLock()
    private var pendingRules: CompiledRuleset?

    /// Hands a newly compiled rule file to every worker.
    func publish(_ rules: CompiledRuleset) {
        lock.lock()
        pendingRules = rules
        lock.unlock()
        rulesGeneration.wrappingIncrement(ordering: .releasing)
    }

    /// The rules published last.
    func currentRules() -> CompiledRuleset? {
        lock.lock()
        defer { lock.unlock() }
        return pendingRules
    }
}
