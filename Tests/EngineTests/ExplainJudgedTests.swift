import Engine
import Rules
import Testing
import Tracking
import Wire

/// `synwall explain` puts the described packet through the pipeline, so its verdict is the
/// one replay and the daemon give (issue 14: flags FPU used to be explained as a pass).
@Suite struct ExplainJudgedTests {
    static let rules = """
    policy in drop log
    pass in on eth0 proto tcp to port ssh label "ssh"
    """

    func judged(_ text: String, rules: String = rules) throws -> Explanation {
        let ruleset = try RuleCompiler.compile(text: rules, path: "test.rules").get()
        return Explanation.judged(packet: try PacketDescription.parse(text).get(), ruleset: ruleset)
    }

    /// The same bytes through a pipeline as `replay` builds it (checksums verified).
    func replayed(_ text: String) throws -> Decision {
        let ruleset = try RuleCompiler.compile(text: Self.rules, path: "test.rules").get()
        let description = try PacketDescription.parse(text).get()
        var pipeline = Pipeline(configuration: PipelineConfiguration(tracker: TrackerConfiguration(ruleset.settings)),
                                rules: ruleset)
        return description.bytes.withUnsafeBytes {
            pipeline.process($0, context: PacketContext(timestampNanoseconds: 1, checksum: .unverified))
        }
    }

    @Test(arguments: [
        ("FPU", "FPU", TrackerEvent.flagsXmas), ("SF", "FS", .flagsSynFin), ("SR", "SR", .flagsSynRst),
        ("F", "F", .flagsFinNoAck),
    ])
    func badFlagsAreDroppedBeforeTheRulesAsReplayDropsThem(flags: String, shown: String, event: TrackerEvent) throws {
        let packet = "tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags \(flags)"
        let explanation = try judged(packet)
        #expect(explanation.verdict == .drop)
        #expect(explanation.tracked == TrackedVerdict(verdict: .drop, reason: .invalidFlags, event: event, rulesConsulted: false))
        let replay = try replayed(packet)
        #expect(replay.verdict == .drop)
        #expect(replay.reason == .invalidFlags)
        #expect(replay.trackerEvent == event)
        let lines = explanation.text.split(separator: "\n").map(String.init)
        #expect(lines.first == "verdict: drop (invalid_flags, \(event.rawValue): the tracker drops it before the rules see it)")
        #expect(lines.dropFirst().first == "packet:  tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags \(shown)")
        #expect(!explanation.text.contains("verdict: pass"))
    }

    @Test func theWholeTextForXmasSaysWhatTheRulesWouldDo() throws {
        #expect(try judged("tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags FPU").text == """
        verdict: drop (invalid_flags, flags_xmas: the tracker drops it before the rules see it)
        packet:  tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags FPU
        rules:   not asked; a packet of this flow that reached them would get pass from:
        rule 1:  test.rules:2: pass in on eth0 proto tcp to port ssh label "ssh"
        label:   ssh
        """)
    }

    @Test func aSYNIsDecidedByTheRulesWithTheInterfaceName() throws {
        let pass = try judged("tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags S")
        #expect(pass.tracked == TrackedVerdict(verdict: .accept, reason: nil, event: nil, rulesConsulted: true))
        #expect(pass.text.hasPrefix("verdict: pass (the connection may start; the tracker follows it from here)\n"))
        let blocked = try judged("tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth1 flags S")
        #expect(blocked.tracked == TrackedVerdict(verdict: .drop, reason: .policy, event: nil, rulesConsulted: true))
        #expect(blocked.text.hasPrefix("verdict: drop (the rules block it), logged\npacket:  "))
    }

    @Test func anACKWithoutAConnectionIsNoConnectionUnlessPickupIsOn() throws {
        let ack = try judged("tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags A")
        #expect(ack.tracked?.reason == .noConnection)
        #expect(ack.text.hasPrefix("verdict: drop (no_connection, nocon_ack: the tracker drops it before the rules see it)\n"))
        let pickup = try judged("tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags A",
                                rules: Self.rules + "\nset tcp pickup\n")
        #expect(pickup.verdict == .accept)
        #expect(pickup.tracked?.rulesConsulted == true)
    }

    @Test func anICMPErrorQuotingNoFlowIsIcmpUnrelatedNamedOnce() throws {
        let explanation = try judged("icmp 198.51.100.1 > 192.0.2.10 type unreach")
        #expect(explanation.tracked?.reason == .icmpUnrelated)
        #expect(explanation.text.hasPrefix("verdict: drop (icmp_unrelated: the tracker drops it before the rules see it)\n"))
    }

    @Test func forwardedPacketsCarryBothInterfaces() throws {
        let explanation = try judged("tcp 10.0.0.5:40000 > 198.51.100.5:443 forward in on lan0 out on wan0",
                                     rules: "pass forward in on lan0 out on wan0\n")
        #expect(explanation.verdict == .accept)
        let other = try judged("tcp 10.0.0.5:40000 > 198.51.100.5:443 forward in on wan0 out on lan0",
                               rules: "pass forward in on lan0 out on wan0\n")
        #expect(other.verdict == .drop)
    }
}
