import Testing
import Wire
@testable import Rules

/// `synwall table add|delete|flush|test` at the matcher: addresses and prefixes added while
/// running, their own expiry, written entries untouched, tables without `persist` changeable,
/// `const` refused, entries kept across a reload by name.
@Suite struct RuntimeTableTests {
    static let second: UInt64 = 1_000_000_000

    func prefix(_ text: String) throws -> IPPrefix { try #require(IPPrefix(text)) }
    func address(_ text: String) throws -> IPAddress { try #require(IPAddress(text)) }

    @Test func aPrefixAddedToAWrittenTableBlocksItsAddressesUntilItExpires() throws {
        // A table written in the file, not persist, not an overload target: still changeable.
        let ruleset = try #require(compiled("table <blocklist> { 192.0.2.0/28 }\nblock in quick from <blocklist>\npass in all\n"))
        var matcher = RuleMatcher(ruleset: ruleset)
        let now = 100 * Self.second
        func origin(_ source: String, at time: UInt64) -> RuleDecision.Origin {
            matcher.admit(syn(source, 1, source.contains(":") ? "2001:db8::100" : "10.0.0.1", 22),
                          context: RuleContext(direction: .in, inInterface: "eth0", now: time)).origin
        }
        #expect(origin("198.51.100.77", at: now) == .rule(1))
        #expect(matcher.addEntry(try prefix("198.51.100.0/24"), toTable: "blocklist", now: now, lifetime: 60 * Self.second) == .added)
        #expect(matcher.addEntry(try prefix("2001:db8::5"), toTable: "blocklist", now: now, lifetime: nil) == .added)
        #expect(origin("198.51.100.77", at: now + Self.second) == .rule(0), "the prefix blocks")
        #expect(origin("2001:db8::5", at: now + Self.second) == .rule(0), "the IPv6 host blocks")
        #expect(origin("198.51.101.1", at: now + Self.second) == .rule(1), "outside the prefix")
        #expect(origin("198.51.100.77", at: now + 61 * Self.second) == .rule(1), "expired after its own --expire")
        #expect(origin("2001:db8::5", at: now + 1_000_000 * Self.second) == .rule(0), "no expire: for ever")

        let test = matcher.tableMatch("blocklist", try address("192.0.2.9"), now: now)
        #expect(test == .written(first: try address("192.0.2.0"), last: try address("192.0.2.15")))
        guard case .runtime(let entry) = matcher.tableMatch("blocklist", try address("198.51.100.200"), now: now) else {
            Issue.record("the added prefix holds it")
            return
        }
        #expect(entry.prefix == (try prefix("198.51.100.0/24")) && entry.time.manual && entry.expiresAt == now + 60 * Self.second)
        #expect(matcher.tableMatch("blocklist", try address("203.0.113.1"), now: now) == nil)

        let listed = matcher.runtimeEntries(ofTable: "blocklist", now: now).map(\.prefix.description)
        #expect(listed == ["198.51.100.0/24", "2001:db8::5"])
    }

    @Test func deleteRemovesOnlyWhatWasAddedAndFlushEmptiesIt() throws {
        let ruleset = try #require(compiled("table <t> { 192.0.2.1 }\nblock in quick from <t>\npass in all\n"))
        var matcher = RuleMatcher(ruleset: ruleset)
        #expect(matcher.addEntry(try prefix("203.0.113.5"), toTable: "t", now: 0, lifetime: nil) == .added)
        #expect(matcher.addEntry(try prefix("203.0.113.5"), toTable: "t", now: 5, lifetime: nil) == .renewed)
        #expect(matcher.addEntry(try prefix("10.0.0.0/8"), toTable: "t", now: 0, lifetime: nil) == .added)
        #expect(matcher.add(try address("203.0.113.6"), toTable: "t", now: 0), "as overload does")
        #expect(matcher.removeEntry(try prefix("192.0.2.1"), fromTable: "t", now: 10) == nil, "a written entry is not deleted")
        #expect(matcher.removeEntry(try prefix("10.0.0.0/8"), fromTable: "t", now: 10)?.prefix == (try prefix("10.0.0.0/8")))
        #expect(matcher.removeEntry(try prefix("10.0.0.0/8"), fromTable: "t", now: 10) == nil, "gone already")
        #expect(!matcher.tableContains("t", try address("10.1.2.3"), now: 10))
        let overload = matcher.runtimeEntries(ofTable: "t", now: 10).first { !$0.time.manual }
        #expect(overload?.prefix == (try prefix("203.0.113.6")))
        #expect(matcher.flushTable("t", now: 10) == 2)
        #expect(matcher.runtimeEntries(now: 10).isEmpty)
        #expect(matcher.tableContains("t", try address("192.0.2.1"), now: 10), "the written entry stays")
        let decision = matcher.admit(syn("203.0.113.5", 1, "10.0.0.1", 22), context: inbound)
        #expect(decision.origin == .rule(1), "flushed: passes again")
    }

    @Test func constTablesAndUnknownNamesAreRefused() throws {
        let ruleset = try #require(compiled("table <fixed> const { 192.0.2.1 }\nblock in from <fixed>\n"))
        var matcher = RuleMatcher(ruleset: ruleset)
        #expect(matcher.addEntry(try prefix("203.0.113.5"), toTable: "fixed", now: 0, lifetime: nil) == .notChangeable)
        #expect(matcher.addEntry(try prefix("203.0.113.5"), toTable: "nope", now: 0, lifetime: nil) == .notChangeable)
    }

    @Test func aFullTableRefusesButMakesRoomFromExpiredEntries() throws {
        let ruleset = try #require(compiled("set limit table-entries 2\ntable <t> persist expire 10s\nblock in from <t>\n"))
        var matcher = RuleMatcher(ruleset: ruleset)
        #expect(matcher.addEntry(try prefix("192.0.2.1"), toTable: "t", now: 0, lifetime: nil) == .added)
        #expect(matcher.addEntry(try prefix("192.0.2.0/30"), toTable: "t", now: 0, lifetime: 100 * Self.second) == .added)
        #expect(matcher.addEntry(try prefix("192.0.2.3"), toTable: "t", now: 0, lifetime: nil) == .full)
        // After 11 s the first one (the table's expire) is gone and makes room.
        #expect(matcher.addEntry(try prefix("192.0.2.3"), toTable: "t", now: 11 * Self.second, lifetime: nil) == .added)
        let entries = matcher.runtimeEntries(ofTable: "t", now: 11 * Self.second)
        #expect(entries.map(\.prefix.description) == ["192.0.2.0/30", "192.0.2.3"])
        #expect(entries.last?.expiresAt == 21 * Self.second, "the table's expire")
    }

    @Test func addedEntriesSurviveAReloadInTablesOfTheSameNameAndRestoreWithTheirTime() throws {
        let old = try #require(compiled("table <t> { 192.0.2.1 }\nblock in from <t>\n"))
        var matcher = RuleMatcher(ruleset: old)
        #expect(matcher.addEntry(try prefix("198.51.100.0/24"), toTable: "t", now: 0, lifetime: 50 * Self.second) == .added)
        let saved = matcher.runtimeEntries(now: 0)
        matcher.replaceRuleset(try #require(compiled("table <t> persist\npass in proto tcp to port 80\nblock in from <t>\n")))
        #expect(matcher.runtimeEntries(now: 0) == saved)
        matcher.replaceRuleset(try #require(compiled("table <t> const { 192.0.2.1 }\nblock in from <t>\n")))
        #expect(matcher.runtimeEntries(now: 0).isEmpty, "a const table takes none")

        var fresh = RuleMatcher(ruleset: old)
        #expect(fresh.restoreEntry(try #require(saved.first), now: 20 * Self.second))
        #expect(fresh.runtimeEntries(now: 20 * Self.second).first?.expiresAt == 50 * Self.second, "its own time kept")
        var late = RuleMatcher(ruleset: old)
        #expect(!late.restoreEntry(try #require(saved.first), now: 60 * Self.second), "expired while down: not restored")
    }

    @Test func prefixSetRangesDescribeAsPeopleWriteThem() throws {
        let set = PrefixSet([try prefix("192.0.2.0/24"), try prefix("192.0.3.0/25"), try prefix("2001:db8::1")])
        let ranges = set.ranges().map { PrefixSet.describe(first: $0.first, last: $0.last) }
        #expect(ranges == ["192.0.2.0-192.0.3.127", "2001:db8::1"])
        #expect(PrefixSet.describe(first: try address("10.0.0.0"), last: try address("10.255.255.255")) == "10.0.0.0/8")
        #expect(set.range(containing: try address("192.0.3.5"))?.first == (try address("192.0.2.0")))
        #expect(set.range(containing: try address("192.0.3.200")) == nil)
    }
}
