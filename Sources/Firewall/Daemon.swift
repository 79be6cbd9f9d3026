import Atomics
import Control
import Engine
import EventLog
import Foundation
import Logging
import NetfilterQueue
import Rules
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
/// a signal, and takes everything down again in reverse order.
public final class Daemon: @unchecked Sendable {
    public let configuration: DaemonConfiguration
    private let say: @Sendable (String) -> Void
    private let logger: Logger
    /// SIGHUP (main thread) and the control socket's `reload` (its thread) take turns.
    private let reloadLock = NSLock()
    /// Reloads since start (`synwall stats`, the Prometheus metrics).
    let reloadHistory = ReloadHistory()
    /// Rules in force: the last file that compiled.
    private var rulesInForce: CompiledRuleset?
    /// The offload marks of the kernel rules this start attaches, fixed for the daemon's life
    /// (docs/offload.md, "Reloads").
    private var attachedOffload: OffloadMarks?
    /// `block return…`'s sender (its rate follows reloads).
    private var replySender: ReplySender?
    /// `RulesDigest` of the rules in force, for the state file.
    private let rulesDigest = ManagedAtomic<UInt64>(0)

    /// `say` receives the operator-facing lines (start-up mode, ready, stopped); `logger` gets
    /// the same facts as structured messages (constant text, dotted metadata) for journald.
    public init(configuration: DaemonConfiguration, logger: Logger, say: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.logger = logger
        self.say = say
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
    private func reload(control: WorkerControl, log: EventLogService?) -> ReloadReport {
        reloadLock.lock()
        defer { reloadLock.unlock() }
        guard let path = configuration.rulesPath else {
            say("synwall: reload: no rule file in use (start with --rules FILE); nothing to reload")
            logger.notice("reload ignored: no rule file in use")
            return ReloadReport(reloaded: false, file: "", rules: 0,
                                diagnostics: "the daemon runs without a rule file (start it with --rules FILE)")
        }
        switch RuleCompiler.compile(file: path) {
        case .success(var compiled):
            var settings = compiled.settings
            let offloadNotice = OffloadMarks.reconcile(&settings, attached: attachedOffload)
            if let offloadNotice {
                compiled = compiled.replacingSettings(settings)
                say("synwall: reload: " + offloadNotice)
                logger.warning("set offload change not in force until restart", metadata: ["detail": "\(offloadNotice)"])
            }
            control.publish(compiled)
            rulesInForce = compiled
            replySender?.configure(compiled.settings.returnRate ?? RuleSettings.defaultReturnRate)
            rulesDigest.store(RulesDigest.of(compiled), ordering: .relaxed)
            say("synwall: reloaded: \(path) (\(compiled.rules.count) rules); "
                + (compiled.settings.reloadStates == .recheck ? "live connections are checked against them (set reload recheck)"
                    : "live connections keep their state"))
            logger.notice("rules reloaded", metadata: ["rules.file": "\(path)", "rules.count": "\(compiled.rules.count)"])
            log?.record(Event(timestampNanoseconds: QueueWorker.now(), eventType: .reload, reason: "reloaded",
                              detail: "\(path) (\(compiled.rules.count) rules)"))
            reloadHistory.record(success: true)
            return ReloadReport(reloaded: true, file: path, rules: compiled.rules.count,
                                diagnostics: offloadNotice.map { "\(path): warning: " + $0 })
        case .failure(let diagnostics):
            let text = Event.cappedDetail(diagnostics.description.replacingOccurrences(of: "\n", with: " | "))
            say("synwall: reload failed, the running rules stay in force: " + text)
            logger.error("rules reload failed; running rules stay in force",
                         metadata: ["rules.file": "\(path)", "error": "\(text)"])
            log?.record(Event(timestampNanoseconds: QueueWorker.now(), eventType: .reload, reason: "reload_failed",
                              detail: text))
            reloadHistory.record(success: false)
            return ReloadReport(reloaded: false, file: path, rules: rulesInForce?.rules.count ?? 0,
                                diagnostics: diagnostics.description)
        }
    }

    /// Runs until SIGINT or SIGTERM. SIGHUP reloads the rules; SIGUSR1 reopens the event log.
    public func run() throws(DaemonError) -> DaemonSummary {
        // Signals are taken synchronously by this thread; workers inherit the blocked mask.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGUSR1] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)

        // 0. The rule file, if any: a broken one stops the start, with every diagnostic.
        var rules: CompiledRuleset?
        if let path = configuration.rulesPath {
            switch RuleCompiler.compile(file: path) {
            case .success(let compiled):
                rules = compiled
                rulesInForce = compiled
                attachedOffload = OffloadMarks.attached(for: compiled.settings)
                for warning in compiled.warnings {
                    say(warning.description)
                    logger.warning("rule file warning", metadata: ["diagnostic": "\(warning.description)"])
                }
            case .failure(let diagnostics):
                throw .rules(report: diagnostics.description)
            }
        }

        // The rule file's `set` lines tune the tracker (the command line's --max-states wins).
        var pipelineConfiguration = configuration.pipeline
        if let rules {
            pipelineConfiguration.tracker = TrackerConfiguration(rules.settings, base: configuration.pipeline.tracker,
                                                                 maxStatesOverride: configuration.maxStatesOverride)
        }
        let logPath = configuration.logPath ?? rules?.settings.logPath
        rulesDigest.store(RulesDigest.of(rules), ordering: .relaxed)

        // 0b. The state file: its lock for the daemon's life, and what the last run left.
        var keeper: StateKeeper?
        var plan: StateKeeper.Plan?
        if let statePath = configuration.statePath {
            let stateKeeper = StateKeeper(
                store: StateFileStore(path: statePath), queues: configuration.queues,
                checkpointInterval: rules?.settings.stateCheckpoint ?? RuleSettings.defaultStateCheckpoint,
                maxAge: rules?.settings.stateMaxAge ?? RuleSettings.defaultStateMaxAge, logger: logger, say: say)
            let usable = try stateKeeper.lock(owner: configuration.privileges.account.flatMap {
                $0.uid == 0 ? nil : (uid: $0.uid, gid: $0.gid)
            })
            if usable {
                plan = stateKeeper.load(rulesDigest: rulesDigest.load(ordering: .relaxed),
                                        capacity: pipelineConfiguration.tracker.maxStates * configuration.queues.count,
                                        now: QueueWorker.now())
                keeper = stateKeeper
            }
        }

        // 1. Bind every queue before touching the host's rules: a busy queue fails cleanly. A
        //    socket an earlier synwall left in systemd's store is taken over instead, with the
        //    packets the kernel queued for it meanwhile.
        var sockets: [QueueSocket] = []
        var inherited = ServiceManager.inheritedDescriptors()
        for queue in configuration.queues {
            let queueConfiguration = QueueConfiguration(
                queue: queue, copyRange: configuration.copyRange, maxLength: configuration.queueMaxLength,
                failOpen: configuration.failOpen, gso: true, receiveBufferBytes: configuration.receiveBufferBytes)
            if let found = inherited.firstIndex(where: { ServiceManager.queue(ofDescriptorName: $0.name) == queue }) {
                let fd = inherited.remove(at: found).fd
                do {
                    let socket = try QueueSocket(adopting: fd, configuration: queueConfiguration)
                    sockets.append(socket)
                    say("synwall: queue \(queue): took over the socket an earlier synwall left in the service "
                        + "manager's store" + (socket.adopted ? ", still bound: packets queued meanwhile are read now"
                            : "; it was no longer bound, so it is bound afresh"))
                    continue
                } catch {
                    say("synwall: warning: queue \(queue): \(error)")
                    close(fd)
                }
            }
            do {
                sockets.append(try QueueSocket(configuration: queueConfiguration))
            } catch {
                sockets.forEach { $0.close() }
                throw .queue(error)
            }
        }
        for leftover in inherited { close(leftover.fd) }
        // Under systemd (FileDescriptorStoreMax=) the sockets outlive this process: a crash or a
        // restart leaves the queues bound, and the next synwall reads what the kernel queued.
        if ServiceManager.isNotifying {
            let stored = sockets.filter {
                ServiceManager.store($0.descriptor, name: ServiceManager.descriptorName(queue: $0.configuration.queue))
            }.count
            if stored > 0 {
                logger.info("queue sockets in the service manager's store", metadata: ["queues": "\(stored)"])
            }
        }

        // 2. The event log: one writer thread, one ring per worker. A log that cannot be
        //    written is reported and retried; it never stops filtering.
        var service: EventLogService?
        if let path = logPath {
            let say = self.say
            let logger = self.logger
            var settings = EventLogService.Settings()
            if let bytes = rules?.settings.logRotateBytes {
                settings.rotation = LogRotation(maxBytes: bytes, keep: rules?.settings.logRotateKeep ?? 10)
            }
            let log = EventLogService(path: path, settings: settings) { report in
                switch report {
                case .failed(let error):
                    say("synwall: warning: event log: \(error)")
                    logger.warning("event log unwritable; filtering goes on", metadata: ["log.error": "\(error)"])
                case .recovered(let path):
                    say("synwall: event log writable again: \(path)")
                    logger.notice("event log writable again", metadata: ["log.path": "\(path)"])
                }
            }
            if let error = log.start() {
                say("synwall: warning: event log: \(error); filtering goes on, events are counted as dropped")
                logger.warning("event log unwritable; filtering goes on", metadata: ["log.error": "\(error)"])
            }
            service = log
        }
        let writers: [EventQueue?] = sockets.map { _ in service?.makeProducer(reportsOwnLosses: true) }

        if configuration.failOpen {
            say("synwall: fail-open: packets pass unfiltered while synwall is down (queue bypass) "
                + "or overloaded (kernel fail-open)")
        } else {
            say("synwall: fail-closed: while synwall is down or its queue is full, queued packets are dropped "
                + "(use --fail-open to let them pass)")
        }

        // 2b. `block return…`: the raw sockets its answers go out through, opened now, while
        //     still privileged, so no CAP_NET_RAW is kept for them (docs/block-return.md).
        let (replies, replyProblem) = ReplySender.open()
        replies?.configure(rules?.settings.returnRate ?? RuleSettings.defaultReturnRate)
        replySender = replies
        if let replyProblem {
            let uses = rules?.rules.contains { $0.reply != nil } ?? false
            say("synwall: \(uses ? "warning: " : "")block return: \(replyProblem)"
                + (replies == nil ? "; block return rules will drop without answering" : "; that family's answers are not sent"))
        }

        // 3. Workers.
        let control = WorkerControl()
        let finished = DispatchSemaphore(value: 0)
        var workers: [QueueWorker] = []
        var restored = RestoreCounts()
        var restoredCut = 0
        let restoreTime = QueueWorker.now()
        for (index, (socket, writer)) in zip(sockets, writers).enumerated() {
            var pipeline = Pipeline(configuration: pipelineConfiguration, rules: rules,
                                    interfaceNames: InterfaceNames(resolver: QueueWorker.interfaceName))
            if let keeper, let plan {
                let (counts, outcome) = keeper.restore(plan, into: &pipeline, index: index, now: restoreTime)
                restored.add(counts)
                restoredCut += outcome?.cut ?? 0
            }
            let worker = QueueWorker(socket: socket, pipeline: pipeline, log: writer, control: control, replies: replies,
                                     offload: attachedOffload)
            workers.append(worker)
            let thread = Thread {
                worker.run()
                finished.signal()
            }
            thread.name = "synwall-q\(worker.queue)"
            thread.start()
        }
        func stopWorkers() {
            keeper?.stopCheckpoints()
            control.stop.store(true, ordering: .relaxed)
            for _ in workers { finished.wait() }
        }
        if let plan {
            let line = Self.restoreLine(plan, restored, cut: restoredCut, path: configuration.statePath ?? "")
            say("synwall: state: " + line)
            logger.info("state restored", metadata: ["state.file": "\(configuration.statePath ?? "")",
                                                     "state.restored": "\(restored.restored)"])
        }

        // 3b. The control socket (`synwall stats`, `conns`, `reload`), made while still privileged.
        //     The same handler gives the service manager its STATUS= lines.
        let logService = service
        let handler = DaemonControl(workers: control, queues: Array(configuration.queues), log: logService,
                                    logPath: logPath, reloads: reloadHistory, rules: { [self] in
                                        reloadLock.lock()
                                        defer { reloadLock.unlock() }
                                        return rulesInForce
                                    }) { [self] in reload(control: control, log: logService) }
        handler.replies = replies
        if attachedOffload != nil { handler.offloadCounters = makeAttachment() }
        var server: ControlServer?
        if let controlPath = configuration.controlPath {
            do {
                let owner = configuration.privileges.account.flatMap { $0.uid == 0 ? nil : (uid: $0.uid, gid: $0.gid) }
                server = try ControlServer(path: controlPath, group: configuration.controlGroup,
                                           directoryOwner: owner) { handler.handle($0) }
                server?.start()
            } catch {
                stopWorkers()
                service?.stop()
                throw error
            }
        }

        // 4. Attach last, so packets only flow to queues that are already served.
        let attachment = makeAttachment()
        do {
            try attachment.install()
        } catch {
            attachment.remove()
            server?.stop()
            stopWorkers()
            service?.stop()
            throw .attach(error)
        }
        PidFile.write(configuration.pidFile)
        defer { PidFile.remove(configuration.pidFile) }

        // 5. Keep only what running needs: CAP_NET_ADMIN (verdicts, detach), and --user's
        //    account. Everything that needs root (the pid file, …) comes before this.
        do {
            let report = try configuration.privileges.apply(
                attach: configuration.attach, logPath: logPath, pidFile: configuration.pidFile,
                rulesPath: configuration.rulesPath, controlPath: configuration.controlPath)
            for warning in report.warnings {
                say("synwall: warning: " + warning)
                logger.warning("after the privilege drop a later step will fail", metadata: ["warning": "\(warning)"])
            }
            say("synwall: privileges: " + report.summary)
            logger.info("privileges dropped", metadata: ["privileges": "\(report.summary)"])
        } catch {
            attachment.remove()
            server?.stop()
            stopWorkers()
            service?.stop()
            throw .privileges(error)
        }

        let queueText = "\(configuration.queues.lowerBound)-\(configuration.queues.upperBound)"
        let hookText = configuration.attach == .none ? "none" : configuration.hooks.map(\.rawValue).joined(separator: ",")
        let rulesText = rules.map { "rules \($0.mainFile) (\($0.rules.count) rules)" } ?? "no rules (policy \(configuration.pipeline.defaultVerdict.rawValue))"
        service?.record(Event(timestampNanoseconds: QueueWorker.now(), eventType: .start, reason: "started",
                              detail: "queues \(queueText), attach \(attachment.summary), \(rulesText)"))
        say("synwall: ready: queues \(queueText), attach \(attachment.summary), hooks \(hookText), \(rulesText), control \(configuration.controlPath ?? "none"), pid \(getpid())")
        logger.info("started", metadata: [
            "queue.range": "\(queueText)", "attach": "\(attachment.summary)", "hooks": "\(hookText)",
            "rules": "\(rulesText)", "fail.mode": "\(configuration.failOpen ? "open" : "closed")",
        ])
        keeper?.startCheckpoints(control: control, workers: workers.count) { [rulesDigest] in
            rulesDigest.load(ordering: .relaxed)
        }
        ServiceManager.notify("READY=1\nSTATUS=filtering: queues \(queueText), \(rulesText)\nMAINPID=\(getpid())")
        let status = ServiceStatus.start(handler)
        // 6. Wait for a signal: SIGHUP reloads the rules, SIGUSR1 reopens the event log.
        while true {
            var received: Int32 = 0
            guard sigwait(&signals, &received) == 0 else { continue }
            if received == SIGUSR1 {
                service?.reopen()
                continue
            }
            if received == SIGHUP {
                reload(control: control, log: service)
                continue
            }
            break
        }

        // 7. Detach first, then let the workers verdict what is still queued and stop.
        status?.stop()
        ServiceManager.notify("STOPPING=1\nSTATUS=stopping: saving the connections")
        server?.stop()
        attachment.remove()
        stopWorkers()

        // 8. The whole state, for the next start (docs/state-file.md).
        if let keeper { saveState(keeper, workers) }

        var summary = DaemonSummary()
        for worker in workers {
            summary.queue.add(worker.queueStatistics)
            summary.pipeline.add(worker.pipelineCounters)
            summary.suppressedEvents += worker.suppressedEvents
        }
        service?.record(Event(timestampNanoseconds: QueueWorker.now(), eventType: .stop, reason: "stopped",
                              detail: summary.line))
        service?.stop()
        if let counters = service?.counters {
            summary.eventWriteFailures = counters.writeFailures
            summary.eventsLost = counters.lost
        }
        say("synwall: stopped: " + summary.line)
        logger.info("stopped", metadata: [
            "packets.received": "\(summary.queue.received)", "packets.accepted": "\(summary.queue.accepted)",
            "packets.dropped": "\(summary.queue.dropped)", "queue.enobufs": "\(summary.queue.enobufs)",
            "events.lost": "\(summary.eventsLost)",
        ])
        return summary
    }

    /// Writes every worker's connections at a clean stop (the workers have stopped).
    private func saveState(_ keeper: StateKeeper, _ workers: [QueueWorker]) {
        let started = QueueWorker.now()
        let reference = UInt32(clamping: started / 1_000_000_000)
        let parts = workers.map { $0.stateAtStop(referenceSeconds: reference) }
        do {
            let saved = try keeper.save(parts, kind: .stop, rulesDigest: rulesDigest.load(ordering: .relaxed),
                                        referenceSeconds: reference)
            let milliseconds = (QueueWorker.now() - started) / 1_000_000
            say("synwall: state: saved \(saved.connections) connections to \(keeper.store.path) "
                + "(\(saved.bytes) bytes, \(milliseconds) ms)")
            logger.info("state saved", metadata: ["state.file": "\(keeper.store.path)",
                                                  "state.connections": "\(saved.connections)"])
        } catch {
            say("synwall: warning: state file \(keeper.store.path) not written: \(error); "
                + "the next start has no connections")
            logger.error("state file not written", metadata: ["state.file": "\(keeper.store.path)", "error": "\(error)"])
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
