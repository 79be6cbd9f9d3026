@testable import EventLog
import Foundation
@testable import LogReview
import Testing

/// The EVE layout: type-specific fields nested under the type's name, old flat logs still
/// read, suppressed records counted by reason and source so reviews add up.
@Suite struct EVELayoutTests {
    private let encoder = JSONLinesEncoder()
    private let at: UInt64 = 1_795_554_191_482_113_000

    @Test func anOldFlatRecordReadsAsTheSameEventAsTheNestedOne() throws {
        let old = #"{"timestamp":"2026-11-24T21:03:11.482113+0000","event_type":"drop","flow_id":1822734,"in_iface":"eth0","direction":"in","proto":"TCP","src_ip":"203.0.113.7","src_port":51544,"dest_ip":"192.0.2.10","dest_port":22,"reason":"bad_seq","detail":"window closed","state":"ESTABLISHED","rule":{"file":"/etc/synwall/default.rules","line":12,"label":"ssh"},"tcp":{"flags":"A","seq":104,"ack":7,"win":1024},"count":37}"#
        var parser = LogLineParser()
        let fromOld = try parser.parse(old)
        #expect(fromOld.reason == "bad_seq")
        #expect(fromOld.detail == "window closed")
        #expect(fromOld.state == "ESTABLISHED")
        #expect(fromOld.rule == EventRule(file: "/etc/synwall/default.rules", line: 12, label: "ssh"))
        let new = encoder.line(for: fromOld)
        #expect(new.contains(#""drop":{"reason":"bad_seq","detail":"window closed","state":"ESTABLISHED","rule":{"#))
        #expect(!new.contains(#","reason":"bad_seq""#) || new.contains(#"{"reason":"bad_seq""#))
        #expect(try parser.parse(String(new.dropLast())) == fromOld)
        // Filters on the old flat keys still work on either layout.
        let query = LogQuery(reasons: ["bad_seq"], rules: ["ssh"])
        #expect(query.matches(fromOld))
    }

    @Test func aFlowRecordNestsItsCountsAsEVEDoes() throws {
        let event = Event(timestampNanoseconds: at, eventType: .flow, flowID: 9, proto: "TCP", sourceIP: "192.0.2.1",
                          sourcePort: 40000, destinationIP: "198.51.100.2", destinationPort: 22, reason: "reset",
                          state: "CLOSE", rule: EventRule(file: "r.rules", line: 3),
                          flow: FlowFields(packetsToServer: 12, packetsToClient: 10, bytesToServer: 840,
                                           bytesToClient: 1203, startNanoseconds: 1_795_554_100_000_000_000,
                                           endNanoseconds: 1_795_554_191_000_000_000))
        let line = encoder.line(for: event)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let flow = try #require(object["flow"] as? [String: Any])
        #expect(flow["pkts_toserver"] as? Int == 12)
        #expect(flow["pkts_toclient"] as? Int == 10)
        #expect(flow["bytes_toserver"] as? Int == 840)
        #expect(flow["bytes_toclient"] as? Int == 1203)
        #expect(flow["age"] as? Int == 91)
        #expect(flow["reason"] as? String == "reset")
        #expect(flow["start"] as? String == "2026-11-24T21:01:40.000000+0000")
        #expect(object["reason"] == nil)
        var parser = LogLineParser()
        #expect(try parser.parse(String(line.dropLast())) == event)
        #expect(LogTableFormatter.cells(for: event).last == "pkts 12>10< bytes 840>1203< age 91s")
    }

    @Test func aSuppressedRecordsCountsByReasonAndSourceAreReadAndCounted() throws {
        let event = Event(timestampNanoseconds: at, eventType: .suppressed, reason: "rate_limit", count: 1800,
                          suppressedCounts: SuppressedCounts(
                              reasons: [.init("table_full", 1700), .init("invalid_flags", 100)],
                              sources: [.init("203.0.113.7", 1500), .init("203.0.113.8", 200)]))
        let line = encoder.line(for: event)
        #expect(line.contains(#""suppressed":{"reason":"rate_limit","reasons":{"table_full":1700,"invalid_flags":100},"sources":{"203.0.113.7":1500,"203.0.113.8":200}},"count":1800"#), "\(line)")
        var parser = LogLineParser()
        let back = try parser.parse(String(line.dropLast()))
        #expect(back == event)

        let written = Event(timestampNanoseconds: at, eventType: .drop, sourceIP: "203.0.113.9", reason: "table_full")
        var byReason = LogTopCounter(key: .reason)
        byReason.add(written)
        byReason.add(back)
        #expect(byReason.top(5).map(\.name) == ["table_full", "invalid_flags"])
        #expect(byReason.top(5).map(\.count) == [1701, 100])
        #expect(byReason.leftOut == 0)
        var bySource = LogTopCounter(key: .src)
        bySource.add(back)
        #expect(bySource.top(5).map(\.count) == [1500, 200])
        #expect(bySource.leftOut == 100)
        var byPort = LogTopCounter(key: .port)
        byPort.add(back)
        #expect(byPort.leftOut == 1800)
    }

    @Test func theRateCapsSuppressedRecordCountsWhatItLeftOutByReason() {
        var aggregator = EventAggregator(configuration: .init(maxRecordsPerSecond: 10))
        var out: [Event] = []
        let base: UInt64 = 1_795_554_191_000_000_000
        for index in 0..<300 {
            let reason = index % 3 == 0 ? "invalid_flags" : "table_full"
            let event = Event(timestampNanoseconds: base + UInt64(index), eventType: .drop, proto: "TCP",
                              sourceIP: "198.51.100.\(index % 50)", destinationPort: UInt16(1000 + index), reason: reason)
            aggregator.add(event, now: base + UInt64(index), into: &out)
        }
        aggregator.flush(now: base + 2_000_000_000, into: &out)
        var top = LogTopCounter(key: .reason)
        for record in out { top.add(record) }
        #expect(top.top(5).map(\.name) == ["table_full", "invalid_flags"])
        #expect(top.top(5).map(\.count) == [200, 100])
        #expect(top.leftOut == 0)
        let suppressed = out.filter { $0.eventType == .suppressed }
        #expect(suppressed.count == 1)
        #expect(suppressed.first?.suppressedCounts?.sources.count == SuppressedCounts.maximumSources)
    }

    @Test func flowRecordsHaveABudgetOfTheirOwnSoAFloodsEndCannotHideADrop() {
        var aggregator = EventAggregator(configuration: .init(maxRecordsPerSecond: 10, maxFlowRecordsPerSecond: 50))
        var out: [Event] = []
        let base: UInt64 = 1_795_554_191_000_000_000
        // 2,000 half-open entries of a flood time out in the same second...
        for index in 0..<2_000 {
            let flow = Event(timestampNanoseconds: base, eventType: .flow, sourceIP: "198.18.\(index >> 8).\(index & 255)",
                             reason: "timeout")
            aggregator.add(flow, now: base, into: &out)
        }
        // ...and a forged RST is dropped: its record still goes out at once.
        let drop = Event(timestampNanoseconds: base, eventType: .drop, sourceIP: "10.91.1.2", sourcePort: 34592,
                         reason: "rst_invalid")
        aggregator.add(drop, now: base, into: &out)
        #expect(out.last == drop)
        #expect(out.filter { $0.eventType == .flow }.count == 50)
        aggregator.flush(now: base + 2_000_000_000, into: &out)
        let suppressed = out.filter { $0.eventType == .suppressed }
        #expect(suppressed.map(\.count) == [1_950])
        #expect(suppressed.first?.suppressedCounts?.reasons == [.init("timeout", 1_950)])
    }
}
