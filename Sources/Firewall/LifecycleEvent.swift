import Logging

/// One fact of the daemon's life (ready, reloaded, stopped, a state file not loaded, …). Each
/// is said once, by ``LifecycleReporter``: as its plain ``line`` for a person at a terminal, or
/// as a structured swift-log message (constant ``message``, dotted ``metadata``) for journald.
/// The lines' wording is an interface: the demo, the integration tests and operators' scripts
/// read them.
public enum LifecycleEvent: Sendable {
    // Start.
    /// A rule file warning (the diagnostic as `synwall check` prints it).
    case ruleWarning(String)
    /// The state file's directory could not be prepared; the daemon goes on.
    case stateDirectoryUnusable(String)
    /// The state file's lock cannot be opened: the daemon runs without a state file.
    case stateLockUnusable(String)
    /// No state file yet.
    case noStateFile(path: String)
    /// The state file is older than `set state max-age`: only its table entries come back.
    case stateTooOldTablesRestored(path: String, ageSeconds: UInt64, maxAgeSeconds: UInt64)
    /// The state file was not loaded (`text` says why and where it went).
    case stateNotLoaded(path: String, text: String, error: String)
    /// A queue socket an earlier synwall left in the service manager's store was taken over.
    case queueTakenOver(queue: UInt16, stillBound: Bool)
    /// A stored queue socket could not be used; the queue is bound afresh.
    case queueNotTakenOver(queue: UInt16, error: String)
    /// Queue sockets handed to the service manager's store (they outlive this process).
    case queueSocketsStored(Int)
    /// The event log could not be opened at the start; filtering goes on.
    case eventLogNotStarted(error: String)
    /// The event log became unwritable; filtering goes on.
    case eventLogFailed(error: String)
    /// The event log is writable again.
    case eventLogRecovered(path: String)
    /// What happens to packets while synwall is down or overloaded.
    case failMode(open: Bool)
    /// `block return`'s raw sockets (or one family's) could not be opened.
    case blockReturnUnavailable(problem: String, usedByRules: Bool, noFamily: Bool)
    /// The connections the state file gave back (`summary` is the `restored N connections …` text).
    case stateRestored(path: String, restored: Int, summary: String)
    /// Something a later step will not be allowed to do after the privilege drop.
    case privilegeWarning(String)
    /// The privilege drop happened; `summary` says what is kept.
    case privilegesDropped(summary: String)
    /// Filtering: queues served, attached, privileges dropped.
    case ready(Readiness)

    // Running.
    /// A reload was asked for, but the daemon runs without a rule file.
    case reloadIgnored
    /// The rule file was compiled and is in force.
    case reloaded(path: String, rules: Int, recheck: Bool)
    /// The rule file did not compile; the running rules stay in force.
    case reloadFailed(path: String, diagnostics: String)
    /// A periodic state checkpoint failed; filtering goes on.
    case checkpointFailed(path: String, error: String)
    /// State checkpoints work again.
    case checkpointsRecovered(path: String)

    // Stop.
    /// The connections were written for the next start.
    case stateSaved(path: String, connections: Int, bytes: Int, milliseconds: UInt64)
    /// The state file could not be written at the stop.
    case stateNotSaved(path: String, error: String)
    /// The daemon stopped; its totals.
    case stopped(DaemonSummary)

    /// What the ready line names.
    public struct Readiness: Sendable {
        public var queues: ClosedRange<UInt16>
        public var attach: String
        /// The hooks, or nil with `--attach none`.
        public var hooks: [String]?
        /// `rules FILE (N rules)` or `no rules (policy P)`.
        public var rules: String
        public var control: String?
        public var pid: Int32
        public var failOpen: Bool

        var queueText: String { "\(queues.lowerBound)-\(queues.upperBound)" }
        var hookText: String { hooks?.joined(separator: ",") ?? "none" }
    }
}

extension LifecycleEvent {
    /// The plain line, as `synwall run` prints it at a terminal.
    public var line: String {
        switch self {
        case .ruleWarning(let text): return text
        case .stateDirectoryUnusable(let warning), .stateLockUnusable(let warning), .privilegeWarning(let warning):
            return "synwall: warning: " + warning
        case .noStateFile(let path): return "synwall: state: no state file at \(path) yet; starting with no connections"
        case let .stateTooOldTablesRestored(path, age, maxAge):
            return "synwall: state: \(path) was written \(age) s ago, older than set state max-age (\(maxAge) s): "
                + "its connections are not restored; its table entries are"
        case .stateNotLoaded(_, let text, _): return "synwall: warning: " + text
        case let .queueTakenOver(queue, stillBound):
            return "synwall: queue \(queue): took over the socket an earlier synwall left in the service "
                + "manager's store" + (stillBound ? ", still bound: packets queued meanwhile are read now"
                    : "; it was no longer bound, so it is bound afresh")
        case let .queueNotTakenOver(queue, error): return "synwall: warning: queue \(queue): \(error)"
        case .queueSocketsStored(let count):
            return "synwall: queues: \(count) socket\(count == 1 ? "" : "s") kept in the service manager's store"
        case .eventLogNotStarted(let error):
            return "synwall: warning: event log: \(error); filtering goes on, events are counted as dropped"
        case .eventLogFailed(let error): return "synwall: warning: event log: \(error)"
        case .eventLogRecovered(let path): return "synwall: event log writable again: \(path)"
        case .failMode(open: true):
            return "synwall: fail-open: packets pass unfiltered while synwall is down (queue bypass) "
                + "or overloaded (kernel fail-open)"
        case .failMode(open: false):
            return "synwall: fail-closed: while synwall is down or its queue is full, queued packets are dropped "
                + "(use --fail-open to let them pass)"
        case let .blockReturnUnavailable(problem, usedByRules, noFamily):
            return "synwall: \(usedByRules ? "warning: " : "")block return: \(problem)"
                + (noFamily ? "; block return rules will drop without answering" : "; that family's answers are not sent")
        case .stateRestored(_, _, let summary): return "synwall: state: " + summary
        case .privilegesDropped(let summary): return "synwall: privileges: " + summary
        case .ready(let ready):
            return "synwall: ready: queues \(ready.queueText), attach \(ready.attach), hooks \(ready.hookText), "
                + "\(ready.rules), control \(ready.control ?? "none"), pid \(ready.pid)"
        case .reloadIgnored: return "synwall: reload: no rule file in use (start with --rules FILE); nothing to reload"
        case let .reloaded(path, rules, recheck):
            return "synwall: reloaded: \(path) (\(rules) rules); "
                + (recheck ? "live connections are checked against them (set reload recheck)"
                    : "live connections keep their state")
        case .reloadFailed(_, let diagnostics): return "synwall: reload failed, the running rules stay in force: " + diagnostics
        case let .checkpointFailed(path, error):
            return "synwall: warning: state checkpoint to \(path) failed: \(error); filtering goes on, "
                + "a crash now would lose the connections"
        case .checkpointsRecovered(let path): return "synwall: state checkpoints to \(path) work again"
        case let .stateSaved(path, connections, bytes, milliseconds):
            return "synwall: state: saved \(connections) connections to \(path) (\(bytes) bytes, \(milliseconds) ms)"
        case let .stateNotSaved(path, error):
            return "synwall: warning: state file \(path) not written: \(error); the next start has no connections"
        case .stopped(let summary): return "synwall: stopped: " + summary.line
        }
    }

    /// The structured message's level.
    public var level: Logger.Level {
        switch self {
        case .noStateFile, .stateTooOldTablesRestored, .queueTakenOver, .queueSocketsStored, .failMode, .stateRestored,
             .privilegesDropped, .ready, .stateSaved, .stopped:
            return .info
        case .reloadIgnored, .reloaded, .eventLogRecovered, .checkpointsRecovered: return .notice
        case .blockReturnUnavailable(_, let usedByRules, _): return usedByRules ? .warning : .info
        case .ruleWarning, .stateDirectoryUnusable, .stateLockUnusable, .stateNotLoaded, .queueNotTakenOver,
             .eventLogNotStarted, .eventLogFailed, .privilegeWarning, .checkpointFailed:
            return .warning
        case .reloadFailed, .stateNotSaved: return .error
        }
    }

    /// The structured message: constant text (what happened), the variable parts in ``metadata``.
    public var message: Logger.Message {
        switch self {
        case .ruleWarning: return "rule file warning"
        case .stateDirectoryUnusable: return "state directory not usable"
        case .stateLockUnusable, .noStateFile: return "no state file"
        case .stateTooOldTablesRestored: return "state file too old; table entries restored"
        case .stateNotLoaded: return "state file not loaded"
        case .queueTakenOver: return "queue socket taken over from the service manager's store"
        case .queueNotTakenOver: return "stored queue socket not usable; bound afresh"
        case .queueSocketsStored: return "queue sockets in the service manager's store"
        case .eventLogNotStarted, .eventLogFailed: return "event log unwritable; filtering goes on"
        case .eventLogRecovered: return "event log writable again"
        case .failMode: return "fail mode"
        case .blockReturnUnavailable: return "block return answers unavailable"
        case .stateRestored: return "state restored"
        case .privilegeWarning: return "after the privilege drop a later step will fail"
        case .privilegesDropped: return "privileges dropped"
        case .ready: return "started"
        case .reloadIgnored: return "reload ignored: no rule file in use"
        case .reloaded: return "rules reloaded"
        case .reloadFailed: return "rules reload failed; running rules stay in force"
        case .checkpointFailed: return "state checkpoint failed"
        case .checkpointsRecovered: return "state checkpoints work again"
        case .stateSaved: return "state saved"
        case .stateNotSaved: return "state file not written"
        case .stopped: return "stopped"
        }
    }

    /// The structured message's variable parts, under dotted keys.
    public var metadata: Logger.Metadata {
        switch self {
        case .ruleWarning(let text): return ["diagnostic": "\(text)"]
        case .stateDirectoryUnusable(let warning), .stateLockUnusable(let warning), .privilegeWarning(let warning):
            return ["warning": "\(warning)"]
        case .noStateFile(let path), .stateTooOldTablesRestored(let path, _, _), .checkpointsRecovered(let path):
            return ["state.file": "\(path)"]
        case let .stateNotLoaded(path, _, error), let .checkpointFailed(path, error), let .stateNotSaved(path, error):
            return ["state.file": "\(path)", "error": "\(error)"]
        case let .queueTakenOver(queue, stillBound): return ["queue": "\(queue)", "queue.bound": "\(stillBound)"]
        case let .queueNotTakenOver(queue, error): return ["queue": "\(queue)", "error": "\(error)"]
        case .queueSocketsStored(let count): return ["queues": "\(count)"]
        case .eventLogNotStarted(let error), .eventLogFailed(let error): return ["log.error": "\(error)"]
        case .eventLogRecovered(let path): return ["log.path": "\(path)"]
        case .failMode(let open): return ["fail.mode": "\(open ? "open" : "closed")"]
        case .blockReturnUnavailable(let problem, _, _): return ["error": "\(problem)"]
        case let .stateRestored(path, restored, _): return ["state.file": "\(path)", "state.restored": "\(restored)"]
        case .privilegesDropped(let summary): return ["privileges": "\(summary)"]
        case .ready(let ready):
            return ["queue.range": "\(ready.queueText)", "attach": "\(ready.attach)", "hooks": "\(ready.hookText)",
                    "rules": "\(ready.rules)", "fail.mode": "\(ready.failOpen ? "open" : "closed")"]
        case .reloadIgnored: return [:]
        case let .reloaded(path, rules, _): return ["rules.file": "\(path)", "rules.count": "\(rules)"]
        case let .reloadFailed(path, diagnostics): return ["rules.file": "\(path)", "error": "\(diagnostics)"]
        case let .stateSaved(path, connections, _, _):
            return ["state.file": "\(path)", "state.connections": "\(connections)"]
        case .stopped(let summary):
            return ["packets.received": "\(summary.queue.received)", "packets.accepted": "\(summary.queue.accepted)",
                    "packets.dropped": "\(summary.queue.dropped)", "queue.enobufs": "\(summary.queue.enobufs)",
                    "events.lost": "\(summary.eventsLost)"]
        }
    }
}
