import Atomics
import Control
import Engine
import EventLog
import Foundation
import NetfilterQueue
import Rules
import Synchronization
import Tracking

/// Totals printed when the daemon stops.
public struct DaemonSummary: Sendable {
    public var queue = QueueStatistics()
    public var pipeline = PipelineCounters()
    public var droppedDuringStart = 0
    public var suppressedEvents = 0
    public var eventWriteFailures = 0
    public var eventsLost = 0

    /// `received=N accepted=N dropped=N malformed=N enobufs=N …` (the stop line's tail).
    public var line: String {
        "received=\(queue.received) accepted=\(queue.accepted) dropped=\(queue.dropped) "
            + "malformed=\(pipeline.drops(.malformed)) bad_checksum=\(pipeline.drops(.badChecksum)) "
            + "enobufs=\(queue.enobufs) verdict_errors=\(queue.verdictErrors) "
            + "events_lost=\(eventsLost) event_write_failures=\(eventWriteFailures)"
            + DropReason.allCases.filter { pipeline.drops($0) > 0 }.map { " drop.\($0.rawValue)=\(pipeline.drops($0))" }
            .joined()
            + (pipeline.fragmentsHeld + pipeline.datagramsAbandoned > 0
                ? " fragments.held=\(pipeline.fragmentsHeld) fragments.reassembled=\(pipeline.datagramsReassembled)"
                    + " fragments.abandoned=\(pipeline.datagramsAbandoned)" : "")
    }
}

/// `synwall run`: binds the queues, starts one worker per queue, attaches to the host, waits for
/// a signal, and takes everything down again in reverse order. The start is a list of steps
/// (Daemon+Start.swift), each recording in a ``LifecycleStack`` what it started; every way out
/// — a step that fails, or the stop after SIGTERM — undoes the stack in reverse.
public final class Daemon: @unchecked Sendable {
    public let configuration: DaemonConfiguration
    /// Says each lifecycle fact once (plain line or structured message).
    let reporter: LifecycleReporter
    /// SIGHUP (main thread) and the control socket's `reload` (its thread) take turns; it holds
    /// the rules in force: the last file that compiled.
    let rulesInForce = Mutex<CompiledRuleset?>(nil)
    /// Reloads since start (`synwall stats`, the Prometheus metrics).
    let reloadHistory = ReloadHistory()
    /// The offload marks of the kernel rules this start attaches, fixed for the daemon's life
    /// (docs/offload.md, "Reloads"); set once at the start.
    var attachedOffload: OffloadMarks?
    /// `block return…`'s sender (its rate follows reloads); set once at the start.
    var replySender: ReplySender?
    /// `RulesDigest` of the rules in force, for the state file.
    let rulesDigest = ManagedAtomic<UInt64>(0)

    /// `reporter` says the daemon's lifecycle facts (start-up mode, ready, reloaded, stopped, …).
    public init(configuration: DaemonConfiguration, reporter: LifecycleReporter) {
        self.configuration = configuration
        self.reporter = reporter
    }

    /// The attachment this configuration asks for.
    public func makeAttachment() -> any Attachment {
        let plan = AttachmentPlan(hooks: configuration.hooks, queues: configuration.queues,
                                  bypass: configuration.failOpen, ownerPID: getpid(), offload: attachedOffload)
        switch configuration.attach {
        case .iptables: return IptablesAttachment(plan: plan)
        case .nft: return NftAttachment(plan: plan)
        case .none: return NoAttachment()
        }
    }

    /// Compiles the rule file aside and, only if it is valid, hands it to every worker; the
    /// running rules stay in force otherwise. Connections keep their state either way (unless
    /// the file says `set reload recheck`).
    @discardableResult
    func reload(control: WorkerControl, log: EventLogService?) -> ReloadReport {
        rulesInForce.withLock { rulesInForce in
            guard let path = configuration.rulesPath else {
                reporter.report(.reloadIgnored)
                return ReloadReport(reloaded: false, file: "", rules: 0,
                                    diagnostics: "the daemon runs without a rule file (start it with --rules FILE)")
            }
            switch RuleCompiler.compile(file: path) {
            case .success(var compiled):
                var settings = compiled.settings
                let offloadNotice = OffloadMarks.reconcile(&settings, attached: attachedOffload).map { "\(path): warning: " + $0 }
                if let offloadNotice {
                    compiled = compiled.replacingSettings(settings)
                    reporter.report(.ruleWarning(offloadNotice))
                }
                control.publish(compiled)
                rulesInForce = compiled
                replySender?.configure(compiled.settings.returnRate ?? RuleSettings.defaultReturnRate)
                rulesDigest.store(RulesDigest.of(compiled), ordering: .relaxed)
                reporter.report(.reloaded(path: path, rules: compiled.rules.count,
                                          recheck: compiled.settings.reloadStates == .recheck))
                log?.record(Event(timestampNanoseconds: QueueWorker.now(), eventType: .reload, reason: "reloaded",
                                  detail: "\(path) (\(compiled.rules.count) rules)"))
                reloadHistory.record(success: true)
                return ReloadReport(reloaded: true, file: path, rules: compiled.rules.count, diagnostics: offloadNotice)
            case .failure(let diagnostics):
                let text = Event.cappedDetail(diagnostics.description.replacingOccurrences(of: "\n", with: " | "))
                reporter.report(.reloadFailed(path: path, diagnostics: text))
                log?.record(Event(timestampNanoseconds: QueueWorker.now(), eventType: .reload, reason: "reload_failed",
                                  detail: text))
                reloadHistory.record(success: false)
                return ReloadReport(reloaded: false, file: path, rules: rulesInForce?.rules.count ?? 0,
                                    diagnostics: diagnostics.description)
            }
        }
    }

    /// Runs until SIGINT or SIGTERM. SIGHUP reloads the rules; SIGUSR1 reopens the event log.
    public func run() throws(DaemonError) -> DaemonSummary {
        var signals = Self.takeSignals()
        let parts = LifecycleStack()
        let running: Running
        do {
            running = try start(parts)
        } catch {
            parts.stopAll()
            throw error
        }
        waitForStop(&signals, running)
        return stop(running, parts)
    }

    /// Signals are taken synchronously by the main thread; workers inherit the blocked mask.
    private static func takeSignals() -> sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGUSR1] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)
        return signals
    }

    /// Waits for SIGINT or SIGTERM; meanwhile SIGHUP reloads the rules, SIGUSR1 reopens the event log.
    private func waitForStop(_ signals: inout sigset_t, _ running: Running) {
        while true {
            var received: Int32 = 0
            guard sigwait(&signals, &received) == 0 else { continue }
            if received == SIGUSR1 {
                running.service?.reopen()
            } else if received == SIGHUP {
                reload(control: running.control, log: running.service)
            } else {
                return
            }
        }
    }

    /// Detaches first, lets the workers verdict what is still queued and stop, saves the state,
    /// records the stop in the event log, then stops the rest; the totals.
    private func stop(_ running: Running, _ parts: LifecycleStack) -> DaemonSummary {
        parts.stop(through: .workers)
        // The whole state, for the next start (docs/state-file.md).
        if let keeper = running.keeper { saveState(keeper, running.workers) }
        var summary = DaemonSummary()
        for worker in running.workers {
            summary.queue.add(worker.queueStatistics)
            summary.pipeline.add(worker.pipelineCounters)
            summary.suppressedEvents += worker.suppressedEvents
        }
        running.service?.record(Event(timestampNanoseconds: QueueWorker.now(), eventType: .stop, reason: "stopped",
                                      detail: summary.line))
        parts.stopAll()
        if let counters = running.service?.counters {
            summary.eventWriteFailures = counters.writeFailures
            summary.eventsLost = counters.lost
        }
        reporter.report(.stopped(summary))
        return summary
    }

    /// Writes every worker's connections at a clean stop (the workers have stopped).
    func saveState(_ keeper: StateKeeper, _ workers: [QueueWorker]) {
        let started = QueueWorker.now()
        let reference = UInt32(clamping: started / 1_000_000_000)
        let parts = workers.map { $0.stateAtStop(referenceSeconds: reference) }
        do {
            let saved = try keeper.save(parts, kind: .stop, rulesDigest: rulesDigest.load(ordering: .relaxed),
                                        referenceSeconds: reference)
            let milliseconds = (QueueWorker.now() - started) / 1_000_000
            reporter.report(.stateSaved(path: keeper.store.path, connections: saved.connections, bytes: saved.bytes,
                                        milliseconds: milliseconds))
        } catch {
            reporter.report(.stateNotSaved(path: keeper.store.path, error: "\(error)"))
        }
    }

    /// `restored 412 connections from FILE (clean stop 3 s ago; …)`.
    static func restoreLine(_ plan: StateKeeper.Plan, _ counts: RestoreCounts, cut: Int, path: String) -> String {
        let header = plan.snapshot.header
        var details = ["\(header.kind.name) \(plan.elapsedSeconds) s ago"]
        if counts.expired > 0 { details.append("\(counts.expired) timed out meanwhile") }
        if counts.halfOpen > 0 { details.append("\(counts.halfOpen) handshakes left to restart") }
        if counts.invalid > 0 { details.append("\(counts.invalid) damaged records skipped") }
        if counts.tableFull > 0 { details.append("\(counts.tableFull) over the table's capacity") }
        if counts.wereOffloaded > 0 { details.append("\(counts.wereOffloaded) offloaded, now followed packet by packet") }
        if plan.recheck { details.append("rules changed since: \(cut) cut by them") }
        func counted(_ count: Int, _ one: String, _ many: String) -> String { "\(count) " + (count == 1 ? one : many) }
        if !plan.snapshot.provenSources.isEmpty {
            details.append(counted(plan.snapshot.provenSources.count, "proven source", "proven sources"))
        }
        if !plan.snapshot.tableEntries.isEmpty {
            details.append(counted(plan.snapshot.tableEntries.count, "table entry", "table entries"))
        }
        if let pool = plan.pool {
            return "\(pool.count) connections from \(path) wait for their queue (saved with queues "
                + "\(header.queues.lowerBound)-\(header.queues.upperBound) or before a reboot; "
                + details.joined(separator: ", ") + ")"
        }
        return "restored \(counts.restored) connections from \(path) (" + details.joined(separator: ", ") + ")"
    }

}
