import Engine
import EventLog
@testable import Firewall
import Testing
import Tracking

@Suite struct EventLossTallyTests {
    @Test("events a worker could not hand over come out as one suppressed record that adds up by reason")
    func lostEventsAddUpByReason() throws {
        var tally = EventLossTally()
        #expect(tally.record(queue: 0) == nil)
        for _ in 0..<5 { tally.add(Decision(verdict: .drop, reason: .tableFull), at: 10) }
        tally.add(Decision(verdict: .drop, reason: .invalidFlags), at: 11)
        tally.add(Decision(verdict: .accept, trackerEvent: .windowOverrun), at: 12)
        var aggregated = Event(timestampNanoseconds: 13, eventType: .drop, sourceIP: "198.51.100.7", reason: "table_full")
        aggregated.count = 4
        tally.add(aggregated)
        let record = try #require(tally.record(queue: 3))
        #expect(record.eventType == .suppressed && record.reason == "queue_full" && record.queue == 3)
        #expect(record.count == 11)
        #expect(record.firstSeenNanoseconds == 10 && record.lastSeenNanoseconds == 13)
        let reasons = try #require(record.suppressedCounts?.reasons)
        #expect(reasons.map(\.name) == ["table_full", "invalid_flags", "window_overrun"])
        #expect(reasons.map(\.count) == [9, 1, 1])
        #expect(reasons.reduce(0) { $0 + $1.count } == record.count)
        #expect(record.suppressedCounts?.sources.first?.name == "198.51.100.7")
        tally.reset()
        #expect(tally.record(queue: 3) == nil)
    }
}
