import Atomics
import Engine
import EventLog
import Foundation
import NetfilterQueue

/// Totals printed when the daemon stops.
public struct DaemonSummary: Sendable {
    public var queue = QueueStatistics()
    public var pipeline = PipelineCounters()
    public var droppedDuringStart = 0
    public var suppressedEvents = 0
    public var eventWriteFailures = 0

    /// `received=N accepted=N dropped=N malformed=N enobufs=N …` (the stop line's tail).
    public var line: String {
        "received=\(queue.received) accepted=\(queue.accepted) dropped=\(queue.dropped) "
            + "malformed=\(pipeline.drops(.malformed)) bad_checksum=\(pipeline.drops(.badChecksum)) "
            + "enobufs=\(queue.enobufs) verdict_errors=\(queue.verdictErrors) "
            + "event_write_failures=\(eventWriteFailures)"
    }
}

/// `synwall run`: binds the queues, starts one worker per queue, attaches to the host, waits for
/// a signal, and takes everything down again in reverse order.
public final class Daemon {
    public let configuration: DaemonConfiguration
    private let say: (String) -> Void

    /// `say` receives the operator-facing lines (start-up mode, ready, stopped).
    public init(configuration: DaemonConfiguration, say: @escaping (String) -> Void) {
        self.configuration = configuration
        self.say = say
    }

    /// The attachment this configuration asks for.
    public func makeAttachment() -> any Attachment {
        let plan = AttachmentPlan(hooks: configuration.hooks, queues: configuration.queues,
                                  bypass: configuration.failOpen, ownerPID: getpid())
        switch configuration.attach {
        case .iptables: return IptablesAttachment(plan: plan)
        case .nft: return NftAttachment(plan: plan)
        case .none: return NoAttachment()
        }
    }

    /// Runs until SIGINT or SIGTERM. SIGHUP reopens the event log.
    public func run() throws(DaemonError) -> DaemonSummary {
        // Signals are taken synchronously by this thread; workers inherit the blocked mask.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)

        // 1. Bind every queue before touching the host's rules: a busy queue fails cleanly.
        var sockets: [QueueSocket] = []
        for queue in configuration.queues {
            let queueConfiguration = QueueConfiguration(
                queue: queue, copyRange: configuration.copyRange, maxLength: configuration.queueMaxLength,
                failOpen: configuration.failOpen, gso: true, receiveBufferBytes: configuration.receiveBufferBytes)
            do {
                sockets.append(try QueueSocket(configuration: queueConfiguration))
            } catch {
                sockets.forEach { $0.close() }
                throw .queue(error)
            }
        }

        // 2. One event writer per worker (appends of whole lines; O_APPEND keeps them apart).
        var writers: [JSONLinesWriter?] = []
        if let path = configuration.logPath {
            for _ in sockets {
                do {
                    writers.append(try JSONLinesWriter(path: path))
                } catch {
                    sockets.forEach { $0.close() }
                    throw .log(path: path, reason: String(describing: error))
                }
            }
        } else {
            writers = Array(repeating: nil, count: sockets.count)
        }

        if configuration.failOpen {
            say("synwall: fail-open: packets pass unfiltered while synwall is down (queue bypass) "
                + "or overloaded (kernel fail-open)")
        } else {
            say("synwall: fail-closed: while synwall is down or its queue is full, queued packets are dropped "
                + "(use --fail-open to let them pass)")
        }

        // 3. Workers.
        let stop = ManagedAtomic(false)
        let reopen = ManagedAtomic(0)
        let finished = DispatchSemaphore(value: 0)
        var workers: [QueueWorker] = []
        for (socket, writer) in zip(sockets, writers) {
            let worker = QueueWorker(socket: socket, pipeline: Pipeline(configuration: configuration.pipeline),
                                     log: writer, stop: stop, reopenLog: reopen)
            workers.append(worker)
            let thread = Thread {
                worker.run()
                finished.signal()
            }
            thread.name = "synwall-q\(worker.queue)"
            thread.start()
        }
        func stopWorkers() {
            stop.store(true, ordering: .relaxed)
            for _ in workers { finished.wait() }
        }

        // 4. Attach last, so packets only flow to queues that are already served.
        let attachment = makeAttachment()
        do {
            try attachment.install()
        } catch {
            attachment.remove()
            stopWorkers()
            throw .attach(error)
        }
        let queueText = "\(configuration.queues.lowerBound)-\(configuration.queues.upperBound)"
        let hookText = configuration.attach == .none ? "none" : configuration.hooks.map(\.rawValue).joined(separator: ",")
        say("synwall: ready: queues \(queueText), attach \(attachment.summary), hooks \(hookText), pid \(getpid())")

        // 5. Wait for a signal.
        while true {
            var received: Int32 = 0
            guard sigwait(&signals, &received) == 0 else { continue }
            if received == SIGHUP {
                reopen.wrappingIncrement(ordering: .relaxed)
                continue
            }
            break
        }

        // 6. Detach first, then let the workers verdict what is still queued and stop.
        attachment.remove()
        stopWorkers()

        var summary = DaemonSummary()
        for worker in workers {
            let q = worker.queueStatistics
            summary.queue.received += q.received
            summary.queue.accepted += q.accepted
            summary.queue.dropped += q.dropped
            summary.queue.enobufs += q.enobufs
            summary.queue.verdictErrors += q.verdictErrors
            summary.queue.sendErrors += q.sendErrors
            summary.queue.truncatedDatagrams += q.truncatedDatagrams
            summary.pipeline.add(worker.pipelineCounters)
            summary.suppressedEvents += worker.suppressedEvents
            summary.eventWriteFailures += worker.eventWriteFailures
        }
        say("synwall: stopped: " + summary.line)
        return summary
    }
}
