import Testing
import Tracking
import Wire
@testable import Rules

@Suite struct ExplainTests {
    static let rules = """
    ext_if = "eth0"
    table <bruteforce> persist
    policy in drop log
    policy out pass
    block in quick from <bruteforce> log
    pass in on $ext_if proto tcp to port ssh max-src-conn-rate 5/30 overload <bruteforce> label "ssh"
    pass in proto udp to port domain
    pass forward in on lan0 out on wan0 label "lan out"
    pass in inet6 proto icmp6 icmp6-type echoreq
    """

    func explain(_ packet: String) throws -> String {
        let ruleset = try #require(compiled(Self.rules))
        let description = try PacketDescription.parse(packet).get()
        return Explanation(packet: description, ruleset: ruleset).text
    }

    @Test func theIssueExampleNamesTheRuleAndItsPlace() throws {
        #expect(try explain("tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags S") == """
        verdict: pass (the connection may start; the tracker follows it from here)
        packet:  tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags S
        rule 2:  test.rules:6: pass in on $ext_if proto tcp to port ssh max-src-conn-rate 5/30 overload <bruteforce> label "ssh"
        label:   ssh
        limits:  max-src-conn-rate 5/30, overload <bruteforce> (counted by the running daemon; a source over a limit is refused and added to the table)
        tables:  <bruteforce> may hold addresses added while running; only their written entries are considered here
        """)
    }

    @Test func policiesDecideWhatNoRuleMatches() throws {
        #expect(try explain("tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth1") == """
        verdict: drop (the rules block it), logged
        packet:  tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth1 flags S
        policy:  test.rules:3: policy in drop log (no rule matched)
        tables:  <bruteforce> may hold addresses added while running; only their written entries are considered here
        """)
        #expect(try explain("tcp 10.0.0.5:40000 > 198.51.100.5:443 forward in on wan0 out on lan0") == """
        verdict: drop (the rules block it)
        packet:  tcp 10.0.0.5:40000 > 198.51.100.5:443 forward in on wan0 out on lan0 flags S
        policy:  policy forward drop (default): no rule matched, and the file has no 'policy forward' line
        tables:  <bruteforce> may hold addresses added while running; only their written entries are considered here
        """)
    }

    @Test func otherFormsOfPackets() throws {
        #expect(try explain("udp [2001:db8::7]:5353 > [2001:db8::10]:domain") == """
        verdict: pass (the connection may start; the tracker follows it from here)
        packet:  udp [2001:db8::7]:5353 > [2001:db8::10]:53 in
        rule 3:  test.rules:7: pass in proto udp to port domain
        tables:  <bruteforce> may hold addresses added while running; only their written entries are considered here
        """)
        #expect(try explain("tcp 10.0.0.5:40000 -> 198.51.100.5:443 forward in on lan0 out on wan0") == """
        verdict: pass (the connection may start; the tracker follows it from here)
        packet:  tcp 10.0.0.5:40000 > 198.51.100.5:443 forward in on lan0 out on wan0 flags S
        rule 4:  test.rules:8: pass forward in on lan0 out on wan0 label "lan out"
        label:   lan out
        tables:  <bruteforce> may hold addresses added while running; only their written entries are considered here
        """)
        #expect(try explain("icmp6 2001:db8::1>2001:db8::2 type echoreq") == """
        verdict: pass (the connection may start; the tracker follows it from here)
        packet:  icmp6 2001:db8::1 > 2001:db8::2 in type 128
        rule 5:  test.rules:9: pass in inet6 proto icmp6 icmp6-type echoreq
        tables:  <bruteforce> may hold addresses added while running; only their written entries are considered here
        """)
        let unreachable = try explain("icmp 198.51.100.1 > 192.0.2.10 type unreach")
        #expect(unreachable.contains("packet:  icmp 198.51.100.1 > 192.0.2.10 in type 3\n"))
        #expect(unreachable.contains("note:    the rules see only packets that start a connection"))
        #expect(try explain("tcp 192.0.2.1:4000 > 192.0.2.2:9 out").contains("policy:  test.rules:4: policy out pass (no rule matched)"))
    }

    @Test func packetsThatStartNoConnectionGetANote() throws {
        let text = try explain("tcp 203.0.113.7:51000 > 192.0.2.10:22 on eth0 flags A")
        #expect(text.contains("note:    the rules see only packets that start a connection; with flags A and no tracked connection "
            + "the tracker drops this packet first (no_connection) unless 'set tcp pickup' is on"))
        let synAck = try explain("tcp 203.0.113.7:51000 > 192.0.2.10:22 on eth0 flags SA")
        #expect(synAck.contains("with flags SA and no tracked connection the tracker drops this packet first (no_connection)\n")
            || synAck.hasSuffix("with flags SA and no tracked connection the tracker drops this packet first (no_connection)")
            || synAck.contains("(no_connection)\ntables"))
        let description = try PacketDescription.parse("tcp 1.2.3.4:5 > 5.6.7.8:9 flags A").get()
        #expect(!description.startsConnection(pickup: false))
        #expect(description.startsConnection(pickup: true))
        #expect(try PacketDescription.parse("tcp 1.2.3.4:5 > 5.6.7.8:9").get().startsConnection(pickup: false))
        #expect(try PacketDescription.parse("udp 1.2.3.4:5 > 5.6.7.8:9").get().startsConnection(pickup: false))
        #expect(!(try PacketDescription.parse("icmp 1.2.3.4 > 5.6.7.8 type echorep").get().startsConnection(pickup: false)))
    }

    @Test func aFlowTheRulesPassButTheTrackerRefusesSaysSo() throws {
        let ruleset = try #require(compiled(Self.rules))
        let description = try PacketDescription.parse("udp 203.0.113.7:5353 > 192.0.2.10:53").get()
        let refused = Explanation(packet: description, ruleset: ruleset,
                                  tracked: TrackedVerdict(verdict: .drop, reason: .tableFull, event: nil, rulesConsulted: true))
        #expect(refused.verdict == .drop)
        #expect(refused.text.hasPrefix("verdict: drop (table_full: the rules pass it, the tracker refuses it)\n"))
        #expect(refused.text.contains("rule 3:  test.rules:7: pass in proto udp to port domain"))
    }

    @Test func descriptionsFillThePacketAndContext() throws {
        let description = try PacketDescription.parse("tcp 203.0.113.7:51000 > 192.0.2.10:ssh out on eth2 flags SEC").get()
        #expect(description.packet.source == IPAddress("203.0.113.7"))
        #expect(description.packet.destinationPort == 22)
        #expect(description.packet.sourcePort == 51000)
        #expect(description.packet.tcp?.flags == [.syn, .ece, .cwr])
        #expect(description.context == RuleContext(direction: .out, outInterface: "eth2"))
        let defaulted = try PacketDescription.parse("tcp 203.0.113.7 > 192.0.2.10:80").get()
        #expect(defaulted.packet.sourcePort == 49152)
        #expect(defaulted.context.direction == .in)
        let gre = try PacketDescription.parse("gre 10.0.0.1 > 10.0.0.2").get()
        #expect(gre.packet.protocolNumber == 47)
        let forward = try PacketDescription.parse("udp 10.0.0.1:1 > 10.0.0.2:2 forward on br0").get()
        #expect(forward.context == RuleContext(direction: .forward, inInterface: "br0"))
    }

    @Test(arguments: [
        ("tcp 1.2.3.4:5", "describe a packet as: PROTO SOURCE > DESTINATION [in|out|forward] [on IF] [flags S], e.g. 'tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags S'"),
        ("tpc 1.2.3.4:5 > 5.6.7.8:9", "unknown protocol 'tpc'; did you mean 'tcp'?"),
        ("tcp 1.2.3.4:5 < 5.6.7.8:9", "expected '>' between source and destination, found '<'"),
        ("tcp 1.2.3.4:5 > 5.6.7.8", "give the destination port: 5.6.7.8:22"),
        ("tcp 1.2.3.4:5 > 2001:db8::1", "give the destination port: [2001:db8::1]:22"),
        ("tcp 1.2.3.4:5 > [2001:db8::1]:80", "the source and destination must both be IPv4 or both IPv6"),
        ("tcp 1.2.3.400:5 > 5.6.7.8:9", "invalid source address '1.2.3.400'"),
        ("tcp 1.2.3.4:0 > 5.6.7.8:9", "invalid source port '0' (1-65535 or a service name)"),
        ("tcp [2001:db8::1:5 > [2001:db8::2]:9", "missing ']' in the source '[2001:db8::1:5'"),
        ("tcp [2001:db8::1]5 > [2001:db8::2]:9", "expected ':PORT' after ']' in the source '[2001:db8::1]5'"),
        ("icmp 1.2.3.4:5 > 5.6.7.8", "only tcp and udp have ports; remove ':5' from the source"),
        ("tcp 1.2.3.4:5 > 5.6.7.8:9 in out", "give one direction: in, out or forward"),
        ("tcp 1.2.3.4:5 > 5.6.7.8:9 in forward", "give one direction: in, out or forward"),
        ("tcp 1.2.3.4:5 > 5.6.7.8:9 on", "expected a value after 'on'"),
        ("udp 1.2.3.4:5 > 5.6.7.8:9 flags S", "'flags' applies only to tcp"),
        ("tcp 1.2.3.4:5 > 5.6.7.8:9 flags SX", "unknown TCP flag 'X' (use F S R P A U E C N, e.g. flags S or flags SA)"),
        ("tcp 1.2.3.4:5 > 5.6.7.8:9 type echoreq", "'type' applies only to icmp and icmp6"),
        ("icmp 1.2.3.4 > 5.6.7.8 type bogus", "unknown ICMP type 'bogus'"),
        ("icmp 2001:db8::1 > 2001:db8::2", "icmp is for IPv4 addresses; use icmp6 for IPv6"),
        ("icmp6 1.2.3.4 > 5.6.7.8", "icmp6 is for IPv6 addresses; use icmp for IPv4"),
        ("tcp 1.2.3.4:5 > 5.6.7.8:9 flgs S", "unexpected 'flgs'; did you mean 'flags'? (after the addresses come: in|out|forward, on IF, flags LETTERS, type NAME)"),
    ])
    func badDescriptionsSayWhatToWrite(text: String, message: String) {
        #expect(PacketDescription.parse(text).failureDescription == message)
    }
}

extension Result where Failure == PacketDescription.ParseError {
    var failureDescription: String? {
        if case .failure(let error) = self { return error.description }
        return nil
    }
}
