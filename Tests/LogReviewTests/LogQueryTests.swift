import EventLog
import LogReview
import LogTestSupport
import Testing
import Wire

private let base: UInt64 = 1_795_554_191_000_000_000  // 2026-11-24T21:03:11Z
private let hour: UInt64 = 3_600_000_000_000

@Suite struct LogQueryTests {
    private let v4 = sampleDrop("203.0.113.7", port: 22, reason: "bad_seq", at: base,
                                rule: EventRule(file: "/etc/synwall/default.rules", line: 12, label: "ssh"))
    private let v6 = Event(timestampNanoseconds: base + hour, eventType: .alert, proto: "TCP", sourceIP: "2001:db8::7",
                           sourcePort: 443, destinationIP: "2001:db8:1::1", destinationPort: 51000, reason: "policy",
                           rule: EventRule(file: "web.rules", line: 3))
    private let mapped = sampleDrop("::ffff:198.51.100.9", port: 80, at: base + 2 * hour)
    private let start = Event(timestampNanoseconds: base + 3 * hour, eventType: .start)

    private func matching(_ query: LogQuery) -> [Event] {
        [v4, v6, mapped, start].filter { query.matches($0) }
    }

    @Test func emptyMatchesAll() {
        #expect(LogQuery().isEmpty)
        #expect(matching(LogQuery()).count == 4)
    }

    @Test func sinceAndUntilAbsoluteAndRelative() throws {
        #expect(matching(LogQuery(since: base + hour)) == [v6, mapped, start])
        #expect(matching(LogQuery(until: base + hour)) == [v4])  // until is exclusive
        #expect(matching(LogQuery(since: base + 1, until: base + 2 * hour + 1)) == [v6, mapped])
        let now = base + 3 * hour
        let since = try #require(LogTime.parse("2h30m", now: now))
        #expect(since == base + 30 * 60_000_000_000)
        #expect(matching(LogQuery(since: since)) == [v6, mapped, start])
        #expect(LogTime.parse("2026-11-24T22:03:11+01:00", now: now) == base)
        #expect(LogTime.parse("2026-11-24", now: now) == base - (21 * 3600 + 3 * 60 + 11) * 1_000_000_000)
        #expect(LogTime.parse("now", now: now) == now)
        #expect(LogTime.parse("1d", now: 5) == 0)  // clamped at the epoch
        // The rule files' grammar (Wire's DurationText): a trailing number counts seconds.
        #expect(LogTime.parse("90", now: now) == now - 90_000_000_000)
        #expect(LogTime.parse("1h2", now: now) == now - hour - 2_000_000_000)
        for bad in ["", "h", "1x", "1h2x", "yesterday", "-1h", "2026-11-32"] {
            #expect(LogTime.parse(bad, now: now) == nil, "\(bad)")
        }
    }

    @Test func sourceAndDestinationByAddressOrPrefix() throws {
        func prefix(_ text: String) throws -> IPPrefix { try #require(IPPrefix(text)) }
        #expect(matching(LogQuery(sources: [try prefix("203.0.113.7")])) == [v4])
        #expect(matching(LogQuery(sources: [try prefix("203.0.113.0/24")])) == [v4])
        #expect(matching(LogQuery(sources: [try prefix("203.0.112.0/23")])) == [v4])
        #expect(matching(LogQuery(sources: [try prefix("203.0.114.0/24")])).isEmpty)
        #expect(matching(LogQuery(sources: [try prefix("2001:db8::/32")])) == [v6])
        #expect(matching(LogQuery(sources: [try prefix("198.51.100.0/24")])) == [mapped])  // IPv4-mapped text
        #expect(matching(LogQuery(sources: [try prefix("0.0.0.0/0")])) == [v4, mapped])
        #expect(matching(LogQuery(sources: [try prefix("::/0")])) == [v6, mapped])
        #expect(matching(LogQuery(sources: [try prefix("203.0.113.7"), try prefix("2001:db8::7")])) == [v4, v6])
        #expect(matching(LogQuery(destinations: [try prefix("2001:db8:1::/48")])) == [v6])
        #expect(matching(LogQuery(destinations: [try prefix("192.0.2.10/32")])) == [v4, mapped])
        #expect(IPPrefix("203.0.113.77/24")?.description == "203.0.113.0/24")
        #expect(IPPrefix("2001:db8::1")?.description == "2001:db8::1")
        for bad in ["", "203.0.113", "203.0.113.256", "203.0.113.7/33", "2001:db8::/129", "a.b.c.d", "1.2.3.4/-1", "1.2.3.4.5",
                    "example.com"] {
            #expect(IPPrefix(bad) == nil, "\(bad)")
        }
    }

    @Test func portMatchesEitherEnd() {
        #expect(matching(LogQuery(ports: [22])) == [v4])
        #expect(matching(LogQuery(ports: [443])) == [v6])  // the source port
        #expect(matching(LogQuery(ports: [80, 51000])) == [v6, mapped])
        #expect(matching(LogQuery(ports: [9])).isEmpty)
    }

    @Test func reasonRuleAndEventType() {
        #expect(matching(LogQuery(reasons: ["bad_seq"])) == [v4])
        #expect(matching(LogQuery(reasons: ["policy", "invalid_flags"])) == [v6, mapped])
        #expect(matching(LogQuery(rules: ["ssh"])) == [v4])
        #expect(matching(LogQuery(rules: ["/etc/synwall/default.rules:12"])) == [v4])
        #expect(matching(LogQuery(rules: ["default.rules:12"])) == [v4])
        #expect(matching(LogQuery(rules: ["web.rules:3"])) == [v6])
        #expect(matching(LogQuery(rules: ["3"])) == [v6])
        #expect(matching(LogQuery(rules: ["web"])).isEmpty)
        #expect(matching(LogQuery(eventTypes: [.start])) == [start])
        #expect(matching(LogQuery(eventTypes: [.drop, .alert])) == [v4, v6, mapped])
    }

    @Test func conditionsCombineWithAnd() throws {
        let query = LogQuery(since: base, sources: [try #require(IPPrefix("203.0.113.0/24"))], ports: [22],
                             reasons: ["bad_seq"], eventTypes: [.drop])
        #expect(matching(query) == [v4])
        var narrower = query
        narrower.reasons = ["invalid_flags"]
        #expect(matching(narrower).isEmpty)
    }
}
