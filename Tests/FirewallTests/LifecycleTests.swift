@testable import Firewall
import Logging
import Synchronization
import Testing

/// The daemon's lifecycle: parts undone in reverse, each once; each fact said once.
@Suite struct LifecycleTests {
    /// Records what was stopped, in order.
    final class Log {
        var stopped: [LifecycleStack.Part] = []
    }

    private func stack(_ parts: [LifecycleStack.Part], into log: Log) -> LifecycleStack {
        let stack = LifecycleStack()
        for part in parts { stack.started(part) { log.stopped.append(part) } }
        return stack
    }

    @Test("a failed start undoes exactly what started, in reverse")
    func failedStart() {
        let log = Log()
        let parts = stack([.queues, .eventLog, .workers, .controlSocket, .attachment], into: log)
        parts.stopAll()
        #expect(log.stopped == [.attachment, .controlSocket, .workers, .eventLog, .queues])
        parts.stopAll()
        #expect(log.stopped.count == 5, "each part once")
        #expect(parts.parts.isEmpty)
    }

    @Test("the stop undoes down to the workers, then the rest, each once")
    func stopInTwoSteps() {
        let log = Log()
        let parts = stack([.queues, .eventLog, .workers, .controlSocket, .attachment, .pidFile, .checkpoints,
                           .readiness], into: log)
        parts.stop(through: .workers)
        #expect(log.stopped == [.readiness, .checkpoints, .pidFile, .attachment, .controlSocket, .workers])
        #expect(parts.parts == [.queues, .eventLog])
        parts.stopAll()
        #expect(log.stopped.suffix(2) == [.eventLog, .queues])
    }

    @Test("stopping through a part that never started stops nothing")
    func stopThroughMissing() {
        let log = Log()
        let parts = stack([.queues, .eventLog], into: log)
        parts.stop(through: .workers)
        #expect(log.stopped.isEmpty && parts.parts == [.queues, .eventLog])
    }

    /// What the reporters said.
    final class Box: Sendable {
        let lines = Mutex<[String]>([])
        let entries = Mutex<[(Logger.Level, String, Logger.Metadata)]>([])
    }

    @Test("plain rendering writes the line only; structured rendering logs level, constant message and metadata only")
    func renderedOnce() {
        let box = Box()
        let plain = LifecycleReporter(.plain { line in box.lines.withLock { $0.append(line) } })
        plain.report(.reloaded(path: "/etc/synwall/synwall.rules", rules: 3, recheck: false))
        #expect(box.lines.withLock { $0 } == [
            "synwall: reloaded: /etc/synwall/synwall.rules (3 rules); live connections keep their state",
        ])

        var structuredLogger = Logger(label: "test") { _ in
            CaptureInto(box: box)
        }
        structuredLogger.logLevel = .trace
        let structured = LifecycleReporter(.structured(structuredLogger))
        structured.report(.reloadFailed(path: "r.rules", diagnostics: "r.rules:1: unknown word"))
        let entries = box.entries.withLock { $0 }
        #expect(entries.count == 1)
        #expect(entries.first?.0 == .error)
        #expect(entries.first?.1 == "rules reload failed; running rules stay in force")
        #expect(entries.first?.2["rules.file"] == "r.rules")
        #expect(box.lines.withLock { $0.count } == 1, "nothing plain from the structured reporter")
    }

    /// A swift-log handler that keeps what it is given, in a shared box.
    struct CaptureInto: LogHandler {
        let box: Box
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            box.entries.withLock { $0.append((event.level, "\(event.message)", event.metadata ?? [:])) }
        }
    }

    @Test("the lines the demo, the tests and operators read keep their wording")
    func wording() {
        let ready = LifecycleEvent.Readiness(queues: 0...1, attach: "iptables", hooks: ["input", "output"],
                                             rules: "rules /r (2 rules)", control: nil, pid: 42, failOpen: false)
        #expect(LifecycleEvent.ready(ready).line
            == "synwall: ready: queues 0-1, attach iptables, hooks input,output, rules /r (2 rules), control none, pid 42")
        #expect(LifecycleEvent.ready(ready).message == "started")
        #expect(LifecycleEvent.ready(ready).metadata["fail.mode"] == "closed")
        var none = ready
        none.hooks = nil
        #expect(LifecycleEvent.ready(none).line.contains(", hooks none, "))
        #expect(LifecycleEvent.stateSaved(path: "/s", connections: 3, bytes: 900, milliseconds: 2).line
            == "synwall: state: saved 3 connections to /s (900 bytes, 2 ms)")
        #expect(LifecycleEvent.stopped(DaemonSummary()).line.hasPrefix("synwall: stopped: received=0 accepted=0 dropped=0 "))
        #expect(LifecycleEvent.failMode(open: false).line.hasPrefix("synwall: fail-closed: "))
        #expect(LifecycleEvent.blockReturnUnavailable(problem: "p", usedByRules: true, noFamily: true).line
            == "synwall: warning: block return: p; block return rules will drop without answering")
        #expect(LifecycleEvent.blockReturnUnavailable(problem: "p", usedByRules: false, noFamily: false).level == .info)
    }
}
