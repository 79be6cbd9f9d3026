#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The state and work of ``EventLogService``'s writer thread (confined to that thread, or to
/// the caller of ``EventLogService/stop()`` when the thread never started).
struct EventLogWriterLoop {
    unowned let service: EventLogService
    private var writer: JSONLinesWriter?
    private var aggregator: EventAggregator
    private var output: [Event] = []
    private var daemonRecords: [Event] = []
    private var producers: [EventQueue] = []
    private var lostSeen: [Int] = []
    private var producerGeneration = -1
    private var reopenGeneration = 0

    private var failures = 0
    private var ownDropped = 0
    private var rotations = 0
    private var reopens = 0
    /// Failure kinds reported and not yet recovered: each is reported once.
    private var openFailing = false
    private var writeFailing = false
    private var rotateFailing = false
    private var nextOpenRetry: UInt64 = 0
    private var nextRotateRetry: UInt64 = 0

    /// Passes at stop that drain rings still filling: bounded, the producers should be done.
    static let maximumFinalPasses = 64

    init(service: EventLogService) {
        self.service = service
        aggregator = EventAggregator(configuration: service.settings.aggregation)
        output.reserveCapacity(1024)
        reopenGeneration = service.reopenRequests.load(ordering: .acquiring)
    }

    private var path: String { service.path }
    private var settings: EventLogService.Settings { service.settings }

    /// Opens the file for ``EventLogService/start()``; the error is returned, not reported.
    mutating func openAtStart() -> EventLogError? {
        do {
            writer = try JSONLinesWriter(path: path, flushThreshold: settings.flushThreshold, syscalls: service.syscalls)
            return nil
        } catch {
            failures += 1
            openFailing = true
            nextOpenRetry = Self.monotonicNow() &+ settings.retryIntervalNanoseconds
            publish()
            return error
        }
    }

    /// Passes until asked to stop, sleeping a poll interval whenever nothing came.
    mutating func run() {
        while !service.stopRequested.load(ordering: .acquiring) {
            if pass() == 0 {
                Self.sleep(nanoseconds: settings.pollIntervalNanoseconds)
            }
        }
        finish()
    }

    /// The last passes: drain, write what every window holds, close.
    mutating func finish() {
        var passes = 0
        while pass() > 0 && passes < Self.maximumFinalPasses {
            passes += 1
        }
        let now = Self.monotonicNow()
        aggregator.flush(now: now, into: &output)
        write(now: now)
        writer?.close()
        publish()
    }

    /// One pass: take what the rings and the daemon hold, aggregate, write, rotate.
    ///
    /// - Returns: how many events came out of the rings and the daemon's records.
    @discardableResult
    mutating func pass() -> Int {
        let now = Self.monotonicNow()
        let wall = Self.wallNow()
        refreshProducers()
        handleReopenRequests(now: now)
        if writer == nil || openFailing, now >= nextOpenRetry {
            reopenOrOpen(now: now)
        }

        // The daemon's records first: a `start` recorded before the first packets stays first.
        service.takeDaemonRecords(into: &daemonRecords)
        for record in daemonRecords {
            aggregator.add(record, now: now, into: &output)
        }
        var drained = daemonRecords.count
        daemonRecords.removeAll(keepingCapacity: true)
        for (number, queue) in producers.enumerated() {
            drained += queue.drain(limit: queue.capacity) { event in
                aggregator.add(event, now: now, into: &output)
            }
            let lost = queue.lost
            if lost > lostSeen[number] {
                if !queue.reportsOwnLosses { aggregator.noteLost(lost - lostSeen[number], at: wall) }
                lostSeen[number] = lost
            }
        }

        aggregator.advance(to: now, into: &output)
        write(now: now)
        rotateIfDue(now: now)
        publish()
        return drained
    }

    // MARK: - Writing

    /// Writes the output: whole lines, one `write(2)` per flush threshold's worth, rotating
    /// between writes when the file is due (so a file passes the rotation size by at most one
    /// batch).
    private mutating func write(now: UInt64) {
        guard !output.isEmpty else { return }
        defer { output.removeAll(keepingCapacity: true) }
        guard let writer else {
            ownDropped += output.count
            return
        }
        let failedBefore = writer.failedWrites
        let rotationSize = settings.rotation?.maxBytes ?? .max
        for record in output {
            writer.append(record)  // writes by itself at the flush threshold
            if writer.fileBytes >= rotationSize {
                rotateIfDue(now: now)
            }
        }
        writer.flush()
        let failed = writer.failedWrites - failedBefore
        if failed > 0 {
            failures += failed
            if !writeFailing {
                writeFailing = true
                let code = writer.lastWriteErrno != 0 ? writer.lastWriteErrno : EIO
                service.report(.failed(.cannotWrite(path: path, errno: code)))
            }
        } else if writeFailing {
            writeFailing = false
            service.report(.recovered(path: path))
        }
    }

    private mutating func rotateIfDue(now: UInt64) {
        guard let rotation = settings.rotation, let writer, writer.fileBytes >= rotation.maxBytes,
              now >= nextRotateRetry
        else { return }
        if let failure = rotation.rotate(path, syscalls: service.syscalls) {
            failures += 1
            nextRotateRetry = now &+ settings.retryIntervalNanoseconds
            if !rotateFailing {
                rotateFailing = true
                service.report(.failed(.cannotRotate(path: failure.path, errno: failure.errno)))
            }
            return
        }
        rotations += 1
        if rotateFailing {
            rotateFailing = false
            service.report(.recovered(path: path))
        }
        do {
            try writer.reopen()
            if openFailing {
                openFailing = false
                service.report(.recovered(path: path))
            }
        } catch {
            openFailed(error, now: now)
        }
    }

    // MARK: - Opening

    private mutating func handleReopenRequests(now: UInt64) {
        let generation = service.reopenRequests.load(ordering: .acquiring)
        guard generation != reopenGeneration else { return }
        reopenGeneration = generation
        reopenOrOpen(now: now)
    }

    /// Reopens the writer's file, or opens it when there is no writer yet.
    private mutating func reopenOrOpen(now: UInt64) {
        do {
            if let writer {
                try writer.reopen()
            } else {
                writer = try JSONLinesWriter(path: path, flushThreshold: settings.flushThreshold,
                                             syscalls: service.syscalls)
            }
            reopens += 1
            if openFailing {
                openFailing = false
                service.report(.recovered(path: path))
            }
        } catch {
            openFailed(error, now: now)
        }
    }

    private mutating func openFailed(_ error: EventLogError, now: UInt64) {
        failures += 1
        nextOpenRetry = now &+ settings.retryIntervalNanoseconds
        if !openFailing {
            openFailing = true
            service.report(.failed(error))
        }
    }

    // MARK: - Bookkeeping

    private mutating func refreshProducers() {
        let generation = service.producerGeneration.load(ordering: .acquiring)
        guard generation != producerGeneration else { return }
        producerGeneration = generation
        producers = service.currentProducers()
        while lostSeen.count < producers.count {
            lostSeen.append(0)
        }
    }

    private func publish() {
        let counters = service.published
        counters.written.store(writer?.writtenEvents ?? 0, ordering: .relaxed)
        counters.suppressed.store(aggregator.statistics.suppressed, ordering: .relaxed)
        counters.droppedRecords.store((writer?.droppedEvents ?? 0) + ownDropped, ordering: .relaxed)
        counters.writeFailures.store(failures, ordering: .relaxed)
        counters.rotations.store(rotations, ordering: .relaxed)
        counters.reopens.store(reopens, ordering: .relaxed)
    }

    static func monotonicNow() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    static func wallNow() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(max(0, time.tv_sec)) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        // One sleep; an interruption only shortens it (the loop re-checks its flags anyway).
        _ = nanosleep(&request, &remaining)
    }
}
