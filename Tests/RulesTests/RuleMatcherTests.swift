import Testing
import Tracking
import Wire
@testable import Rules

/// The stateful matcher: first match, hit counters, per-source limits with an injected
/// clock, overload filling a table, expiry, connection accounting, reload.
@Suite struct RuleMatcherTests {
    static let second: UInt64 = 1_000_000_000

    func context(at seconds: Double) -> RuleContext {
        RuleContext(direction: .in, inInterface: "eth0", now: UInt64(seconds * 1e9))
    }

    @Test func firstMatchWinsAndHitsAreCounted() throws {
        let ruleset = try #require(compiled("""
        block in proto tcp from 192.0.2.66 to port 22
        pass in proto tcp to port 22
        block in proto tcp to port 22 log
        """))
        var matcher = RuleMatcher(ruleset: ruleset)
        let good = matcher.admit(syn("192.0.2.1", 5000, "10.0.0.1", 22), context: inbound)
        #expect(good == RuleDecision(verdict: .accept, origin: .rule(1), log: false))
        let bad = matcher.admit(syn("192.0.2.66", 5000, "10.0.0.1", 22), context: inbound)
        #expect(bad == RuleDecision(verdict: .drop, origin: .rule(0), log: false))
        #expect(bad.dropReason == .policy)
        let other = matcher.admit(syn("192.0.2.1", 5000, "10.0.0.1", 23), context: inbound)
        #expect(other == RuleDecision(verdict: .drop, origin: .policy(.in), log: false))
        _ = matcher.admit(syn("192.0.2.1", 5001, "10.0.0.1", 22), context: inbound)
        #expect(matcher.ruleHits == [1, 2, 0])
        #expect(matcher.policyHits == [1, 0, 0])
        #expect(good.dropReason == nil)
    }

    @Test func rateOverloadFillsTheTableAndTheBlockRuleTakesOver() throws {
        let ruleset = try #require(compiled("""
        table <bruteforce> persist
        block in quick from <bruteforce> log label "brute force"
        pass in proto tcp to port ssh max-src-conn-rate 5/30 overload <bruteforce> label "ssh"
        """))
        var matcher = RuleMatcher(ruleset: ruleset)
        let attacker = "203.0.113.7", victim = "192.0.2.10"
        // Five connections within five seconds pass; the sixth is over 5 per 30 s.
        for attempt in 0..<5 {
            let decision = matcher.admit(syn(attacker, UInt16(40000 + attempt), victim, 22), context: context(at: Double(attempt)))
            #expect(decision == RuleDecision(verdict: .accept, origin: .rule(1), log: false), "attempt \(attempt)")
        }
        let sixth = matcher.admit(syn(attacker, 40005, victim, 22), context: context(at: 5))
        #expect(sixth.verdict == .drop)
        #expect(sixth.origin == .rule(1))
        #expect(sixth.limit == .maxSourceConnectionRate)
        #expect(sixth.dropReason == .rateLimited)
        #expect(sixth.log)
        #expect(sixth.overloadTable.map { ruleset.tables[$0].name } == "bruteforce")
        #expect(ruleset.overloadTable(of: sixth) == "bruteforce")
        #expect(matcher.addedEntries(ofTable: "bruteforce", now: 5 * Self.second) == [IPAddress(attacker)].compactMap { $0 })
        // From now on the block rule decides, for any port.
        let later = matcher.admit(syn(attacker, 40006, victim, 80), context: context(at: 6))
        #expect(later == RuleDecision(verdict: .drop, origin: .rule(0), log: true))
        #expect(ruleset.label(of: later) == "brute force")
        // Another source is unaffected.
        let bystander = matcher.admit(syn("198.51.100.1", 40000, victim, 22), context: context(at: 6))
        #expect(bystander.verdict == .accept)
        // The static view (explain) does not know run-time additions.
        #expect(ruleset.evaluate(syn(attacker, 40007, victim, 22), context: inbound).origin == .rule(1))
    }

    @Test func aSlowSourceStaysUnderTheRate() throws {
        let ruleset = try #require(compiled("pass in proto tcp to port ssh max-src-conn-rate 3/10\n"))
        var matcher = RuleMatcher(ruleset: ruleset)
        // One connection every 4 seconds: the bucket settles below 3.
        for attempt in 0..<50 {
            let decision = matcher.admit(syn("203.0.113.7", UInt16(40000 + attempt), "192.0.2.10", 22),
                                         context: context(at: Double(attempt) * 4))
            #expect(decision.verdict == .accept, "attempt \(attempt)")
        }
        // Four at once are too many.
        var refused = 0
        for attempt in 0..<4 where matcher.admit(syn("203.0.113.8", UInt16(41000 + attempt), "192.0.2.10", 22),
                                                   context: context(at: 300)).verdict == .drop {
            refused += 1
        }
        #expect(refused == 1)
        // After the window the source starts afresh.
        let result1 = matcher.admit(syn("203.0.113.8", 42000, "192.0.2.10", 22), context: context(at: 311))
        #expect(result1.verdict == .accept)
    }

    @Test func maxSourceConnectionsCountsOpenConnectionsUntilTheyClose() throws {
        let ruleset = try #require(compiled("""
        table <greedy> persist
        block in from <greedy>
        pass in proto tcp to port http max-src-conn 2 overload <greedy> flush
        """))
        var matcher = RuleMatcher(ruleset: ruleset)
        let first = syn("198.51.100.9", 50000, "192.0.2.10", 80)
        let second = syn("198.51.100.9", 50001, "192.0.2.10", 80)
        let third = syn("198.51.100.9", 50002, "192.0.2.10", 80)
        func key(_ packet: Packet) -> FlowKey {
            FlowKey.make(source: packet.source, sourcePort: packet.sourcePort, destination: packet.destination,
                         destinationPort: packet.destinationPort, proto: 6).key
        }
        let result2 = matcher.admit(first, key: key(first), context: inbound)
        #expect(result2.verdict == .accept)
        let result3 = matcher.admit(second, key: key(second), context: inbound)
        #expect(result3.verdict == .accept)
        #expect(matcher.openConnections(from: first.source, rule: 1) == 2)
        // A closed connection frees its place.
        matcher.connectionClosed(key: key(first))
        #expect(matcher.openConnections(from: first.source, rule: 1) == 1)
        matcher.connectionClosed(key: key(first))  // twice: ignored
        #expect(matcher.openConnections(from: first.source, rule: 1) == 1)
        let result4 = matcher.admit(third, key: key(third), context: inbound)
        #expect(result4.verdict == .accept)
        // The source is now at its limit: the next one is refused, the source overloaded, flush asked.
        let fourth = syn("198.51.100.9", 50003, "192.0.2.10", 80)
        let refused = matcher.admit(fourth, key: key(fourth), context: inbound)
        #expect(refused.verdict == .drop)
        #expect(refused.limit == .maxSourceConnections)
        #expect(refused.dropReason == .policy)
        #expect(refused.flushSource)
        #expect(refused.overloadTable == 0)
        #expect(matcher.tableContains("greedy", first.source, now: 0))
        let result5 = matcher.admit(fourth, key: key(fourth), context: inbound)
        #expect(result5.origin == .rule(0))
    }

    @Test func keysDerivedFromThePacketMatchTheTrackersKeys() throws {
        let ruleset = try #require(compiled("pass in proto tcp to port 80 max-src-conn 1\n"))
        var matcher = RuleMatcher(ruleset: ruleset)
        let packet = syn("198.51.100.9", 50000, "192.0.2.10", 80)
        let result6 = matcher.evaluate(packet, context: inbound)
        #expect(result6.verdict == .accept)
        let result7 = matcher.evaluate(syn("198.51.100.9", 50001, "192.0.2.10", 80), context: inbound)
        #expect(result7.verdict == .drop)
        matcher.connectionClosed(key: FlowKey.make(source: packet.destination, sourcePort: 80, destination: packet.source,
                                                   destinationPort: 50000, proto: 6).key)
        #expect(matcher.openConnections(from: packet.source, rule: 0) == 0)
    }

    @Test func overloadEntriesExpire() throws {
        let ruleset = try #require(compiled("""
        table <t> persist expire 60
        block in from <t>
        pass in proto tcp max-src-conn-rate 1/10 overload <t>
        """))
        var matcher = RuleMatcher(ruleset: ruleset)
        let result8 = matcher.admit(syn("203.0.113.1", 1, "192.0.2.1", 22), context: context(at: 100))
        #expect(result8.verdict == .accept)
        let result9 = matcher.admit(syn("203.0.113.1", 2, "192.0.2.1", 22), context: context(at: 100))
        #expect(result9.overloadTable == 0)
        let result10 = matcher.admit(syn("203.0.113.1", 3, "192.0.2.1", 22), context: context(at: 159))
        #expect(result10.origin == .rule(0))
        #expect(matcher.addedEntries(ofTable: "t", now: 159 * Self.second).count == 1)
        let result11 = matcher.admit(syn("203.0.113.1", 4, "192.0.2.1", 22), context: context(at: 161))
        #expect(result11.origin == .rule(1))
        #expect(matcher.addedEntries(ofTable: "t", now: 161 * Self.second).isEmpty)
    }

    @Test func tableEntryLimitCapsOverload() throws {
        let ruleset = try #require(compiled("""
        set limit table-entries 2
        table <t> persist
        block in from <t>
        pass in proto tcp max-src-conn-rate 1/10 overload <t>
        """))
        var matcher = RuleMatcher(ruleset: ruleset)
        for host in 1...3 {
            let source = "203.0.113.\(host)"
            _ = matcher.admit(syn(source, 1, "192.0.2.1", 22), context: inbound)
            let second = matcher.admit(syn(source, 2, "192.0.2.1", 22), context: inbound)
            #expect(second.verdict == .drop)
            #expect(second.overloadTable == (host <= 2 ? 0 : nil), "host \(host)")
        }
        #expect(matcher.addedEntries(ofTable: "t", now: 0).count == 2)
    }

    @Test func sourceTrackingLimitRefusesNewSourcesWhenFull() throws {
        let ruleset = try #require(compiled("set limit src-nodes 2\npass in proto tcp max-src-conn 10\n"))
        var matcher = RuleMatcher(ruleset: ruleset)
        let result12 = matcher.admit(syn("203.0.113.1", 1, "192.0.2.1", 22), context: inbound)
        #expect(result12.verdict == .accept)
        let result13 = matcher.admit(syn("203.0.113.2", 1, "192.0.2.1", 22), context: inbound)
        #expect(result13.verdict == .accept)
        let third = matcher.admit(syn("203.0.113.3", 1, "192.0.2.1", 22), context: inbound)
        #expect(third.limit == .sourceTrackingFull)
        #expect(third.verdict == .drop)
        // Once a source has nothing open, its place can be reused.
        matcher.connectionClosed(key: FlowKey.make(source: IPAddress(ipv4: 0xCB00_7101), sourcePort: 1,
                                                   destination: IPAddress(ipv4: 0xC000_0201), destinationPort: 22, proto: 6).key)
        let result14 = matcher.admit(syn("203.0.113.3", 1, "192.0.2.1", 22), context: inbound)
        #expect(result14.verdict == .accept)
    }

    @Test func manualTableEditsAndConstTables() throws {
        let ruleset = try #require(compiled("""
        table <ops> persist
        table <fixed> const { 10.0.0.0/8 }
        pass in from { <ops>, <fixed> }
        """))
        var matcher = RuleMatcher(ruleset: ruleset)
        let address = try #require(IPAddress("198.51.100.4"))
        let result15 = matcher.admit(syn("198.51.100.4", 1, "192.0.2.1", 22), context: inbound)
        #expect(result15.origin == .policy(.in))
        let result16 = matcher.add(address, toTable: "ops", now: 0)
        #expect(result16)
        let result17 = matcher.add(address, toTable: "ops", now: 0)
        #expect(!result17, "already there")
        let result18 = matcher.add(address, toTable: "fixed", now: 0)
        #expect(!result18, "const")
        let result19 = matcher.add(address, toTable: "missing", now: 0)
        #expect(!result19)
        let result20 = matcher.admit(syn("198.51.100.4", 1, "192.0.2.1", 22), context: inbound)
        #expect(result20.origin == .rule(0))
        #expect(matcher.tableContains("fixed", IPAddress(ipv4: 0x0A01_0203), now: 0))
        let result21 = matcher.remove(address, fromTable: "ops")
        #expect(result21)
        let result22 = matcher.remove(address, fromTable: "ops")
        #expect(!result22)
        let result23 = matcher.admit(syn("198.51.100.4", 1, "192.0.2.1", 22), context: inbound)
        #expect(result23.origin == .policy(.in))
    }

    @Test func replacingTheRulesetKeepsDynamicTablesByName() throws {
        let old = try #require(compiled("table <t> persist\nblock in from <t>\n"))
        var matcher = RuleMatcher(ruleset: old)
        let address = try #require(IPAddress("203.0.113.9"))
        matcher.add(address, toTable: "t", now: 0)
        _ = matcher.admit(syn("203.0.113.9", 1, "192.0.2.1", 22), context: inbound)
        let new = try #require(compiled("table <other> persist\ntable <t> persist\npass in proto tcp to port 80\nblock in from { <t>, <other> }\n"))
        matcher.replaceRuleset(new)
        #expect(matcher.ruleHits == [0, 0])
        #expect(matcher.addedEntries(ofTable: "t", now: 0) == [address])
        let result24 = matcher.admit(syn("203.0.113.9", 1, "192.0.2.1", 22), context: inbound)
        #expect(result24.origin == .rule(1))
        let dropped = try #require(compiled("pass in all\n"))
        matcher.replaceRuleset(dropped)
        #expect(matcher.addedEntries(ofTable: "t", now: 0).isEmpty)
    }
}

@Suite struct RuleBenchmarkInputTests {
    @Test func theGeneratedInputsCompileToWhatTheBenchmarkNames() throws {
        var random = RuleBenchmark.SplitMix(state: 0x5EED_1234)
        let rules = try RuleBenchmark.compile(RuleBenchmark.thousandRules(&random), path: "generated-1000.rules")
        #expect(rules.rules.count == 1_000)
        let table = RuleBenchmark.prefixTable(&random)
        #expect(table.split(separator: "\n").count == 100_000)
        #expect(RuleBenchmark.format(80.04) == "80.0")
    }
}
