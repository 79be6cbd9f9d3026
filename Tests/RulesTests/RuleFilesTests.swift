import Testing
import Tracking
import Wire
@testable import Rules
#if canImport(Glibc)
import Glibc
#endif

/// The files shipped in rules/: each compiles without errors or warnings, and decides as
/// its comments say.
@Suite struct RuleFilesTests {
    /// The repository's rules/ directory, found from this source file.
    static let directory: String = {
        let file = #filePath
        var parts = file.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/RulesTests/RuleFilesTests.swift
        return parts.joined(separator: "/") + "/rules"
    }()

    static let ruleFiles: [String] = {
        var names: [String] = []
        if let stream = opendir(directory) {
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name.hasSuffix(".rules") { names.append(name) }
            }
            closedir(stream)
        }
        return names.sorted()
    }()

    @Test func theExpectedFilesAreThere() {
        #expect(Self.ruleFiles == ["common.rules", "default.rules", "router.rules", "ssh-bastion.rules", "web-server.rules"])
    }

    @Test(arguments: ruleFiles)
    func passesCheckWithoutWarnings(name: String) throws {
        switch RuleCompiler.compile(file: Self.directory + "/" + name) {
        case .success(let ruleset):
            #expect(ruleset.warnings.isEmpty, "\(ruleset.warnings)")
            #expect(!ruleset.rules.isEmpty)
        case .failure(let diagnostics):
            Issue.record("\(name):\n\(diagnostics)")
        }
    }

    func ruleset(_ name: String) throws -> CompiledRuleset {
        try RuleCompiler.compile(file: Self.directory + "/" + name).get()
    }

    func label(_ ruleset: CompiledRuleset, _ packet: String) throws -> String {
        let description = try PacketDescription.parse(packet).get()
        let decision = ruleset.evaluate(description.packet, context: description.context)
        return ruleset.label(of: decision) ?? (decision.verdict == .accept ? "policy pass" : "policy drop")
    }

    @Test func defaultLetsSSHAndWebInEverythingOutAndBlocksAndLogsTheRest() throws {
        let rules = try ruleset("default.rules")
        #expect(try label(rules, "tcp 203.0.113.7:51000 > 192.0.2.10:22 on eth0") == "ssh")
        #expect(try label(rules, "tcp 203.0.113.7:51000 > 192.0.2.10:443") == "web")
        #expect(try label(rules, "udp 203.0.113.7:51000 > 192.0.2.10:443") == "http3")
        #expect(try label(rules, "tcp [2001:db8::7]:51000 > [2001:db8::10]:80") == "web")
        #expect(try label(rules, "tcp 203.0.113.7:51000 > 192.0.2.10:3306") == "policy drop")
        #expect(rules.policy(for: .in).log)
        #expect(try label(rules, "tcp 192.0.2.10:51000 > 198.51.100.1:25 out on eth0") == "policy pass")
        #expect(try label(rules, "tcp 127.0.0.1:51000 > 127.0.0.1:5432 in on lo") == "loopback")
        #expect(try label(rules, "icmp 203.0.113.7 > 192.0.2.10") == "ping")
        #expect(try label(rules, "icmp6 2001:db8::7 > 2001:db8::10 type neighbrsol") == "icmp6")
        #expect(rules.settings.stateLimit == 200_000)
    }

    @Test func webServer() throws {
        let rules = try ruleset("web-server.rules")
        #expect(try label(rules, "tcp 203.0.113.7:51000 > 192.0.2.10:443 on eth0") == "web")
        #expect(try label(rules, "tcp 198.51.100.9:51000 > 192.0.2.10:443 on eth0") == "blocklist")
        #expect(try label(rules, "tcp 203.0.113.77:51000 > 192.0.2.10:443 on eth0") == "web", "excluded from the blocklist")
        #expect(try label(rules, "tcp 203.0.113.78:51000 > 192.0.2.10:443 on eth0") == "blocklist")
        #expect(try label(rules, "tcp 192.0.2.44:51000 > 192.0.2.10:22 on eth0") == "admin ssh")
        #expect(try label(rules, "tcp 203.0.113.7:51000 > 192.0.2.10:22 on eth0") == "policy drop")
        #expect(try label(rules, "tcp 192.0.2.10:51000 > 198.51.100.1:25 out on eth0") == "no direct mail")
        #expect(try label(rules, "tcp 127.0.0.1:51000 > 127.0.0.1:8080 in on lo") == "loopback")
        #expect(rules.settings.synRate == RuleSettings.Rate(count: 200, seconds: 1, burst: 400))
        #expect(rules.settings.halfOpenPerSourceLimit == 64)
    }

    @Test func sshBastionLocksOutBruteForce() throws {
        let rules = try ruleset("ssh-bastion.rules")
        var matcher = RuleMatcher(ruleset: rules)
        let context = RuleContext(direction: .in, inInterface: "eth0", now: 0)
        var decisions: [RuleDecision] = []
        for port in 0..<5 {
            decisions.append(matcher.admit(syn("203.0.113.7", UInt16(40000 + port), "192.0.2.10", 22), context: context))
        }
        #expect(decisions.map(\.verdict) == [.accept, .accept, .accept, .drop, .drop])
        #expect(decisions[3].limit == .maxSourceConnectionRate)
        #expect(rules.overloadTable(of: decisions[3]) == "bruteforce")
        #expect(decisions[3].flushSource)
        #expect(rules.label(of: decisions[4]) == "bruteforce")
        // A trusted network is never locked out.
        for port in 0..<10 {
            let trusted = matcher.admit(syn("198.51.100.7", UInt16(40000 + port), "192.0.2.10", 22), context: context)
            #expect(rules.label(of: trusted) == "trusted ssh")
        }
        #expect(try label(rules, "tcp 192.0.2.10:40000 > 10.1.2.3:22 out") == "jump")
        #expect(try label(rules, "tcp 192.0.2.10:40000 > 198.51.100.1:25 out") == "policy drop")
    }

    @Test func routerForwardsTheLANOutAndPublishesOneServer() throws {
        let rules = try ruleset("router.rules")
        #expect(try label(rules, "tcp 10.0.0.20:40000 > 198.51.100.1:443 forward in on lan0 out on wan0") == "lan to internet")
        #expect(try label(rules, "tcp 198.51.100.1:40000 > 10.0.0.20:22 forward in on wan0 out on lan0") == "policy drop")
        #expect(try label(rules, "tcp 198.51.100.1:40000 > 10.0.0.10:443 forward in on wan0 out on lan0") == "published web")
        #expect(try label(rules, "tcp [2001:db8:ff::1]:40000 > [2001:db8:a::10]:80 forward in on wan0 out on lan0") == "published web")
        #expect(try label(rules, "udp 0.0.0.0:68 > 255.255.255.255:67 in on lan0") == "dhcp")
        #expect(try label(rules, "tcp 10.0.0.20:40000 > 10.0.0.1:22 in on lan0") == "admin")
        #expect(try label(rules, "tcp 198.51.100.1:40000 > 203.0.113.1:22 in on wan0") == "policy drop")
        #expect(try label(rules, "icmp6 2001:db8:ff::1 > 2001:db8:a::20 forward in on wan0 out on lan0") == "ping6 across")
        #expect(try label(rules, "icmp6 2001:db8:ff::1 > 2001:db8:a::20 forward in on wan0 out on lan0 type toobig") == "policy drop")
    }
}
