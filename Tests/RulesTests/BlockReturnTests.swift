import Testing
import Wire
@testable import Rules

/// `block return`, `return-rst`, `return-icmp` (pf's spelling): parsed into the rule, carried
/// by the decision, said by `explain`; `set return rate`.
@Suite struct BlockReturnTests {
    @Test func theThreeFormsParseAndTheDecisionCarriesThem() throws {
        let ruleset = try #require(compiled("""
        set return rate 50/s burst 10
        block return in proto tcp to port 23
        block return-rst in proto tcp to port 25
        block return-icmp in proto udp to port 53
        block return-icmp6 in inet6 proto udp to port 54
        block in proto tcp to port 26
        pass in all
        """))
        #expect(ruleset.rules.map(\.reply) == [.return, .rst, .icmp, .icmp, nil, nil])
        #expect(ruleset.rules[0].text == "block return in proto tcp to port 23")
        #expect(ruleset.settings.returnRate == RuleSettings.Rate(count: 50, seconds: 1, burst: 10))
        var matcher = RuleMatcher(ruleset: ruleset)
        #expect(matcher.admit(syn("192.0.2.1", 1, "10.0.0.1", 23), context: inbound).reply == .return)
        #expect(matcher.admit(syn("192.0.2.1", 1, "10.0.0.1", 26), context: inbound).reply == nil)
        #expect(matcher.admit(syn("192.0.2.1", 1, "10.0.0.1", 80), context: inbound).reply == nil)
        #expect(RuleSettings().returnRate == nil && RuleSettings.defaultReturnRate.count == 100)
    }

    @Test func whatEachFormAnswers() {
        #expect(RuleReply.return.kind(forProtocol: 6) == .tcpReset)
        #expect(RuleReply.return.kind(forProtocol: 17) == .icmpPortUnreachable)
        #expect(RuleReply.return.kind(forProtocol: 1) == .icmpProhibited)
        #expect(RuleReply.rst.kind(forProtocol: 6) == .tcpReset)
        #expect(RuleReply.rst.kind(forProtocol: 17) == nil)
        #expect(RuleReply.icmp.kind(forProtocol: 6) == .icmpPortUnreachable)
        #expect(RuleReply.icmp.kind(forProtocol: 58) == .icmpProhibited)
    }

    @Test func explainSaysTheVerdictIncludesTheAnswer() throws {
        let ruleset = try #require(compiled("block return in proto { tcp, udp }\nblock return-rst in proto { tcp, udp } to port 9\npass in all\n"))
        func text(_ packet: String) throws -> String {
            Explanation(packet: try PacketDescription.parse(packet).get(), ruleset: ruleset).text
        }
        #expect(try text("tcp 203.0.113.7:51000 > 192.0.2.10:22 in").hasPrefix(
            "verdict: drop (the rules block it), and the sender gets a TCP RST (block return)\n"))
        #expect(try text("udp [2001:db8::1]:5000 > [2001:db8::2]:53 in").hasPrefix(
            "verdict: drop (the rules block it), and the sender gets an ICMPv6 port unreachable (block return)\n"))
    }
}
