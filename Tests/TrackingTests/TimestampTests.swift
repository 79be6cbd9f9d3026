import Testing
@testable import Tracking
import Wire

/// `set tcp paws` (RFC 7323 §5) and `set tcp timestamps strict` (§3.2): both off by default.
@Suite("Timestamps: PAWS and strict")
struct TimestampTests {
    /// A handshake in which both SYNs carry timestamps (client TSval from 100, server from 9000).
    static let negotiated: [Step] = [
        c("S", seq: 1000, options: opts(ts: 100)).ok(.synSent),
        s("SA", seq: 5000, ack: 1001, options: tsOpts(9000, echo: 100)).ok(.synRecv),
        c("A", seq: 1001, ack: 5001, options: tsOpts(101, echo: 9000)).ok(.established),
    ]

    static let paws: [Scenario] = [
        Scenario("an older TSval from the client is bad_timestamp; one tick of slack", negotiated + [
            c("PA", seq: 1001, ack: 5001, len: 100, options: tsOpts(110, echo: 9000)).ok(.established),
            s("A", seq: 5001, ack: 1101, options: tsOpts(9010, echo: 110)).ok(.established),
            c("PA", seq: 1101, ack: 5001, len: 100, options: tsOpts(50, echo: 9000))
                .drop(.badTimestamp, .pawsOldTimestamp),
            c("PA", seq: 1101, ack: 5001, len: 100, options: tsOpts(109, echo: 9000)).ok(.established),
            c("PA", seq: 1201, ack: 5001, len: 100, options: tsOpts(111, echo: 9010)).ok(.established),
        ]),
        Scenario("an older TSval from the server is bad_timestamp", negotiated + [
            s("PA", seq: 5001, ack: 1001, len: 100, options: tsOpts(9100, echo: 101)).ok(.established),
            c("A", seq: 1001, ack: 5101, options: tsOpts(120, echo: 9100)).ok(.established),
            s("PA", seq: 5101, ack: 1001, len: 100, options: tsOpts(8000, echo: 101))
                .drop(.badTimestamp, .pawsOldTimestamp),
            s("PA", seq: 5101, ack: 1001, len: 100, options: tsOpts(9100, echo: 101)).ok(.established),
        ]),
        Scenario("a segment that overtook an earlier one does not move TS.Recent", negotiated + [
            // The second of two in flight arrives first: its TSval is not taken (its seq is past
            // the server's last ack), so the first one, older, still passes.
            c("PA", seq: 1101, ack: 5001, len: 100, options: tsOpts(130, echo: 9000)).ok(.established),
            c("PA", seq: 1001, ack: 5001, len: 100, options: tsOpts(120, echo: 9000)).ok(.established),
            s("A", seq: 5001, ack: 1201, options: tsOpts(9010, echo: 120)).ok(.established),
        ]),
        Scenario("TSvals wrap around 2^32", [
            c("S", seq: 1000, options: opts(ts: 4_294_967_200)).ok(.synSent),
            s("SA", seq: 5000, ack: 1001, options: tsOpts(9000, echo: 4_294_967_200)).ok(.synRecv),
            c("A", seq: 1001, ack: 5001, options: tsOpts(4_294_967_290, echo: 9000)).ok(.established),
            c("PA", seq: 1001, ack: 5001, len: 10, options: tsOpts(5, echo: 9000)).ok(.established),
            s("A", seq: 5001, ack: 1011, options: tsOpts(9001, echo: 5)).ok(.established),
            c("PA", seq: 1011, ack: 5001, len: 10, options: tsOpts(4_294_967_295, echo: 9001))
                .drop(.badTimestamp, .pawsOldTimestamp),
        ]),
        Scenario("a RST is not judged by its timestamp", negotiated + [
            c("PA", seq: 1001, ack: 5001, len: 100, options: tsOpts(110, echo: 9000)).ok(.established),
            c("R", seq: 1101, options: tsOpts(3, echo: 0)).ok(.close),
        ]),
    ]

    @Test("PAWS", arguments: paws, Family.all)
    func pawsCatalogue(_ scenario: Scenario, _ family: Family) {
        var configuration = testConfiguration(paws: true)
        configuration.hashSeed = family.clientHigh ? 7 : 42
        Harness(configuration, ipv6: family.ipv6, clientHigh: family.clientHigh).run(scenario.steps)
    }

    @Test("PAWS is off by default: an older TSval passes")
    func pawsOffByDefault() {
        Harness().run(Self.negotiated + [
            c("PA", seq: 1001, ack: 5001, len: 100, options: tsOpts(110, echo: 9000)).ok(.established),
            s("A", seq: 5001, ack: 1101, options: tsOpts(9010, echo: 110)).ok(.established),
            c("PA", seq: 1101, ack: 5001, len: 100, options: tsOpts(50, echo: 9000)).ok(.established),
        ])
    }

    @Test("a connection idle for over 24 days is exempt from PAWS")
    func pawsIdle() {
        var configuration = testConfiguration(paws: true)
        configuration.timeouts.tcpEstablished = .seconds(40 * 86_400)
        Harness(configuration).run(Self.negotiated + [
            c("PA", seq: 1001, ack: 5001, len: 100, options: tsOpts(2_000_000_000, echo: 9000)).ok(.established),
            s("A", seq: 5001, ack: 1101, options: tsOpts(9010, echo: 2_000_000_000)).ok(.established),
            c("PA", seq: 1101, ack: 5001, len: 100, options: tsOpts(5, echo: 9010)).at(25 * 86_400).ok(.established),
        ])
    }

    static let strict: [Scenario] = [
        Scenario("after both SYNs carried timestamps, a segment without one is bad_timestamp", negotiated + [
            c("PA", seq: 1001, ack: 5001, len: 100).drop(.badTimestamp, .timestampMissing),
            s("A", seq: 5001, ack: 1001).drop(.badTimestamp, .timestampMissing),
            c("PA", seq: 1001, ack: 5001, len: 100, options: tsOpts(110, echo: 9000)).ok(.established),
            c("R", seq: 1101).ok(.close),
        ]),
        Scenario("timestamps not negotiated (the SYN-ACK had none): segments without them pass", [
            c("S", seq: 1000, options: opts(ts: 100)).ok(.synSent),
            s("SA", seq: 5000, ack: 1001).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
            c("PA", seq: 1001, ack: 5001, len: 100).ok(.established),
            s("A", seq: 5001, ack: 1101).ok(.established),
        ]),
    ]

    @Test("timestamps strict", arguments: strict, Family.all)
    func strictCatalogue(_ scenario: Scenario, _ family: Family) {
        var configuration = testConfiguration(timestampsStrict: true)
        configuration.hashSeed = family.clientHigh ? 7 : 42
        Harness(configuration, ipv6: family.ipv6, clientHigh: family.clientHigh).run(scenario.steps)
    }
}
