import Foundation
import LogTestSupport
import Testing

@testable import EventLog

#if canImport(Glibc)
import Glibc
#endif

private let base: UInt64 = 1_795_554_191 * 1_000_000_000

/// Settings for tests: a short poll and retry, no cap unless asked.
private func quickSettings(rotation: LogRotation? = nil, cap: Int = 0, queueCapacity: Int = 8192) -> EventLogService.Settings {
    EventLogService.Settings(rotation: rotation, aggregation: .init(maxRecordsPerSecond: cap),
                             queueCapacity: queueCapacity, pollIntervalNanoseconds: 2_000_000,
                             retryIntervalNanoseconds: 50_000_000, flushThreshold: 4096)
}

@Suite(.serialized) struct EventLogServiceTests {
    @Test func postedEventsAndDaemonRecordsReachTheFile() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        let reports = ReportLog()
        let service = EventLogService(path: path, settings: quickSettings(), report: reports.handler)
        let producer = service.makeProducer()
        #expect(service.start() == nil)
        service.record(Event(timestampNanoseconds: base, eventType: .start, detail: "queues 0-1"))
        for n in 0..<100 {
            #expect(producer.post(sampleDrop("10.0.0.\(n)", at: base + UInt64(n))))
        }
        #expect(waitUntil { service.counters.written == 101 })
        service.record(Event(timestampNanoseconds: base + 1000, eventType: .stop))
        service.stop()
        let (events, bad) = parseLines(directory.contents("events.jsonl") ?? "")
        #expect(bad.isEmpty)
        #expect(events.count == 102)
        #expect(events.first?.eventType == .start)
        #expect(events.last?.eventType == .stop)
        #expect(events.filter { $0.eventType == .drop }.map(\.sourceIP) == (0..<100).map { "10.0.0.\($0)" })
        let counters = service.counters
        #expect(counters.posted == 100)
        #expect(counters.written == 102)
        #expect(counters.lost == 0)
        #expect(counters.writeFailures == 0)
        #expect(reports.reports.isEmpty)
        service.stop()  // twice: nothing
    }

    @Test func floodsAreAggregatedOnTheWayToTheFile() throws {
        let directory = try ScratchDirectory()
        let service = EventLogService(path: directory.path("e.jsonl"), settings: quickSettings(cap: 100))
        let producer = service.makeProducer()
        service.start()
        for n in 0..<5000 {
            while !producer.post(sampleDrop("198.51.100.\(n % 2)", at: base + UInt64(n))) { usleep(100) }
        }
        service.stop()
        let (events, bad) = parseLines(directory.contents("e.jsonl") ?? "")
        #expect(bad.isEmpty)
        #expect(events.count <= 4 + 2 * 3)  // firsts and a few aggregates, not 5000 lines
        #expect(events.reduce(0) { $0 + $1.count } == 5000)
    }

    @Test func aFullRingIsCountedAndReportedInTheLog() throws {
        let directory = try ScratchDirectory()
        let service = EventLogService(path: directory.path("e.jsonl"), settings: quickSettings(queueCapacity: 4))
        let producer = service.makeProducer()
        var accepted = 0
        for n in 0..<10 where producer.post(sampleDrop("10.0.0.\(n)", at: base + UInt64(n))) { accepted += 1 }
        #expect(accepted == 4)  // the writer is not running yet: nothing drains
        #expect(service.counters.lost == 6)
        service.start()
        service.stop()
        let (events, _) = parseLines(directory.contents("e.jsonl") ?? "")
        #expect(events.filter { $0.eventType == .drop }.count == 4)
        let lost = try #require(events.first { $0.eventType == .suppressed })
        #expect(lost.reason == "queue_full")
        #expect(lost.count == 6)
        #expect(service.counters.lost == 6)
    }

    @Test func rotatesBySizeKeepingNFilesOfWholeLines() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        try directory.write("events.jsonl.3.gz", "stale compressed rotation")
        let rotation = LogRotation(maxBytes: 8 * 1024, keep: 3)
        let service = EventLogService(path: path, settings: quickSettings(rotation: rotation))
        let producer = service.makeProducer()
        service.start()
        let total = 3000
        for n in 0..<total {
            while !producer.post(sampleDrop("10.\(n / 65536).\(n / 256 % 256).\(n % 256)", at: base + UInt64(n) * 1000)) {
                usleep(100)
            }
            if n % 100 == 0 { usleep(3000) }  // let the writer take several passes
        }
        service.stop()
        #expect(directory.exists("events.jsonl"))
        #expect(directory.exists("events.jsonl.1") && directory.exists("events.jsonl.2") && directory.exists("events.jsonl.3"))
        #expect(!directory.exists("events.jsonl.4"))
        #expect(!directory.exists("events.jsonl.3.gz"))  // shifted out
        var previousLast: UInt64 = 0
        for name in ["events.jsonl.3", "events.jsonl.2", "events.jsonl.1", "events.jsonl"] {
            let text = directory.contents(name) ?? ""
            #expect(text.utf8.count <= rotation.maxBytes + 4096 + 400, "\(name)")
            if name == "events.jsonl" && text.isEmpty { continue }  // just rotated
            #expect(text.hasSuffix("\n"), "\(name)")
            let (events, bad) = parseLines(text)
            #expect(bad.isEmpty, "\(name)")
            // In time order across the rotations.
            #expect((events.first?.timestampNanoseconds ?? 0) > previousLast, "\(name)")
            previousLast = events.last?.timestampNanoseconds ?? previousLast
        }
        let counters = service.counters
        #expect(counters.rotations >= 4)
        #expect(counters.written == total)
    }

    @Test func reopenWhileWritingLosesNothing() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        let service = EventLogService(path: path, settings: quickSettings())
        let producer = service.makeProducer()
        service.start()
        let total = 4000
        let rotated = Atomic(false)
        let writer = Thread {
            for n in 0..<total {
                while !producer.post(sampleDrop("10.\(n / 65536).\(n / 256 % 256).\(n % 256)", at: base + UInt64(n))) {
                    usleep(100)
                }
                if n % 50 == 0 { usleep(1000) }
            }
            rotated.value = true
        }
        writer.start()
        // Rotate the way logrotate does (rename, then signal) while events keep coming.
        #expect(waitUntil { service.counters.written > 500 })
        try FileManager.default.moveItem(atPath: path, toPath: directory.path("events.jsonl.1"))
        service.reopen()
        #expect(waitUntil { directory.exists("events.jsonl") })
        #expect(waitUntil(seconds: 20) { rotated.value })
        service.stop()
        let old = parseLines(directory.contents("events.jsonl.1") ?? "")
        let new = parseLines(directory.contents("events.jsonl") ?? "")
        #expect(old.bad.isEmpty && new.bad.isEmpty)
        #expect(old.events.count > 0 && new.events.count > 0)
        #expect(old.events.count + new.events.count == total)
        #expect(service.counters.reopens == 1)
    }

    @Test func anUnwritablePathIsReportedOnceCountedAndRetried() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("missing/events.jsonl")
        let reports = ReportLog()
        let service = EventLogService(path: path, settings: quickSettings(), report: reports.handler)
        let producer = service.makeProducer()
        #expect(service.start() == .cannotOpen(path: path, errno: ENOENT))
        for n in 0..<5 { producer.post(sampleDrop("10.0.0.\(n)", at: base)) }
        #expect(waitUntil { service.counters.droppedRecords == 5 })
        #expect(waitUntil { service.counters.writeFailures >= 3 })  // retried, every 50 ms
        #expect(reports.reports.isEmpty)  // start() returned it: not reported twice
        try FileManager.default.createDirectory(atPath: directory.path("missing"), withIntermediateDirectories: false)
        #expect(waitUntil { reports.reports == [.recovered(path: path)] })
        producer.post(sampleDrop("10.0.0.9", at: base))
        service.stop()
        let (events, _) = parseLines(directory.contents("missing/events.jsonl") ?? "")
        #expect(events.map(\.sourceIP) == ["10.0.0.9"])
        #expect(service.counters.droppedRecords == 5)
    }

    @Test func aFullDiskIsReportedOnceAndCounted() throws {
        let reports = ReportLog()
        let service = EventLogService(path: "/dev/full", settings: quickSettings(), report: reports.handler)
        let producer = service.makeProducer()
        #expect(service.start() == nil)
        for round in 0..<3 {
            producer.post(sampleDrop("10.0.0.\(round)", at: base))
            #expect(waitUntil { service.counters.writeFailures == round + 1 })
        }
        service.stop()
        #expect(reports.reports == [.failed(.cannotWrite(path: "/dev/full", errno: ENOSPC))])
        #expect(service.counters.droppedRecords == 3)
        #expect(service.counters.written == 0)
        #expect(EventLogError.cannotWrite(path: "/dev/full", errno: ENOSPC).description
            == "cannot write event log '/dev/full': No space left on device (errno 28); free space on its file system "
            + "or choose another log path (events are counted as lost meanwhile)")
    }

    @Test func aFailedRotationIsReportedAndWritingGoesOn() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        let reports = ReportLog()
        var syscalls = Syscalls.live
        syscalls.rename = { _, _ in EACCES }
        let service = EventLogService(path: path, settings: quickSettings(rotation: LogRotation(maxBytes: 1000, keep: 2)),
                                      report: reports.handler, syscalls: syscalls)
        let producer = service.makeProducer()
        service.start()
        for n in 0..<20 { producer.post(sampleDrop("10.0.0.\(n)", at: base)) }
        #expect(waitUntil { service.counters.written == 20 })
        service.stop()
        #expect(reports.reports == [.failed(.cannotRotate(path: path + ".1", errno: EACCES))])
        #expect(parseLines(directory.contents("events.jsonl") ?? "").events.count == 20)
        #expect(!directory.exists("events.jsonl.1"))
    }

    @Test func aCrashTornLastLineIsClosedBeforeNewLines() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        let whole = JSONLinesEncoder().line(for: sampleDrop("10.0.0.1", at: base))
        try directory.write("events.jsonl", whole + String(whole.prefix(20)))  // a write cut by a crash
        let service = EventLogService(path: path, settings: quickSettings())
        let producer = service.makeProducer()
        service.start()
        producer.post(sampleDrop("10.0.0.2", at: base))
        service.stop()
        let (events, bad) = parseLines(directory.contents("events.jsonl") ?? "")
        #expect(events.map(\.sourceIP) == ["10.0.0.1", "10.0.0.2"])
        #expect(bad == [String(whole.prefix(20))])
    }

    @Test func rotationSizesParse() {
        #expect(LogRotation.parseSize("100M") == 100 << 20)
        #expect(LogRotation.parseSize("64k") == 64 << 10)
        #expect(LogRotation.parseSize("1G") == 1 << 30)
        #expect(LogRotation.parseSize("5000") == 5000)
        #expect(LogRotation.parseSize("2MiB") == 2 << 20)
        for bad in ["", "M", "0", "-1M", "10X", "1.5M", "99999999999999999G"] {
            #expect(LogRotation.parseSize(bad) == nil, "\(bad)")
        }
    }
}

/// A tiny lock-protected value for test threads.
final class Atomic<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
