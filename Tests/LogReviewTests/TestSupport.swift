import EventLog
import Foundation
import LogReview
import LogTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Runs `executable` with `arguments`; returns (status, stdout, stderr). Bounded by `seconds`.
func runProcess(_ executable: String, _ arguments: [String], seconds: Double = 30,
                environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = Atomic(Data())
    let errData = Atomic(Data())
    let readers = DispatchGroup()
    for (pipe, store) in [(out, outData), (err, errData)] {
        readers.enter()
        DispatchQueue.global().async {
            store.value = pipe.fileHandleForReading.readDataToEndOfFile()
            readers.leave()
        }
    }
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        if !waitUntil(seconds: 5, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
    }
    process.waitUntilExit()
    _ = readers.wait(timeout: .now() + 5)
    return (process.terminationStatus, String(decoding: outData.value, as: UTF8.self),
            String(decoding: errData.value, as: UTF8.self))
}

/// gzip's a file in place (`name` becomes `name.gz`) with the system's gzip.
func gzipFile(_ path: String) throws {
    let result = try runProcess("/usr/bin/gzip", ["-f", path])
    guard result.status == 0 else { throw CocoaError(.fileWriteUnknown) }
}

/// Lines of JSON for `events`, each ending in a newline.
func jsonLines(_ events: [Event]) -> String {
    events.map { JSONLinesEncoder().line(for: $0) }.joined()
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

/// A record with every field set (the writer's tests build the same one).
func everyFieldEvent(detail: String = "window closed") -> Event {
    Event(timestampNanoseconds: 1_795_554_191_482_113_000, eventType: .drop, flowID: 1_822_734, queue: 2,
          inInterface: "eth0", direction: .in, proto: "TCP", sourceIP: "203.0.113.7", sourcePort: 51544,
          destinationIP: "192.0.2.10", destinationPort: 22, reason: "bad_seq", detail: detail,
          state: "ESTABLISHED", rule: EventRule(file: "/etc/synwall/default.rules", line: 12, label: "ssh"),
          tcp: TCPFields(flags: 0x10, seq: 104, ack: 7, win: 1024,
                         seqWindow: TCPWindowBounds(lower: 4_294_967_000, upper: 100),
                         ackWindow: TCPWindowBounds(lower: 1, upper: 9)),
          count: 37, firstSeenNanoseconds: 1_795_554_190_001_200_000, lastSeenNanoseconds: 1_795_554_191_482_113_000)
}
