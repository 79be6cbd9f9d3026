// LogBenchmark: how fast `synwall log` reads and filters, and what logging costs a worker per
// dropped packet. Run in release:
//
//     swift run -c release LogBenchmark [--size-mb 1024] [--file /tmp/synwall-bench-events.jsonl] [--keep]
//
// 1. Writes a log of the given size (EVE-style records like the daemon's, varied sources,
//    reasons, ports, some aggregated, some with a rule) unless the file is already that big.
// 2. Reads it back with LogReader + LogQuery, as `synwall log` does, on one thread: with no
//    filter, and with a typical filter; prints records per second (wall and CPU time).
// 3. Times, per dropped packet, building an Event (address text included) and posting it to
//    an EventQueue that a writer thread drains; prints ns per event.
// 4. Runs EventLogService end to end (ring → aggregation → file) for a flood and prints what
//    reached the file.

import EventLog
import LogReview
import Wire

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Arguments


var sizeMB = 1024
var path = "/tmp/synwall-bench-events.jsonl"
var keep = false
var readOnly = false
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--size-mb": sizeMB = Int(arguments.next() ?? "") ?? sizeMB
    case "--file": path = arguments.next() ?? path
    case "--keep": keep = true
    case "--read-only": readOnly = true
    default:
        print("usage: LogBenchmark [--size-mb N] [--file PATH] [--keep] [--read-only]")
        exit(2)
    }
}

func monotonic() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func cpuTime() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : -1
}

func formatted(_ value: Double) -> String {
    let whole = Int(value.rounded())
    var digits = String(whole)
    var index = digits.count - 3
    while index > 0 {
        digits.insert(",", at: digits.index(digits.startIndex, offsetBy: index))
        index -= 3
    }
    return digits
}

// MARK: - 1. The log

let start: UInt64 = 1_795_554_191_000_000_000
let reasons = ["bad_seq", "invalid_flags", "no_connection", "bad_ack", "rst_invalid", "policy", "malformed"]
let ports: [UInt16] = [22, 80, 443, 25, 3389, 8080, 53]
let targetBytes = sizeMB << 20
var recordsWritten = 0

if fileSize(path) >= targetBytes && fileSize(path) < targetBytes + (1 << 20) {
    print("log: reusing \(path) (\(fileSize(path) >> 20) MiB)")
} else {
    let began = monotonic()
    guard let file = fopen(path, "w") else {
        print("cannot create \(path)")
        exit(1)
    }
    var random = SystemRandomNumberGenerator()
    var buffer: [UInt8] = []
    buffer.reserveCapacity(4 << 20)
    let encoder = JSONLinesEncoder()
    var written = 0
    var time = start
    var n = 0
    while written < targetBytes {
        let aggregated = n % 10 == 0
        let v6 = n % 5 == 0
        let source = v6 ? "2001:db8:\(n % 97)::\(n % 251)" : "203.0.\(113 + n % 3).\(n % 251)"
        let reason = reasons[n / 3 % reasons.count]
        var event = Event(timestampNanoseconds: time, eventType: reason == "policy" ? .alert : .drop,
                          flowID: UInt64(n) &* 2_654_435_761, queue: n % 2, inInterface: "eth0", direction: .in,
                          proto: "TCP", sourceIP: source, sourcePort: UInt16(1024 + n % 60000),
                          destinationIP: v6 ? "2001:db8::10" : "192.0.2.10", destinationPort: ports[n / 11 % ports.count],
                          reason: reason, state: "ESTABLISHED",
                          rule: reason == "policy" ? EventRule(file: "/etc/synwall/default.rules", line: 12, label: "ssh") : nil,
                          tcp: TCPFields(flags: 0x10, seq: UInt32.random(in: 0...UInt32.max, using: &random), ack: 7, win: 502))
        if aggregated {
            event.count = 2 + n % 500
            event.firstSeenNanoseconds = time - 900_000_000
            event.lastSeenNanoseconds = time
        }
        if reason == "bad_seq" {
            event.tcp?.seqWindow = TCPWindowBounds(lower: 1000, upper: 66535)
        }
        encoder.encode(event, into: &buffer)
        n += 1
        time += 1_000_000  // 1000 records per second of log time
        if buffer.count >= 4 << 20 {
            written += fwrite(buffer, 1, buffer.count, file)
            buffer.removeAll(keepingCapacity: true)
        }
    }
    written += fwrite(buffer, 1, buffer.count, file)
    fclose(file)
    recordsWritten = n
    let seconds = monotonic() - began
    print("log: wrote \(path): \(written >> 20) MiB, \(formatted(Double(n))) records, "
        + "\(written / max(1, n)) bytes/record, in \(format3(seconds)) s")
}

func format3(_ value: Double) -> String {
    let thousandths = Int((value * 1000).rounded())
    return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - String(thousandths % 1000).count))\(thousandths % 1000)"
}

// MARK: - 2. Read and filter

@MainActor func readBenchmark(_ name: String, _ query: LogQuery) {
    guard let reader = try? LogReader(paths: [path], expandRotations: false) else {
        print("cannot read \(path)")
        exit(1)
    }
    var matched = 0
    var warnings = 0
    var sink = 0
    let wall0 = monotonic()
    let cpu0 = cpuTime()
    let read = reader.read(query: query, warning: { _ in warnings += 1 }) { entry in
        matched += 1
        sink &+= entry.event.sourceIP.utf8.count  // use the record
        return true
    }
    if sink == -1 { print(sink) }
    let wall = monotonic() - wall0
    let cpu = cpuTime() - cpu0
    let bytes = Double(fileSize(path))
    print("read+filter [\(name)]: \(formatted(Double(read))) records, \(formatted(Double(matched))) matched, "
        + "\(warnings) warnings; \(format3(wall)) s wall, \(format3(cpu)) s CPU (one thread): "
        + "\(formatted(Double(read) / wall)) records/s, \(formatted(bytes / wall / 1e6)) MB/s")
}

// Warm the page cache once, then measure (the figures are for a cached file).
_ = {
    let fd = open(path, O_RDONLY)
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while chunk.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    close(fd)
}()
readBenchmark("no filter", LogQuery())
var typical = LogQuery(since: start + 60_000_000_000)
typical.reasons = ["bad_seq", "invalid_flags"]
typical.sources = [IPPrefix("203.0.113.0/24")!]
typical.ports = [22, 443]
readBenchmark("--since --reason ×2 --src /24 --port ×2", typical)

// MARK: - 3. Cost per dropped packet: build an Event, post it

final class Drainer: @unchecked Sendable {
    let queue: EventQueue
    var stop = false
    var drained = 0
    init(queue: EventQueue) { self.queue = queue }
}

/// Starts the thread that drains like the log writer (a short sleep when the ring is empty).
nonisolated func startDrainer(_ drainer: Drainer) -> pthread_t {
    var thread = pthread_t()
    let box = Unmanaged.passRetained(drainer)
    pthread_create(&thread, nil, { argument in
        guard let argument else { return nil }
        let drainer = Unmanaged<Drainer>.fromOpaque(argument).takeRetainedValue()
        while !drainer.stop {
            let n = drainer.queue.drain { _ in }
            drainer.drained += n
            if n == 0 { usleep(1000) }
        }
        drainer.drained += drainer.queue.drain { _ in }
        return nil
    }, box.toOpaque())
    return thread
}

@MainActor func postBenchmark(iterations: Int) {
    let queue = EventQueue(capacity: 8192)
    let drainer = Drainer(queue: queue)
    let thread = startDrainer(drainer)

    // Addresses as the decoder holds them; the engine writes their text as here.
    var v4 = IPAddress(ipv4: 0xCB00_7107)
    var v6 = IPAddress(high: 0x2001_0DB8_0000_0000, low: 1)
    let destination = IPAddress(ipv4: 0xC000_020A)
    @inline(__always) func makeEvent(_ n: Int, _ address: IPAddress) -> Event {
        Event(timestampNanoseconds: start + UInt64(n), eventType: .drop, flowID: UInt64(n), queue: 0,
              inInterface: "eth0", direction: .in, proto: Event.protocolName(6),
              sourceIP: address.description, sourcePort: 40000,
              destinationIP: destination.description, destinationPort: 22,
              reason: "invalid_flags", state: "NONE", tcp: TCPFields(flags: 0x29, seq: 1, ack: 0, win: 1024))
    }
    var sink = 0
    var buildV4 = 0.0, buildV6 = 0.0, buildAndPost = 0.0
    let rounds = 10
    let perRound = iterations / rounds
    for _ in 0..<rounds {
        var t0 = monotonic()
        for n in 0..<perRound {
            v4 = IPAddress(ipv4: 0xCB00_7100 | UInt32(truncatingIfNeeded: n & 0xFF))
            sink &+= makeEvent(n, v4).sourceIP.utf8.count
        }
        buildV4 += monotonic() - t0
        t0 = monotonic()
        for n in 0..<perRound {
            v6 = IPAddress(high: 0x2001_0DB8_0000_0000, low: UInt64(truncatingIfNeeded: n & 0xFF))
            sink &+= makeEvent(n, v6).sourceIP.utf8.count
        }
        buildV6 += monotonic() - t0
        t0 = monotonic()
        for n in 0..<perRound {
            v4 = IPAddress(ipv4: 0xCB00_7100 | UInt32(truncatingIfNeeded: n & 0xFF))
            queue.post(makeEvent(n, v4))
        }
        buildAndPost += monotonic() - t0
    }
    drainer.stop = true
    pthread_join(thread, nil)
    func ns(_ seconds: Double) -> Int { Int((seconds / Double(iterations) * 1e9).rounded()) }
    print("per dropped packet (Event is \(MemoryLayout<Event>.size) bytes; \(formatted(Double(iterations))) each; "
        + "a writer thread draining the ring of \(queue.capacity)): build Event with IPv4 text \(ns(buildV4)) ns, "
        + "with IPv6 text \(ns(buildV6)) ns; build (IPv4) + post "
        + "\(ns(buildAndPost)) ns; posted \(formatted(Double(queue.posted))), lost \(formatted(Double(queue.lost))) [\(sink % 2)]")
}
if readOnly { exit(0) }
postBenchmark(iterations: 4_000_000)

// MARK: - 4. The writer service under a flood

let floodPath = "/tmp/synwall-bench-flood.jsonl"
unlink(floodPath)
let service = EventLogService(path: floodPath)
let producer = service.makeProducer()
service.start()
let flood = 2_000_000
let f0 = monotonic()
for n in 0..<flood {
    producer.post(Event(timestampNanoseconds: start + UInt64(n) * 5_000, eventType: .drop, proto: "TCP",
                        sourceIP: n % 1000 == 0 ? "198.51.100.\(n / 1000 % 250)" : "203.0.113.\(n % 3)",
                        sourcePort: 40000, destinationIP: "192.0.2.10", destinationPort: 80, reason: "invalid_flags"))
}
let f1 = monotonic()
service.stop()
let counters = service.counters
print("service flood: \(formatted(Double(flood))) events posted in \(format3(f1 - f0)) s "
    + "(\(formatted(Double(flood) / (f1 - f0))) events/s offered; the writer took "
    + "\(formatted(Double(flood - counters.lost) / (f1 - f0))) events/s); \(counters.written) records written, "
    + "lost \(formatted(Double(counters.lost))), suppressed \(formatted(Double(counters.suppressed))), "
    + "file \(fileSize(floodPath)) bytes")
unlink(floodPath)

if !keep && recordsWritten > 0 {
    unlink(path)
} else if !keep {
    print("(kept the reused log; delete \(path) when done)")
}
