#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import Tracking
import Wire

// swift run -c release TrackerBenchmark
//
// The connection tracker on one thread, on a synthetic mix of pre-decoded packets: packets
// per second for established flows, new connections per second (handshake and FIN close),
// established flows with 1,000,000 live connections in the table, and resident memory per
// connection. Prints figures; asserts nothing. Run `count-allocations.sh` beside this file to
// count heap allocations on the packet path as well.

var factory = PacketFactory()
let second: UInt64 = 1_000_000_000

/// Handshake packets for `flow` (SYN, SYN-ACK, ACK) at its current numbers.
@MainActor func handshake(_ flow: Flow) -> [Packet] {
    [
        factory.tcp(.syn, from: flow.client, flow.clientPort, to: flow.server, flow.serverPort,
                    seq: flow.clientSeq &- 1, ack: 0),
        factory.tcp([.syn, .ack], from: flow.server, flow.serverPort, to: flow.client, flow.clientPort,
                    seq: flow.serverSeq &- 1, ack: flow.clientSeq),
        factory.tcp(.ack, from: flow.client, flow.clientPort, to: flow.server, flow.serverPort,
                    seq: flow.clientSeq, ack: flow.serverSeq),
    ]
}

/// One data segment from the client and the server's ACK; advances the flow.
@MainActor func exchange(_ flow: inout Flow, size: Int = 1448) -> (Packet, Packet) {
    let data = factory.tcp([.ack, .psh], from: flow.client, flow.clientPort, to: flow.server, flow.serverPort,
                           seq: flow.clientSeq, ack: flow.serverSeq, payload: size)
    flow.clientSeq &+= UInt32(size)
    let ack = factory.tcp(.ack, from: flow.server, flow.serverPort, to: flow.client, flow.clientPort,
                          seq: flow.serverSeq, ack: flow.clientSeq)
    return (data, ack)
}

/// Handshake and FIN close (7 packets).
@MainActor func lifecycle(_ flow: Flow) -> [Packet] {
    var packets = handshake(flow)
    let c = flow.clientSeq, s = flow.serverSeq
    packets.append(factory.tcp([.fin, .ack], from: flow.client, flow.clientPort, to: flow.server, flow.serverPort,
                               seq: c, ack: s))
    packets.append(factory.tcp(.ack, from: flow.server, flow.serverPort, to: flow.client, flow.clientPort,
                               seq: s, ack: c &+ 1))
    packets.append(factory.tcp([.fin, .ack], from: flow.server, flow.serverPort, to: flow.client, flow.clientPort,
                               seq: s, ack: c &+ 1))
    packets.append(factory.tcp(.ack, from: flow.client, flow.clientPort, to: flow.server, flow.serverPort,
                               seq: c &+ 1, ack: s &+ 1))
    return packets
}

/// Prints one figure line (rates from thread CPU time; wall time alongside).
func report(_ title: String, _ m: Measurement, unit: String = "packets", perUnit: Int = 1) {
    let units = m.packets / perUnit
    let rate = Double(units) / (Double(m.nanoseconds) / 1e9)
    var line = "\(title): \(units) \(unit) in \(format(Double(m.nanoseconds) / 1e9, 3)) s CPU "
    line += "(\(format(Double(m.wallNanoseconds) / 1e9, 3)) s wall) = "
    line += perUnit == 1 ? "\(format(rate / 1e6, 2)) M packets/s, " : "\(format(rate / 1e6, 3)) M \(unit)/s, "
    line += "\(format(m.nanosecondsPerPacket)) ns/packet"
    if m.accepted != m.packets { line += " (\(m.packets - m.accepted) dropped: unexpected)" }
    if let allocations = m.allocations { line += ", \(allocations) heap allocations" }
    print(line)
}

/// `TrackerBenchmark [established|new|million|state]…`: only the parts named (default: all but state).
let selected = Set(CommandLine.arguments.dropFirst()).subtracting(["quick"])
func runs(_ part: String) -> Bool { selected.isEmpty || selected.contains(part) }

print("synwall connection tracker benchmark (release build, one thread)")
// Large blocks always come from mmap and go back on free: a freed block of an earlier part
// must not be reused silently by the tracker under measurement (resident-size figures).
setMmapThreshold(256 * 1024)
print("Packet value: \(MemoryLayout<Packet>.stride) bytes; allocation counting: "
      + (allocationCount().map { "on (\($0) allocations before the first part)" } ?? "off (run count-allocations.sh)"))

// 1. 1,000,000 live connections: memory first (before other parts have grown the heap), then
// established traffic over random flows of the full table.
if runs("million") {
    let before = residentBytes()
    var tracker = ConnectionTracker(configuration: TrackerConfiguration(maxStates: 1_000_000))
    let afterInit = residentBytes()
    var now = 1_700_000_000 * second
    var admission = AdmitAll()
    var accepted = 0
    let began = monotonicNanoseconds()
    for number in 0..<1_000_000 {
        let flow = Flow.number(number)
        let syn = factory.tcp(.syn, from: flow.client, flow.clientPort, to: flow.server, flow.serverPort,
                              seq: flow.clientSeq &- 1, ack: 0)
        let synAck = factory.tcp([.syn, .ack], from: flow.server, flow.serverPort, to: flow.client, flow.clientPort,
                                 seq: flow.serverSeq &- 1, ack: flow.clientSeq)
        let ack = factory.tcp(.ack, from: flow.client, flow.clientPort, to: flow.server, flow.serverPort,
                              seq: flow.clientSeq, ack: flow.serverSeq)
        for packet in [syn, synAck, ack] {
            now += 1_000
            if tracker.track(packet, now: now, admission: &admission).verdict == .accept { accepted += 1 }
        }
    }
    let fillNanoseconds = monotonicNanoseconds() - began
    let afterFill = residentBytes()
    print("fill: 1,000,000 handshakes (packets built on the fly) in \(format(Double(fillNanoseconds) / 1e9, 3)) s, "
          + "\(tracker.count) connections, \(3_000_000 - accepted) dropped")
    let perConnection = Double(afterFill - before) / 1e6
    let perConnectionExcludingInit = Double(afterFill - afterInit) / 1e6
    print("memory: resident \(format(Double(before) / 1_048_576)) MiB before the tracker, "
          + "\(format(Double(afterInit) / 1_048_576)) MiB after init, \(format(Double(afterFill) / 1_048_576)) MiB "
          + "with 1,000,000 connections = \(format(perConnection)) bytes per connection "
          + "(\(format(perConnectionExcludingInit)) without the index and source table made at init); "
          + "\(anonymousHugePagesKilobytes() / 1024) MiB of it in transparent huge pages")

    var generator = SplitMix(seed: 2_026)
    var flows: [Flow] = []
    var chosen: [Int] = []
    for _ in 0..<262_144 {
        let number = Int(generator.next() % 1_000_000)
        chosen.append(number)
        flows.append(Flow.number(number))
    }
    var parts: [Measurement] = []
    for _ in 0..<20 {
        var ring: [Packet] = []
        ring.reserveCapacity(flows.count * 2)
        for index in flows.indices {
            let (data, ack) = exchange(&flows[index])
            ring.append(data)
            ring.append(ack)
        }
        parts.append(measure(&tracker, ring, start: &now, step: 100))
    }
    report("established flows, 1,000,000 live connections (random 262,144)", total(parts))
    _ = chosen
}

// 2. Established flows, hot table: 1,024 connections, data + ACK rounds.
/// The run with the least CPU time.
func best(_ runs: [Measurement]) -> Measurement {
    runs.min { $0.nanoseconds < $1.nanoseconds } ?? runs[0]
}

let repetitions = 3

if runs("established") {
  var runs: [Measurement] = []
  for _ in 0..<(CommandLine.arguments.contains("quick") ? 1 : repetitions) {
    var tracker = ConnectionTracker(configuration: TrackerConfiguration())
    var flows = (0..<1_024).map { Flow.number($0) }
    var now = 1_700_000_000 * second
    _ = measure(&tracker, flows.flatMap(handshake), start: &now, step: 1_000)
    // Rings of 4 rounds (8,192 packets, 1.7 MB): about one NFQUEUE batch's worth of memory
    // traffic at a time, so the stream of packets does not flush the table from the cache.
    var parts: [Measurement] = []
    for _ in 0..<(CommandLine.arguments.contains("quick") ? 8 : 320) {
        var ring: [Packet] = []
        ring.reserveCapacity(1_024 * 4 * 2)
        for _ in 0..<4 {
            for index in flows.indices {
                let (data, ack) = exchange(&flows[index])
                ring.append(data)
                ring.append(ack)
            }
        }
        parts.append(measure(&tracker, ring, start: &now, step: 100))
    }
    runs.append(total(parts))
  }
  report("established flows (1,024 connections), best of \(repetitions)", best(runs))
}

// 3. New connections: handshake and FIN close, 65,536 4-tuples reused every 121 s.
if runs("new") {
  var runs: [Measurement] = []
  for repetition in 0..<(CommandLine.arguments.contains("quick") ? 1 : repetitions) {
    var tracker = ConnectionTracker(configuration: TrackerConfiguration())
    var now = 1_700_000_000 * second
    var parts: [Measurement] = []
    for cycle in 0..<8 {
        var packets: [Packet] = []
        packets.reserveCapacity(65_536 * 7)
        for number in 0..<65_536 {
            var flow = Flow.number(number)
            flow.clientSeq &+= UInt32(cycle) &* 1_000_003
            packets += lifecycle(flow)
        }
        parts.append(measure(&tracker, packets, start: &now, step: 1_000))
        now += 121 * second
    }
    runs.append(total(parts))
    if repetition == 0 {
        print("  new connections: table after the first run: \(tracker.count) entries, "
              + "\(tracker.statistics.created) created, \(tracker.statistics.expired) expired")
    }
  }
  report("new connections (SYN, SYN-ACK, ACK, FIN, ACK, FIN, ACK), best of \(repetitions)", best(runs),
         unit: "connections", perUnit: 7)
}

if selected.contains("state") { stateBenchmark() }

/// SplitMix64, for a reproducible choice of flows (the test suites' one copy).
typealias SplitMix = SplitMix64
