import Testing
import Tracking
import Wire
@testable import Rules

@Suite struct CompileSmokeTests {
    @Test func proposalGrammarCompiles() throws {
        let text = """
        # rules/default.rules
        ext_if = "eth0"                          # macro
        web_ports = "{ 80, 443 }"
        table <trusted> { 192.0.2.0/24, 2001:db8::/32 }
        table <bruteforce> persist               # filled by overload

        set limit states 1000000
        set timeout tcp.established 1d
        set tcp rst exact
        set log "/var/log/synwall/events.jsonl"

        policy in drop log                       # new inbound connections that match no rule
        policy out pass

        block in quick from <bruteforce> log label "brute force"
        pass  in on $ext_if proto tcp to port 22 max-src-conn-rate 5/30 overload <bruteforce> label "ssh"
        pass  in proto tcp to port $web_ports
        pass  in proto icmp icmp-type echoreq
        pass  in inet6 proto icmp6
        pass  in from <trusted>
        block in proto udp to port 53 log        # no DNS service here
        """
        let ruleset = try #require(compiled(text))
        #expect(ruleset.rules.count == 7)
        #expect(ruleset.warnings.isEmpty, "\(ruleset.warnings)")
        #expect(ruleset.settings.stateLimit == 1_000_000)
        #expect(ruleset.settings.timeouts[.tcpEstablished] == .seconds(86400))
        #expect(ruleset.settings.tcpRSTExact)
        #expect(ruleset.settings.logPath == "/var/log/synwall/events.jsonl")
        #expect(ruleset.policy(for: .in).verdict == .drop)
        #expect(ruleset.policy(for: .in).log)
        #expect(ruleset.rules[1].text == "pass in on $ext_if proto tcp to port 22 max-src-conn-rate 5/30 overload <bruteforce> label \"ssh\"")
        #expect(ruleset.rules[1].location == Rules.SourceLocation(file: "test.rules", line: 16, column: 1))
        #expect(ruleset.decidingRule(syn("203.0.113.7", 51000, "192.0.2.10", 22)) == 2)
        #expect(ruleset.decidingRule(syn("203.0.113.7", 51000, "192.0.2.10", 22), RuleContext(direction: .in, inInterface: "eth1")) == 0)
        #expect(ruleset.decidingRule(syn("203.0.113.7", 51000, "192.0.2.10", 443)) == 3)
        #expect(ruleset.decidingRule(syn("192.0.2.7", 51000, "192.0.2.10", 25)) == 6)
        #expect(ruleset.decidingRule(udp("198.51.100.1", 5000, "192.0.2.10", 53)) == 7)
        #expect(ruleset.decidingRule(ping("198.51.100.1", "192.0.2.10")) == 4)
        #expect(ruleset.decidingRule(ping("2001:db8:1::1", "2001:db8::10")) == 5)
        #expect(ruleset.decidingRule(syn("198.51.100.1", 5000, "192.0.2.10", 25)) == 0)
    }

    @Test func errorsAreAllReported() {
        let lines = headlines("""
        pass in prot tcp
        pas in
        block in from 10.0.0.300
        pass in proto tcp to port htpp
        """)
        #expect(lines == [
            "test.rules:1:9: error: unknown keyword 'prot'",
            "test.rules:2:1: error: unknown keyword 'pas'",
            "test.rules:3:15: error: invalid address '10.0.0.300'",
            "test.rules:4:27: error: unknown service 'htpp'",
        ])
        let first = diagnostics("pass in prot tcp")[0]
        #expect(first.description == """
        test.rules:1:9: error: unknown keyword 'prot'
            pass in prot tcp
                    ^~~~
            hint: did you mean 'proto'?
        """)
    }
}
