import Testing
@testable import Tracking
import Wire

/// RST acceptance, SYNs on existing connections and TIME_WAIT reuse (docs/tracking.md,
/// "RST" and "SYN on a synchronised connection"; scenarios 61–73).
@Suite("RST and SYN on existing connections")
struct ResetAndSynTests {
    /// Scenario 61's set-up: H, the client sends 1001…2001, the server acks 2001.
    static let acked: [Step] = h + [
        c("PA", seq: 1001, ack: 5001, len: 1000).ok(.established),
        s("A", seq: 5001, ack: 2001).ok(.established),
    ]

    /// Scenario 3: a full client close, ending in TIME_WAIT (C.end 1002, S.end 5002).
    static let closed: [Step] = h + [
        c("FA", seq: 1001, ack: 5001).ok(.finWait),
        s("A", seq: 5001, ack: 1002).ok(.closeWait),
        s("FA", seq: 5001, ack: 1002).ok(.lastAck),
        c("A", seq: 1002, ack: 5002).ok(.timeWait),
    ]

    static let scenarios: [Scenario] = [
        Scenario("61 exact RST", acked + [c("R", seq: 2001).ok(.close)]),
        Scenario("61 exact RST from the server", acked + [s("R", seq: 5001).ok(.close)]),
        Scenario("62 in window, inexact", acked + [
            c("R", seq: 2101).ok(.established, .rstInWindowInexact),
            c("PA", seq: 2001, ack: 5001, len: 10).ok(.established),
        ]),
        Scenario("62 inexact with rst exact", acked + [
            c("R", seq: 2101).drop(.rstInvalid, .rstInexact),
            c("R", seq: 2001).ok(.close),
        ], rstExact: true),
        Scenario("63 old RST", acked + [c("R", seq: 1500).drop(.rstInvalid, .rstBelowRcvnxt)]),
        Scenario("64 RST out of window", acked + [c("R", seq: 900_000).drop(.rstInvalid, .rstOutOfWindow)]),
        Scenario("65 bad ack on a RST", acked + [c("RA", seq: 2001, ack: 9999).drop(.rstInvalid, .rstBadAck)]),
        Scenario("66 RST train", acked + [
            c("PA", seq: 2001, ack: 5001, len: 100).ok(.established),
            c("R", seq: 2101).ok(.close),
        ]),
        Scenario("67 after CLOSE", acked + [
            c("R", seq: 2001).ok(.close),
            s("A", seq: 5001, ack: 2001).ok(.close),
            c("PA", seq: 2001, ack: 5001, len: 10).ok(.close, .rstInjectionSuspected),
            s("PA", seq: 5001, ack: 2011, len: 10).ok(.close),
            c("R", seq: 2011).ok(.close),
            s("A", seq: 5011, ack: 2011).at(10).drop(.noConnection, .noconAck),
            c("PA", seq: 2011, ack: 5011, len: 10).drop(.noConnection, .noconData),
        ]),
        Scenario("RST in SYN_RECV from the client", h2 + [c("R", seq: 1001).ok(.close)]),
        Scenario("RST in SYN_SENT from the client", [c("S", seq: 1000).ok(.synSent), c("R", seq: 1001).ok(.close)]),
        Scenario("RST in SYN_SENT from the client, wrong seq", [
            c("S", seq: 1000).ok(.synSent),
            c("R", seq: 77).drop(.rstInvalid, .rstOutOfWindow),
        ]),
        Scenario("68 SYN on ESTABLISHED", h + [
            c("S", seq: 777_777).drop(.synInEstablished, .synNewISN),
            c("S", seq: 1000).drop(.synInEstablished, .synResend),
            s("S", seq: 1).drop(.synInEstablished, .synToclient),
            c("PA", seq: 1001, ack: 5001, len: 1).ok(.established),
        ]),
        Scenario("68 SYN while closing", h + [
            c("FA", seq: 1001, ack: 5001).ok(.finWait),
            c("S", seq: 1000).drop(.synInEstablished, .synInClosing),
            s("S", seq: 5000).drop(.synInEstablished, .synToclient),
        ]),
        Scenario("69 SYN-ACK repeated on ESTABLISHED", h + [
            s("SA", seq: 5000, ack: 1001).ok(.established),
            s("SA", seq: 7777, ack: 1001).drop(.synInEstablished, .synackDiff),
            c("SA", seq: 1000, ack: 5001).drop(.handshakeOrder, .synackWrongDir),
        ]),
        Scenario("70 TIME_WAIT reuse with a higher ISN", closed + [
            c("S", seq: 2_000_000).ok(.synSent, .timeWaitReuse),
            s("SA", seq: 3_000_000, ack: 2_000_001).ok(.synRecv),
            c("A", seq: 2_000_001, ack: 3_000_001).ok(.established),
        ]),
        Scenario("71 TIME_WAIT, lower ISN", closed + [
            c("S", seq: 500).drop(.synInEstablished, .timeWaitOldISN),
            c("A", seq: 1002, ack: 5002).ok(.timeWait),
            c("PA", seq: 1002, ack: 5002, len: 5).drop(.badSeq, .dataAfterFin),
            c("FA", seq: 1001, ack: 5002).ok(.timeWait),
        ]),
        Scenario("73 SYN after RST starts a new connection", acked + [
            c("R", seq: 2001).ok(.close),
            c("S", seq: 42).ok(.synSent),
            s("SA", seq: 9, ack: 43).ok(.synRecv),
        ]),
        Scenario("SYN-ACK after RST", acked + [
            c("R", seq: 2001).ok(.close),
            s("SA", seq: 5000, ack: 1001).drop(.handshakeOrder, .synackWrongDir),
        ]),
    ]

    @Test("catalogue", arguments: scenarios, Family.all)
    func catalogue(_ scenario: Scenario, _ family: Family) {
        let configuration = testConfiguration(rstExact: scenario.rstExact)
        Harness(configuration, ipv6: family.ipv6, clientHigh: family.clientHigh).run(scenario.steps)
    }

    @Test("62 an inexact RST cuts the timeout to 10 s; the next valid packet restores it")
    func inexactTimeout() {
        let cut = Harness()
        cut.run(Self.acked + [c("R", seq: 2101).ok(.established, .rstInWindowInexact)])
        cut.run([s("A", seq: 5001, ack: 2001).at(10).drop(.noConnection, .noconAck)])

        let restored = Harness()
        restored.run(Self.acked + [
            c("R", seq: 2101).ok(.established, .rstInWindowInexact),
            s("A", seq: 5001, ack: 2001).at(9).ok(.established),
            s("A", seq: 5001, ack: 2001).at(60).ok(.established),
        ])
    }

    @Test("71 TIME_WAIT reuse with a lower ISN but a higher timestamp")
    func timeWaitTimestamp() {
        let harness = Harness()
        harness.run([
            c("S", seq: 1000, options: opts(ts: 100)).ok(.synSent),
            s("SA", seq: 5000, ack: 1001, options: opts(ts: 900)).ok(.synRecv),
            c("A", seq: 1001, ack: 5001, options: opts(ts: 101)).ok(.established),
            c("FA", seq: 1001, ack: 5001, options: opts(ts: 102)).ok(.finWait),
            s("A", seq: 5001, ack: 1002, options: opts(ts: 901)).ok(.closeWait),
            s("FA", seq: 5001, ack: 1002, options: opts(ts: 902)).ok(.lastAck),
            c("A", seq: 1002, ack: 5002, options: opts(ts: 103)).ok(.timeWait),
            c("S", seq: 500, options: opts(ts: 103)).drop(.synInEstablished, .timeWaitOldISN),
            c("S", seq: 500, options: opts(ts: 104)).ok(.synSent, .timeWaitReuse),
        ])
    }

    @Test("72 roles swap: the server reuses the 4-tuple and becomes the initiator")
    func rolesSwap() throws {
        var admission = AdmitIf { packet, _ in packet.destinationPort == 40_000 }
        let harness = Harness()
        harness.run(Self.closed)
        guard let result = harness.send(bytes: harness.bytes(s("S", seq: 9_000_000)), admission: &admission) else { return }
        check(result, .pass(.synSent, .timeWaitReuse), "server SYN")
        #expect(result.created)
        #expect(admission.asked == 1)
        let connection = try #require(harness.onlyConnection)
        #expect(connection.initiatorAddress == harness.server)
        #expect(connection.initiatorPort == 80)
        harness.run([c("SA", seq: 7, ack: 9_000_001).ok(.synRecv)])
    }

    @Test("TIME_WAIT reuse refused by the rules keeps the old entry")
    func reuseRefused() {
        var deny = AdmitIf { _, _ in false }
        let harness = Harness()
        harness.run(Self.closed)
        let result = harness.send(bytes: harness.bytes(c("S", seq: 2_000_000)), admission: &deny)
        #expect(result == TrackResult(verdict: .drop, reason: .policy, state: .timeWait))
        harness.run([c("A", seq: 1002, ack: 5002).ok(.timeWait)])
        #expect(harness.tracker.statistics.rejectedPolicy == 1)
    }
}
