import Testing
import Tracking
import Wire
@testable import Rules

/// Each construct of the language, compiled and matched.
@Suite struct LanguageTests {
    @Test func proposalGrammarCompilesAndDecides() throws {
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
        #expect(ruleset.rules[1].text == "pass in on $ext_if proto tcp to port 22 max-src-conn-rate 5/30 overload <bruteforce> label \"ssh\"")
        #expect(ruleset.rules[1].location == Rules.SourceLocation(file: "test.rules", line: 16, column: 1))
        #expect(ruleset.rules[1].label == "ssh")
        #expect(ruleset.rules[1].limits == Rule.SourceLimits(maxConnectionRate: (5, 30), overloadTable: "bruteforce"))
        #expect(ruleset.rules[0].quick && ruleset.rules[0].log && ruleset.rules[0].action == .block)
        #expect(ruleset.decidingRule(syn("203.0.113.7", 51000, "192.0.2.10", 22)) == 2)
        #expect(ruleset.decidingRule(syn("203.0.113.7", 51000, "192.0.2.10", 22), RuleContext(direction: .in, inInterface: "eth1")) == 0)
        #expect(ruleset.decidingRule(syn("203.0.113.7", 51000, "192.0.2.10", 443)) == 3)
        #expect(ruleset.decidingRule(syn("192.0.2.7", 51000, "192.0.2.10", 25)) == 6)
        #expect(ruleset.decidingRule(udp("198.51.100.1", 5000, "192.0.2.10", 53)) == 7)
        #expect(ruleset.decidingRule(ping("198.51.100.1", "192.0.2.10")) == 4)
        #expect(ruleset.decidingRule(ping("2001:db8:1::1", "2001:db8::10")) == 5)
        #expect(ruleset.decidingRule(syn("198.51.100.1", 5000, "192.0.2.10", 25)) == 0)
        #expect(ruleset.decidingRule(syn("198.51.100.1", 5000, "192.0.2.10", 25), outbound) == 0)
        #expect(ruleset.evaluate(syn("198.51.100.1", 5000, "192.0.2.10", 25), context: outbound).verdict == .accept)
    }

    @Test func settingsAreCollected() throws {
        let ruleset = try #require(compiled("""
        set limit states 1000
        set limit src-nodes 50
        set limit table-entries 70
        set limit half-open 300
        set limit half-open-per-source 8
        set syn-rate 100/2 burst 250
        set timeout tcp.syn_sent 1m30s
        set timeout udp.single 45
        set timeout icmp 2h
        set tcp pickup
        set tcp rst window
        set log "events.jsonl"
        set reload recheck
        set state checkpoint 30s
        set state max-age 1h
        """, path: "conf/test.rules"))
        let settings = ruleset.settings
        #expect(settings.stateLimit == 1000)
        #expect(settings.sourceNodeLimit == 50)
        #expect(settings.tableEntryLimit == 70)
        #expect(settings.halfOpenLimit == 300)
        #expect(settings.halfOpenPerSourceLimit == 8)
        #expect(settings.synRate == RuleSettings.Rate(count: 100, seconds: 2, burst: 250))
        #expect(settings.timeouts == [.tcpSynSent: .seconds(90), .udpSingle: .seconds(45), .icmp: .seconds(7200)])
        #expect(settings.tcpPickup)
        #expect(!settings.tcpRSTExact)
        #expect(settings.logPath == "conf/events.jsonl")
        #expect(settings.reloadStates == .recheck)
        #expect(settings.stateCheckpoint == .seconds(30))
        #expect(settings.stateMaxAge == .seconds(3600))
        #expect(compiled("set state checkpoint off\n")?.settings.stateCheckpoint == .zero)
        #expect(compiled("# nothing\n")?.settings.stateCheckpoint == nil, "the daemon's default applies")
        #expect(RuleSettings.Rate(count: 5, seconds: 1).burst == 5)
    }

    /// `set timeout` and `expire` read durations as `synwall log --since` does (Wire's
    /// DurationText): weeks were refused here while `--since 1w` worked.
    @Test func settingsTakeTheDurationsSinceTakes() throws {
        let ruleset = try #require(compiled("""
        set timeout tcp.established 1w
        set timeout tcp.time_wait 1500ms
        table <t> persist expire 2w1d
        """, path: "conf/test.rules"))
        #expect(ruleset.settings.timeouts == [.tcpEstablished: .seconds(604_800), .tcpTimeWait: .milliseconds(1500)])
    }

    @Test func defaultPoliciesDropInAndForwardPassOut() throws {
        let ruleset = try #require(compiled("# nothing\n"))
        #expect(ruleset.policy(for: .in).verdict == .drop)
        #expect(ruleset.policy(for: .out).verdict == .accept)
        #expect(ruleset.policy(for: .forward).verdict == .drop)
        #expect(ruleset.policy(for: .in).location == nil)
        #expect(ruleset.policy(for: .in).text == "policy in drop (default)")
        let explicit = try #require(compiled("policy in accept\npolicy out block log\npolicy forward pass"))
        #expect(explicit.policy(for: .in).verdict == .accept)
        #expect(explicit.policy(for: .out).verdict == .drop)
        #expect(explicit.policy(for: .out).log)
        #expect(explicit.policy(for: .out).text == "policy out drop log")
        #expect(explicit.policy(for: .forward).verdict == .accept)
        #expect(explicit.policy(for: .out).location == Rules.SourceLocation(file: "test.rules", line: 2, column: 1))
    }

    @Test func directionsAndInterfaces() throws {
        let ruleset = try #require(compiled("""
        pass in on eth0 proto tcp to port 1
        pass out on eth0 proto tcp to port 1
        pass in on { eth1, wlan+ } proto tcp to port 2
        pass in on ! eth0 proto tcp to port 3
        pass forward in on lan0 out on wan0 proto tcp to port 4
        pass forward on dmz0 proto tcp to port 5
        pass proto tcp to port 6
        """))
        let p1 = syn("10.0.0.1", 1000, "10.0.0.2", 1)
        #expect(ruleset.decidingRule(p1, RuleContext(direction: .in, inInterface: "eth0")) == 1)
        #expect(ruleset.decidingRule(p1, RuleContext(direction: .out, outInterface: "eth0")) == 2)
        #expect(ruleset.decidingRule(p1, RuleContext(direction: .out, inInterface: "eth0", outInterface: "eth1")) == 0)
        #expect(ruleset.decidingRule(p1, RuleContext(direction: .forward, inInterface: "eth0", outInterface: "eth0")) == 0)
        let p2 = syn("10.0.0.1", 1000, "10.0.0.2", 2)
        #expect(ruleset.decidingRule(p2, RuleContext(direction: .in, inInterface: "eth1")) == 3)
        #expect(ruleset.decidingRule(p2, RuleContext(direction: .in, inInterface: "wlan0")) == 3)
        #expect(ruleset.decidingRule(p2, RuleContext(direction: .in, inInterface: "wlan")) == 3)
        #expect(ruleset.decidingRule(p2, RuleContext(direction: .in, inInterface: "eth2")) == 0)
        let p3 = syn("10.0.0.1", 1000, "10.0.0.2", 3)
        #expect(ruleset.decidingRule(p3, RuleContext(direction: .in, inInterface: "eth1")) == 4)
        #expect(ruleset.decidingRule(p3, RuleContext(direction: .in, inInterface: "eth0")) == 0)
        #expect(ruleset.decidingRule(p3, RuleContext(direction: .in)) == 4)
        let p4 = syn("10.0.0.1", 1000, "10.0.0.2", 4)
        #expect(ruleset.decidingRule(p4, RuleContext(direction: .forward, inInterface: "lan0", outInterface: "wan0")) == 5)
        #expect(ruleset.decidingRule(p4, RuleContext(direction: .forward, inInterface: "wan0", outInterface: "lan0")) == 0)
        #expect(ruleset.decidingRule(p4, RuleContext(direction: .in, inInterface: "lan0")) == 0)
        let p5 = syn("10.0.0.1", 1000, "10.0.0.2", 5)
        #expect(ruleset.decidingRule(p5, RuleContext(direction: .forward, inInterface: "dmz0", outInterface: "wan0")) == 6)
        #expect(ruleset.decidingRule(p5, RuleContext(direction: .forward, inInterface: "wan0", outInterface: "dmz0")) == 6)
        #expect(ruleset.decidingRule(p5, RuleContext(direction: .forward, inInterface: "wan0", outInterface: "lan0")) == 0)
        let p6 = syn("10.0.0.1", 1000, "10.0.0.2", 6)
        for direction in Direction.allCases {
            #expect(ruleset.decidingRule(p6, RuleContext(direction: direction)) == 7)
        }
    }

    @Test func familiesAndProtocols() throws {
        let ruleset = try #require(compiled("""
        pass inet proto tcp to port 1
        pass inet6 proto tcp to port 1
        pass proto { udp, tcp } to port 2
        pass proto gre
        pass proto 6
        """))
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 1)) == 1)
        #expect(ruleset.decidingRule(syn("2001:db8::1", 9, "2001:db8::2", 1)) == 2)
        #expect(ruleset.decidingRule(udp("10.0.0.1", 9, "10.0.0.2", 2)) == 3)
        #expect(ruleset.decidingRule(udp("10.0.0.1", 9, "10.0.0.2", 3)) == 0)
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 2)) == 3)
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 7)) == 5)
        let greBuilder = try #require(PacketBuilder(from: "10.0.0.1", to: "10.0.0.2"))
        let gre = try #require(decoded(greBuilder.ip(protocolNumber: 47, transport: [0, 0, 0, 0])))
        #expect(ruleset.decidingRule(gre) == 4)
        #expect(ruleset.decidingRule(ping("10.0.0.1", "10.0.0.2")) == 0)
    }

    @Test func addressesPrefixesListsAndNegation() throws {
        let ruleset = try #require(compiled("""
        pass proto tcp from 192.0.2.1 to port 1
        pass proto tcp from 198.51.100.0/24 to port 1
        pass proto tcp from { 10.0.0.0/8, !10.1.0.0/16, 10.1.2.0/24 } to port 2
        pass proto tcp from ! 172.16.0.0/12 to port 3
        pass proto tcp from ! { 192.0.2.0/24, 2001:db8::/32 } to port 4
        pass proto tcp from 2001:db8::/32 to 2001:db8:1::/48 port 5
        pass proto tcp from any to any port 6
        pass proto tcp all
        """))
        #expect(ruleset.decidingRule(syn("192.0.2.1", 9, "10.0.0.2", 1)) == 1)
        #expect(ruleset.decidingRule(syn("192.0.2.2", 9, "10.0.0.2", 1)) == 8)
        #expect(ruleset.decidingRule(syn("198.51.100.255", 9, "10.0.0.2", 1)) == 2)
        #expect(ruleset.decidingRule(syn("10.9.9.9", 9, "10.0.0.2", 2)) == 3)
        #expect(ruleset.decidingRule(syn("10.1.9.9", 9, "10.0.0.2", 2)) == 8, "the excluded /16")
        #expect(ruleset.decidingRule(syn("10.1.2.9", 9, "10.0.0.2", 2)) == 3, "the /24 inside the excluded /16")
        #expect(ruleset.decidingRule(syn("172.16.1.1", 9, "10.0.0.2", 3)) == 8)
        #expect(ruleset.decidingRule(syn("172.32.1.1", 9, "10.0.0.2", 3)) == 4)
        #expect(ruleset.decidingRule(syn("2001:db9::1", 9, "2001:db9::2", 3)) == 4)
        #expect(ruleset.decidingRule(syn("192.0.2.9", 9, "10.0.0.2", 4)) == 8)
        #expect(ruleset.decidingRule(syn("2001:db8::9", 9, "2001:db8::2", 4)) == 8)
        #expect(ruleset.decidingRule(syn("2001:db9::9", 9, "2001:db8::2", 4)) == 5)
        #expect(ruleset.decidingRule(syn("2001:db8::9", 9, "2001:db8:1::2", 5)) == 6)
        #expect(ruleset.decidingRule(syn("2001:db8::9", 9, "2001:db8:2::2", 5)) == 8)
        #expect(ruleset.decidingRule(syn("203.0.113.1", 9, "10.0.0.2", 6)) == 7)
    }

    @Test func portsServicesRangesListsAndComparisons() throws {
        let ruleset = try #require(compiled("""
        pass proto tcp to port ssh
        pass proto tcp to port 1000:1010
        pass proto tcp to port { http, 8000:8080, !8008 }
        pass proto tcp to port > 60000
        pass proto tcp to port <= 20
        pass proto tcp to port != 25
        pass proto udp from port domain to port >= 1024
        """))
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 22)) == 1)
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 1000)) == 2)
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 1010)) == 2)
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 80)) == 3)
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 8001)) == 3)
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 8008)) == 6)
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 60001)) == 4)
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 20)) == 5)
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 25)) == 0)
        #expect(ruleset.decidingRule(udp("10.0.0.1", 53, "10.0.0.2", 5353)) == 7)
        #expect(ruleset.decidingRule(udp("10.0.0.1", 54, "10.0.0.2", 5353)) == 0)
        #expect(ruleset.decidingRule(udp("10.0.0.1", 53, "10.0.0.2", 1023)) == 0)
        #expect(WellKnownNames.services["https"] == 443)
        #expect(WellKnownNames.services.count > 90)
    }

    @Test func icmpTypes() throws {
        let ruleset = try #require(compiled("""
        pass proto icmp icmp-type { echoreq, 13 }
        pass proto icmp6 icmp6-type neighbrsol
        """))
        #expect(ruleset.decidingRule(ping("10.0.0.1", "10.0.0.2")) == 1)
        let builder = try #require(PacketBuilder(from: "10.0.0.1", to: "10.0.0.2"))
        let timestamp = try #require(decoded(builder.icmp(type: 13, body: [UInt8](repeating: 0, count: 12))))
        let mask = try #require(decoded(builder.icmp(type: 17, body: [0, 0, 0, 0])))
        #expect(ruleset.decidingRule(timestamp) == 1)
        #expect(ruleset.decidingRule(mask) == 0)
        let builder6 = try #require(PacketBuilder(from: "fe80::1", to: "ff02::1:ff00:2"))
        let solicitation = try #require(decoded(builder6.icmp(type: 135, body: [UInt8](repeating: 0, count: 16))))
        #expect(ruleset.decidingRule(solicitation) == 2)
        #expect(ruleset.decidingRule(ping("2001:db8::1", "2001:db8::2")) == 0)
    }

    @Test func macrosExpandListsWordsAndOtherMacros() throws {
        let ruleset = try #require(compiled("""
        ports = "{ 80, 443 }"
        port_list = $ports
        net = 192.0.2.0/24
        quoted = "label \\"web\\""
        pass in proto tcp from $net to port $port_list $quoted
        """))
        let rule = try #require(ruleset.rules.first)
        #expect(rule.label == "web")
        #expect(rule.text == "pass in proto tcp from $net to port $port_list $quoted")
        #expect(ruleset.decidingRule(syn("192.0.2.5", 9, "10.0.0.2", 443)) == 1)
        #expect(ruleset.decidingRule(syn("192.0.3.5", 9, "10.0.0.2", 443)) == 0)
        // A redefinition applies from there on.
        let redefined = try #require(compiled("p = 22\npass proto tcp to port $p\np = 23\npass proto tcp to port $p"))
        #expect(redefined.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 23)) == 2)
    }

    @Test func continuationsMultiLineListsAndComments() throws {
        let ruleset = try #require(compiled("""
        # a comment line
        table <t> {   # comment inside a list
            192.0.2.0/24,
            198.51.100.0/24   # another
        }
        pass in proto tcp \\
            from <t> to port 22   # trailing comment
        pass in proto tcp to port {
            80, 443 }
        """))
        #expect(ruleset.rules.count == 2)
        #expect(ruleset.rules[0].location.line == 6)
        #expect(ruleset.rules[0].lastLine == 7)
        #expect(ruleset.rules[0].text == "pass in proto tcp from <t> to port 22")
        #expect(ruleset.rules[1].text == "pass in proto tcp to port { 80, 443 }")
        #expect(ruleset.rules[1].lastLine == 9)
        #expect(ruleset.decidingRule(syn("198.51.100.7", 9, "10.0.0.2", 22)) == 1)
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 443)) == 2)
    }

    @Test func aMissingBraceDoesNotSwallowTheFile() {
        #expect(headlines("pass in proto tcp to port { 80, 443\npass in porto tcp\n") == [
            "test.rules:1:27: error: unterminated list; expected '}'",
            "test.rules:2:9: error: unknown keyword 'porto'",
        ])
    }

    @Test func keepStateAndQuickAreAcceptedAsNoOps() throws {
        let ruleset = try #require(compiled("pass in quick proto tcp to port 22 keep state\n"))
        #expect(ruleset.rules[0].quick)
        #expect(ruleset.decidingRule(syn("10.0.0.1", 9, "10.0.0.2", 22)) == 1)
    }

    @Test func tablesMayCombineListsFilesAndOptions() throws {
        let ruleset = try #require(compiled("""
        table <a> const { 10.0.0.0/8 }
        table <b> persist expire 90 { 192.0.2.0/24 }
        block from { <a>, <b>, 203.0.113.5 }
        """))
        #expect(ruleset.tables.map(\.name) == ["a", "b"])
        #expect(ruleset.tables[0].isConst && !ruleset.tables[0].isDynamic)
        #expect(ruleset.tables[1].isDynamic)
        #expect(ruleset.tables[1].expire == .seconds(90))
        #expect(ruleset.decidingRule(syn("10.1.1.1", 9, "10.0.0.2", 22)) == 1)
        #expect(ruleset.decidingRule(syn("192.0.2.200", 9, "10.0.0.2", 22)) == 1)
        #expect(ruleset.decidingRule(syn("203.0.113.5", 9, "10.0.0.2", 22)) == 1)
        #expect(ruleset.decidingRule(syn("203.0.113.6", 9, "10.0.0.2", 22)) == 0)
    }

    @Test func durationsParse() {
        #expect(Parser.durationValue("90") == .seconds(90))
        #expect(Parser.durationValue("30s") == .seconds(30))
        #expect(Parser.durationValue("5m") == .seconds(300))
        #expect(Parser.durationValue("2h") == .seconds(7200))
        #expect(Parser.durationValue("1d") == .seconds(86400))
        #expect(Parser.durationValue("1h30m") == .seconds(5400))
        #expect(Parser.durationValue("1h30") == .seconds(3630))
        // The grammar `synwall log --since` takes (Wire's DurationText): weeks and milliseconds too.
        #expect(Parser.durationValue("1w") == .seconds(604_800))
        #expect(Parser.durationValue("1w2d") == .seconds(9 * 86400))
        #expect(Parser.durationValue("1500ms") == .milliseconds(1500))
        for bad in ["", "s", "1y", "-5", "1.5h", "h1", "99999999999"] {
            #expect(Parser.durationValue(bad) == nil, "\(bad)")
        }
    }
}
