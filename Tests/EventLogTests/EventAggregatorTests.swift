import EventLog
import Testing

private let second: UInt64 = 1_000_000_000
private let base: UInt64 = 1_795_554_191 * second  // a whole second

private func drop(_ source: String, port: UInt16 = 22, reason: String = "invalid_flags", at time: UInt64) -> Event {
    Event(timestampNanoseconds: time, eventType: .drop, proto: "TCP", sourceIP: source, sourcePort: 40000,
          destinationIP: "192.0.2.10", destinationPort: port, reason: reason, state: "NONE",
          tcp: TCPFields(flags: 0x29, seq: 1, ack: 0, win: 1024))
}

private func totalCount(_ records: [Event], _ type: EventType? = nil) -> Int {
    records.filter { type == nil || $0.eventType == type }.reduce(0) { $0 + $1.count }
}

@Suite struct EventAggregatorTests {
    @Test func firstAtOnceRepeatsHeldThenOneAggregate() {
        var aggregator = EventAggregator()
        var out: [Event] = []
        aggregator.add(drop("203.0.113.7", at: base), now: base, into: &out)
        #expect(out == [drop("203.0.113.7", at: base)])
        out.removeAll()
        for k in 1...5 {
            let t = base + UInt64(k) * 100_000_000
            aggregator.add(drop("203.0.113.7", at: t), now: t, into: &out)
        }
        #expect(out.isEmpty)  // held
        aggregator.advance(to: base + second - 1, into: &out)
        #expect(out.isEmpty)  // the window is not over yet
        aggregator.advance(to: base + second, into: &out)
        var expected = drop("203.0.113.7", at: base + 500_000_000)
        expected.count = 5
        expected.firstSeenNanoseconds = base + 100_000_000
        expected.lastSeenNanoseconds = base + 500_000_000
        #expect(out == [expected])
        #expect(aggregator.trackedKeys == 1)  // a new window opened for the key
        out.removeAll()
        // A quiet window forgets the key; the next occurrence is a first again, written at once.
        aggregator.advance(to: base + 2 * second, into: &out)
        #expect(out.isEmpty)
        #expect(aggregator.trackedKeys == 0)
        aggregator.add(drop("203.0.113.7", at: base + 3 * second), now: base + 3 * second, into: &out)
        #expect(out == [drop("203.0.113.7", at: base + 3 * second)])
        #expect(aggregator.statistics.occurrences == 7)
        #expect(aggregator.statistics.records == 3)
    }

    @Test func keysAreReasonSourceAndDestinationPort() {
        var aggregator = EventAggregator()
        var out: [Event] = []
        let t = base
        aggregator.add(drop("a", port: 22, at: t), now: t, into: &out)
        aggregator.add(drop("a", port: 23, at: t), now: t, into: &out)
        aggregator.add(drop("b", port: 22, at: t), now: t, into: &out)
        aggregator.add(drop("a", port: 22, reason: "bad_seq", at: t), now: t, into: &out)
        var alert = drop("a", port: 22, at: t)
        alert.eventType = .alert
        aggregator.add(alert, now: t, into: &out)
        var otherSourcePort = drop("a", port: 22, at: t)
        otherSourcePort.sourcePort = 1
        aggregator.add(otherSourcePort, now: t, into: &out)  // same key: held
        #expect(out.count == 5)
        #expect(aggregator.trackedKeys == 5)
    }

    /// The figure: 100,000 invalid packets per second for 10 s from three sources give
    /// a few records per second, and one rare event from elsewhere is written at once.
    @Test func floodOfAMillionGivesAFewRecordsPerSecondAndTheRareEventAtOnce() {
        var aggregator = EventAggregator()
        var out: [Event] = []
        var perSecond = [Int](repeating: 0, count: 12)
        let sources = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        let step: UInt64 = 10_000  // 100,000 per second
        let rareAt = base + 5 * second + 300_000_000
        var rareSeen = false
        var events = 0
        var flood = 0
        var t = base
        while t < base + 10 * second {
            let before = out.count
            aggregator.add(drop(sources[flood % 3], port: 80, at: t), now: t, into: &out)
            flood += 1
            events += 1
            if t == rareAt {
                let rare = drop("203.0.113.99", port: 22, reason: "bad_seq", at: t)
                aggregator.add(rare, now: t, into: &out)
                #expect(out.last == rare)  // written with no delay
                rareSeen = true
                events += 1
            }
            perSecond[Int((t - base) / second)] += out.count - before
            t += step
        }
        aggregator.flush(now: t + second, into: &out)
        #expect(rareSeen)
        #expect(events == 1_000_001)
        #expect(perSecond.max()! <= 4, "\(perSecond)")  // 3 aggregates (+ the rare one)
        #expect(out.count <= 3 + 3 * 10 + 1)
        #expect(totalCount(out) == events)  // nothing lost, nothing double-counted
        #expect(totalCount(out, .suppressed) == 0)
        let bySource = Dictionary(grouping: out, by: \.sourceIP).mapValues { totalCount($0) }
        #expect(bySource["198.51.100.1"] == 333_334)
        #expect(bySource["198.51.100.3"] == 333_333)
        #expect(bySource["203.0.113.99"] == 1)
    }

    @Test func capLimitsRecordsPerSecondAndSaysHowManyWereLeftOut() {
        var aggregator = EventAggregator(configuration: .init(maxRecordsPerSecond: 100))
        var out: [Event] = []
        for n in 0..<500 {
            let t = base + UInt64(n) * 1_000_000  // 500 distinct sources in half a second
            aggregator.add(drop("10.0.\(n / 256).\(n % 256)", at: t), now: t, into: &out)
        }
        #expect(out.count == 100)
        #expect(aggregator.statistics.suppressed == 400)
        // The daemon's own records pass the cap.
        aggregator.add(Event(timestampNanoseconds: base, eventType: .reload, detail: "rules reloaded"), now: base + 600_000_000,
                       into: &out)
        #expect(out.count == 101)
        #expect(out.last?.eventType == .reload)
        aggregator.advance(to: base + second, into: &out)
        let suppressed = out[101]
        #expect(suppressed.eventType == .suppressed)
        #expect(suppressed.reason == "rate_limit")
        #expect(suppressed.count == 400)
        #expect(suppressed.firstSeenNanoseconds == base + 100_000_000)
        #expect(suppressed.lastSeenNanoseconds == base + 499_000_000)
        #expect(out.count == 102)
        // A new second: the cap starts again.
        aggregator.add(drop("10.9.9.9", at: base + second), now: base + second, into: &out)
        #expect(out.last?.sourceIP == "10.9.9.9")
    }

    @Test func aFullTableEvictsTheOldestWindowAndWritesWhatItHeld() {
        var aggregator = EventAggregator(configuration: .init(maxKeys: 2))
        var out: [Event] = []
        aggregator.add(drop("a", at: base), now: base, into: &out)
        aggregator.add(drop("a", at: base + 1), now: base + 1, into: &out)
        aggregator.add(drop("a", at: base + 2), now: base + 2, into: &out)
        aggregator.add(drop("b", at: base + 3), now: base + 3, into: &out)
        #expect(out.map(\.sourceIP) == ["a", "b"])
        aggregator.add(drop("c", at: base + 4), now: base + 4, into: &out)  // evicts a, with its 2 repeats
        #expect(out.map(\.sourceIP) == ["a", "b", "a", "c"])
        #expect(out[2].count == 2)
        #expect(aggregator.statistics.evictions == 1)
        #expect(aggregator.trackedKeys == 2)
    }

    @Test func flowRecordsAreCappedNotAggregatedAndLostEventsAreReported() {
        var aggregator = EventAggregator()
        var out: [Event] = []
        var flow = drop("a", at: base)
        flow.eventType = .flow
        aggregator.add(flow, now: base, into: &out)
        aggregator.add(flow, now: base, into: &out)
        #expect(out.count == 2)
        aggregator.noteLost(7, at: base + 10)
        aggregator.noteLost(3, at: base + 20)
        aggregator.advance(to: base + second, into: &out)
        #expect(out.count == 3)
        #expect(out[2] == Event(timestampNanoseconds: base + 20, eventType: .suppressed, reason: "queue_full",
                                detail: "lost: the log writer fell behind", count: 10,
                                firstSeenNanoseconds: base + 10, lastSeenNanoseconds: base + 20))
        #expect(aggregator.statistics.lost == 10)
    }

    @Test func flushWritesEverythingHeld() {
        var aggregator = EventAggregator(configuration: .init(windowNanoseconds: 60 * second))
        var out: [Event] = []
        for n in 0..<10 {
            aggregator.add(drop(n % 2 == 0 ? "a" : "b", at: base + UInt64(n)), now: base + UInt64(n), into: &out)
        }
        #expect(out.count == 2)
        aggregator.flush(now: base + 100, into: &out)
        #expect(out.count == 4)
        #expect(out[2].count == 4 && out[3].count == 4)
        #expect(aggregator.trackedKeys == 0)
    }
}
