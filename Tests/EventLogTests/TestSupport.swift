import EventLog
import Foundation
import LogReview

#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under the system temporary directory, removed when the value goes away.
final class ScratchDirectory: @unchecked Sendable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-log-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func contents(_ name: String) -> String? {
        FileManager.default.contents(atPath: path(name)).map { String(decoding: $0, as: UTF8.self) }
    }
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }
    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: path(name), atomically: false, encoding: .utf8)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Every line of `text` parsed; a line that does not parse is returned in `bad`.
func parseLines(_ text: String) -> (events: [Event], bad: [String]) {
    var parser = LogLineParser()
    var events: [Event] = []
    var bad: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
        if let event = try? parser.parse(String(line)) {
            events.append(event)
        } else {
            bad.append(String(line))
        }
    }
    return (events, bad)
}

/// Waits (polling every 10 ms, at most `seconds`) until `condition` holds; returns whether it did.
func waitUntil(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// A drop event from `source` at `time` (ns); distinct sources make distinct aggregation keys.
func sampleDrop(_ source: String, port: UInt16 = 22, reason: String = "invalid_flags", at time: UInt64,
                rule: EventRule? = nil, eventType: EventType = .drop) -> Event {
    Event(timestampNanoseconds: time, eventType: eventType, flowID: 7, inInterface: "eth0", direction: .in, proto: "TCP",
          sourceIP: source, sourcePort: 40000, destinationIP: "192.0.2.10", destinationPort: port, reason: reason,
          state: "NONE", rule: rule, tcp: TCPFields(flags: 0x29, seq: 1, ack: 0, win: 1024))
}

/// Thread-safe collector of the service's reports.
final class ReportLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [EventLogReport] = []
    var reports: [EventLogReport] { lock.lock(); defer { lock.unlock() }; return items }
    var handler: @Sendable (EventLogReport) -> Void {
        { [self] report in lock.lock(); items.append(report); lock.unlock() }
    }
}
