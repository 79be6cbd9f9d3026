import Atomics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The event log's writer: a thread of its own that drains the workers' rings, aggregates and
/// caps (``EventAggregator``), writes whole lines (``JSONLinesWriter``), rotates by size and
/// reopens on request. Workers only ever call ``EventQueue/post(_:)`` on their producer: it
/// never blocks, so the log cannot slow a verdict.
///
/// ```swift
/// let log = EventLogService(path: "/var/log/synwall/events.jsonl",
///                           settings: .init(rotation: LogRotation(maxBytes: 100 << 20, keep: 10)),
///                           report: { report in logger.error("\(report)") })
/// let producers = workers.map { _ in log.makeProducer() }   // one per worker thread
/// if let error = log.start() { logger.error("\(error)") }   // filtering goes on regardless
/// producers[i].post(event)                                  // on worker i, after the verdicts
/// log.reopen()                                              // on SIGUSR1 (logrotate)
/// log.stop()                                                // after the workers stopped
/// ```
///
/// A log path that cannot be opened or written does not stop anything: the failure comes back
/// from ``start()`` or through `report` once, records that cannot be written are counted in
/// ``counters`` (`droppedRecords`, `writeFailures`), and the open is retried every
/// ``Settings/retryIntervalNanoseconds`` and on ``reopen()``.
public final class EventLogService: @unchecked Sendable {
    /// How the service writes; the defaults suit a daemon.
    public struct Settings: Sendable, Equatable {
        /// Size-based rotation; nil never rotates (leave it to logrotate).
        public var rotation: LogRotation?
        /// Aggregation window, records-per-second cap and tracked keys.
        public var aggregation: EventAggregator.Configuration
        /// Events each producer's ring holds (rounded up to a power of two); 8192.
        public var queueCapacity: Int
        /// How long the writer sleeps when every ring is empty, in nanoseconds; 20 ms. This
        /// bounds how late a record reaches the file.
        public var pollIntervalNanoseconds: UInt64
        /// How often a log that cannot be opened, or could not be rotated, is tried again; 5 s.
        public var retryIntervalNanoseconds: UInt64
        /// Encoded bytes that make the writer write before its pass ends; 64 KiB.
        public var flushThreshold: Int

        /// Creates settings; see the properties for the defaults.
        public init(rotation: LogRotation? = nil, aggregation: EventAggregator.Configuration = .init(),
                    queueCapacity: Int = 8192, pollIntervalNanoseconds: UInt64 = 20_000_000,
                    retryIntervalNanoseconds: UInt64 = 5_000_000_000, flushThreshold: Int = 64 * 1024) {
            self.rotation = rotation
            self.aggregation = aggregation
            self.queueCapacity = queueCapacity
            self.pollIntervalNanoseconds = max(1_000_000, pollIntervalNanoseconds)
            self.retryIntervalNanoseconds = retryIntervalNanoseconds
            self.flushThreshold = flushThreshold
        }
    }

    /// The log file's path.
    public let path: String
    /// The settings in force.
    public let settings: Settings
    let report: @Sendable (EventLogReport) -> Void
    let syscalls: Syscalls

    private let lock = Lock()
    /// Guarded by `lock`.
    private var producers: [EventQueue] = []
    /// Guarded by `lock`.
    private var daemonRecords: [Event] = []
    /// Guarded by `lock`.
    private var thread: pthread_t?
    /// Guarded by `lock`: a writer opened by ``start()``, handed to the thread.
    private var loop: EventLogWriterLoop?

    let stopRequested = ManagedAtomic(false)
    let reopenRequests = ManagedAtomic(0)
    let producerGeneration = ManagedAtomic(0)
    let published = PublishedCounters()

    /// Creates the service; nothing is opened until ``start()``.
    ///
    /// - Parameters:
    ///   - path: the log file (created with mode 0640 when missing; its directory must exist).
    ///   - report: called on the writer's thread when the file fails (once per kind of failure)
    ///     and when it works again; see ``EventLogReport``. Keep it short and non-blocking.
    public convenience init(path: String, settings: Settings = Settings(),
                            report: @escaping @Sendable (EventLogReport) -> Void = { _ in }) {
        self.init(path: path, settings: settings, report: report, syscalls: .live)
    }

    init(path: String, settings: Settings, report: @escaping @Sendable (EventLogReport) -> Void, syscalls: Syscalls) {
        self.path = path
        self.settings = settings
        self.report = report
        self.syscalls = syscalls
    }

    // No deinit work: while the writer's thread runs it holds the service, so the service can
    // only go away after stop() (or when it was never started).

    /// A new ring for one producer thread (a queue's worker). Call it once per thread, before
    /// or after ``start()``; only that thread may call ``EventQueue/post(_:)`` on it.
    ///
    /// With `reportsOwnLosses`, the producer writes `suppressed` records for what it could not
    /// post (see ``EventQueue/reportsOwnLosses``) and the writer does not count them again.
    public func makeProducer(reportsOwnLosses: Bool = false) -> EventQueue {
        let queue = EventQueue(capacity: settings.queueCapacity, reportsOwnLosses: reportsOwnLosses)
        lock.withLock { producers.append(queue) }
        producerGeneration.wrappingIncrement(ordering: .releasing)
        return queue
    }

    /// Writes a record about the daemon itself (`start`, `stop`, `reload`…) from any thread.
    /// Takes a lock: not for the packet path (workers use their producer).
    public func record(_ event: Event) {
        lock.withLock { daemonRecords.append(event) }
    }

    /// Opens the log and starts the writer's thread. Calling it again does nothing.
    ///
    /// - Returns: nil, or why the file cannot be opened. The service runs anyway: records are
    ///   counted as dropped and the open is retried (every ``Settings/retryIntervalNanoseconds``
    ///   and on ``reopen()``); this failure is not reported again through `report`.
    @discardableResult
    public func start() -> EventLogError? {
        lock.withLock { () -> EventLogError? in
            guard thread == nil else { return nil }
            var loop = EventLogWriterLoop(service: self)
            let error = loop.openAtStart()
            self.loop = loop
            let box = Unmanaged.passRetained(self)
            var handle = pthread_t()
            let created = pthread_create(&handle, nil, { argument in
                guard let argument else { return nil }
                let service = Unmanaged<EventLogService>.fromOpaque(argument).takeRetainedValue()
                service.runWriterThread()
                return nil
            }, box.toOpaque())
            if created != 0 {
                box.release()
                // No thread: write synchronously at stop instead (the records are kept).
                return error
            }
            thread = handle
            return error
        }
    }

    /// Asks the writer to close and open the file again (after logrotate renamed it): safe
    /// from any thread, returns at once; the reopen happens within a poll interval.
    public func reopen() {
        reopenRequests.wrappingIncrement(ordering: .releasing)
    }

    /// Drains every ring and the held aggregates, writes them, closes the file and ends the
    /// thread. Call it after the producers stopped posting, before letting the service go (the
    /// running thread keeps it alive until then). Calling it again does nothing.
    public func stop() {
        let handle: pthread_t? = lock.withLock {
            let handle = thread
            thread = nil
            return handle
        }
        stopRequested.store(true, ordering: .releasing)
        if let handle {
            pthread_join(handle, nil)
        } else if var loop = lock.withLock({ () -> EventLogWriterLoop? in
            let loop = self.loop
            self.loop = nil
            return loop
        }) {
            loop.finish()  // the thread never started: write what was recorded, here
        }
    }

    /// The running totals (from any thread; the writer's own figures are updated after each
    /// of its passes).
    public var counters: EventLogCounters {
        var counters = published.snapshot()
        for queue in lock.withLock({ producers }) {
            counters.posted += queue.posted
            counters.lost += queue.lost
        }
        return counters
    }

    // MARK: - For the writer loop

    /// The rings as they are now.
    func currentProducers() -> [EventQueue] {
        lock.withLock { producers }
    }

    /// Takes the daemon's records recorded since the last call.
    func takeDaemonRecords(into records: inout [Event]) {
        lock.withLock {
            guard !daemonRecords.isEmpty else { return }
            records.append(contentsOf: daemonRecords)
            daemonRecords.removeAll(keepingCapacity: true)
        }
    }

    private func runWriterThread() {
        // Signals belong to the daemon's signal thread, never to this one. SIGSYS stays open:
        // the daemon's privilege drop reaches every thread through it (Firewall.PrivilegeDrop).
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGSYS)
        pthread_sigmask(SIG_BLOCK, &all, nil)
        guard var loop = lock.withLock({ () -> EventLogWriterLoop? in
            let loop = self.loop
            self.loop = nil
            return loop
        }) else { return }
        loop.run()
    }
}

extension EventLogService {
    /// The writer thread's counters, published for other threads.
    final class PublishedCounters: Sendable {
        let written = ManagedAtomic(0)
        let suppressed = ManagedAtomic(0)
        let droppedRecords = ManagedAtomic(0)
        let writeFailures = ManagedAtomic(0)
        let rotations = ManagedAtomic(0)
        let reopens = ManagedAtomic(0)

        func snapshot() -> EventLogCounters {
            var counters = EventLogCounters()
            counters.written = written.load(ordering: .relaxed)
            counters.suppressed = suppressed.load(ordering: .relaxed)
            counters.droppedRecords = droppedRecords.load(ordering: .relaxed)
            counters.writeFailures = writeFailures.load(ordering: .relaxed)
            counters.rotations = rotations.load(ordering: .relaxed)
            counters.reopens = reopens.load(ordering: .relaxed)
            return counters
        }
    }
}
