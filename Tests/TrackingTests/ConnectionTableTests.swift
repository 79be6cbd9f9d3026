import Testing
@testable import Tracking
import Wire

/// The table's storage: fixed capacity, index consistency under churn, entry size.
@Suite("Connection table")
struct ConnectionTableTests {
    func key(_ number: Int) -> FlowKey {
        FlowKey.make(source: IPAddress(ipv4: 0x0A00_0000 + UInt32(number % 977)), sourcePort: UInt16(1 + number % 60_000),
                     destination: IPAddress(ipv4: 0xC000_0201), destinationPort: 443, proto: 6).key
    }

    @Test("an entry takes 160 bytes (156 used), accounting included")
    func entrySize() {
        #expect(MemoryLayout<ConnectionEntry>.size == 156)
        #expect(MemoryLayout<ConnectionEntry>.stride == 160)
        #expect(MemoryLayout<DirectionState>.size == 22)
    }

    @Test("random inserts and removals keep the index consistent with a model")
    func churn() {
        var table = ConnectionTable(capacity: 300, seed: 11)
        defer { table.deallocate() }
        var model: [FlowKey: Int] = [:]
        var random = UInt64(12_345)
        for _ in 0..<20_000 {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let number = Int(random >> 33) % 600
            let candidate = key(number)
            if let index = model[candidate] {
                #expect(table.find(candidate, hash: table.hash(candidate)) == index)
                table.remove(index)
                model[candidate] = nil
            } else if let index = table.insert(candidate, hash: table.hash(candidate)) {
                table.entries[index].state = .established
                table.link(index, TimerClass.established.rawValue)
                model[candidate] = index
            } else {
                #expect(model.count == 300)
            }
            #expect(table.count == model.count)
        }
        for number in 0..<600 {
            let candidate = key(number)
            #expect(table.find(candidate, hash: table.hash(candidate)) == model[candidate])
        }
    }

    @Test("capacity is fixed: the table never holds more than maxStates flows")
    func fixedCapacity() {
        let harness = Harness(TrackerConfiguration(maxStates: 10, maxHalfOpenPerSource: 0,
                                                   synRatePerSource: .unlimited, hashSeed: 1))
        for port: UInt16 in 1...10 {
            harness.clientPort = port
            harness.run(h)
        }
        harness.clientPort = 11
        harness.run([c("S", seq: 1).drop(.tableFull, .tableFull)])
        #expect(harness.tracker.count == 10)
        #expect(harness.tracker.capacity == 10)
    }

    @Test("verdicts do not depend on the hash seed")
    func deterministic() {
        let steps = h + ResetAndSynTests.closed.dropFirst(3) + [c("S", seq: 2_000_000).ok(.synSent, .timeWaitReuse)]
        var outcomes: [[TrackResult]] = []
        for seed: UInt64 in [1, 2, 0xDEAD_BEEF] {
            var configuration = testConfiguration(maxStates: 2)
            configuration.hashSeed = seed
            let harness = Harness(configuration)
            var results: [TrackResult] = []
            for port: UInt16 in 1...3 {
                harness.clientPort = port
                results += harness.run(steps)
            }
            outcomes.append(results)
        }
        #expect(outcomes[0] == outcomes[1])
        #expect(outcomes[1] == outcomes[2])
    }

    @Test("snapshots list live flows with their initiator and windows")
    func snapshots() throws {
        let harness = Harness(clientHigh: true)
        harness.run(h)
        let connection = try #require(harness.onlyConnection)
        #expect(connection.initiatorAddress == harness.client && connection.initiatorPort == 40_000)
        #expect(connection.responderAddress == harness.server && connection.responderPort == 80)
        #expect(connection.proto == 6)
        #expect(connection.initiatorWindow?.end == 1001)
        #expect(connection.responderWindow?.end == 5001)
        #expect(connection.expiresAtSeconds == harness.now / 1_000_000_000 + 432_000)
        #expect(harness.tracker.snapshot(now: harness.now + 432_000 * 1_000_000_000).isEmpty)
        #expect(ConnectionState.established.name == "ESTABLISHED")
        #expect(ConnectionState.synSent2.name == "SYN_SENT2")
        #expect(TrackerEvent.fourWHSSynackWrongSyn.name == "4whs_synack_wrong_syn")
    }
}
