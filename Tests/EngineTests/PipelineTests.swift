@testable import Engine
import Rules
import Tracking
import EventLog
import Testing
import Wire

private let v4 = PacketBuilder(from: "192.0.2.1", to: "198.51.100.2")!
private let v6 = PacketBuilder(from: "2001:db8::1", to: "2001:db8::2")!

private func judge(_ bytes: [UInt8], _ pipeline: inout Pipeline,
                   checksum: PacketContext.ChecksumState = .verified) -> Decision
{
    bytes.withUnsafeBytes { pipeline.process($0, context: PacketContext(timestampNanoseconds: 1, checksum: checksum)) }
}

@Suite struct PipelineTests {
    @Test func acceptsAWellFormedSYNAndSummarisesIt() {
        var pipeline = Pipeline()
        let syn = v4.tcp(sourcePort: 40000, destinationPort: 22, sequence: 1000, flags: .syn, window: 1024)
        let decision = judge(syn, &pipeline)
        #expect(decision.verdict == .accept)
        #expect(decision.reason == nil)
        let summary = decision.summary
        #expect(summary?.source.description == "192.0.2.1")
        #expect(summary?.destination.description == "198.51.100.2")
        #expect(summary?.sourcePort == 40000)
        #expect(summary?.destinationPort == 22)
        #expect(summary?.flags == .syn)
        #expect(summary?.sequence == 1000)
        #expect(summary?.window == 1024)
        #expect(summary?.protocolName == "TCP")
        #expect(pipeline.counters.packets == 1)
        #expect(pipeline.counters.accepted == 1)
        #expect(pipeline.counters.tcp == 1)
    }

    @Test func acceptsIPv6UDPAndICMP() {
        var pipeline = Pipeline()
        #expect(judge(v6.udp(sourcePort: 5353, destinationPort: 53), &pipeline).verdict == .accept)
        #expect(judge(v4.icmpEcho(identifier: 7, sequence: 1), &pipeline).verdict == .accept)
        #expect(pipeline.counters.udp == 1)
        #expect(pipeline.counters.icmp == 1)
        #expect(pipeline.counters.ipv6 == 1)
    }

    @Test func malformedPacketsAreDroppedWithTheDecodersDetail() {
        var pipeline = Pipeline()
        var bad = v4.tcp(sourcePort: 1, destinationPort: 2, flags: .syn)
        bad[20 + 12] = 3 << 4  // TCP data offset 3 (< 5)
        let decision = judge(bad, &pipeline)
        #expect(decision.verdict == .drop)
        #expect(decision.reason == .malformed)
        #expect(decision.anomaly != nil)
        #expect(decision.anomaly?.detail.isEmpty == false)
        #expect(pipeline.counters.drops(.malformed) == 1)
    }

    @Test func garbageNeverEscapesAVerdict() {
        var pipeline = Pipeline()
        for length in 0 ..< 64 {
            let bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: length &* 37), count: length)
            let decision = judge(bytes, &pipeline)
            #expect(decision.verdict == .drop)
        }
        #expect(pipeline.counters.packets == 64)
        #expect(pipeline.counters.dropped == 64)
    }

    @Test func placeholderPolicyDrop() {
        var pipeline = Pipeline(configuration: PipelineConfiguration(defaultVerdict: .drop))
        let decision = judge(v4.tcp(sourcePort: 1000, destinationPort: 80, flags: .syn), &pipeline)
        #expect(decision.verdict == .drop)
        #expect(decision.reason == .policy)
        #expect(pipeline.counters.drops(.policy) == 1)
    }

    @Test func checksumsAreVerifiedOnlyWhenTheKernelSaysUnverified() {
        var corrupt = v4.tcp(sourcePort: 1000, destinationPort: 80, flags: .syn)
        corrupt[20 + 16] ^= 0xFF  // break the TCP checksum
        var pipeline = Pipeline()
        #expect(judge(corrupt, &pipeline, checksum: .unverified).reason == .badChecksum)
        #expect(judge(corrupt, &pipeline, checksum: .partial).verdict == .accept)
        #expect(judge(corrupt, &pipeline, checksum: .verified).verdict == .accept)
        let good = v6.tcp(sourcePort: 1000, destinationPort: 80, flags: .syn)
        #expect(judge(good, &pipeline, checksum: .unverified).verdict == .accept)
        #expect(pipeline.counters.checksumsVerified == 2)

        var off = Pipeline(configuration: PipelineConfiguration(verifyChecksums: false))
        #expect(judge(corrupt, &off, checksum: .unverified).verdict == .accept)
    }

    @Test func badIPv4HeaderChecksumIsCaught() {
        var bytes = v4.udp(sourcePort: 1, destinationPort: 2)
        bytes[10] ^= 0x55
        var pipeline = Pipeline()
        #expect(judge(bytes, &pipeline, checksum: .unverified).reason == .badChecksum)
    }

    @Test func aFirstFragmentTooShortForTCPIsAFragmentDrop() {
        var builder = v4
        builder.dontFragment = false
        builder.moreFragments = true
        // 8 bytes of TCP header only: ports and sequence number, no flags.
        let bytes = builder.ip(protocolNumber: 6, transport: [0x9C, 0x40, 0, 80, 0, 0, 0, 1])
        var pipeline = Pipeline()
        let decision = judge(bytes, &pipeline)
        #expect(decision.reason == .fragment)
        #expect(pipeline.counters.drops(.fragment) == 1)
    }

    @Test func dropReasonsKeepTheirPublicNames() {
        #expect(DropReason.allCases.map(\.rawValue) == [
            "malformed", "bad_checksum", "fragment", "no_connection", "handshake_order", "invalid_flags",
            "bad_seq", "bad_ack", "rst_invalid", "syn_in_established", "icmp_unrelated", "rate_limited",
            "table_full", "policy", "bad_timestamp",
        ])
    }
}

@Suite struct DecisionEventTests {
    @Test func aDropBecomesAnEVEStyleLine() {
        var pipeline = Pipeline()
        let syn = v4.tcp(sourcePort: 51544, destinationPort: 22, sequence: 104, flags: [.fin, .psh, .urg], window: 1024)
        let decision = judge(syn, &pipeline)
        let event = Event(decision: decision, timestampNanoseconds: 1_764_018_191_482_113_000, queue: 3)
        let line = JSONLinesEncoder().line(for: event)
        #expect(line.hasPrefix("{\"timestamp\":\"2025-11-24T21:03:11.482113+0000\",\"event_type\":\"drop\",\"flow_id\":"))
        #expect(line.contains(",\"queue\":3,\"proto\":\"TCP\""))
        #expect(line.contains("\"proto\":\"TCP\",\"src_ip\":\"192.0.2.1\",\"src_port\":51544,"))
        #expect(line.contains("\"dest_ip\":\"198.51.100.2\",\"dest_port\":22,\"drop\":{\"reason\":\"invalid_flags\",\"detail\":\"flags_xmas\"}"))
        #expect(line.contains("\"tcp\":{\"flags\":\"FPU\",\"seq\":104,\"ack\":0,\"win\":1024}"))
    }

    @Test func aMalformedDropWhoseHeadersWereReadableNamesAddressesProtocolAndPorts() throws {
        var pipeline = Pipeline()
        var offset = v4.tcp(sourcePort: 40000, destinationPort: 22, sequence: 7, flags: .syn)
        offset[20 + 12] = 3 << 4  // TCP data offset 3 (< 5)
        let option = v4.tcp(sourcePort: 40001, destinationPort: 443, flags: .syn, rawOptions: [2, 3, 0, 0])  // MSS length 3
        var udp = v6.udp(sourcePort: 5353, destinationPort: 53)
        udp[40 + 4] = 0
        udp[40 + 5] = 4  // UDP length 4 (< 8)
        for (bytes, proto, ports) in [(offset, "TCP", (40000, 22)), (option, "TCP", (40001, 443)), (udp, "UDP", (5353, 53))] {
            let decision = judge(bytes, &pipeline)
            #expect(decision.reason == .malformed)
            let summary = try #require(decision.summary, "\(String(describing: decision.anomaly))")
            #expect(summary.hasPorts)
            #expect((Int(summary.sourcePort), Int(summary.destinationPort)) == ports)
            let event = Event(decision: decision, timestampNanoseconds: 0, queue: nil)
            #expect(event.proto == proto)
            #expect(event.sourceIP == (proto == "UDP" ? "2001:db8::1" : "192.0.2.1"))
            #expect(event.destinationIP == (proto == "UDP" ? "2001:db8::2" : "198.51.100.2"))
            #expect(event.sourcePort == UInt16(ports.0))
            #expect(event.destinationPort == UInt16(ports.1))
            #expect(event.reason == "malformed")
        }
        #expect(pipeline.counters.drops(.malformed) == 3)
        // An IP header cut short gives nothing to name.
        #expect(judge([0x45, 0, 0], &pipeline).summary == nil)
    }

    @Test func aMalformedDropCarriesItsDetail() {
        var pipeline = Pipeline()
        let decision = judge([0x45, 0, 0], &pipeline)
        let line = JSONLinesEncoder().line(for: Event(decision: decision, timestampNanoseconds: 0, queue: nil))
        #expect(line.contains("\"reason\":\"malformed\""))
        #expect(line.contains("\"detail\":\""))
        #expect(!line.contains("\"queue\""))
    }
}

@Suite struct DropReasonOrdinalTests {
    @Test func ordinalsMatchAllCases() {
        for (i, reason) in DropReason.allCases.enumerated() { #expect(reason.ordinal == i) }
    }
}

@Suite struct PipelineTrackingTests {
    @Test func aHandshakeIsFollowedAndAStrayACKHasNoConnection() {
        var pipeline = Pipeline()
        let client = v4
        let server = PacketBuilder(from: "198.51.100.2", to: "192.0.2.1")!
        let syn = judge(client.tcp(sourcePort: 40000, destinationPort: 22, sequence: 1000, flags: .syn), &pipeline)
        #expect(syn.verdict == .accept)
        #expect(syn.state == .synSent)
        let synAck = judge(server.tcp(sourcePort: 22, destinationPort: 40000, sequence: 5000, acknowledgment: 1001,
                                      flags: [.syn, .ack]), &pipeline)
        #expect(synAck.state == .synRecv)
        let ack = judge(client.tcp(sourcePort: 40000, destinationPort: 22, sequence: 1001, acknowledgment: 5001,
                                   flags: .ack), &pipeline)
        #expect(ack.verdict == .accept)
        #expect(ack.state == .established)
        #expect(pipeline.trackedFlows == 1)

        let stray = judge(client.tcp(sourcePort: 40001, destinationPort: 22, sequence: 1, acknowledgment: 1,
                                     flags: .ack), &pipeline)
        #expect(stray.verdict == .drop)
        #expect(stray.reason == .noConnection)
        #expect(pipeline.counters.drops(.noConnection) == 1)
    }

    @Test func aWrongSYNACKIsABadAck() {
        var pipeline = Pipeline()
        let server = PacketBuilder(from: "198.51.100.2", to: "192.0.2.1")!
        _ = judge(v4.tcp(sourcePort: 40000, destinationPort: 22, sequence: 1000, flags: .syn), &pipeline)
        let wrong = judge(server.tcp(sourcePort: 22, destinationPort: 40000, sequence: 5000, acknowledgment: 77,
                                     flags: [.syn, .ack]), &pipeline)
        #expect(wrong.verdict == .drop)
        #expect(wrong.reason == .badAck)
        #expect(wrong.trackerEvent != nil)
    }

    @Test func idleTimeExpiresFlows() {
        var pipeline = Pipeline()
        _ = judge(v4.udp(sourcePort: 5000, destinationPort: 53), &pipeline)
        #expect(pipeline.trackedFlows == 1)
        pipeline.idle(now: 1 + 3_600 * 1_000_000_000)
        #expect(pipeline.trackedFlows == 0)
    }
}

@Suite struct PipelineRulesTests {
    @Test func maxSourceConnectionsIsReleasedWhenTheFlowLeavesTheTable() throws {
        let text = """
        policy in drop
        pass in proto tcp to port 22 max-src-conn 1 label "ssh"
        """
        let rules = try RuleCompiler.compile(text: text).get()
        var pipeline = Pipeline(rules: rules)
        let first = judge(v4.tcp(sourcePort: 40000, destinationPort: 22, sequence: 1, flags: .syn), &pipeline)
        #expect(first.verdict == .accept)
        #expect(first.rule?.ruleIndex == 0)
        let second = judge(v4.tcp(sourcePort: 40001, destinationPort: 22, sequence: 1, flags: .syn), &pipeline)
        #expect(second.verdict == .drop, "one connection per source")
        #expect(second.rule?.limit == .maxSourceConnections)
        let other = judge(v4.tcp(sourcePort: 40002, destinationPort: 80, sequence: 1, flags: .syn), &pipeline)
        #expect(other.reason == .policy, "no rule for port 80")

        // The first connection's SYN times out and leaves the table: the source may connect again.
        pipeline.idle(now: 1 + 3_600 * 1_000_000_000)
        #expect(pipeline.trackedFlows == 0)
        var later = v4.tcp(sourcePort: 40003, destinationPort: 22, sequence: 1, flags: .syn)
        let third = later.withUnsafeBytes {
            pipeline.process($0, context: PacketContext(timestampNanoseconds: 2 + 3_600 * 1_000_000_000))
        }
        later.removeAll()
        #expect(third.verdict == .accept, "the count was released")
    }
}

@Suite struct WindowBoundsEventTests {
    @Test func aBadSeqRecordCarriesTheWindowItFailed() {
        var pipeline = Pipeline()
        let client = v4
        let server = PacketBuilder(from: "198.51.100.2", to: "192.0.2.1")!
        _ = judge(client.tcp(sourcePort: 40000, destinationPort: 22, sequence: 1000, flags: .syn, window: 1000), &pipeline)
        _ = judge(server.tcp(sourcePort: 22, destinationPort: 40000, sequence: 5000, acknowledgment: 1001,
                             flags: [.syn, .ack], window: 2000), &pipeline)
        _ = judge(client.tcp(sourcePort: 40000, destinationPort: 22, sequence: 1001, acknowledgment: 5001,
                             flags: .ack, window: 1000), &pipeline)
        let far = judge(client.tcp(sourcePort: 40000, destinationPort: 22, sequence: 1001 + 50_000_000,
                                   acknowledgment: 5001, flags: [.ack, .psh], window: 1000, payload: [1, 2, 3]),
                        &pipeline)
        #expect(far.reason == .badSeq)
        let bounds = far.windowBounds
        #expect(bounds != nil)
        // The client may send up to the server's ack + window: 1001 + 2000.
        #expect(bounds?.seqUpper == 3001)
        let line = JSONLinesEncoder().line(for: Event(decision: far, timestampNanoseconds: 0, queue: nil))
        #expect(line.contains("\"seq_max\":3001"), "\(line)")
        #expect(line.contains("\"seq_min\":"), "\(line)")
        #expect(!line.contains("ack_min"), "\(line)")

        let fine = judge(client.tcp(sourcePort: 40000, destinationPort: 22, sequence: 1001, acknowledgment: 5001,
                                    flags: .ack, window: 1000), &pipeline)
        #expect(fine.verdict == .accept)
        #expect(fine.windowBounds == nil)
    }
}

@Suite struct BlockReturnPipelineTests {
    @Test("a block return rule's drop carries its reply, and its record names the answer due")
    func theDecisionAndTheRecordCarryTheAnswer() throws {
        let rules = try RuleCompiler.compile(text: "block return in proto { tcp, udp } to port 23\nblock in proto tcp to port 24\npass in all\n").get()
        var pipeline = Pipeline(rules: rules)
        let tcp = judge(v4.tcp(sourcePort: 40000, destinationPort: 23, sequence: 1, flags: .syn), &pipeline)
        #expect(tcp.verdict == .drop && tcp.rule?.reply == .return)
        #expect(Event(decision: tcp, timestampNanoseconds: 0, queue: nil, rules: rules).detail == "return tcp_rst")
        let udp = judge(v6.udp(sourcePort: 5000, destinationPort: 23), &pipeline)
        #expect(Event(decision: udp, timestampNanoseconds: 0, queue: nil, rules: rules).detail == "return icmp_port_unreachable")
        let silent = judge(v4.tcp(sourcePort: 40001, destinationPort: 24, sequence: 1, flags: .syn), &pipeline)
        #expect(silent.verdict == .drop && silent.rule?.reply == nil)
    }
}
