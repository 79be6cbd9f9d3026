import Testing
@testable import Control

@Suite struct ViewTests {
    static func report() -> StatsReport {
        var q0 = WorkerStats(queue: 0)
        q0.received = 100
        q0.accepted = 90
        q0.dropped = 10
        q0.drops = ["bad_seq": 7, "policy": 3, "malformed": 0]
        q0.states = 5
        q0.capacity = 1000
        var q1 = WorkerStats(queue: 1)
        q1.received = 50
        q1.accepted = 50
        q1.drops = ["bad_seq": 0, "policy": 0, "malformed": 0]
        q1.states = 2
        q1.capacity = 1000
        return StatsReport(pid: 42, startedAt: 1000, takenAt: 1125, rulesFile: "/etc/synwall/synwall.rules", rulesCount: 1,
                           workers: [q0, q1], unanswered: [],
                           log: LogStats(path: "/var/log/synwall/events.jsonl", posted: 10, written: 9, lost: 1,
                                         suppressed: 0, unwritten: 0, writeFailures: 0, rotations: 0),
                           rules: [RuleHits(number: 1, action: "pass", location: "/etc/synwall/synwall.rules:3",
                                            text: "pass in proto tcp to port ssh label \"ssh\"", label: "s\"sh", hits: 12)])
    }

    @Test("the total adds every worker")
    func total() {
        let total = Self.report().total
        #expect(total.received == 150 && total.accepted == 140 && total.dropped == 10)
        #expect(total.drops == ["bad_seq": 7, "policy": 3, "malformed": 0])
        #expect(total.states == 7 && total.capacity == 2000)
    }

    @Test("text: header, a column per queue, non-zero reasons only, log and rule hits")
    func text() {
        let text = StatsText.render(Self.report())
        #expect(text.hasPrefix("synwall pid 42, up 2m05s, rules /etc/synwall/synwall.rules (1 rules), queues 0-1\n"))
        #expect(text.contains("\n  received                   150   100    50\n"), "\(text)")
        #expect(text.contains("  bad_seq"))
        #expect(!text.contains("malformed"), "zero reasons are left out: \(text)")
        #expect(text.contains("  events lost (ring full)"))
        #expect(text.contains("  1    12  pass    /etc/synwall/synwall.rules:3  pass in proto tcp"), "\(text)")
    }

    @Test("text with a previous report adds per-second rates of the total")
    func rates() {
        var earlier = Self.report()
        earlier.takenAt -= 2
        earlier.workers[0].received -= 20
        let text = StatsText.render(Self.report(), previous: earlier)
        #expect(text.contains("per s"))
        #expect(text.contains("\n  received                   150   10.0   100    50\n"), "\(text)")
        #expect(text.contains("\n  states                       7            5     2\n"), "gauges get no rate: \(text)")
    }

    @Test("Prometheus: HELP and TYPE once per family, labels escaped, counters end in _total")
    func prometheus() {
        let text = PrometheusText.render(Self.report())
        #expect(text.contains("# TYPE synwall_packets_total counter\n"
            + "synwall_packets_total{queue=\"0\",verdict=\"accept\"} 90\n"
            + "synwall_packets_total{queue=\"0\",verdict=\"drop\"} 10\n"))
        #expect(text.contains("synwall_drops_total{queue=\"0\",reason=\"bad_seq\"} 7\n"))
        #expect(text.contains("# TYPE synwall_states gauge\nsynwall_states{queue=\"0\"} 5\nsynwall_states{queue=\"1\"} 2\n"))
        #expect(text.contains("synwall_rule_hits_total{rule=\"1\",action=\"pass\",location=\"/etc/synwall/synwall.rules:3\",label=\"s\\\"sh\"} 12\n"),
                "\(text)")
        #expect(text.contains("synwall_log_events_lost_total{path=\"/var/log/synwall/events.jsonl\"} 1\n"))
        let families = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(families.count == Set(families).count, "each family once")
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(line.split(separator: " ").count == 2, "NAME{LABELS} VALUE: \(line)")
        }
        #expect(PrometheusText.escape("a\\b\"c\nd") == "a\\\\b\\\"c\\nd")
    }

    @Test("the connection table lists each connection and the count")
    func connections() {
        let records = [
            ConnectionRecord(queue: 0, proto: "tcp", src: "198.51.100.7", sport: 51000, dst: "192.0.2.10", dport: 443,
                             state: "ESTABLISHED", ageSeconds: 125, idleSeconds: 2, expiresInSeconds: 431_998,
                             packetsOut: 1200, bytesOut: 80_000, packetsIn: 2400, bytesIn: 3_400_000, rule: 3,
                             ruleLocation: "rules/default.rules:31", ruleText: "pass in proto tcp to port https"),
            ConnectionRecord(queue: 1, proto: "icmp", src: "2001:db8::7", sport: 9, dst: "2001:db8::1", dport: 0,
                             state: "REPLIED", ageSeconds: 1, idleSeconds: 1, expiresInSeconds: 29,
                             packetsOut: 1, bytesOut: 84, packetsIn: 1, bytesIn: 84),
        ]
        let text = ConnectionTable.render(records, matched: 5)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("PROTO  SOURCE"))
        #expect(lines[1].hasPrefix("tcp    198.51.100.7:51000  192.0.2.10:443  ESTABLISHED  2m05s"), "\(text)")
        #expect(lines[1].hasSuffix("#3 rules/default.rules:31"))
        #expect(lines[1].contains("1.2K   80.0K   2.4K    3.4M"), "\(text)")
        #expect(lines[2].hasSuffix("policy") && lines[2].contains("2001:db8::7 "))
        #expect(lines[3] == "5 connections, 2 shown (raise --limit to see more)")
        #expect(!text.contains("offloaded"))

        // An offloaded connection is marked, with a footnote (docs/offload.md).
        var offloaded = records[0]
        offloaded.offloaded = true
        let marked = ConnectionTable.render([offloaded], matched: 1).split(separator: "\n").map(String.init)
        #expect(marked[1].contains("ESTABLISHED*"), "\(marked)")
        #expect(marked[2] == "* offloaded: its plain segments pass in the kernel (counts are what synwall saw)")
        #expect(marked[3] == "1 connection")
    }
}
