import EventLog
import Foundation
import LogReview
import Testing
import Wire

/// The record's newer fields: flow, interface, direction, rule, window bounds, aggregation.
@Suite struct EventRecordTests {
    private let encoder = JSONLinesEncoder()
    private let at: UInt64 = 1_795_554_191_482_113_000  // 2026-11-24T21:03:11.482113Z
    private let first: UInt64 = 1_795_554_190_001_200_000  // 2026-11-24T21:03:10.001200Z

    static func everyField(detail: String = "window closed") -> Event {
        Event(timestampNanoseconds: 1_795_554_191_482_113_000, eventType: .drop, flowID: 1_822_734, queue: 2,
              inInterface: "eth0", direction: .in, proto: "TCP", sourceIP: "203.0.113.7", sourcePort: 51544,
              destinationIP: "192.0.2.10", destinationPort: 22, reason: "bad_seq", detail: detail,
              state: "ESTABLISHED", rule: EventRule(file: "/etc/synwall/default.rules", line: 12, label: "ssh"),
              tcp: TCPFields(flags: 0x10, seq: 104, ack: 7, win: 1024,
                             seqWindow: TCPWindowBounds(lower: 4_294_967_000, upper: 100),
                             ackWindow: TCPWindowBounds(lower: 1, upper: 9)),
              count: 37, firstSeenNanoseconds: 1_795_554_190_001_200_000, lastSeenNanoseconds: 1_795_554_191_482_113_000)
    }

    @Test func everyFieldInTheDocumentedOrder() {
        #expect(encoder.line(for: Self.everyField()) == #"""
            {"timestamp":"2026-11-24T21:03:11.482113+0000","event_type":"drop","flow_id":1822734,"queue":2,"in_iface":"eth0","direction":"in","proto":"TCP","src_ip":"203.0.113.7","src_port":51544,"dest_ip":"192.0.2.10","dest_port":22,"drop":{"reason":"bad_seq","detail":"window closed","state":"ESTABLISHED","rule":{"file":"/etc/synwall/default.rules","line":12,"label":"ssh"}},"tcp":{"flags":"A","seq":104,"ack":7,"win":1024,"seq_min":4294967000,"seq_max":100,"ack_min":1,"ack_max":9},"count":37,"first_seen":"2026-11-24T21:03:10.001200+0000","last_seen":"2026-11-24T21:03:11.482113+0000"}

            """#)
    }

    @Test func theUXAnchorExampleIsWhatWeWrite() {
        let event = Event(timestampNanoseconds: at, eventType: .drop, flowID: 1_822_734, inInterface: "eth0",
                          direction: .in, proto: "TCP", sourceIP: "203.0.113.7", sourcePort: 51544,
                          destinationIP: "192.0.2.10", destinationPort: 22, reason: "invalid_flags", state: "NONE",
                          tcp: TCPFields(flags: 0x29, seq: 104, ack: 0, win: 1024), count: 37,
                          firstSeenNanoseconds: first, lastSeenNanoseconds: at)
        #expect(encoder.line(for: event) == #"""
            {"timestamp":"2026-11-24T21:03:11.482113+0000","event_type":"drop","flow_id":1822734,"in_iface":"eth0","direction":"in","proto":"TCP","src_ip":"203.0.113.7","src_port":51544,"dest_ip":"192.0.2.10","dest_port":22,"drop":{"reason":"invalid_flags","state":"NONE"},"tcp":{"flags":"FPU","seq":104,"ack":0,"win":1024},"count":37,"first_seen":"2026-11-24T21:03:10.001200+0000","last_seen":"2026-11-24T21:03:11.482113+0000"}

            """#)
    }

    @Test func daemonRecordsLeaveThePacketKeysOut() {
        let start = Event(timestampNanoseconds: at, eventType: .start, detail: "queues 0-1, fail-closed")
        #expect(encoder.line(for: start) == #"""
            {"timestamp":"2026-11-24T21:03:11.482113+0000","event_type":"start","start":{"detail":"queues 0-1, fail-closed"}}

            """# )
        let suppressed = Event(timestampNanoseconds: at, eventType: .suppressed, reason: "rate_limit", count: 5000,
                               firstSeenNanoseconds: first, lastSeenNanoseconds: at)
        #expect(encoder.line(for: suppressed) == #"""
            {"timestamp":"2026-11-24T21:03:11.482113+0000","event_type":"suppressed","suppressed":{"reason":"rate_limit"},"count":5000,"first_seen":"2026-11-24T21:03:10.001200+0000","last_seen":"2026-11-24T21:03:11.482113+0000"}

            """#)
    }

    @Test func ruleWithoutLabelAndEveryEventType() {
        let event = Event(timestampNanoseconds: 0, eventType: .alert, proto: "UDP", reason: "policy",
                          rule: EventRule(file: "r.rules", line: 3))
        #expect(encoder.line(for: event).contains(#","alert":{"reason":"policy","rule":{"file":"r.rules","line":3}}}"#))
        #expect(event.rule?.displayName == "r.rules:3")
        #expect(EventRule(file: "/etc/synwall/x.rules", line: 9).displayName == "x.rules:9")
        #expect(EventRule(file: "x", line: 9, label: "web").displayName == "web")
        #expect(EventType.allCases.map(\.rawValue)
            == ["drop", "alert", "anomaly", "flow", "overload", "reload", "start", "stop", "suppressed", "table"])
        #expect(Direction.allCases.map(\.rawValue) == ["in", "out", "forward"])
    }

    /// Hostile bytes in every string field a packet or a rule file could influence: each stays
    /// inside its own value, and the line is one line of valid JSON.
    @Test func hostileBytesInNewFieldsCannotForgeKeys() throws {
        let hostile = "x\",\"event_type\":\"start\"}\n{\"timestamp\":\"1970-01-01T00:00:00Z\u{1B}[31m\u{0}\u{7}\\"
        var event = Self.everyField(detail: hostile)
        event.inInterface = hostile
        event.rule = EventRule(file: hostile, line: 1, label: hostile)
        event.state = hostile
        event.proto = hostile
        let line = encoder.line(for: event)
        #expect(line.utf8.filter { $0 == 0x0A }.count == 1)
        #expect(!line.utf8.contains(0x1B))
        #expect(!line.utf8.contains(0x00))
        #expect(line.contains(#"\u001b[31m\u0000\u0007\\"#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["event_type"] as? String == "drop")
        #expect(object["in_iface"] as? String == hostile)
        let drop = try #require(object["drop"] as? [String: Any])
        let rule = try #require(drop["rule"] as? [String: Any])
        #expect(rule["label"] as? String == hostile)
        #expect(rule["file"] as? String == hostile)
        // And our own reader gets the same values back.
        var parser = LogLineParser()
        #expect(try parser.parse(String(line.dropLast())) == event)
    }

    @Test func foundationReadsTheNewFields() throws {
        let line = encoder.line(for: Self.everyField())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["flow_id"] as? Int == 1_822_734)
        #expect(object["direction"] as? String == "in")
        #expect(object["first_seen"] as? String == "2026-11-24T21:03:10.001200+0000")
        let tcp = try #require(object["tcp"] as? [String: Any])
        #expect(tcp["seq_min"] as? Int == 4_294_967_000)
        #expect(tcp["ack_max"] as? Int == 9)
    }

    @Test func largestFlowIDIsWrittenInFull() {
        var event = Self.everyField()
        event.flowID = .max
        #expect(encoder.line(for: event).contains(#""flow_id":18446744073709551615,"#))
    }
}
