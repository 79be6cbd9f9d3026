@testable import Engine
import EventLog
import Rules
import Testing
import Tracking
import Wire

private let client = PacketBuilder(from: "192.0.2.1", to: "198.51.100.2")!
private let server = PacketBuilder(from: "198.51.100.2", to: "192.0.2.1")!
private let second: UInt64 = 1_000_000_000
private let start: UInt64 = 1_700_000_000 * second

private func judge(_ bytes: [UInt8], _ pipeline: inout Pipeline, at time: UInt64 = start,
                   direction: Direction = .in, inInterface: UInt32 = 0) -> Decision {
    bytes.withUnsafeBytes {
        pipeline.process($0, context: PacketContext(timestampNanoseconds: time, direction: direction,
                                                    inInterface: inInterface))
    }
}

private func rules(_ text: String) throws -> CompiledRuleset {
    try RuleCompiler.compile(text: text).get()
}

/// Opens a TCP connection from port `clientPort` to `port`, through the pipeline.
private func connect(_ pipeline: inout Pipeline, port: UInt16, clientPort: UInt16, at time: UInt64 = start,
                     direction: Direction = .in, inInterface: UInt32 = 0) {
    let syn = judge(client.tcp(sourcePort: clientPort, destinationPort: port, sequence: 1000, flags: .syn), &pipeline,
                    at: time, direction: direction, inInterface: inInterface)
    #expect(syn.verdict == .accept, "SYN to \(port)")
    _ = judge(server.tcp(sourcePort: port, destinationPort: clientPort, sequence: 5000, acknowledgment: 1001,
                         flags: [.syn, .ack]), &pipeline, at: time, direction: direction, inInterface: inInterface)
    let ack = judge(client.tcp(sourcePort: clientPort, destinationPort: port, sequence: 1001, acknowledgment: 5001,
                               flags: .ack), &pipeline, at: time, direction: direction, inInterface: inInterface)
    #expect(ack.state == .established, "handshake to \(port)")
}

/// A data segment on the connection `connect` opened (next sequence numbers).
private func data(_ port: UInt16, clientPort: UInt16) -> [UInt8] {
    client.tcp(sourcePort: clientPort, destinationPort: port, sequence: 1001, acknowledgment: 5001,
               flags: [.ack, .psh], payload: [1, 2, 3, 4])
}

private func connections(_ pipeline: borrowing Pipeline) -> [UInt16: ConnectionSnapshot] {
    var result: [UInt16: ConnectionSnapshot] = [:]
    pipeline.forEachConnection(now: nil) { result[$0.responderPort] = $0 }
    return result
}

private let before = """
    policy in drop
    pass in proto tcp to port { 22, 80 }
    pass in proto udp to port 53
    """

@Suite struct PipelineAccountingTests {
    @Test func flowsRecordTheirRuleAndCountsThroughThePipeline() throws {
        var pipeline = Pipeline(rules: try rules(before))
        connect(&pipeline, port: 80, clientPort: 40000)
        _ = judge(data(80, clientPort: 40000), &pipeline, at: start + 3 * second + 5)
        #expect(judge(client.udp(sourcePort: 5353, destinationPort: 53), &pipeline).verdict == .accept)
        let flows = connections(pipeline)
        let web = try #require(flows[80])
        #expect(web.ruleIndex == 0)
        #expect(web.createdSeconds == start / second)
        #expect(web.lastSeenSeconds == start / second + 3)
        #expect((web.initiatorPackets, web.initiatorBytes) == (3, 40 + 40 + 44))
        #expect((web.responderPackets, web.responderBytes) == (1, 40))
        #expect(flows[53]?.ruleIndex == 1)
        #expect(flows[53]?.initiatorBytes == 28)

        var open = Pipeline()
        connect(&open, port: 22, clientPort: 40001)
        #expect(connections(open)[22]?.ruleIndex == nil, "no rule file: no rule")
    }
}

@Suite struct PipelineReloadTests {
    @Test func recheckCutsWhatTheNewRulesBlock() throws {
        var pipeline = Pipeline(rules: try rules(before))
        connect(&pipeline, port: 22, clientPort: 40000)
        connect(&pipeline, port: 80, clientPort: 40001)
        _ = judge(client.udp(sourcePort: 5353, destinationPort: 53), &pipeline)
        #expect(pipeline.trackedFlows == 3)

        let outcome = pipeline.replaceRules(try rules("""
            set reload recheck
            policy in drop
            pass in proto udp to port 53
            pass in proto tcp to port 80
            """), now: start + 10 * second)
        #expect(outcome.mode == .recheck)
        #expect(outcome.kept == 2)
        #expect(outcome.cut == 1)
        #expect(outcome.keptBlocked == 0)
        #expect(outcome.cutExamples.map(\.responderPort) == [22])
        #expect(outcome.cutExamples.first?.state == .established)
        #expect(pipeline.trackedFlows == 2)
        #expect(pipeline.trackerStatistics.removedByReload == 1)
        let flows = connections(pipeline)
        #expect(flows[80]?.ruleIndex == 1, "the new rules' passing rule")
        #expect(flows[53]?.ruleIndex == 0)
        #expect(pipeline.ruleHits == [0, 0], "a recheck is not a hit")

        // The cut connection's next segment has no connection; the kept one flows on.
        let cut = judge(data(22, clientPort: 40000), &pipeline, at: start + 11 * second)
        #expect(cut.verdict == .drop)
        #expect(cut.reason == .noConnection)
        #expect(judge(data(80, clientPort: 40001), &pipeline, at: start + 11 * second).verdict == .accept)

        let event = Event(reload: outcome, timestampNanoseconds: 5, queue: 0)
        #expect(event.eventType == .reload)
        #expect(event.reason == "recheck")
        #expect(event.detail == "kept=2 cut=1; cut: TCP 192.0.2.1:40000 > 198.51.100.2:22 ESTABLISHED")
        #expect(outcome.isWorthAnEvent)
    }

    @Test func keepLeavesEveryFlowButForgetsTheOldRule() throws {
        var pipeline = Pipeline(rules: try rules(before))
        connect(&pipeline, port: 22, clientPort: 40000)
        connect(&pipeline, port: 80, clientPort: 40001)
        let outcome = pipeline.replaceRules(try rules("""
            policy in drop
            pass in proto tcp to port 80
            """))
        #expect(outcome == ReloadOutcome(mode: .keep, kept: 2, keptBlocked: 1, cut: 0))
        #expect(outcome.isWorthAnEvent)
        #expect(Event(reload: outcome, timestampNanoseconds: 5, queue: 1).detail == "kept=2 blocked_kept=1")
        let flows = connections(pipeline)
        #expect(flows[22]?.ruleIndex == nil, "the new rules would block it")
        #expect(flows[80]?.ruleIndex == 0)
        #expect(judge(data(22, clientPort: 40000), &pipeline).verdict == .accept)

        let quiet = pipeline.replaceRules(try rules("pass in proto tcp\n"))
        #expect(quiet == ReloadOutcome(mode: .keep, kept: 2))
        #expect(!quiet.isWorthAnEvent)
    }

    @Test func recheckJudgesAFlowWithTheHookAndInterfaceOfItsFirstPacket() throws {
        let names = InterfaceNames(resolver: { [3: "eth1", 4: "eth2"][$0] })
        var pipeline = Pipeline(interfaceNames: names)  // no rules at first: flows still keep their origin
        connect(&pipeline, port: 22, clientPort: 40000, direction: .in, inInterface: 3)
        connect(&pipeline, port: 22, clientPort: 40001, direction: .in, inInterface: 4)
        connect(&pipeline, port: 443, clientPort: 40002, direction: .out)
        let outcome = pipeline.replaceRules(try rules("""
            set reload recheck
            policy in drop
            policy out drop
            pass in on eth1 proto tcp to port 22
            pass out proto tcp to port 443
            """))
        #expect(outcome.kept == 2)
        #expect(outcome.cut == 1)
        #expect(outcome.cutExamples.first?.initiatorPort == 40001, "came in on eth2")
        var kept: [UInt16: Int?] = [:]
        pipeline.forEachConnection(now: nil) { kept[$0.initiatorPort] = $0.ruleIndex }
        #expect(kept == [40000: 0, 40002: 1])
    }

    @Test func recheckCountsLiveFlowsForMaxSourceConnections() throws {
        var pipeline = Pipeline(rules: try rules("pass in proto tcp to port 22\n"))
        connect(&pipeline, port: 22, clientPort: 40000)
        _ = pipeline.replaceRules(try rules("""
            set reload recheck
            policy in drop
            pass in proto tcp to port 22 max-src-conn 1
            """))
        #expect(pipeline.trackedFlows == 1)
        let second = judge(client.tcp(sourcePort: 40001, destinationPort: 22, sequence: 1, flags: .syn), &pipeline)
        #expect(second.verdict == .drop, "the live connection counts as the source's one")
        #expect(second.rule?.limit == .maxSourceConnections)
    }

    @Test func recheckOfUDPAndICMPFlowsUsesTheirFirstPacket() throws {
        var pipeline = Pipeline()
        #expect(judge(client.udp(sourcePort: 5353, destinationPort: 53), &pipeline).verdict == .accept)
        #expect(judge(client.icmpEcho(identifier: 7, sequence: 1), &pipeline).verdict == .accept)
        #expect(judge(client.ip(protocolNumber: 47, transport: [0, 0, 8, 0]), &pipeline).verdict == .accept)
        let outcome = pipeline.replaceRules(try rules("""
            set reload recheck
            policy in drop
            pass in proto icmp icmp-type echoreq
            pass in proto gre
            """))
        #expect(outcome.kept == 2)
        #expect(outcome.cut == 1)
        #expect(outcome.cutExamples.first?.proto == 17)
    }
}

@Suite struct PipelineGradualReloadTests {
    /// 200 connections to port 80 and 200 to 22; the new rules only pass 22.
    private func loaded() throws -> Pipeline {
        var pipeline = Pipeline(rules: try rules(before))
        for i in 0..<UInt16(200) {
            connect(&pipeline, port: 80, clientPort: 20000 + i)
            connect(&pipeline, port: 22, clientPort: 30000 + i)
        }
        return pipeline
    }

    private let after = """
        set reload recheck
        policy in drop
        pass in proto tcp to port 22
        """

    @Test func aBudgetedCheckEndsWhereTheWholeOneDoes() throws {
        var whole = try loaded()
        let expected = whole.replaceRules(try rules(after), now: start)
        #expect((expected.kept, expected.cut) == (200, 200))

        var gradual = try loaded()
        var outcome = gradual.beginReplacingRules(try rules(after), now: start, budget: 7)
        let revising = gradual.isRevising
        #expect(outcome == nil && revising, "7 entries are not all of them")
        var rounds = 1
        while outcome == nil, rounds < 1000 {
            outcome = gradual.continueRevision(now: start, budget: 7)
            rounds += 1
        }
        let stillRevising = gradual.isRevising
        #expect(!stillRevising)
        #expect(rounds == (400 + 6) / 7, "one budget per round: \(rounds)")
        #expect(outcome?.kept == expected.kept && outcome?.cut == expected.cut)
        #expect(connections(gradual).keys.sorted() == [22], "only the connections to 22 are left")
        let flows = gradual.trackedFlows
        #expect(flows == 200)
        let again = gradual.continueRevision(now: start, budget: 7)
        #expect(again == nil, "nothing left to check")
    }

    @Test func newFlowsMeetTheNewRulesWhileTheCheckGoesOn() throws {
        var pipeline = try loaded()
        let begun = pipeline.beginReplacingRules(try rules(after), now: start, budget: 10)
        #expect(begun == nil)
        let syn = judge(client.tcp(sourcePort: 50000, destinationPort: 80, sequence: 1, flags: .syn), &pipeline)
        #expect(syn.verdict == .drop, "a new connection to 80 is refused at once")
        #expect(judge(data(80, clientPort: 20199), &pipeline).verdict == .accept,
                "a live connection to 80 not yet checked keeps going")
    }

    @Test func aReloadDuringACheckStartsItAgainAndKeepsTheCutCount() throws {
        var pipeline = try loaded()
        let begun = pipeline.beginReplacingRules(try rules(after), now: start, budget: 100)
        #expect(begun == nil)
        let none = """
            set reload recheck
            policy in drop
            """
        var outcome = pipeline.beginReplacingRules(try rules(none), now: start, budget: 100)
        var rounds = 0
        while outcome == nil, rounds < 100 {
            outcome = pipeline.continueRevision(now: start, budget: 100)
            rounds += 1
        }
        #expect(outcome?.cut == 400, "every flow cut once, across both reloads")
        #expect(outcome?.kept == 0)
        let flows = pipeline.trackedFlows
        #expect(flows == 0)
    }
}

@Suite struct SharedTableTests {
    @Test("an address another worker's overload added blocks here too, until the table's expiry")
    func addToTableBlocks() throws {
        var pipeline = Pipeline(rules: try rules("""
            table <bruteforce> persist expire 60s
            policy in drop
            block in quick from <bruteforce>
            pass in proto tcp to port 80
            """))
        let source = try #require(IPAddress("192.0.2.1"))
        let added = pipeline.addToTable("bruteforce", source, now: start)
        let again = pipeline.addToTable("bruteforce", source, now: start + second)
        let unknown = pipeline.addToTable("nosuchtable", source, now: start)
        #expect(added && !again && !unknown, "added once; already in it; no such table")
        let syn = client.tcp(sourcePort: 40000, destinationPort: 80, sequence: 1000, flags: .syn)
        let blocked = judge(syn, &pipeline, at: start + 2 * second)
        #expect(blocked.verdict == .drop && blocked.rule?.origin == .rule(0), "\(blocked)")
        // The addition keeps its own time: 60 s after it, the source may connect again.
        let later = judge(syn, &pipeline, at: start + 61 * second)
        #expect(later.verdict == .accept, "\(later)")
        var noRules = Pipeline(rules: nil)
        let withoutRules = noRules.addToTable("bruteforce", source, now: start)
        #expect(!withoutRules)
    }
}

@Suite struct OverloadFlushTests {
    private let other = PacketBuilder(from: "192.0.2.77", to: "198.51.100.2")!

    @Test("overload … flush cuts the source's open connections through that rule, no others")
    func flushCutsTheSourcesFlows() throws {
        var pipeline = Pipeline(rules: try rules("""
            table <greedy> persist
            policy in drop
            block in quick from <greedy>
            pass in proto tcp to port 22
            pass in proto tcp to port 80 max-src-conn 2 overload <greedy> flush
            """))
        connect(&pipeline, port: 80, clientPort: 40000)
        connect(&pipeline, port: 80, clientPort: 40001)
        connect(&pipeline, port: 22, clientPort: 40002)
        // Another source's connection through the same rule.
        let syn = other.tcp(sourcePort: 41000, destinationPort: 80, sequence: 1000, flags: .syn)
        #expect(judge(syn, &pipeline).verdict == .accept)
        let tracked = pipeline.trackedFlows
        #expect(tracked == 4)

        // A third connection to port 80: over max-src-conn, the source is overloaded and flushed.
        let third = judge(client.tcp(sourcePort: 40003, destinationPort: 80, sequence: 1000, flags: .syn), &pipeline)
        #expect(third.verdict == .drop && third.rule?.flushSource == true && third.rule?.overloadTable != nil)
        let flushing = pipeline.isFlushing
        #expect(!flushing, "a small table is flushed at once")
        let left = connections(pipeline)
        #expect(left[80]?.initiatorAddress == IPAddress("192.0.2.77"), "the other source's flow stays: \(left)")
        #expect(left[22] != nil, "a flow through another rule stays (as pf's flush)")
        let flushed = pipeline.trackerStatistics.flushed
        #expect(flushed == 2)
        // The cut connection's next segment is no longer known (and the source is blocked).
        #expect(judge(data(80, clientPort: 40000), &pipeline).verdict == .drop)
    }

    @Test("a flush spread over calls (small budget) ends with the same flows cut; requests are bounded and deduplicated")
    func flushInSteps() throws {
        var pipeline = Pipeline(rules: try rules("pass in proto tcp to port 80\n"))
        for port in 0..<100 { connect(&pipeline, port: 80, clientPort: UInt16(40000 + port)) }
        let source = try #require(IPAddress("192.0.2.1"))
        pipeline.requestFlush(source: source, rule: 0)
        pipeline.requestFlush(source: source, rule: 0)
        var calls = 0
        while pipeline.isFlushing && calls < 1000 {
            pipeline.continueFlush(now: start, budget: 7)
            calls += 1
        }
        let stillFlushing = pipeline.isFlushing
        let remaining = pipeline.trackedFlows
        let flushed = pipeline.trackerStatistics.flushed
        #expect(calls >= 100 / 7 && !stillFlushing, "\(calls) calls")
        #expect(remaining == 0 && flushed == 100)
        // Another rule index: nothing to cut.
        connect(&pipeline, port: 80, clientPort: 50000)
        pipeline.requestFlush(source: source, rule: 5)
        pipeline.continueFlush(now: start, budget: .max)
        let kept = pipeline.trackedFlows
        #expect(kept == 1)
    }
}
