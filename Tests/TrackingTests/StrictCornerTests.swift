import Testing
@testable import Tracking
import Wire

/// Timestamps with an echo (`opts(ts:)` echoes 0).
func tsOpts(_ value: UInt32, echo: UInt32) -> TCPOptions {
    var options = TCPOptions()
    options.timestamp = (value, echo)
    return options
}

/// Where synwall is stricter than Linux conntrack because the RFC is clear (RFC 9293
/// §3.10.7.2–4), and the edges replayed captures found: each scenario in IPv4 and IPv6, with
/// the initiator as either end of the key, and in both directions of the connection.
@Suite("Strict corners and capture edges")
struct StrictCornerTests {
    static let scenarios: [Scenario] = [
        // The right edge of the window is exclusive for data.
        Scenario("client data starting at the right edge", h + [
            c("PA", seq: 66_536, ack: 5001, len: 10).drop(.badSeq, .seqAboveWindow),
            c("PA", seq: 66_536, ack: 5001, len: 1).drop(.badSeq, .seqAboveWindow),
            c("PA", seq: 66_535, ack: 5001, len: 1).ok(.established),
            c("A", seq: 66_536, ack: 5001).ok(.established),
        ]),
        Scenario("server data starting at the right edge", h + [
            s("PA", seq: 70_536, ack: 1001, len: 10).drop(.badSeq, .seqAboveWindow),
            s("PA", seq: 70_535, ack: 1001, len: 1).ok(.established),
            s("A", seq: 70_536, ack: 1001).ok(.established),
        ]),
        // Into a zero window only a zero-length segment or the one-byte probe.
        Scenario("client data into the server's zero window", [
            c("S", seq: 1000).ok(.synSent),
            s("SA", seq: 5000, ack: 1001, win: 1000).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
            c("PA", seq: 1001, ack: 5001, len: 1000).ok(.established),
            s("A", seq: 5001, ack: 2001, win: 0).ok(.established),
            c("PA", seq: 2001, ack: 5001, len: 100).drop(.badSeq, .zeroWindowData),
            c("PA", seq: 2001, ack: 5001, len: 2).drop(.badSeq, .zeroWindowData),
            c("PA", seq: 2001, ack: 5001, len: 1).ok(.established),
            c("A", seq: 2000, ack: 5001).ok(.established),
            c("A", seq: 2002, ack: 5001).ok(.established),
            c("PA", seq: 1001, ack: 5001, len: 1000).ok(.established),
            s("A", seq: 5001, ack: 2001, win: 0).ok(.established),
            s("A", seq: 5001, ack: 2002, win: 0).ok(.established),
            c("PA", seq: 2002, ack: 5001, len: 1).ok(.established),
            c("PA", seq: 2002, ack: 5001, len: 10).drop(.badSeq, .zeroWindowData),
            s("A", seq: 5001, ack: 2002, win: 1000).ok(.established),
            c("PA", seq: 2002, ack: 5001, len: 1000).ok(.established),
        ]),
        Scenario("server data into the client's zero window", [
            c("S", seq: 1000, win: 1000).ok(.synSent),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            c("A", seq: 1001, ack: 5001, win: 1000).ok(.established),
            s("PA", seq: 5001, ack: 1001, len: 1000).ok(.established),
            c("A", seq: 1001, ack: 6001, win: 0).ok(.established),
            s("PA", seq: 6001, ack: 1001, len: 10).drop(.badSeq, .zeroWindowData),
            s("PA", seq: 6001, ack: 1001, len: 1).ok(.established),
            s("A", seq: 6000, ack: 1001).ok(.established),
            c("A", seq: 1001, ack: 6001, win: 500).ok(.established),
            s("PA", seq: 6001, ack: 1001, len: 500).ok(.established),
        ]),
        // A SYN-ACK with another ISN after one was seen.
        Scenario("another SYN-ACK ISN answering no newer SYN", h2 + [
            s("SA", seq: 9000, ack: 1001).drop(.handshakeOrder, .synackOtherISN),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            c("A", seq: 1001, ack: 9001).drop(.badAck, .finalAckWrong),
            c("A", seq: 1001, ack: 5001).ok(.established),
        ]),
        Scenario("another SYN-ACK ISN answering the initiator's repeated SYN", h2 + [
            c("S", seq: 1000).ok(.synRecv),
            s("SA", seq: 9000, ack: 1001).ok(.synRecv),
            s("SA", seq: 9500, ack: 1001).drop(.handshakeOrder, .synackOtherISN),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            s("SA", seq: 9000, ack: 1001).ok(.synRecv),
            c("A", seq: 1001, ack: 9001).ok(.established),
        ]),
        Scenario("the initiator answers the earlier of two SYN-ACK ISNs", h2 + [
            c("S", seq: 1000).ok(.synRecv),
            s("SA", seq: 9000, ack: 1001).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
        ]),
        Scenario("another SYN-ACK ISN answering a re-SYN with a new ISN", h2 + [
            c("S", seq: 70_000).ok(.synSent, .synResendDiffSeq),
            s("SA", seq: 9000, ack: 70_001).ok(.synRecv),
            s("SA", seq: 5000, ack: 1001).drop(.badAck, .synackWrongAck),
            c("A", seq: 70_001, ack: 9001).ok(.established),
        ]),
        // The capture: a responder alternating two ISNs; a retransmission is never refused.
        Scenario("a responder alternating two SYN-ACK ISNs", h2 + [
            c("S", seq: 1000).ok(.synRecv),
            s("SA", seq: 9000, ack: 1001).ok(.synRecv),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            s("SA", seq: 9000, ack: 1001).ok(.synRecv),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            s("SA", seq: 9000, ack: 1001).ok(.synRecv),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
        ]),
        Scenario("the alternates queue forgets its oldest, never refuses", h2 + [
            c("S", seq: 1000).ok(.synRecv),
            s("SA", seq: 6000, ack: 1001).ok(.synRecv),
            c("S", seq: 1000).ok(.synRecv),
            s("SA", seq: 7000, ack: 1001).ok(.synRecv),
            c("S", seq: 1000).ok(.synRecv),
            s("SA", seq: 8000, ack: 1001).ok(.synRecv),
            s("SA", seq: 7000, ack: 1001).ok(.synRecv),
            s("SA", seq: 6000, ack: 1001).ok(.synRecv),
            s("SA", seq: 8000, ack: 1001).ok(.synRecv),
            s("SA", seq: 5000, ack: 1001).drop(.handshakeOrder, .synackOtherISN),
            c("A", seq: 1001, ack: 6001).ok(.established),
        ]),
        // A RST ends a handshake.
        Scenario("the initiator's RST in SYN_RECV ends the handshake", h2 + [
            c("R", seq: 1001).ok(.close),
            c("A", seq: 1001, ack: 5001).drop(.noConnection, .noconAck),
            s("SA", seq: 5000, ack: 1001).drop(.noConnection, .noconSynack),
            c("S", seq: 1000).ok(.synSent),
        ]),
        Scenario("the responder's RST in SYN_RECV ends the handshake", h2 + [
            s("R", seq: 5001).ok(.close),
            s("PA", seq: 5001, ack: 1001, len: 10).drop(.noConnection, .noconData),
            c("A", seq: 1001, ack: 5001).drop(.noConnection, .noconAck),
        ]),
        Scenario("a RST in SYN_SENT2 ends the handshake", [
            c("S", seq: 1000).ok(.synSent),
            s("S", seq: 5000).ok(.synSent2, .simultaneousOpen),
            s("R", seq: 5001).ok(.close),
            c("SA", seq: 1000, ack: 5001).drop(.noConnection, .noconSynack),
        ]),
        Scenario("a RST in SYN_SENT ends the handshake", [
            c("S", seq: 1000).ok(.synSent),
            s("RA", seq: 0, ack: 1001).ok(.close),
            s("SA", seq: 5000, ack: 1001).drop(.noConnection, .noconSynack),
            c("A", seq: 1001, ack: 5001).drop(.noConnection, .noconAck),
        ]),
        Scenario("an inexact RST in SYN_RECV keeps the handshake", h2 + [
            c("R", seq: 1500).ok(.synRecv, .rstInWindowInexact),
            c("A", seq: 1001, ack: 5001).ok(.established),
        ]),
        // A RST+ACK in SYN_SENT whose timestamps contradict the SYN.
        Scenario("RST+ACK echoing a TSval the SYN did not send", [
            c("S", seq: 1000, options: opts(ts: 100)).ok(.synSent),
            s("RA", seq: 0, ack: 1001, options: tsOpts(7, echo: 55)).drop(.rstInvalid, .rstTimestampMismatch),
            s("RA", seq: 0, ack: 1001, options: tsOpts(7, echo: 101)).drop(.rstInvalid, .rstTimestampMismatch),
            s("SA", seq: 5000, ack: 1001, options: tsOpts(7, echo: 100)).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
        ]),
        Scenario("RST+ACK echoing the SYN's TSval", [
            c("S", seq: 1000, options: opts(ts: 100)).ok(.synSent),
            s("RA", seq: 0, ack: 1001, options: tsOpts(7, echo: 100)).ok(.close),
        ]),
        Scenario("RST+ACK echoing a retransmitted SYN's TSval", [
            c("S", seq: 1000, options: opts(ts: 100)).ok(.synSent),
            c("S", seq: 1000, options: opts(ts: 1100)).ok(.synSent),
            s("RA", seq: 0, ack: 1001, options: tsOpts(7, echo: 1101)).drop(.rstInvalid, .rstTimestampMismatch),
            s("RA", seq: 0, ack: 1001, options: tsOpts(7, echo: 99)).drop(.rstInvalid, .rstTimestampMismatch),
            s("RA", seq: 0, ack: 1001, options: tsOpts(7, echo: 600)).ok(.close),
        ]),
        Scenario("RST+ACK with timestamps the SYN never offered", [
            c("S", seq: 1000).ok(.synSent),
            s("RA", seq: 0, ack: 1001, options: tsOpts(7, echo: 55)).drop(.rstInvalid, .rstTimestampMismatch),
            s("RA", seq: 0, ack: 1001, options: tsOpts(7, echo: 0)).ok(.close),
        ]),
        Scenario("RST+ACK without timestamps after a SYN with them", [
            c("S", seq: 1000, options: opts(ts: 4_294_967_000)).ok(.synSent),
            s("RA", seq: 0, ack: 1001).ok(.close),
        ]),
    ]

    @Test("catalogue", arguments: scenarios, Family.all)
    func catalogue(_ scenario: Scenario, _ family: Family) {
        var configuration = testConfiguration(pickup: scenario.pickup, rstExact: scenario.rstExact)
        configuration.hashSeed = family.clientHigh ? 7 : 42
        let harness = Harness(configuration, ipv6: family.ipv6, clientHigh: family.clientHigh)
        harness.run(scenario.steps)
    }

    @Test("an empty SACK option passes as an anomaly, both ways", arguments: Family.all)
    func emptySACK(_ family: Family) {
        var empty = TCPOptions()
        empty.emptySACK = true
        let harness = Harness(ipv6: family.ipv6, clientHigh: family.clientHigh)
        harness.run([
            c("S", seq: 1000, options: opts(sackOK: true)).ok(.synSent),
            s("SA", seq: 5000, ack: 1001, options: empty).ok(.synRecv, .tcpOptEmptySack),
            c("A", seq: 1001, ack: 5001, options: empty).ok(.established, .tcpOptEmptySack),
            s("PA", seq: 5001, ack: 1001, len: 100, options: empty).ok(.established, .tcpOptEmptySack),
            c("A", seq: 1001, ack: 5101).ok(.established),
        ])
    }
}
