import Control
import Engine
import EventLog
import Foundation
import NetfilterQueue
import Rules
import Synchronization
import Tracking
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// What the control socket's requests are answered from: the workers (asked between their
/// rounds), the event log's counters and the daemon's reload.
final class DaemonControl: @unchecked Sendable {
    let workers: WorkerControl
    let queues: [UInt16]
    let log: EventLogService?
    let logPath: String?
    let startedAt: Double
    let reload: @Sendable () -> ReloadReport
    /// Reloads since start, for `synwall stats`.
    let reloads: ReloadHistory
    /// The rules in force (for table names and kinds, before the workers are asked).
    let rules: @Sendable () -> CompiledRuleset?
    /// `block return…`'s sender, for its counters.
    var replies: ReplySender?
    /// The attachment whose offload rule counts what offloaded connections passed in the
    /// kernel (set when offload is attached).
    var offloadCounters: (any Attachment)?
    /// How long workers get to answer (a worker answers between receive rounds, within ~0.2 s).
    static let answerTimeout: TimeInterval = 3
    /// One question to the workers at a time: the control socket's and the status updates'
    /// (`WorkerControl.ask` serves one asker).
    private let asking = Mutex(())

    init(workers: WorkerControl, queues: [UInt16], log: EventLogService?, logPath: String?,
         reloads: ReloadHistory, rules: @escaping @Sendable () -> CompiledRuleset? = { nil },
         reload: @escaping @Sendable () -> ReloadReport)
    {
        self.reloads = reloads
        self.rules = rules
        self.workers = workers
        self.queues = queues
        self.log = log
        self.logPath = logPath
        self.reload = reload
        startedAt = Date().timeIntervalSince1970
    }

    /// Answers one request.
    func handle(_ request: ControlRequest) -> ControlResponse {
        asking.withLock { _ in answer(request) }
    }

    private func answer(_ request: ControlRequest) -> ControlResponse {
        switch request.command {
        case .stats:
            return ControlResponse(stats: stats())
        case .reload:
            return ControlResponse(reload: reload())
        case .table:
            guard let table = request.table else { return ControlResponse(error: "table needs a table request") }
            return self.table(table)
        case .trace:
            return trace(request)
        case .traceEnd:
            guard let id = request.trace else { return ControlResponse(error: "trace_end needs the trace's number") }
            return ControlResponse(trace: workers.trace.end(id: id)
                ?? TraceBatch(session: id, lines: [], matched: 0, dropped: 0, rate: 0))
        case .conns, .kill:
            let filter: ConnectionFilter.Compiled
            do {
                if request.command == .kill, request.filter == nil {
                    return ControlResponse(error: "kill needs a filter (an empty one kills every connection)")
                }
                filter = try (request.filter ?? ConnectionFilter()).compiled()
            } catch {
                return ControlResponse(error: error.description)
            }
            let limit = max(0, request.limit ?? Int.max)
            let reports = workers.ask(connections: filter, limit: limit, queues: queues, timeout: Self.answerTimeout,
                                      kill: request.command == .kill)
            let missing = queues.filter { reports[$0] == nil }
            guard missing.isEmpty || !reports.isEmpty else {
                return ControlResponse(error: "no queue worker answered within \(Int(Self.answerTimeout)) s")
            }
            let now = QueueWorker.now()
            var records: [ConnectionRecord] = []
            var matched = 0
            for queue in queues {
                guard let report = reports[queue] else { continue }
                matched += report.matched
                for connection in report.connections where records.count < limit {
                    records.append(ConnectionRecord(connection, queue: Int(queue), now: now, rules: report.ruleset))
                }
            }
            return ControlResponse(connections: records, matched: matched)
        }
    }

    /// The service manager's `STATUS=` line with live counters (`systemctl status`), from the
    /// same figures as `synwall stats`.
    func statusLine() -> String {
        asking.withLock { _ in Self.statusLine(stats()) }
    }

    /// `packets: 1234 received, 56 dropped; connections: 78 (9 half-open) of 1000000; rules: 7 from FILE`.
    static func statusLine(_ report: StatsReport) -> String {
        let total = report.total
        var line = "packets: \(total.received) received, \(total.dropped) dropped; "
            + "connections: \(total.states) (\(total.halfOpen) half-open) of \(total.capacity); "
            + (report.rulesFile.map { "rules: \(report.rulesCount) from \($0)" } ?? "rules: none")
        if !report.unanswered.isEmpty {
            line += "; queues not answering: " + report.unanswered.map(String.init).joined(separator: ",")
        }
        if let log = report.log, log.lost > 0 { line += "; events lost: \(log.lost)" }
        return line
    }

    /// Starts a trace (no `trace` number in the request) or answers a poll of one.
    private func trace(_ request: ControlRequest) -> ControlResponse {
        let now = QueueWorker.now()
        let result: Result<TraceBatch, TraceError>
        if let id = request.trace {
            result = workers.trace.poll(id: id, now: now)
        } else {
            let filter: ConnectionFilter.Compiled
            do {
                filter = try (request.filter ?? ConnectionFilter()).compiled()
            } catch {
                return ControlResponse(error: error.description)
            }
            result = workers.trace.start(filter: filter, rate: request.rate ?? TraceLimits.defaultRate, now: now)
        }
        switch result {
        case .success(let batch): return ControlResponse(trace: batch)
        case .failure(let error): return ControlResponse(error: error.description)
        }
    }

    /// Every worker's counters, the event log's and the rules' hits.
    func stats() -> StatsReport {
        let reports = workers.ask(connections: nil, limit: 0, queues: queues, timeout: Self.answerTimeout)
        let kernel = Dictionary(KernelQueueStatus.read().map { ($0.queue, $0) }, uniquingKeysWith: { first, _ in first })
        var workerStats: [WorkerStats] = []
        var hits: [UInt64] = []
        var ruleset: CompiledRuleset?
        for queue in queues {
            guard let report = reports[queue] else { continue }
            workerStats.append(WorkerStats(report, kernel: kernel[queue]))
            if ruleset == nil { ruleset = report.ruleset }
            if report.ruleset?.rules.count == ruleset?.rules.count {
                if hits.count < report.ruleHits.count { hits += Array(repeating: 0, count: report.ruleHits.count - hits.count) }
                for (index, count) in report.ruleHits.enumerated() { hits[index] += count }
            }
        }
        var logStats: LogStats?
        if let log, let logPath {
            let counters = log.counters
            logStats = LogStats(path: logPath, posted: counters.posted, written: counters.written, lost: counters.lost,
                                suppressed: counters.suppressed, unwritten: counters.droppedRecords,
                                writeFailures: counters.writeFailures, rotations: counters.rotations)
        }
        let rules = (ruleset?.rules ?? []).map { rule in
            RuleHits(number: rule.index + 1, action: rule.verdict == .accept ? "pass" : "block",
                     location: "\(rule.location.file):\(rule.location.line)", text: rule.text, label: rule.label,
                     hits: Int(clamping: rule.index < hits.count ? hits[rule.index] : 0))
        }
        var report = StatsReport(pid: Int(getpid()), startedAt: startedAt, takenAt: Date().timeIntervalSince1970,
                                 rulesFile: ruleset?.mainFile, rulesCount: ruleset?.rules.count ?? 0, workers: workerStats,
                                 unanswered: queues.filter { reports[$0] == nil }.map(Int.init), log: logStats, rules: rules)
        report.version = BuildInfo.version
        report.commit = BuildInfo.commit
        let history = reloads.snapshot()
        report.reloads = history.successes
        report.reloadFailures = history.failures
        report.lastReloadSuccess = history.lastSuccess ?? startedAt
        if let replies {
            let rate = ruleset?.settings.returnRate ?? RuleSettings.defaultReturnRate
            report.replies = ReplyStats(sent: replies.sent.load(ordering: .relaxed),
                                        rateLimited: replies.rateLimited.load(ordering: .relaxed),
                                        failed: replies.failed.load(ordering: .relaxed),
                                        rate: "\(rate.count)/\(rate.seconds)s burst \(rate.burst)")
        }
        report.offloadedInKernel = offloadCounters?.offloadedTraffic()
        return report
    }
}

extension WorkerStats {
    /// A worker's counters from its report and the kernel's line for its queue.
    init(_ report: WorkerReport, kernel: KernelQueueStatus?) {
        self.init(queue: Int(report.queue))
        received = report.queueStatistics.received
        accepted = report.queueStatistics.accepted
        dropped = report.queueStatistics.dropped
        for reason in DropReason.allCases { drops[reason.rawValue] = report.pipeline.drops(reason) }
        enobufs = report.queueStatistics.enobufs
        verdictErrors = report.queueStatistics.verdictErrors
        receiveErrors = report.queueStatistics.receiveErrors
        kernelWaiting = kernel?.waiting ?? 0
        kernelQueueDropped = kernel?.queueDropped ?? 0
        kernelUserDropped = kernel?.userDropped ?? 0
        states = report.states
        capacity = report.capacity
        halfOpen = report.halfOpen
        created = Int(clamping: report.tracker.created)
        expired = Int(clamping: report.tracker.expired)
        closed = Int(clamping: report.tracker.closed)
        evicted = Int(clamping: report.tracker.evicted)
        rejectedTableFull = Int(clamping: report.tracker.rejectedTableFull)
        rejectedHalfOpen = Int(clamping: report.tracker.rejectedHalfOpenCap)
        rejectedRateLimited = Int(clamping: report.tracker.rejectedRateLimited)
        rejectedByRules = Int(clamping: report.tracker.rejectedPolicy)
        provenOverHalfOpenCap = Int(clamping: report.tracker.provenOverHalfOpenCap)
        flushed = Int(clamping: report.tracker.flushed)
        restored = Int(clamping: report.tracker.restored)
        resumed = Int(clamping: report.tracker.resumed)
        resumeRefused = Int(clamping: report.tracker.resumeRefused)
        eventsSuppressed = report.suppressedEvents
        fragmentsHeldNow = report.queueStatistics.heldNow
        fragmentsHeld = report.pipeline.fragmentsHeld
        datagramsReassembled = report.pipeline.datagramsReassembled
        datagramsAbandoned = report.pipeline.datagramsAbandoned
        offloaded = Int(clamping: report.tracker.offloaded)
        offloadEnded = Int(clamping: report.tracker.offloadEnded)
        offloadKernelInvalid = Int(clamping: report.tracker.offloadKernelInvalid)
    }
}

extension ConnectionRecord {
    /// A connection as `synwall conns` shows it.
    init(_ connection: ConnectionSnapshot, queue: Int, now: UInt64, rules: CompiledRuleset?) {
        let nowSeconds = now / 1_000_000_000
        let name = IPProtocol(rawValue: connection.proto).name
        let rule = connection.ruleIndex.flatMap { index in rules.flatMap { index < $0.rules.count ? $0.rules[index] : nil } }
        self.init(queue: queue, proto: name,
                  src: connection.initiatorAddress.description, sport: Int(connection.initiatorPort),
                  dst: connection.responderAddress.description, dport: Int(connection.responderPort),
                  state: connection.state.name,
                  ageSeconds: Int(clamping: nowSeconds &- min(nowSeconds, connection.createdSeconds)),
                  idleSeconds: Int(clamping: nowSeconds &- min(nowSeconds, connection.lastSeenSeconds)),
                  expiresInSeconds: Int(clamping: connection.expiresAtSeconds &- min(connection.expiresAtSeconds, nowSeconds)),
                  packetsOut: Int(clamping: connection.initiatorPackets), bytesOut: Int(clamping: connection.initiatorBytes),
                  packetsIn: Int(clamping: connection.responderPackets), bytesIn: Int(clamping: connection.responderBytes),
                  rule: rule.map { $0.index + 1 },
                  ruleLocation: rule.map { "\($0.location.file):\($0.location.line)" }, ruleText: rule?.text)
        if connection.offloaded { offloaded = true }
    }
}

