import Testing
@testable import Tracking
import Wire

/// Flag combinations (docs/tracking.md, "Flags first"; scenarios 25–37): each invalid one is dropped as
/// `invalid_flags` with its event, with or without an ESTABLISHED entry.
@Suite("Flag combinations")
struct FlagTests {
    struct Combination: Sendable, CustomTestStringConvertible {
        var letters: String
        var event: TrackerEvent
        var testDescription: String { "\(letters.isEmpty ? "none" : letters) → \(event.name)" }
    }

    static let invalid: [Combination] = [
        Combination(letters: "", event: .flagsNull),
        Combination(letters: "P", event: .flagsNull),
        Combination(letters: "PEW", event: .flagsNull),
        Combination(letters: "F", event: .flagsFinNoAck),
        Combination(letters: "FP", event: .flagsFinNoAck),
        Combination(letters: "FU", event: .flagsFinNoAck),
        Combination(letters: "FPU", event: .flagsXmas),
        Combination(letters: "SF", event: .flagsSynFin),
        Combination(letters: "SFPU", event: .flagsSynFin),
        Combination(letters: "SFA", event: .flagsSynFin),
        Combination(letters: "UAPRSFEW", event: .flagsSynFin),
        Combination(letters: "SR", event: .flagsSynRst),
        Combination(letters: "SRA", event: .flagsSynRst),
        Combination(letters: "RF", event: .flagsRstFin),
        Combination(letters: "RFA", event: .flagsRstFin),
        Combination(letters: "U", event: .flagsUrgNoAck),
        Combination(letters: "UP", event: .flagsUrgNoAck),
        Combination(letters: "SU", event: .flagsSynUrg),
        Combination(letters: "SAU", event: .flagsSynUrg),
        Combination(letters: "RU", event: .flagsRstUrg),
        Combination(letters: "RAU", event: .flagsRstUrg),
    ]

    @Test("dropped without an entry (IPv4 and IPv6)", arguments: invalid, [false, true])
    func withoutEntry(_ combination: Combination, _ ipv6: Bool) {
        let harness = Harness(ipv6: ipv6)
        harness.run([c(combination.letters, seq: 1).drop(.invalidFlags, combination.event)])
        #expect(harness.tracker.count == 0)
    }

    @Test("dropped on an ESTABLISHED connection, which is left as it was", arguments: invalid)
    func onEstablished(_ combination: Combination) throws {
        let harness = Harness()
        harness.run(h)
        let before = try #require(harness.onlyConnection)
        harness.run([
            c(combination.letters, seq: 1001, ack: 5001).drop(.invalidFlags, combination.event),
            s(combination.letters, seq: 5001, ack: 1001).drop(.invalidFlags, combination.event),
        ])
        #expect(harness.onlyConnection == before)
    }

    @Test("the valid sets classify as Linux's packet kinds")
    func validSets() {
        let expected: [(String, TCPSegmentKind)] = [
            ("S", .syn), ("SA", .synAck), ("A", .ack), ("AU", .ack), ("FA", .fin), ("FAU", .fin),
            ("R", .rst), ("RA", .rst), ("SPEW", .syn), ("SAPEWN", .synAck), ("RAP", .rst), ("APN", .ack),
        ]
        for (letters, kind) in expected {
            let classified = TCPFlagCheck.classify(flags(letters))
            #expect(classified.kind == kind, "\(letters)")
            #expect(classified.event == nil, "\(letters)")
        }
    }

    @Test("every one of the 32 U/A/R/S/F patterns is either one of the 8 valid sets or invalid")
    func exhaustive() {
        let valid: Set<UInt16> = [0x02, 0x12, 0x10, 0x30, 0x11, 0x31, 0x04, 0x14]
        for pattern in UInt16(0)..<64 where pattern & 0x08 == 0 {
            let classified = TCPFlagCheck.classify(TCPFlags(rawValue: pattern))
            #expect((classified.kind != nil) == valid.contains(pattern), "pattern \(pattern)")
            #expect((classified.event != nil) == !valid.contains(pattern), "pattern \(pattern)")
        }
    }

    @Test("36 ECN and AccECN bits are ignored")
    func ecn() {
        let harness = Harness()
        harness.run([
            c("SEW", seq: 1000).ok(.synSent),
            s("SAE", seq: 5000, ack: 1001).ok(.synRecv),
            c("A", seq: 1001, ack: 5001).ok(.established),
            c("PAE", seq: 1001, ack: 5001, len: 10).ok(.established),
            c("PAW", seq: 1011, ack: 5001, len: 10).ok(.established),
            s("AN", seq: 5001, ack: 1021).ok(.established),
        ])
        // AE and the reserved bits set on a SYN of another connection.
        var bytes = harness.bytes(c("SN", seq: 77))
        bytes[20 + 12] |= 0x0E
        harness.clientPort = 40_001
        bytes[20] = UInt8(40_001 >> 8)
        bytes[21] = UInt8(40_001 & 0xFF)
        let result = harness.send(bytes: bytes)
        #expect(result?.verdict == .accept)
        #expect(result?.state == .synSent)
    }

    @Test("37 PSH, URG with an urgent pointer, FIN+URG and an exact RST+ACK on ESTABLISHED")
    func validOnEstablished() {
        Harness().run(h + [
            c("PA", seq: 1001, ack: 5001, len: 10).ok(.established),
            c("AU", seq: 1011, ack: 5001, len: 5, urgent: 3).ok(.established),
            s("RA", seq: 5001, ack: 1016).ok(.close),
        ])
        Harness().run(h + [c("FAU", seq: 1001, ack: 5001, urgent: 1).ok(.finWait)])
    }

    @Test("anomalies of accepted packets are logged: broken ACK, RST with data, duplicate option")
    func acceptedAnomalies() {
        let harness = Harness()
        harness.run(h + [
            c("PA", seq: 1001, ack: 5001, len: 10).ok(.established),
        ])
        // A SYN of a new connection with an ack number but no ACK flag.
        harness.clientPort = 40_010
        harness.run([c("S", seq: 9, ack: 1234).ok(.synSent, .brokenAck)])
        // RST with data, exact.
        harness.clientPort = 40_000
        harness.run([c("R", seq: 1011, len: 4).ok(.close, .rstWithData)])
    }
}
