import Testing
@testable import Tracking
import Wire

/// Saves `harness`'s table and restores it into `into` (a fresh harness on the same
/// addresses), `elapsed` seconds later.
@discardableResult
private func carry(_ harness: Harness, into restored: Harness, elapsed: UInt32 = 0) -> RestoreCounts {
    var buffer: [UInt8] = []
    let reference = UInt32(harness.now / 1_000_000_000)
    #expect(harness.tracker.saveConnections(now: harness.now, referenceSeconds: reference, queue: 3,
                                            into: &buffer) == nil)
    restored.now = harness.now + UInt64(elapsed) * 1_000_000_000
    return buffer.withUnsafeBytes {
        restored.tracker.restoreConnections($0, now: restored.now, elapsedSeconds: elapsed)
    }
}

@Suite("State file: save and restore the tracker")
struct StateRestoreTests {
    @Test("a record round-trips every field, times relative to the reference", arguments: Family.all)
    func roundTrip(family: Family) {
        let before = Harness(ipv6: family.ipv6, clientHigh: family.clientHigh)
        before.run(h + [c("PA", seq: 1001, ack: 5001, len: 100).ok(.established),
                        s("A", seq: 5001, ack: 1101).ok(.established)])
        var buffer: [UInt8] = []
        let reference = UInt32(before.now / 1_000_000_000)
        _ = before.tracker.saveConnections(now: before.now, referenceSeconds: reference, queue: 7, into: &buffer)
        #expect(buffer.count == SavedConnection.size)
        buffer.withUnsafeBytes { bytes in
            #expect(SavedConnection.queue(of: bytes.baseAddress!) == 7)
            #expect(SavedConnection.key(of: bytes.baseAddress!) == before.onlyConnection?.key)
        }
        let after = Harness(ipv6: family.ipv6, clientHigh: family.clientHigh)
        let counts = carry(before, into: after, elapsed: 30)
        #expect(counts.restored == 1)
        guard let old = before.onlyConnection, let new = after.onlyConnection else {
            Issue.record("one connection each expected")
            return
        }
        #expect(new.key == old.key)
        #expect(new.state == .established)
        #expect(new.initiatorAddress == old.initiatorAddress)
        #expect(new.initiatorPackets == old.initiatorPackets && new.responderBytes == old.responderBytes)
        #expect(new.initiatorWindow == old.initiatorWindow && new.responderWindow == old.responderWindow)
        // 30 s passed: the same deadline on the clock, the same creation time.
        #expect(new.expiresAtSeconds == old.expiresAtSeconds)
        #expect(new.createdSeconds == old.createdSeconds)
        #expect(new.ruleIndex == old.ruleIndex)
    }

    @Test("the connection goes on after the restart; both directions are learned again, state_resumed once",
          arguments: Family.all)
    func resumesAfterGap(family: Family) {
        let before = Harness(ipv6: family.ipv6, clientHigh: family.clientHigh)
        before.run(h + [c("PA", seq: 1001, ack: 5001, len: 100).ok(.established)])
        let after = Harness(ipv6: family.ipv6, clientHigh: family.clientHigh)
        carry(before, into: after, elapsed: 5)
        // While synwall was down the client sent 3 MB and the server acknowledged it: both
        // sides' numbers are far past the saved window.
        after.run([
            c("PA", seq: 3_001_101, ack: 5001, len: 1000).ok(.established, .stateResumed),
            s("A", seq: 5001, ack: 3_002_101).ok(.established),
            c("PA", seq: 3_002_101, ack: 5001, len: 1000).ok(.established),
            s("A", seq: 5001, ack: 3_003_101).ok(.established),
        ])
        #expect(after.tracker.statistics.resumed == 1)
        #expect(after.tracker.statistics.restored == 1)
        // Once learned, the windows are strict again.
        after.run([
            c("PA", seq: 3_903_101, ack: 5001, len: 1000).drop(.badSeq, .seqAboveWindow),
            s("A", seq: 5001, ack: 3_900_000).drop(.badAck, .ackAboveSent),
        ])
    }

    @Test("a segment behind the saved numbers is refused while resuming; nothing else is adopted")
    func refusesStaleAndUnknown() {
        let before = Harness()
        before.run(h + [c("PA", seq: 1001, ack: 5001, len: 100).ok(.established)])
        let after = Harness()
        carry(before, into: after)
        // 1001 - 2^30: half a sequence space behind.
        after.run([
            c("PA", seq: 1001 &- (1 << 30), ack: 5001, len: 10).drop(.badSeq, .seqBelowWindow),
            s("A", seq: 5001 &- (1 << 30), ack: 1101).drop(.badSeq, .seqBelowWindow),
        ])
        #expect(after.tracker.statistics.resumeRefused == 2)
        // A flow that was not in the file is still no_connection: no blanket pickup.
        after.clientPort = 40_001
        after.run([c("A", seq: 1, ack: 1).drop(.noConnection, .noconAck)])
    }

    @Test("an idle connection's first packet is a keep-alive probe: the peer's reply passes")
    func keepAliveAfterRestart() {
        let before = Harness()
        before.run(h + [c("PA", seq: 1001, ack: 5001, len: 100).ok(.established),
                        s("A", seq: 5001, ack: 1101).ok(.established)])
        let after = Harness()
        carry(before, into: after, elapsed: 60)
        // Probe: zero length, seq one below the client's next (1101).
        after.run([
            c("A", seq: 1100, ack: 5001).ok(.established, .stateResumed),
            s("A", seq: 5001, ack: 1101).ok(.established),
            c("A", seq: 1100, ack: 5001).at(75).ok(.established),
            s("A", seq: 5001, ack: 1101).ok(.established),
        ])
    }

    @Test("a connection that timed out while the daemon was down is not resurrected")
    func expiredStaysOut() {
        var configuration = testConfiguration()
        configuration.timeouts.tcpEstablished = .seconds(100)
        let before = Harness(configuration)
        before.run(h)
        let after = Harness(configuration)
        let counts = carry(before, into: after, elapsed: 101)
        #expect(counts.expired == 1 && counts.restored == 0)
        after.run([c("A", seq: 1001, ack: 5001).drop(.noConnection, .noconAck)])
    }

    @Test("a connection closed before the stop stays closed; handshakes in progress are not restored")
    func closedAndHalfOpen() {
        let before = Harness()
        before.run(h + [c("R", seq: 1001).ok(.close)])
        before.clientPort = 40_002
        before.run(h2)
        let after = Harness()
        let counts = carry(before, into: after)
        #expect(counts.restored == 1 && counts.halfOpen == 1)
        after.clientPort = 40_002
        after.run([c("PA", seq: 1001, ack: 5001, len: 10).drop(.noConnection, .noconData)])
        after.clientPort = 40_000
        // The closed one: still CLOSE, a SYN opens a new connection.
        after.run([c("S", seq: 90_000).ok(.synSent)])
    }

    @Test("a RST before the direction was learned again: cut timeout, or refused with rst exact")
    func resetWhileResuming() {
        let before = Harness()
        before.run(h)
        let after = Harness()
        carry(before, into: after)
        after.run([c("R", seq: 2_000_000).ok(.established, .rstInWindowInexact)])

        let strict = Harness(testConfiguration(rstExact: true))
        carry(before, into: strict)
        strict.run([c("R", seq: 2_000_000).drop(.rstInvalid, .rstInexact)])
    }

    @Test("damaged records are refused one by one; duplicates and a full table are counted")
    func damagedRecords() {
        let before = Harness()
        before.run(h)
        var buffer: [UInt8] = []
        _ = before.tracker.saveConnections(now: before.now, referenceSeconds: UInt32(before.now / 1_000_000_000),
                                           queue: 0, into: &buffer)
        var bad = buffer
        bad[SavedConnection.Offset.state] = 99
        var swapped = buffer  // key not direction-normalised
        for i in 0..<16 { swapped.swapAt(SavedConnection.Offset.lowAddress + i, SavedConnection.Offset.highAddress + i) }
        var udpState = buffer  // a TCP key with a UDP state
        udpState[SavedConnection.Offset.state] = ConnectionState.udpReplied.rawValue
        let all = buffer + bad + swapped + udpState + buffer + [1, 2, 3]
        let after = Harness()
        after.now = before.now
        let counts = all.withUnsafeBytes { after.tracker.restoreConnections($0, now: after.now, elapsedSeconds: 0) }
        #expect(counts.restored == 1)
        #expect(counts.invalid == 3)
        #expect(counts.duplicate == 1)

        let tiny = Harness(testConfiguration(maxStates: 1))
        tiny.now = before.now
        let two = buffer + buffer.enumerated().map { $0.offset == SavedConnection.Offset.highPort ? $0.element &+ 1 : $0.element }
        let full = two.withUnsafeBytes { tiny.tracker.restoreConnections($0, now: tiny.now, elapsedSeconds: 0) }
        #expect(full.restored == 1 && full.tableFull == 1)
    }

    @Test("restored entries expire in deadline order whatever order the file had")
    func expiryOrder() {
        var configuration = testConfiguration()
        configuration.timeouts.tcpEstablished = .seconds(1_000)
        let before = Harness(configuration)
        for port in 0..<20 {
            before.clientPort = UInt16(41_000 + port)
            before.advance(10)
            before.run(h)
        }
        // Saved newest first.
        var buffer: [UInt8] = []
        let reference = UInt32(before.now / 1_000_000_000)
        _ = before.tracker.saveConnections(now: before.now, referenceSeconds: reference, queue: 0, into: &buffer)
        var reversed: [UInt8] = []
        for index in stride(from: 19, through: 0, by: -1) {
            reversed += buffer[index * SavedConnection.size ..< (index + 1) * SavedConnection.size]
        }
        let after = Harness(configuration)
        after.now = before.now
        _ = reversed.withUnsafeBytes { after.tracker.restoreConnections($0, now: after.now, elapsedSeconds: 0) }
        // The oldest was created 190 s before the save: it has 810 s left.
        after.advance(810)
        #expect(after.tracker.expire(now: after.now) == 1)
        after.advance(10)
        #expect(after.tracker.expire(now: after.now) == 1)
    }

    @Test("proven sources carry over with their age")
    func provenSources() {
        var configuration = testConfiguration()
        configuration.provenSourceMemorySeconds = 100
        let before = Harness(configuration)
        before.run(h)
        before.advance(40)
        let saved = before.tracker.provenSources(now: before.now)
        #expect(saved.count == 1)
        #expect(saved.first?.address == before.client)
        #expect(saved.first?.provenAgoNanoseconds == 40_000_000_000)
        let after = Harness(configuration)
        after.now = before.now + 10_000_000_000
        for source in saved { after.tracker.restoreProvenSource(source, now: after.now, elapsedNanoseconds: 10_000_000_000) }
        #expect(after.tracker.provenSources(now: after.now).first?.provenAgoNanoseconds == 50_000_000_000)
        // 100 s after the handshake it is forgotten.
        #expect(after.tracker.provenSources(now: after.now + 50_000_000_000).isEmpty)
        // A handshake that completed after the file's time (rounded down to its second) is kept
        // as just proven.
        let early = before.now - 40_000_000_000 - 500_000_000
        #expect(before.tracker.provenSources(now: early).first?.provenAgoNanoseconds == 0)
    }
}

@Suite("Pickup and keep-alives")
struct PickupKeepAliveTests {
    @Test("a connection picked up from a keep-alive probe accepts the reply", arguments: Family.all)
    func pickupFromKeepAlive(family: Family) {
        let harness = Harness(testConfiguration(pickup: true), ipv6: family.ipv6, clientHigh: family.clientHigh)
        harness.run([
            c("A", seq: 7_999, ack: 20_000).ok(.established, .midstreamPickup),
            s("A", seq: 20_000, ack: 8_000).ok(.established),
            c("PA", seq: 8_000, ack: 20_000, len: 100).ok(.established),
            s("A", seq: 20_000, ack: 8_100).ok(.established),
        ])
    }
}
