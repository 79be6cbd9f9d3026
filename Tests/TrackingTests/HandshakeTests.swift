import Testing
@testable import Tracking
import Wire

/// The reference catalogue's handshakes, closes and handshake order (docs/tracking.md, "The
/// handshake"; scenarios 1–24), each in IPv4 and IPv6 and with the initiator as either end of the key.
@Suite("Handshakes and closes")
struct HandshakeTests {
    static let scenarios: [Scenario] = [
        Scenario("1 normal handshake", h),
        Scenario("2 data", h + [
            c("PA", seq: 1001, ack: 5001, len: 100).ok(.established),
            s("A", seq: 5001, ack: 1101).ok(.established),
            s("PA", seq: 5001, ack: 1101, len: 200).ok(.established),
            c("A", seq: 1101, ack: 5201).ok(.established),
        ]),
        Scenario("3 client close", h + [
            c("FA", seq: 1001, ack: 5001).ok(.finWait),
            s("A", seq: 5001, ack: 1002).ok(.closeWait),
            s("FA", seq: 5001, ack: 1002).ok(.lastAck),
            c("A", seq: 1002, ack: 5002).ok(.timeWait),
        ]),
        Scenario("4 simultaneous close", h + [
            c("FA", seq: 1001, ack: 5001).ok(.finWait),
            s("FA", seq: 5001, ack: 1001).ok(.lastAck),
            c("A", seq: 1002, ack: 5002).ok(.lastAck),
            s("A", seq: 5002, ack: 1002).ok(.timeWait),
        ]),
        Scenario("5 half-close", h + [
            c("FA", seq: 1001, ack: 5001).ok(.finWait),
            s("A", seq: 5001, ack: 1002).ok(.closeWait),
            s("PA", seq: 5001, ack: 1002, len: 500).ok(.closeWait),
            c("A", seq: 1002, ack: 5501).ok(.closeWait),
            s("FA", seq: 5501, ack: 1002).ok(.lastAck),
            c("A", seq: 1002, ack: 5502).ok(.timeWait),
        ]),
        Scenario("6 data after own FIN", h + [
            c("FA", seq: 1001, ack: 5001).ok(.finWait),
            c("PA", seq: 1002, ack: 5001, len: 10).drop(.badSeq, .dataAfterFin),
        ]),
        Scenario("7 ACK not covering the FIN", h + [
            c("PA", seq: 1001, ack: 5001, len: 100).ok(.established),
            c("FA", seq: 1101, ack: 5001).ok(.finWait),
            s("A", seq: 5001, ack: 1101).ok(.finWait),
            s("A", seq: 5001, ack: 1102).ok(.closeWait),
        ]),
        Scenario("8 final ACK with data", h2 + [c("PA", seq: 1001, ack: 5001, len: 100).ok(.established)]),
        Scenario("9 FIN as final ACK", h2 + [c("FA", seq: 1001, ack: 5001).ok(.finWait)]),
        Scenario("10 refused", [
            c("S", seq: 1000).ok(.synSent),
            s("RA", seq: 0, ack: 1001).ok(.close),
            c("S", seq: 1000).ok(.synSent),
        ]),
        Scenario("11 RST to SYN without ACK", [
            c("S", seq: 1000).ok(.synSent),
            s("R", seq: 0).drop(.rstInvalid, .rstNoAckInSynSent),
        ]),
        Scenario("12 refusal with wrong ack", [
            c("S", seq: 1000).ok(.synSent),
            s("RA", seq: 0, ack: 999).drop(.rstInvalid, .rstBadAck),
        ]),
        Scenario("13 simultaneous open", [
            c("S", seq: 1000).ok(.synSent),
            s("S", seq: 5000).ok(.synSent2, .simultaneousOpen),
            c("SA", seq: 1000, ack: 5001).ok(.synRecv),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
        ]),
        Scenario("14 split handshake", [
            c("S", seq: 1000).ok(.synSent),
            s("S", seq: 5000).ok(.synSent2, .simultaneousOpen),
            c("SA", seq: 1000, ack: 5001).ok(.synRecv),
            s("A", seq: 5001, ack: 1001).ok(.established),
        ]),
        Scenario("15 split handshake, SYN-ACK with a new seq", [
            c("S", seq: 1000).ok(.synSent),
            s("S", seq: 5000).ok(.synSent2, .simultaneousOpen),
            c("SA", seq: 1234, ack: 5001).drop(.handshakeOrder, .fourWHSSynackWrongSyn),
            c("SA", seq: 1000, ack: 5002).drop(.badAck, .synackWrongAck),
        ]),
        Scenario("16 no entry", [
            s("SA", seq: 5000, ack: 1001).drop(.noConnection, .noconSynack),
            c("R", seq: 1).drop(.noConnection, .noconRst),
            c("FA", seq: 1, ack: 1).drop(.noConnection, .noconFin),
            c("PA", seq: 1, ack: 1, len: 10).drop(.noConnection, .noconData),
        ]),
        Scenario("17 ACK scan", [c("A", seq: 1, ack: 1).drop(.noConnection, .noconAck)]),
        Scenario("17 ACK with pickup", [
            c("A", seq: 1, ack: 1).ok(.established, .midstreamPickup),
            s("A", seq: 1, ack: 1).ok(.established),
            c("PA", seq: 1, ack: 1, len: 100).ok(.established),
            s("A", seq: 1, ack: 101).ok(.established),
            s("A", seq: 1, ack: 1_000_000).drop(.badAck, .ackAboveSent),
        ], pickup: true),
        Scenario("18 SYN-ACK from the initiator", [
            c("S", seq: 1000).ok(.synSent),
            c("SA", seq: 1000, ack: 1).drop(.handshakeOrder, .synackWrongDir),
        ]),
        Scenario("19 SYN-ACK acks the ISN", [
            c("S", seq: 1000).ok(.synSent),
            s("SA", seq: 5000, ack: 1000).drop(.badAck, .synackWrongAck),
            s("SA", seq: 5000, ack: 1002).drop(.badAck, .synackWrongAck),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
        ]),
        Scenario("20 packets from the initiator in SYN_SENT", [
            c("S", seq: 1000).ok(.synSent),
            c("A", seq: 1001, ack: 5001).drop(.handshakeOrder, .ackBeforeSynack),
            c("PA", seq: 1001, ack: 5001, len: 10).drop(.handshakeOrder, .dataBeforeEstablished),
            c("FA", seq: 1001, ack: 5001).drop(.handshakeOrder, .finBeforeEstablished),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
        ]),
        Scenario("21 server data before the final ACK", h2 + [
            s("PA", seq: 5001, ack: 1001, len: 50).drop(.handshakeOrder, .serverDataBeforeAck),
            s("A", seq: 5001, ack: 1001).drop(.handshakeOrder, .ackWrongDir),
            c("A", seq: 1001, ack: 5001).ok(.established),
        ]),
        Scenario("21 server data after a Fast Open SYN", [
            c("S", seq: 1000, options: opts(fastOpen: true)).ok(.synSent),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            s("PA", seq: 5001, ack: 1001, len: 50).ok(.synRecv),
            c("A", seq: 1001, ack: 5051).ok(.established),
        ]),
        Scenario("22 final ACK with a wrong ack", h2 + [
            c("A", seq: 1001, ack: 5002).drop(.badAck, .finalAckWrong),
            c("A", seq: 1001, ack: 4000).drop(.badAck, .finalAckWrong),
            c("A", seq: 1001, ack: 5001).ok(.established),
        ]),
        Scenario("23 final ACK far out of window", h2 + [
            c("A", seq: 900_000, ack: 5001).drop(.badSeq, .seqAboveWindow),
        ]),
        Scenario("24 challenge ACK from a stale server", [
            c("S", seq: 1000).ok(.synSent),
            s("A", seq: 7000, ack: 3333).ok(.synSent, .challengeAck),
            c("R", seq: 3333).ok(.close),
            c("S", seq: 1000).ok(.synSent),
        ]),
        Scenario("retransmitted SYN, SYN-ACK and final ACK", [
            c("S", seq: 1000).ok(.synSent),
            c("S", seq: 1000).ok(.synSent),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            c("S", seq: 1000).ok(.synRecv),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            s("SA", seq: 5000, ack: 1000).drop(.badAck, .synackResendDiffAck),
            c("A", seq: 1001, ack: 5001).ok(.established),
            c("A", seq: 1001, ack: 5001).ok(.established),
            s("SA", seq: 5000, ack: 1001).ok(.established),
        ]),
        Scenario("SYN from the responder in SYN_RECV", h2 + [
            s("S", seq: 5000).drop(.handshakeOrder, .synToclientOnSynRecv),
        ]),
        Scenario("new ISN in SYN_RECV starts over", h2 + [
            c("S", seq: 70_000).ok(.synSent, .synResendDiffSeq),
            s("SA", seq: 9000, ack: 70_001).ok(.synRecv),
            c("A", seq: 70_001, ack: 9001).ok(.established),
        ]),
        Scenario("SYN-ACK with another ISN answering no newer SYN", h2 + [
            s("SA", seq: 6000, ack: 1001).drop(.handshakeOrder, .synackOtherISN),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
        ]),
        Scenario("44 SYN with data, SYN-ACK acks it all", [
            c("S", seq: 1000, len: 100).ok(.synSent),
            s("SA", seq: 5000, ack: 1102).drop(.badAck, .synackWrongAck),
            s("SA", seq: 5000, ack: 1101).ok(.synRecv),
            c("A", seq: 1101, ack: 5001).ok(.established),
        ]),
        Scenario("44 SYN with data, SYN-ACK acks the SYN only", [
            c("S", seq: 1000, len: 100).ok(.synSent),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            c("PA", seq: 1001, ack: 5001, len: 100).ok(.established),
        ]),
    ]

    @Test("catalogue", arguments: scenarios, Family.all)
    func catalogue(_ scenario: Scenario, _ family: Family) {
        var configuration = testConfiguration(pickup: scenario.pickup, rstExact: scenario.rstExact)
        configuration.hashSeed = family.clientHigh ? 7 : 42
        let harness = Harness(configuration, ipv6: family.ipv6, clientHigh: family.clientHigh)
        harness.run(scenario.steps)
    }

    @Test("the first SYN's sender stays the initiator in a simultaneous open")
    func simultaneousOpenKeepsInitiator() throws {
        let harness = Harness(clientHigh: true)
        harness.run([
            c("S", seq: 1000).ok(.synSent),
            s("S", seq: 5000).ok(.synSent2, .simultaneousOpen),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
        ])
        let connection = try #require(harness.onlyConnection)
        #expect(connection.initiatorAddress == harness.client)
        #expect(connection.initiatorPort == harness.clientPort)
        #expect(connection.responderAddress == harness.server)
    }

    @Test("entries are created once and the window values match the reference's H")
    func handshakeWindows() throws {
        let harness = Harness()
        let results = harness.run(h)
        #expect(results.map(\.created) == [true, false, false])
        let connection = try #require(harness.onlyConnection)
        #expect(connection.state == .established)
        #expect(connection.initiatorWindow?.maxEnd == 66_536)
        #expect(connection.responderWindow?.maxEnd == 70_536)
        #expect(harness.tracker.count == 1)
        #expect(harness.tracker.statistics.created == 1)
    }

    @Test("a refused connection's entry is deleted at once")
    func refusedIsDeleted() {
        let harness = Harness()
        harness.run([c("S", seq: 1000).ok(.synSent), s("RA", seq: 0, ack: 1001).ok(.close)])
        #expect(harness.tracker.count == 0)
        #expect(harness.tracker.halfOpenCount == 0)
        #expect(harness.tracker.statistics.closed == 1)
    }

    @Test("IPv6 with hop-by-hop and destination options before TCP")
    func ipv6ExtensionHeaders() {
        let harness = Harness(ipv6: true)
        for (number, step) in h.enumerated() {
            var builder = PacketBuilder(source: step.side == .client ? harness.client : harness.server,
                                        destination: step.side == .client ? harness.server : harness.client)
            builder.extensionHeaders = [.hopByHop, .destinationOptions]
            let bytes = builder.tcp(sourcePort: step.side == .client ? 40_000 : 80,
                                    destinationPort: step.side == .client ? 80 : 40_000,
                                    sequence: step.seq, acknowledgment: step.ack, flags: flags(step.flags))
            guard let result = harness.send(bytes: bytes) else { continue }
            check(result, step.expected, "step \(number + 1)")
        }
    }
}
