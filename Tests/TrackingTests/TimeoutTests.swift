import Testing
@testable import Tracking
import Wire

/// Per-state timeouts on the injected clock, retransmissions and SYN queues (docs/tracking.md,
/// "Timeouts" and "The handshake"; scenarios 74–79).
@Suite("Timeouts and retransmissions")
struct TimeoutTests {
    @Test("74 SYN_SENT is removed at 120 s")
    func synSentTimeout() {
        let kept = Harness()
        kept.run([c("S", seq: 1000).ok(.synSent), s("SA", seq: 5000, ack: 1001).at(119).ok(.synRecv)])

        let removed = Harness()
        removed.run([c("S", seq: 1000).ok(.synSent)])
        removed.advance(120)
        #expect(removed.tracker.expire(now: removed.now) == 1)
        #expect(removed.tracker.count == 0)
        removed.run([s("SA", seq: 5000, ack: 1001).at(1).drop(.noConnection, .noconSynack)])
        #expect(removed.tracker.statistics.expired == 1)
        #expect(removed.tracker.halfOpenCount == 0)
    }

    @Test("75 SYN_RECV idle 60 s is removed")
    func synRecvTimeout() {
        Harness().run(h2 + [c("A", seq: 1001, ack: 5001).at(59).ok(.established)])
        Harness().run(h2 + [c("A", seq: 1001, ack: 5001).at(60).drop(.noConnection, .noconAck)])
    }

    @Test("75 ESTABLISHED idle 432,000 s is removed, 431,999 s kept")
    func establishedTimeout() {
        Harness().run(h + [c("A", seq: 1001, ack: 5001).at(431_999).ok(.established)])
        Harness().run(h + [c("A", seq: 1001, ack: 5001).at(432_000).drop(.noConnection, .noconAck)])
    }

    @Test("76 with unacknowledged data the ESTABLISHED timeout is capped at 300 s")
    func unacknowledgedCap() {
        let unacked = h + [c("PA", seq: 1001, ack: 5001, len: 100).ok(.established)]
        Harness().run(unacked + [s("A", seq: 5001, ack: 1101).at(299).ok(.established)])
        Harness().run(unacked + [s("A", seq: 5001, ack: 1101).at(300).drop(.noConnection, .noconAck)])
        // Once acknowledged, the long timeout is back.
        Harness().run(unacked + [
            s("A", seq: 5001, ack: 1101).ok(.established),
            c("A", seq: 1101, ack: 5001).at(3_000).ok(.established),
        ])
    }

    @Test("77 a SYN repeated every second does not keep the entry alive")
    func repeatedSYN() {
        let harness = Harness()
        harness.run([c("S", seq: 1000).ok(.synSent)])
        for _ in 0..<100 { harness.run([c("S", seq: 1000).at(1).ok(.synSent)]) }
        harness.run([s("SA", seq: 5000, ack: 1001).at(19).ok(.synRecv)])

        let expired = Harness()
        expired.run([c("S", seq: 1000).ok(.synSent)])
        for _ in 0..<100 { expired.run([c("S", seq: 1000).at(1).ok(.synSent)]) }
        expired.run([s("SA", seq: 5000, ack: 1001).at(20).drop(.noConnection, .noconSynack)])
    }

    @Test("78 distinct SYNs on one 4-tuple: the last six ISNs are kept")
    func synQueue() {
        func twentySYNs() -> [Step] {
            (1...20).map { number in
                let step = c("S", seq: UInt32(number) * 100_000)
                if number == 1 { return step.ok(.synSent) }
                return step.ok(.synSent, number <= 6 ? .synResendDiffSeq : .synFloodOnFlow)
            }
        }
        Harness().run(twentySYNs() + [
            s("SA", seq: 5000, ack: 1_500_001).ok(.synRecv),
            c("A", seq: 1_500_001, ack: 5001).ok(.established),
        ])
        Harness().run(twentySYNs() + [s("SA", seq: 5000, ack: 2_000_001).ok(.synRecv)])
        Harness().run(twentySYNs() + [s("SA", seq: 5000, ack: 1_400_001).drop(.badAck, .synackWrongAck)])
        Harness().run(twentySYNs() + [s("RA", seq: 0, ack: 1_600_001).ok(.close)])
    }

    @Test("79 three identical data segments cap the timeout at 300 s")
    func retransmissions() {
        let repeated = h + [
            c("PA", seq: 1001, ack: 5001, len: 100).ok(.established),
            s("A", seq: 5001, ack: 1001).ok(.established),
            c("PA", seq: 1001, ack: 5001, len: 100).ok(.established),
            c("PA", seq: 1001, ack: 5001, len: 100).ok(.established, .retransmissionExcess),
            c("PA", seq: 1001, ack: 5001, len: 100).ok(.established),
            s("A", seq: 5001, ack: 1101).ok(.established),
        ]
        Harness().run(repeated + [c("A", seq: 1101, ack: 5001).at(299).ok(.established)])
        Harness().run(repeated + [c("A", seq: 1101, ack: 5001).at(300).drop(.noConnection, .noconAck)])
    }

    @Test("closing states time out with Linux's values", arguments: [
        ("FIN_WAIT", 120.0), ("CLOSE_WAIT", 60.0), ("LAST_ACK", 30.0), ("TIME_WAIT", 120.0), ("CLOSE", 10.0),
    ])
    func closingTimeouts(_ name: String, _ seconds: Double) {
        let setUp: [Step]
        switch name {
        case "FIN_WAIT": setUp = h + [c("FA", seq: 1001, ack: 5001).ok(.finWait)]
        case "CLOSE_WAIT": setUp = h + [c("FA", seq: 1001, ack: 5001).ok(.finWait), s("A", seq: 5001, ack: 1002).ok(.closeWait)]
        case "LAST_ACK": setUp = h + [c("FA", seq: 1001, ack: 5001).ok(.finWait), s("FA", seq: 5001, ack: 1002).ok(.lastAck)]
        case "TIME_WAIT": setUp = ResetAndSynTests.closed
        default: setUp = h + [c("R", seq: 1001).ok(.close)]
        }
        let kept = Harness()
        kept.run(setUp)
        kept.advance(seconds - 1)
        #expect(kept.tracker.expire(now: kept.now) == 0)
        #expect(kept.tracker.count == 1)
        let removed = Harness()
        removed.run(setUp)
        removed.advance(seconds)
        #expect(removed.tracker.expire(now: removed.now) == 1)
        #expect(removed.tracker.count == 0)
    }

    @Test("a picked-up connection keeps 300 s until the other side speaks, then the full timeout")
    func pickupTimeout() {
        let configuration = testConfiguration(pickup: true)
        let silent = Harness(configuration)
        silent.run([c("A", seq: 1, ack: 1).ok(.established, .midstreamPickup)])
        silent.advance(299)
        #expect(silent.tracker.expire(now: silent.now) == 0)
        silent.advance(1)
        #expect(silent.tracker.expire(now: silent.now) == 1)
        // With pickup on, the next ACK picks the flow up again.
        silent.run([c("A", seq: 1, ack: 1).ok(.established, .midstreamPickup)])
        Harness(configuration).run([
            c("A", seq: 1, ack: 1).ok(.established, .midstreamPickup),
            s("A", seq: 1, ack: 1).ok(.established),
            c("A", seq: 1, ack: 1).at(3_000).ok(.established),
        ])
    }

    @Test("timeouts are settable")
    func settable() {
        var configuration = testConfiguration()
        configuration.timeouts.tcpEstablished = .seconds(50)
        configuration.timeouts.tcpSynSent = .milliseconds(2_500)
        Harness(configuration).run(h + [c("A", seq: 1001, ack: 5001).at(50).drop(.noConnection, .noconAck)])
        Harness(configuration).run(h + [c("A", seq: 1001, ack: 5001).at(49).ok(.established)])
        Harness(configuration).run([c("S", seq: 1).ok(.synSent), s("SA", seq: 1, ack: 2).at(2.9).ok(.synRecv)])
        Harness(configuration).run([c("S", seq: 1).ok(.synSent), s("SA", seq: 1, ack: 2).at(3).drop(.noConnection, .noconSynack)])
    }

    @Test("expiry is amortised: the packet path removes due entries a few at a time")
    func amortisedExpiry() {
        let harness = Harness()
        for port in 0..<500 {
            harness.clientPort = UInt16(10_000 + port)
            harness.run([c("S", seq: 1).ok(.synSent)])
        }
        #expect(harness.tracker.count == 500)
        harness.advance(200)
        harness.clientPort = 9_000
        harness.run([c("S", seq: 1).ok(.synSent)])
        let afterOne = harness.tracker.count
        #expect(afterOne > 490 && afterOne < 501, "one packet expired only a few: \(afterOne)")
        for _ in 0..<400 { harness.run([c("S", seq: 1).ok(.synSent)]) }
        #expect(harness.tracker.count == 1)
        #expect(harness.tracker.statistics.expired == 500)
        #expect(harness.tracker.halfOpenCount == 1)
    }

    @Test("a clock that goes back counts as standing still")
    func clockBackwards() {
        let harness = Harness()
        harness.run(h)
        harness.now -= 5_000_000_000
        harness.run([c("PA", seq: 1001, ack: 5001, len: 1).ok(.established)])
    }
}
