import Testing
@testable import Tracking
import Wire

/// Window tracking (docs/tracking.md, "Windows"; scenarios 45–60): sequence and acknowledgment bounds,
/// window scaling, SACK, zero windows, keep-alives, retransmissions and wrap-around.
@Suite("Windows and sequence space")
struct WindowTests {
    /// `count` client segments of `size` bytes from `start`, each acked by the server.
    static func clientSends(from start: UInt32, count: Int, size: Int, serverSeq: UInt32 = 5001) -> [Step] {
        var steps: [Step] = []
        var seq = start
        for _ in 0..<count {
            steps.append(c("PA", seq: seq, ack: serverSeq, len: size).ok(.established))
            seq &+= UInt32(size)
            steps.append(s("A", seq: serverSeq, ack: seq).ok(.established))
        }
        return steps
    }

    /// `count` server segments of `size` bytes from `start`, each acked by the client.
    static func serverSends(from start: UInt32, count: Int, size: Int, clientSeq: UInt32 = 1001) -> [Step] {
        var steps: [Step] = []
        var seq = start
        for _ in 0..<count {
            steps.append(s("PA", seq: seq, ack: clientSeq, len: size).ok(.established))
            seq &+= UInt32(size)
            steps.append(c("A", seq: clientSeq, ack: seq).ok(.established))
        }
        return steps
    }

    static let scenarios: [Scenario] = [
        Scenario("45 exact fill", h + [
            c("PA", seq: 1001, ack: 5001, len: 60_000).ok(.established),
            c("PA", seq: 61_001, ack: 5001, len: 5_535).ok(.established),
        ]),
        Scenario("46 start past the right edge", h + [
            c("PA", seq: 66_537, ack: 5001, len: 10).drop(.badSeq, .seqAboveWindow),
        ]),
        Scenario("46 data starting at the right edge (exclusive)", h + [
            c("PA", seq: 66_536, ack: 5001, len: 10).drop(.badSeq, .seqAboveWindow),
            c("PA", seq: 66_535, ack: 5001, len: 10).ok(.established, .windowOverrun),
        ]),
        Scenario("47 overrun", h + [
            c("PA", seq: 66_000, ack: 5001, len: 1000).ok(.established, .windowOverrun),
        ]),
        Scenario("48 blind injection", h + [
            c("PA", seq: 1_001_001, ack: 5001, len: 100).drop(.badSeq, .seqAboveWindow),
            s("PA", seq: 2_000_000, ack: 1001, len: 100).drop(.badSeq, .seqAboveWindow),
        ]),
        Scenario("49 retransmission", h + clientSends(from: 1001, count: 10, size: 1000) + [
            c("PA", seq: 1001, ack: 5001, len: 1000).ok(.established),
        ]),
        Scenario("50 ancient data", h + clientSends(from: 1001, count: 199, size: 1000) + [
            c("PA", seq: 1001, ack: 5001, len: 100).drop(.badSeq, .seqBelowWindow),
            c("PA", seq: 134_467, ack: 5001, len: 1000).ok(.established),
        ]),
        Scenario("51 ACK of unsent data", h + [
            s("A", seq: 5001, ack: 1002).drop(.badAck, .ackAboveSent),
            c("A", seq: 1001, ack: 5002).drop(.badAck, .ackAboveSent),
        ]),
        Scenario("52 stale ACK", h + serverSends(from: 5001, count: 300, size: 1000) + [
            c("A", seq: 1001, ack: 6001).drop(.badAck, .ackBelowWindow),
            c("A", seq: 1001, ack: 239_001).ok(.established),
        ]),
        Scenario("53 SACK", [
            c("S", seq: 1000, options: opts(sackOK: true)).ok(.synSent),
            s("SA", seq: 5000, ack: 1001, options: opts(sackOK: true)).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
            s("PA", seq: 5001, ack: 1001, len: 1000).ok(.established),
            s("PA", seq: 6001, ack: 1001, len: 1000).ok(.established),
            s("PA", seq: 7001, ack: 1001, len: 1000).ok(.established),
            s("PA", seq: 8001, ack: 1001, len: 1000).ok(.established),
            c("A", seq: 1001, ack: 5001, options: opts(sack: [(7001, 9001)])).ok(.established),
            c("A", seq: 1001, ack: 5001, options: opts(sack: [(7001, 9501)])).drop(.badAck, .sackAboveSent),
            c("A", seq: 1001, ack: 5001, options: opts(sack: [(8001, 7001)])).drop(.badAck, .sackInvalidBlock),
            c("A", seq: 1001, ack: 5001, options: opts(sack: [(6001, 7001), (8001, 9001)])).ok(.established),
            c("A", seq: 1001, ack: 7001, options: opts(sack: [(5001, 6001)])).ok(.established),
        ]),
        Scenario("53 D-SACK far behind the window", [
            c("S", seq: 1000, options: opts(sackOK: true)).ok(.synSent),
            s("SA", seq: 5000, ack: 1001, options: opts(sackOK: true)).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
        ] + serverSends(from: 5001, count: 300, size: 1000) + [
            // Data received twice, reported below the cumulative ACK (RFC 2883): accepted.
            c("A", seq: 1001, ack: 305_001, options: opts(sack: [(6001, 7001)])).ok(.established),
            // A block reaching above the ACK is no D-SACK: its left edge is held to the window.
            c("A", seq: 1001, ack: 239_001, options: opts(sack: [(6001, 240_001)])).drop(.badAck, .ackBelowWindow),
        ]),
        Scenario("53 SACK blocks without SACK-permitted are ignored", h + [
            s("PA", seq: 5001, ack: 1001, len: 1000).ok(.established),
            c("A", seq: 1001, ack: 5001, options: opts(sack: [(5501, 9_999_999)])).ok(.established, .sackNotPermitted),
        ]),
        Scenario("54 zero window and probe", [
            c("S", seq: 1000).ok(.synSent),
            s("SA", seq: 5000, ack: 1001, win: 0).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
            c("PA", seq: 1001, ack: 5001, len: 1).ok(.established),
            c("PA", seq: 1001, ack: 5001, len: 1).ok(.established),
            c("PA", seq: 1003, ack: 5001, len: 10).drop(.badSeq, .seqAboveWindow),
            s("A", seq: 5001, ack: 1001, win: 0).ok(.established),
            s("A", seq: 5001, ack: 1002, win: 1000).ok(.established),
            c("PA", seq: 1002, ack: 5001, len: 1000).ok(.established),
        ]),
        Scenario("55 keep-alive", h + [
            c("PA", seq: 1001, ack: 5001, len: 100).ok(.established),
            s("A", seq: 5001, ack: 1101).ok(.established),
            c("A", seq: 1100, ack: 5001).ok(.established),
            c("A", seq: 1100, ack: 5001, len: 1).ok(.established),
            s("A", seq: 5000, ack: 1101).ok(.established),
        ]),
        Scenario("56 scaling", [
            c("S", seq: 1000, options: opts(ws: 7)).ok(.synSent),
            s("SA", seq: 5000, ack: 1001, options: opts(ws: 8)).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
            s("A", seq: 5001, ack: 1001, win: 1000).ok(.established),
            c("PA", seq: 256_001, ack: 5001, len: 1000).ok(.established),
            c("PA", seq: 257_002, ack: 5001, len: 1).drop(.badSeq, .seqAboveWindow),
        ]),
        Scenario("57 one-sided window scale is not applied", [
            c("S", seq: 1000, options: opts(ws: 7)).ok(.synSent),
            s("SA", seq: 5000, ack: 1001, win: 1000).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
            s("A", seq: 5001, ack: 1001, win: 1000).ok(.established),
            c("PA", seq: 2002, ack: 5001, len: 10).drop(.badSeq, .seqAboveWindow),
            c("PA", seq: 1991, ack: 5001, len: 10).ok(.established),
        ]),
        Scenario("58 SYN windows are unscaled", [
            c("S", seq: 1000, win: 512, options: opts(ws: 7)).ok(.synSent),
            s("SA", seq: 5000, ack: 1001, win: 512, options: opts(ws: 7)).ok(.synRecv),
            c("PA", seq: 1001, ack: 5001, len: 512).ok(.established),
            c("PA", seq: 1514, ack: 5001, len: 1).drop(.badSeq, .seqAboveWindow),
        ]),
        Scenario("59 wrap-around at 2^32", [
            c("S", seq: 4_294_967_000).ok(.synSent),
            s("SA", seq: 5000, ack: 4_294_967_001).ok(.synRecv),
            c("A", seq: 4_294_967_001, ack: 5001).ok(.established),
            c("PA", seq: 4_294_967_001, ack: 5001, len: 1000).ok(.established),
            s("A", seq: 5001, ack: 705).ok(.established),
            c("PA", seq: 705, ack: 5001, len: 100).ok(.established),
            s("A", seq: 5001, ack: 1705).drop(.badAck, .ackAboveSent),
            s("A", seq: 5001, ack: 805).ok(.established),
            c("PA", seq: 4_294_967_001, ack: 5001, len: 100).ok(.established),
        ]),
        Scenario("59 wrap-around on the server side", [
            c("S", seq: 1000).ok(.synSent),
            s("SA", seq: 4_294_967_290, ack: 1001).ok(.synRecv),
            c("A", seq: 1001, ack: 4_294_967_291).ok(.established),
            s("PA", seq: 4_294_967_291, ack: 1001, len: 100).ok(.established),
            c("A", seq: 1001, ack: 95).ok(.established),
            c("A", seq: 1001, ack: 96).drop(.badAck, .ackAboveSent),
        ]),
        Scenario("60 ISN at the top", [
            c("S", seq: 4_294_967_295).ok(.synSent),
            s("SA", seq: 5000, ack: 0).ok(.synRecv),
            c("A", seq: 0, ack: 5001).ok(.established),
            c("PA", seq: 0, ack: 5001, len: 10).ok(.established),
        ]),
    ]

    @Test("catalogue", arguments: scenarios, [Family.all[0], Family.all[3]])
    func catalogue(_ scenario: Scenario, _ family: Family) {
        let harness = Harness(testConfiguration(), ipv6: family.ipv6, clientHigh: family.clientHigh)
        harness.run(scenario.steps)
    }

    @Test("41 window scale 15 is clamped to 14")
    func clamp() throws {
        let harness = Harness()
        harness.run([
            c("S", seq: 1000, win: 100, options: opts(ws: 15)).ok(.synSent, .wscaleClamped),
            s("SA", seq: 5000, ack: 1001, options: opts(ws: 15)).ok(.synRecv, .wscaleClamped),
            c("A", seq: 1001, ack: 5001, win: 10).ok(.established),
        ])
        let connection = try #require(harness.onlyConnection)
        #expect(connection.initiatorWindow?.scale == 14)
        #expect(connection.responderWindow?.scale == 14)
        #expect(connection.responderWindow?.maxEnd == UInt32(5001 + 10 << 14))
    }

    @Test("56 the right edge follows the scaled window")
    func scaledEdge() throws {
        let harness = Harness()
        let scenario = try #require(Self.scenarios.first { $0.name == "56 scaling" })
        harness.run(Array(scenario.steps.prefix(4)))
        let connection = try #require(harness.onlyConnection)
        #expect(connection.initiatorWindow?.maxEnd == UInt32(1001 + 256_000))
    }

    @Test("a GSO super-packet or truncated copy counts the length from the IP header")
    func superPacket() {
        let harness = Harness()
        harness.run(h)
        let full = harness.bytes(c("PA", seq: 1001, ack: 5001, len: 60_000))
        let result = harness.send(bytes: Array(full.prefix(128)), originalLength: full.count)
        #expect(result == .accept(.established))
        harness.run([
            s("A", seq: 5001, ack: 61_001).ok(.established),
            s("A", seq: 5001, ack: 61_002).drop(.badAck, .ackAboveSent),
        ])
    }

    @Test("sequence comparisons wrap modulo 2^32")
    func sequenceNumbers() {
        #expect(SequenceNumber.before(4_294_967_000, 704))
        #expect(SequenceNumber.after(704, 4_294_967_000))
        #expect(!SequenceNumber.before(5, 5) && !SequenceNumber.after(5, 5))
        #expect(SequenceNumber.within(0, 4_294_967_295, 10))
        #expect(!SequenceNumber.within(11, 4_294_967_295, 10))
        #expect(SequenceNumber.before(0, 0x7FFF_FFFF))
        #expect(SequenceNumber.after(0, 0x8000_0001))
        #expect(SequenceNumber.later(4_294_967_295, 3) == 3)
    }
}
