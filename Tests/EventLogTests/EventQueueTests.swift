import EventLog
import Foundation
import Testing

@Suite struct EventQueueTests {
    private func event(_ n: Int) -> Event {
        Event(timestampNanoseconds: UInt64(n), eventType: .drop, sourceIP: "10.0.0.\(n % 256)", sourcePort: UInt16(n % 65536))
    }

    @Test func aFullRingCountsLostAndNeverBlocks() {
        let queue = EventQueue(capacity: 4)
        #expect(queue.capacity == 4)
        var accepted = 0
        for n in 0..<10 where queue.post(event(n)) { accepted += 1 }
        #expect(accepted == 4)
        #expect(queue.lost == 6)
        #expect(queue.posted == 4)
        var seen: [UInt64] = []
        #expect(queue.drain { seen.append($0.timestampNanoseconds) } == 4)
        #expect(seen == [0, 1, 2, 3])  // the oldest kept, in order
        #expect(queue.post(event(11)))
        #expect(queue.lost == 6)
    }

    @Test func capacityRoundsUpAndDrainLimits() {
        #expect(EventQueue(capacity: 5).capacity == 8)
        #expect(EventQueue(capacity: 0).capacity == 2)
        let queue = EventQueue(capacity: 8)
        for n in 0..<6 { queue.post(event(n)) }
        var seen: [UInt64] = []
        #expect(queue.drain(limit: 4) { seen.append($0.timestampNanoseconds) } == 4)
        #expect(queue.count == 2)
        // Wrap around many times.
        for n in 6..<1000 {
            #expect(queue.post(event(n)))
            queue.drain(limit: 1) { seen.append($0.timestampNanoseconds) }
        }
        queue.drain { seen.append($0.timestampNanoseconds) }
        #expect(seen.count == 1000)
        #expect(seen.elementsEqual(0..<1000))
    }

    /// One producer thread, one consumer thread: every event arrives exactly once, in order,
    /// or is counted lost.
    @Test func oneProducerOneConsumerConcurrently() async {
        let queue = EventQueue(capacity: 64)
        let total = 200_000
        let producer = Task.detached {
            for n in 0..<total { queue.post(Event(timestampNanoseconds: UInt64(n), eventType: .drop)) }
        }
        let consumer = Task.detached { () -> (count: Int, ordered: Bool) in
            var count = 0
            var last: Int64 = -1
            var ordered = true
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                queue.drain { event in
                    if Int64(event.timestampNanoseconds) <= last { ordered = false }
                    last = Int64(event.timestampNanoseconds)
                    count += 1
                }
                if count + queue.lost == total { break }
            }
            return (count, ordered)
        }
        await producer.value
        let (count, ordered) = await consumer.value
        #expect(ordered)
        #expect(count + queue.lost == total)
        #expect(queue.posted == count)
    }
}
