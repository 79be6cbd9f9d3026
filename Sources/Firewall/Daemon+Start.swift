import Control
import Dispatch
import Engine
import EventLog
import Foundation
import NetfilterQueue
import Rules
import Tracking

extension Daemon {
    /// What one run of the daemon started and what its later steps use. The steps fill it in
    /// order; ``LifecycleStack`` holds how each part stops.
    final class Running {
        var rules: CompiledRuleset?
        var pipelineConfiguration: PipelineConfiguration
        var logPath: String?
        var keeper: StateKeeper?
        var plan: StateKeeper.Plan?
        var sockets: [QueueSocket] = []
        var service: EventLogService?
        var replies: ReplySender?
        let control = WorkerControl()
        var workers: [QueueWorker] = []

        init(pipelineConfiguration: PipelineConfiguration) {
            self.pipelineConfiguration = pipelineConfiguration
        }
    }

    /// Starts every part in order, each recorded in `parts` before it can leave anything behind,
    /// so a failure at any step lets the caller undo exactly what was started.
    func start(_ parts: LifecycleStack) throws(DaemonError) -> Running {
        let running = try loadRules()
        try openStateFile(running)
        try bindQueues(running, parts)
        startEventLog(running, parts)
        reporter.report(.failMode(open: configuration.failOpen))
        openReplies(running)
        startWorkers(running, parts)
        let handler = try startControlSocket(running, parts)
        let attachment = try attach(parts)
        try dropPrivileges(running)
        announceReady(running, attachment: attachment, handler: handler, parts)
        return running
    }

    /// 0. The rule file, if any: a broken one stops the start, with every diagnostic. Its `set`
    ///    lines tune the tracker (the command line's --max-states wins).
    private func loadRules() throws(DaemonError) -> Running {
        var rules: CompiledRuleset?
        if let path = configuration.rulesPath {
            switch RuleCompiler.compile(file: path) {
            case .success(let compiled):
                rules = compiled
                rulesInForce.withLock { $0 = compiled }
                attachedOffload = OffloadMarks.attached(for: compiled.settings)
                for warning in compiled.warnings { reporter.report(.ruleWarning(warning.description)) }
            case .failure(let diagnostics):
                throw .rules(report: diagnostics.description)
            }
        }
        let running = Running(pipelineConfiguration: configuration.pipeline)
        running.rules = rules
        if let rules {
            running.pipelineConfiguration.tracker = TrackerConfiguration(
                rules.settings, base: configuration.pipeline.tracker, maxStatesOverride: configuration.maxStatesOverride)
        }
        running.logPath = configuration.logPath ?? rules?.settings.logPath
        rulesDigest.store(RulesDigest.of(rules), ordering: .relaxed)
        return running
    }

    /// The account the daemon switches to, unless it stays root.
    private var unprivilegedOwner: (uid: uid_t, gid: gid_t)? {
        configuration.privileges.account.flatMap { $0.uid == 0 ? nil : (uid: $0.uid, gid: $0.gid) }
    }

    /// 0b. The state file: its lock for the daemon's life (released with the keeper), and what
    ///     the last run left.
    private func openStateFile(_ running: Running) throws(DaemonError) {
        guard let statePath = configuration.statePath else { return }
        let rules = running.rules
        let keeper = StateKeeper(
            store: StateFileStore(path: statePath), queues: configuration.queues,
            checkpointInterval: rules?.settings.stateCheckpoint ?? RuleSettings.defaultStateCheckpoint,
            maxAge: rules?.settings.stateMaxAge ?? RuleSettings.defaultStateMaxAge, reporter: reporter)
        guard try keeper.lock(owner: unprivilegedOwner) else { return }
        running.plan = keeper.load(
            rulesDigest: rulesDigest.load(ordering: .relaxed),
            capacity: running.pipelineConfiguration.tracker.maxStates * configuration.queues.count,
            now: QueueWorker.now())
        running.keeper = keeper
    }

    /// 1. Binds every queue before touching the host's rules: a busy queue fails cleanly. A
    ///    socket an earlier synwall left in systemd's store is taken over instead, with the
    ///    packets the kernel queued for it meanwhile.
    private func bindQueues(_ running: Running, _ parts: LifecycleStack) throws(DaemonError) {
        parts.started(.queues) { running.sockets.forEach { $0.close() } }
        var inherited = ServiceManager.inheritedDescriptors()
        defer { for leftover in inherited { close(leftover.fd) } }
        for queue in configuration.queues {
            let queueConfiguration = QueueConfiguration(
                queue: queue, copyRange: configuration.copyRange, maxLength: configuration.queueMaxLength,
                failOpen: configuration.failOpen, gso: true, receiveBufferBytes: configuration.receiveBufferBytes)
            if let found = inherited.firstIndex(where: { ServiceManager.queue(ofDescriptorName: $0.name) == queue }) {
                let fd = inherited.remove(at: found).fd
                do {
                    let socket = try QueueSocket(adopting: fd, configuration: queueConfiguration)
                    running.sockets.append(socket)
                    reporter.report(.queueTakenOver(queue: queue, stillBound: socket.adopted))
                    continue
                } catch {
                    reporter.report(.queueNotTakenOver(queue: queue, error: "\(error)"))
                    close(fd)
                }
            }
            do {
                running.sockets.append(try QueueSocket(configuration: queueConfiguration))
            } catch {
                throw .queue(error)
            }
        }
        // Under systemd (FileDescriptorStoreMax=) the sockets outlive this process: a crash or a
        // restart leaves the queues bound, and the next synwall reads what the kernel queued.
        if ServiceManager.isNotifying {
            let stored = running.sockets.filter {
                ServiceManager.store($0.descriptor, name: ServiceManager.descriptorName(queue: $0.configuration.queue))
            }.count
            if stored > 0 { reporter.report(.queueSocketsStored(stored)) }
        }
    }

    /// 2. The event log: one writer thread, one ring per worker. A log that cannot be written
    ///    is reported and retried; it never stops filtering.
    private func startEventLog(_ running: Running, _ parts: LifecycleStack) {
        guard let path = running.logPath else { return }
        let reporter = self.reporter
        var settings = EventLogService.Settings()
        if let bytes = running.rules?.settings.logRotateBytes {
            settings.rotation = LogRotation(maxBytes: bytes, keep: running.rules?.settings.logRotateKeep ?? 10)
        }
        let log = EventLogService(path: path, settings: settings) { report in
            switch report {
            case .failed(let error): reporter.report(.eventLogFailed(error: "\(error)"))
            case .recovered(let path): reporter.report(.eventLogRecovered(path: path))
            }
        }
        parts.started(.eventLog) { log.stop() }
        if let error = log.start() { reporter.report(.eventLogNotStarted(error: "\(error)")) }
        running.service = log
    }

    /// 2b. `block return…`: the raw sockets its answers go out through, opened now, while still
    ///     privileged, so no CAP_NET_RAW is kept for them (docs/block-return.md). They close
    ///     with the sender.
    private func openReplies(_ running: Running) {
        let rules = running.rules
        let (replies, problem) = ReplySender.open()
        replies?.configure(rules?.settings.returnRate ?? RuleSettings.defaultReturnRate)
        replySender = replies
        running.replies = replies
        if let problem {
            reporter.report(.blockReturnUnavailable(problem: problem,
                                                    usedByRules: rules?.rules.contains { $0.reply != nil } ?? false,
                                                    noFamily: replies == nil))
        }
    }

    /// 3. One worker thread per queue, each with its pipeline and its share of the state file.
    private func startWorkers(_ running: Running, _ parts: LifecycleStack) {
        let finished = DispatchSemaphore(value: 0)
        parts.started(.workers) {
            running.control.stop.store(true, ordering: .relaxed)
            for _ in running.workers { finished.wait() }
        }
        var restored = RestoreCounts()
        var restoredCut = 0
        let restoreTime = QueueWorker.now()
        for (index, socket) in running.sockets.enumerated() {
            var pipeline = Pipeline(configuration: running.pipelineConfiguration, rules: running.rules,
                                    interfaceNames: InterfaceNames(resolver: QueueWorker.interfaceName))
            if let keeper = running.keeper, let plan = running.plan {
                let (counts, outcome) = keeper.restore(plan, into: &pipeline, index: index, now: restoreTime)
                restored.add(counts)
                restoredCut += outcome?.cut ?? 0
            }
            let worker = QueueWorker(socket: socket, pipeline: pipeline,
                                     log: running.service?.makeProducer(reportsOwnLosses: true),
                                     control: running.control, replies: running.replies, offload: attachedOffload)
            running.workers.append(worker)
            let thread = Thread {
                worker.run()
                finished.signal()
            }
            thread.name = "synwall-q\(worker.queue)"
            thread.start()
        }
        if let plan = running.plan {
            let path = configuration.statePath ?? ""
            reporter.report(.stateRestored(path: path, restored: restored.restored,
                                           summary: Self.restoreLine(plan, restored, cut: restoredCut, path: path)))
        }
    }

    /// 3b. The control socket (`synwall stats`, `conns`, `reload`), made while still privileged.
    ///     The same handler gives the service manager its STATUS= lines.
    private func startControlSocket(_ running: Running, _ parts: LifecycleStack) throws(DaemonError) -> DaemonControl {
        let control = running.control
        let log = running.service
        let handler = DaemonControl(workers: control, queues: Array(configuration.queues), log: log,
                                    logPath: running.logPath, reloads: reloadHistory,
                                    rules: { [self] in rulesInForce.withLock { $0 } }) { [self] in
            reload(control: control, log: log)
        }
        handler.replies = running.replies
        if attachedOffload != nil { handler.offloadCounters = makeAttachment() }
        guard let controlPath = configuration.controlPath else { return handler }
        let server = try ControlServer(path: controlPath, group: configuration.controlGroup,
                                       directoryOwner: unprivilegedOwner) { handler.handle($0) }
        parts.started(.controlSocket) { server.stop() }
        server.start()
        return handler
    }

    /// 4. Attaches last, so packets only flow to queues that are already served; then the pid
    ///    file. A half-done attachment is removed like a whole one.
    private func attach(_ parts: LifecycleStack) throws(DaemonError) -> any Attachment {
        let attachment = makeAttachment()
        parts.started(.attachment) { attachment.remove() }
        do {
            try attachment.install()
        } catch {
            throw .attach(error)
        }
        let pidFile = configuration.pidFile
        parts.started(.pidFile) { PidFile.remove(pidFile) }
        PidFile.write(pidFile)
        return attachment
    }

    /// 5. Keeps only what running needs: CAP_NET_ADMIN (verdicts, detach), and --user's
    ///    account. Everything that needs root (the pid file, …) comes before this.
    private func dropPrivileges(_ running: Running) throws(DaemonError) {
        do {
            let report = try configuration.privileges.apply(
                attach: configuration.attach, logPath: running.logPath, pidFile: configuration.pidFile,
                rulesPath: configuration.rulesPath, controlPath: configuration.controlPath)
            for warning in report.warnings { reporter.report(.privilegeWarning(warning)) }
            reporter.report(.privilegesDropped(summary: report.summary))
        } catch {
            throw .privileges(error)
        }
    }

    /// Says the daemon is ready (stdout or journald, the event log, the service manager) and
    /// starts the state checkpoints and the status thread.
    private func announceReady(_ running: Running, attachment: any Attachment, handler: DaemonControl,
                               _ parts: LifecycleStack) {
        let ready = LifecycleEvent.Readiness(
            queues: configuration.queues, attach: attachment.summary,
            hooks: configuration.attach == .none ? nil : configuration.hooks.map(\.rawValue),
            rules: running.rules.map { "rules \($0.mainFile) (\($0.rules.count) rules)" }
                ?? "no rules (policy \(configuration.pipeline.defaultVerdict.rawValue))",
            control: configuration.controlPath, pid: getpid(), failOpen: configuration.failOpen)
        running.service?.record(Event(timestampNanoseconds: QueueWorker.now(), eventType: .start, reason: "started",
                                      detail: "queues \(ready.queueText), attach \(ready.attach), \(ready.rules)"))
        reporter.report(.ready(ready))
        if let keeper = running.keeper {
            parts.started(.checkpoints) { keeper.stopCheckpoints() }
            keeper.startCheckpoints(control: running.control, workers: running.workers.count) { [rulesDigest] in
                rulesDigest.load(ordering: .relaxed)
            }
        }
        ServiceManager.notify("READY=1\nSTATUS=filtering: queues \(ready.queueText), \(ready.rules)\nMAINPID=\(getpid())")
        let status = ServiceStatus.start(handler)
        parts.started(.readiness) {
            status?.stop()
            ServiceManager.notify("STOPPING=1\nSTATUS=stopping: saving the connections")
        }
    }
}
