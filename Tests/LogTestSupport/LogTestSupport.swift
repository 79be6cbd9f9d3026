import EventLog
import Foundation
import LogReview

#if canImport(Glibc)
import Glibc
#endif

/// Helpers the event log's writer tests and the log reader's tests share: a scratch
/// directory, reading lines back, bounded waits and a sample event.

/// A fresh directory under the system temporary directory, removed when the value goes away.
public final class ScratchDirectory: @unchecked Sendable {
    public let url: URL
    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-log-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    public func contents(_ name: String) -> String? {
        FileManager.default.contents(atPath: path(name)).map { String(decoding: $0, as: UTF8.self) }
    }
    public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }
    public func write(_ name: String, _ text: String) throws {
        try text.write(toFile: path(name), atomically: false, encoding: .utf8)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Every line of `text` parsed; a line that does not parse is returned in `bad`.
public func parseLines(_ text: String) -> (events: [Event], bad: [String]) {
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
public func waitUntil(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// A drop event from `source` at `time` (ns); distinct sources make distinct aggregation keys.
public func sampleDrop(_ source: String, port: UInt16 = 22, reason: String = "invalid_flags", at time: UInt64,
                rule: EventRule? = nil, eventType: EventType = .drop) -> Event {
    Event(timestampNanoseconds: time, eventType: eventType, flowID: 7, inInterface: "eth0", direction: .in, proto: "TCP",
          sourceIP: source, sourcePort: 40000, destinationIP: "192.0.2.10", destinationPort: port, reason: reason,
          state: "NONE", rule: rule, tcp: TCPFields(flags: 0x29, seq: 1, ack: 0, win: 1024))
}
