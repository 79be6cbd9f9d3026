@testable import Engine
import EventLog
import LogReview
import Rules
import Testing
import Tracking
import Wire

/// Flow records: every connection that ends leaves one `EndedFlow` (how it ended, counts each
/// way, times, the admitting rule) for the worker to log, and none when nobody collects them.
@Suite struct FlowRecordTests {
    let client = PacketBuilder(from: "192.0.2.1", to: "198.51.100.2")!
    let server = PacketBuilder(from: "198.51.100.2", to: "192.0.2.1")!
    let second: UInt64 = 1_000_000_000
    let start: UInt64 = 1_795_554_191_000_000_000

    func judge(_ bytes: [UInt8], _ pipeline: inout Pipeline, at time: UInt64) -> Decision {
        bytes.withUnsafeBytes { pipeline.process($0, context: PacketContext(timestampNanoseconds: time)) }
    }

    /// SYN, SYN-ACK, ACK, 100 bytes of data and its ACK, at `time`.
    func open(_ pipeline: inout Pipeline, port: UInt16, at time: UInt64) {
        let steps = [
            client.tcp(sourcePort: port, destinationPort: 22, sequence: 100, flags: .syn, window: 1024),
            server.tcp(sourcePort: 22, destinationPort: port, sequence: 500, acknowledgment: 101, flags: [.syn, .ack],
                       window: 1024),
            client.tcp(sourcePort: port, destinationPort: 22, sequence: 101, acknowledgment: 501, flags: .ack, window: 1024),
            client.tcp(sourcePort: port, destinationPort: 22, sequence: 101, acknowledgment: 501, flags: [.ack, .psh],
                       window: 1024, payload: [UInt8](repeating: 7, count: 100)),
            server.tcp(sourcePort: 22, destinationPort: port, sequence: 501, acknowledgment: 201, flags: .ack, window: 1024),
        ]
        for bytes in steps { #expect(judge(bytes, &pipeline, at: time).verdict == .accept) }
    }

    func ended(_ pipeline: inout Pipeline) -> [EndedFlow] {
        var flows: [EndedFlow] = []
        pipeline.drainEndedFlows { flows.append($0) }
        return flows
    }

    func rules() throws -> CompiledRuleset {
        try RuleCompiler.compile(text: "policy in block\npass in proto tcp to port 22 label \"ssh\"\n",
                                 path: "/etc/synwall/test.rules").get()
    }

    @Test func aClosedConnectionLeavesOneRecordWithItsCountsTimesAndRule() throws {
        var pipeline = Pipeline(rules: try rules())
        pipeline.collectsEndedFlows = true
        open(&pipeline, port: 40000, at: start)
        // FIN from each side, each acknowledged, 3 s later.
        let later = start + 3 * second
        for bytes in [
            client.tcp(sourcePort: 40000, destinationPort: 22, sequence: 201, acknowledgment: 501, flags: [.fin, .ack], window: 1024),
            server.tcp(sourcePort: 22, destinationPort: 40000, sequence: 501, acknowledgment: 202, flags: [.fin, .ack], window: 1024),
            client.tcp(sourcePort: 40000, destinationPort: 22, sequence: 202, acknowledgment: 502, flags: .ack, window: 1024),
        ] { #expect(judge(bytes, &pipeline, at: later).verdict == .accept) }
        #expect(ended(&pipeline).isEmpty, "still in TIME_WAIT")
        pipeline.idle(now: later + 121 * second)
        let flows = ended(&pipeline)
        try #require(flows.count == 1)
        let flow = flows[0]
        #expect(flow.end == .closed)
        #expect(flow.state == .timeWait)
        #expect(flow.initiatorAddress.description == "192.0.2.1" && flow.initiatorPort == 40000)
        #expect(flow.responderPort == 22)
        #expect(flow.initiatorPackets == 5 && flow.responderPackets == 3)
        #expect(flow.initiatorBytes == 40 * 4 + 100 + 40 && flow.responderBytes == 40 * 3)
        #expect(flow.lastSeenSeconds - flow.createdSeconds == 3)

        let event = Event(endedFlow: flow, queue: 1, rules: pipeline.ruleset)
        #expect(event.eventType == .flow)
        #expect(event.reason == "closed")
        #expect(event.rule == EventRule(file: "/etc/synwall/test.rules", line: 2, label: "ssh"))
        #expect(event.flow?.packetsToServer == 5 && event.flow?.bytesToClient == 120)
        #expect(event.flow?.ageSeconds == 3)
        let line = JSONLinesEncoder().line(for: event)
        #expect(line.contains(#""flow":{"reason":"closed","state":"TIME_WAIT","rule":{"file":"/etc/synwall/test.rules","line":2,"label":"ssh"},"pkts_toserver":5,"pkts_toclient":3,"bytes_toserver":300,"bytes_toclient":120,"start":""#), "\(line)")
        #expect(line.contains(#","age":3}"#))
        var parser = LogLineParser()
        #expect(try parser.parse(String(line.dropLast())) == event)
    }

    @Test func resetTimeoutEvictionAndReuseEachSayHowTheConnectionEnded() throws {
        var configuration = PipelineConfiguration()
        configuration.tracker = TrackerConfiguration(maxStates: 4)
        var pipeline = Pipeline(configuration: configuration)
        pipeline.collectsEndedFlows = true
        open(&pipeline, port: 40001, at: start)
        open(&pipeline, port: 40002, at: start)
        // A RST closes 40001 (CLOSE: gone after tcp.close, 10 s).
        #expect(judge(client.tcp(sourcePort: 40001, destinationPort: 22, sequence: 201, flags: .rst, window: 0),
                      &pipeline, at: start + second).verdict == .accept)
        pipeline.idle(now: start + 12 * second)
        var flows = ended(&pipeline)
        #expect(flows.map(\.end) == [.reset])
        #expect(flows.first?.state == .close)
        // A UDP flow nobody answers times out after 30 s.
        _ = judge(client.udp(sourcePort: 5353, destinationPort: 53), &pipeline, at: start + 13 * second)
        pipeline.idle(now: start + 44 * second)
        flows = ended(&pipeline)
        #expect(flows.map(\.end) == [.timeout])
        #expect(flows.first?.state == .udpUnreplied)
        #expect(flows.first?.initiatorPackets == 1 && flows.first?.responderPackets == 0)
        // Killed.
        pipeline.killFlows(now: start + 45 * second, matching: { $0.initiatorPort == 40002 })
        #expect(ended(&pipeline).map(\.end) == [.killed])
        #expect(pipeline.trackedFlows == 0)
    }

    @Test func nothingIsKeptUnlessAsked() {
        var pipeline = Pipeline()
        open(&pipeline, port: 40003, at: start)
        pipeline.killFlows(now: start + second, matching: { _ in true })
        let waiting = pipeline.hasEndedFlows
        #expect(!waiting)
        #expect(ended(&pipeline).isEmpty)
    }

    @Test func aReusedTimeWaitEntryEndsTheOldConnectionAndKeepsTheKey() throws {
        var pipeline = Pipeline()
        pipeline.collectsEndedFlows = true
        open(&pipeline, port: 40004, at: start)
        for bytes in [
            client.tcp(sourcePort: 40004, destinationPort: 22, sequence: 201, acknowledgment: 501, flags: [.fin, .ack], window: 1024),
            server.tcp(sourcePort: 22, destinationPort: 40004, sequence: 501, acknowledgment: 202, flags: [.fin, .ack], window: 1024),
            client.tcp(sourcePort: 40004, destinationPort: 22, sequence: 202, acknowledgment: 502, flags: .ack, window: 1024),
        ] { _ = judge(bytes, &pipeline, at: start + second) }
        // A new SYN with a higher ISN takes the TIME_WAIT entry over.
        let syn = client.tcp(sourcePort: 40004, destinationPort: 22, sequence: 100_000, flags: .syn, window: 1024)
        #expect(judge(syn, &pipeline, at: start + 2 * second).verdict == .accept)
        let flows = ended(&pipeline)
        #expect(flows.count == 1)
        #expect(flows.first?.end == .closed)
        #expect(flows.first?.keyLeftTable == false)
        #expect(flows.first?.initiatorPackets == 5)
        #expect(pipeline.trackedFlows == 1)
    }
}
