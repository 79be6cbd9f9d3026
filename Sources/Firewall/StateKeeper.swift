import Control
import Engine
import Foundation
import Rules
import SystemCall
import Tracking
import Wire

/// The daemon's side of the state file (docs/state-file.md): holds the file's lock for the
/// daemon's life, loads the file before the queues are bound and puts every worker's share
/// back, writes crash checkpoints from a thread of its own while the workers copy their
/// tables a slice per receive round, and writes the whole state at a clean stop.
final class StateKeeper: @unchecked Sendable {
    let store: StateFileStore
    let queues: ClosedRange<UInt16>
    /// Zero: no checkpoints.
    let checkpointInterval: Duration
    /// Zero: no age limit.
    let maxAgeSeconds: UInt64
    /// Says what the state file did (loaded, moved aside, checkpoints failing, …).
    private let reporter: LifecycleReporter
    private var lockDescriptor: Int32 = -1
    private let wake = NSCondition()
    private var stopping = false
    private var checkpointThread: Thread?
    private let checkpointDone = DispatchSemaphore(value: 0)
    /// Checkpoints written, and whether the last attempt failed (a failure is reported once).
    private(set) var checkpointsWritten = 0
    private var lastCheckpointFailed = false

    /// The synwall version written into the file.
    static let writerVersion = "synwall " + BuildInfo.version
    /// Longest time a checkpoint waits for the workers' shares (a million connections take at
    /// most ~25 s when every round is idle, see `QueueWorker.checkpointBudget`).
    static let checkpointCollectTimeout: TimeInterval = 60

    init(store: StateFileStore, queues: ClosedRange<UInt16>, checkpointInterval: Duration, maxAge: Duration,
         reporter: LifecycleReporter) {
        self.store = store
        self.queues = queues
        self.checkpointInterval = checkpointInterval
        maxAgeSeconds = UInt64(max(0, maxAge.components.seconds))
        self.reporter = reporter
    }

    deinit {
        if lockDescriptor >= 0 { close(lockDescriptor) }
    }

    // MARK: Lock

    /// Takes `FILE.lock` for the daemon's life, so a second daemon cannot write the same state
    /// file; throws when another daemon holds it. False (after a warning) when the file's
    /// directory cannot be used: the daemon then runs without a state file.
    func lock(owner: (uid: uid_t, gid: gid_t)?) throws(DaemonError) -> Bool {
        if let warning = store.prepareDirectory(owner: owner) {
            reporter.report(.stateDirectoryUnusable(warning))
        }
        let path = store.path + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let warning = "cannot open the state lock \(path): \(SystemCall.lastError); running without "
                + "a state file, so a restart loses every connection (give the daemon a directory it can write "
                + "with --state FILE, or say --state none)"
            reporter.report(.stateLockUnusable(warning))
            return false
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw .state("another synwall uses the state file \(store.path) (its lock \(path) is held); "
                + "give this one its own with --state FILE, or --state none")
        }
        if let owner { _ = fchown(fd, owner.uid, owner.gid) }
        lockDescriptor = fd
        return true
    }

    // MARK: Loading

    /// What the start found in the state file.
    struct Plan {
        var snapshot: StateSnapshot
        var ageNanoseconds: UInt64
        var fileBytes: Int
        /// Each worker gets back the records of the queue at its index: the same number of
        /// queues, and one queue or the same boot (the kernel's spreading is the same).
        var direct: Bool
        /// The rule file changed since the file was written: restored flows are re-checked.
        var recheck: Bool
        /// Otherwise the TCP records wait here for the worker that sees their packets.
        var pool: RestorePool?

        var elapsedSeconds: UInt32 { UInt32(clamping: ageNanoseconds / 1_000_000_000) }
    }

    /// Reads the file. A missing file gives nil; a bad one gives nil after one warning, with
    /// the file moved aside to `FILE.bad`. `capacity` is the connections all workers hold.
    func load(rulesDigest: UInt64, capacity: Int, now: UInt64) -> Plan? {
        let limit = UInt64(capacity) * UInt64(SavedConnection.size) + (64 << 20)
        let loaded: StateFileStore.Loaded
        do {
            guard let found = try store.read(limitBytes: limit, maxAgeSeconds: maxAgeSeconds, now: now) else {
                reporter.report(.noStateFile(path: store.path))
                return nil
            }
            loaded = found
        } catch .tooOld(let age, let maxAge) {
            // The connections have moved on too far, but a ban outlives a long restart: the
            // table entries still come back, each with its own expiry running on.
            if let tables = tablesOnly(limitBytes: limit, now: now), !tables.snapshot.tableEntries.isEmpty {
                reporter.report(.stateTooOldTablesRestored(path: store.path, ageSeconds: age, maxAgeSeconds: maxAge))
                return tables
            }
            let moved = store.moveAside()
            let text = "state file \(store.path) not loaded: \(StateFileError.tooOld(ageSeconds: age, limitSeconds: maxAge)); "
                + (moved == nil ? "moved aside to \(store.asidePath); " : "\(moved!); ")
                + "starting with no connections"
            reporter.report(.stateNotLoaded(path: store.path, text: text, error: "too old"))
            return nil
        } catch {
            let moved = store.moveAside()
            let text = "state file \(store.path) not loaded: \(error); "
                + (moved == nil ? "moved aside to \(store.asidePath); " : "\(moved!); ")
                + "starting with no connections"
            reporter.report(.stateNotLoaded(path: store.path, text: text, error: "\(error)"))
            return nil
        }
        let header = loaded.snapshot.header
        let sameBoot = header.bootID == StateFileStore.bootID() && header.bootID.contains { $0 != 0 }
        let direct = header.queues.count == queues.count && (queues.count == 1 || sameBoot)
        var plan = Plan(snapshot: loaded.snapshot, ageNanoseconds: loaded.ageNanoseconds, fileBytes: loaded.fileBytes,
                        direct: direct, recheck: header.rulesDigest != rulesDigest)
        if !direct {
            plan.pool = RestorePool(records: loaded.snapshot.connections, writtenNanoseconds: header.writtenNanoseconds,
                                    recheck: plan.recheck)
        }
        return plan
    }

    /// A file older than `set state max-age`, read again without the age limit and kept for
    /// its table entries alone (no connection, no proven source); nil if it cannot be read.
    private func tablesOnly(limitBytes: UInt64, now: UInt64) -> Plan? {
        guard let loaded = try? store.read(limitBytes: limitBytes, maxAgeSeconds: 0, now: now) else { return nil }
        var header = loaded.snapshot.header
        header.connectionCount = 0
        header.provenSourceCount = 0
        let snapshot = StateSnapshot(header: header, connections: [], provenSources: [],
                                     tableEntries: loaded.snapshot.tableEntries)
        return Plan(snapshot: snapshot, ageNanoseconds: loaded.ageNanoseconds, fileBytes: loaded.fileBytes,
                    direct: true, recheck: false)
    }

    /// Puts worker `index`'s share of `plan` into `pipeline` at `now`: its connections (or the
    /// shared pool), every proven source and table entry, then the rules' check of the flows.
    func restore(_ plan: Plan, into pipeline: inout Pipeline, index: Int, now: UInt64) -> (RestoreCounts, ReloadOutcome?) {
        var counts = RestoreCounts()
        let first = plan.snapshot.header.queues.lowerBound
        if plan.direct {
            counts = plan.snapshot.connections.withUnsafeBytes { raw in
                pipeline.restoreConnections(raw, now: now, elapsedSeconds: plan.elapsedSeconds) { record in
                    Int(SavedConnection.queue(of: record)) - Int(first) == index
                }
            }
        } else {
            pipeline.restorePool = plan.pool
        }
        for source in plan.snapshot.provenSources {
            pipeline.restoreProvenSource(source, now: now, elapsedNanoseconds: plan.ageNanoseconds)
        }
        for entry in plan.snapshot.tableEntries {
            let ago = entry.addedAgoNanoseconds &+ plan.ageNanoseconds
            let full = entry.address.isIPv4 ? 32 : 128
            guard let prefix = IPPrefix(address: entry.address, length: Int(entry.prefixLength ?? UInt8(full))) else { continue }
            let time = RuntimeEntryTime(since: now &- min(now, ago), lifetime: entry.lifetimeNanoseconds, manual: entry.manual)
            pipeline.restoreTableEntry(RuntimeTableEntry(table: entry.table, prefix: prefix, time: time, expiresAt: nil), now: now)
        }
        let outcome = pipeline.checkRestoredFlows(recheck: plan.recheck, now: now, budget: .max)
        return (counts, outcome)
    }

    // MARK: Saving

    /// Writes the parts as one file of `kind` with times relative to `referenceSeconds`.
    /// Returns the file's size and the connections in it.
    func save(_ parts: [WorkerStatePart], kind: StateFileHeader.Kind, rulesDigest: UInt64,
              referenceSeconds: UInt32) throws(StateFileError) -> (bytes: Int, connections: Int) {
        // Every worker knows the proven sources it saw and (shared) the table additions: the
        // most recent of each once.
        var proven: [IPAddress: SavedProvenSource] = [:]
        var tables: [TableKey: SavedTableEntry] = [:]
        for part in parts {
            for source in part.proven {
                if let known = proven[source.address], known.provenAgoNanoseconds <= source.provenAgoNanoseconds { continue }
                proven[source.address] = source
            }
            for entry in part.tables {
                let key = TableKey(table: entry.table, address: entry.address, length: entry.prefixLength)
                if let known = tables[key], known.addedAgoNanoseconds <= entry.addedAgoNanoseconds { continue }
                tables[key] = entry
            }
        }
        let connections = parts.reduce(0) { $0 + $1.records.count } / SavedConnection.size
        let header = StateFileHeader(
            writtenNanoseconds: UInt64(referenceSeconds) * 1_000_000_000, bootID: StateFileStore.bootID(),
            queues: queues, kind: kind, rulesDigest: rulesDigest, connectionCount: UInt64(connections),
            provenSourceCount: UInt32(clamping: proven.count), tableEntryCount: UInt32(clamping: tables.count),
            bodyLength: 0, bodyChecksum: 0, writerVersion: Self.writerVersion)
        let tail = StateSnapshot.encodeTail(proven: Array(proven.values), tables: Array(tables.values))
        let bytes = try store.write(header: header, chunks: parts.map(\.records) + [tail])
        return (bytes, connections)
    }

    // MARK: Checkpoints

    /// Starts the checkpoint thread: every `checkpointInterval`, asks the workers for their
    /// shares (copied a slice per receive round) and writes them as a checkpoint.
    func startCheckpoints(control: WorkerControl, workers: Int, rulesDigest: @escaping @Sendable () -> UInt64) {
        guard checkpointInterval > .zero else { return }
        let thread = Thread { [self] in
            defer { checkpointDone.signal() }
            while waitForNextCheckpoint() {
                let reference = UInt32(clamping: QueueWorker.now() / 1_000_000_000)
                guard let parts = control.collectCheckpoint(referenceSeconds: reference, workers: workers,
                                                            timeout: Self.checkpointCollectTimeout) else {
                    reportCheckpoint(failure: "the workers did not hand over their connections within "
                        + "\(Int(Self.checkpointCollectTimeout)) s")
                    continue
                }
                if isStopping { return }
                do {
                    _ = try save(parts, kind: .checkpoint, rulesDigest: rulesDigest(), referenceSeconds: reference)
                    checkpointsWritten += 1
                    reportCheckpoint(failure: nil)
                } catch {
                    reportCheckpoint(failure: "\(error)")
                }
            }
        }
        thread.name = "synwall-state"
        checkpointThread = thread
        thread.start()
    }

    /// Stops the checkpoint thread (a checkpoint being written is finished first).
    func stopCheckpoints() {
        wake.lock()
        stopping = true
        wake.broadcast()
        wake.unlock()
        if checkpointThread != nil { checkpointDone.wait() }
        checkpointThread = nil
    }

    private var isStopping: Bool {
        wake.lock()
        defer { wake.unlock() }
        return stopping
    }

    /// Sleeps one interval; false when the daemon is stopping.
    private func waitForNextCheckpoint() -> Bool {
        let seconds = Double(checkpointInterval.components.seconds)
            + Double(checkpointInterval.components.attoseconds) / 1e18
        let deadline = Date().addingTimeInterval(seconds)
        wake.lock()
        defer { wake.unlock() }
        while !stopping {
            if !wake.wait(until: deadline) { return !stopping }
        }
        return false
    }

    /// Says a failed checkpoint once, and when they work again.
    private func reportCheckpoint(failure: String?) {
        if let failure {
            if !lastCheckpointFailed {
                reporter.report(.checkpointFailed(path: store.path, error: failure))
            }
            lastCheckpointFailed = true
        } else if lastCheckpointFailed {
            lastCheckpointFailed = false
            reporter.report(.checkpointsRecovered(path: store.path))
        }
    }
}

/// A table addition's identity, to save each once.
private struct TableKey: Hashable {
    let table: String
    let address: IPAddress
    let length: UInt8?
}
