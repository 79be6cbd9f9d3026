// The pure pipeline's cost per packet (decode → track → decide), without the kernel: what
// synwall adds to each queued packet on top of receiving and verdicting it. Prints figures.
//
//     swift run -c release PipelineBenchmark
import Engine
import Rules
import Foundation
import Tracking
import Wire

/// CPU time of this thread (other work on the machine does not count).
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func measure(_ name: String, warmUp: [[UInt8]] = [], packets: [[UInt8]], rounds: Int) {
    var best = Double.infinity
    for _ in 0 ..< 3 {
        var pipeline = Pipeline()
        for packet in warmUp {
            _ = packet.withUnsafeBytes { pipeline.process($0, context: PacketContext(timestampNanoseconds: 0)) }
        }
        let start = cpuSeconds()
        var accepted = 0
        for round in 0 ..< rounds {
            for packet in packets {
                let decision = packet.withUnsafeBytes {
                    pipeline.process($0, context: PacketContext(timestampNanoseconds: UInt64(round) * 1_000))
                }
                if decision.verdict == .accept { accepted &+= 1 }
            }
        }
        let elapsed = cpuSeconds() - start
        best = min(best, elapsed)
        precondition(accepted > 0)
    }
    let count = Double(packets.count * rounds)
    print(String(format: "%-44@ %8.1f ns/packet  %6.2f M packets/s", name as NSString, best / count * 1e9,
                 count / best / 1e6))
}

let client = PacketBuilder(from: "10.0.0.1", to: "10.0.0.2")!
let server = PacketBuilder(from: "10.0.0.2", to: "10.0.0.1")!
let udp = [client.udp(sourcePort: 5000, destinationPort: 9000, payload: [UInt8](repeating: 0x61, count: 64))]
measure("UDP, one flow (the NFQUEUE drain's load)", packets: udp, rounds: 2_000_000)

var tcp: [[UInt8]] = [
    client.tcp(sourcePort: 40000, destinationPort: 80, sequence: 1000, flags: .syn),
    server.tcp(sourcePort: 80, destinationPort: 40000, sequence: 5000, acknowledgment: 1001, flags: [.syn, .ack]),
    client.tcp(sourcePort: 40000, destinationPort: 80, sequence: 1001, acknowledgment: 5001, flags: .ack),
]
var established: [[UInt8]] = []
for i in 0 ..< 64 {
    // Pure ACKs as a bulk receiver sends them: each acknowledges nothing new after the first
    // round, which the tracker accepts as a duplicate ACK.
    established.append(client.tcp(sourcePort: 40000, destinationPort: 80, sequence: 1001,
                                  acknowledgment: 5001, flags: .ack, window: UInt16(1000 + i)))
}
measure("TCP ACKs on an established connection", warmUp: tcp, packets: established, rounds: 20_000)

// A reload's check of the live flows: the cost per flow, and so the pause per receive round
// (the worker checks `QueueWorker.revisionBudget` = 16,384 flows a round).
func measureReloadCheck(flows: Int) throws {
    let rules = try RuleCompiler.compile(text: """
        set reload recheck
        policy in drop
        pass in proto tcp from 10.0.0.0/8 to port { 22, 80, 443 }
        """).get()
    var pipeline = Pipeline(configuration: PipelineConfiguration(tracker: TrackerConfiguration(maxStates: flows * 2)),
                            rules: rules)
    for i in 0 ..< flows {
        let source = PacketBuilder(from: "10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)", to: "192.0.2.1")!
        let reply = PacketBuilder(from: "192.0.2.1", to: "10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)")!
        for packet in [source.tcp(sourcePort: 40000, destinationPort: 443, sequence: 1000, flags: .syn),
                       reply.tcp(sourcePort: 443, destinationPort: 40000, sequence: 5000, acknowledgment: 1001,
                                 flags: [.syn, .ack]),
                       source.tcp(sourcePort: 40000, destinationPort: 443, sequence: 1001, acknowledgment: 5001,
                                  flags: .ack)] {
            _ = packet.withUnsafeBytes { pipeline.process($0, context: PacketContext(timestampNanoseconds: 0)) }
        }
    }
    precondition(pipeline.trackedFlows == flows)
    var best = Double.infinity
    for _ in 0 ..< 3 {
        let start = cpuSeconds()
        let outcome = pipeline.replaceRules(rules, now: 0)
        best = min(best, cpuSeconds() - start)
        precondition(outcome.kept == flows)
    }
    print(String(format: "%-44@ %8.1f ns/flow  %6.2f ms per 16,384-flow round", "reload check, \(flows) flows" as NSString,
                 best / Double(flows) * 1e9, best / Double(flows) * 16_384 * 1e3))
}
try measureReloadCheck(flows: 200_000)
