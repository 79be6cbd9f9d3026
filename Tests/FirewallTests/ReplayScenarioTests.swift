import Engine
@testable import Firewall
import Foundation
import Testing

/// The scenario captures made by `Fixtures/make-scenarios.py` (scapy), beside this file.
private func scenario(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/\(name).pcap").path
}

/// What one replayed packet should get: the verdict, the drop reason (nil when accepted), the
/// finer event name (nil when none) and, when given, the connection state printed after it.
private struct Expected: CustomStringConvertible {
    let verdict: String
    let reason: String?
    let event: String?
    let state: String?

    static func pass(_ state: String? = nil, event: String? = nil) -> Expected {
        Expected(verdict: "accept", reason: nil, event: event, state: state)
    }
    static func drop(_ reason: String, _ event: String) -> Expected {
        Expected(verdict: "drop", reason: reason, event: event, state: nil)
    }

    var description: String {
        "\(verdict)\(reason.map { "/\($0)" } ?? "")\(event.map { "/\($0)" } ?? "")\(state.map { " \($0)" } ?? "")"
    }
}

/// One replay line's verdict, reason and state.
private struct Outcome: Decodable {
    struct TCP: Decodable { let flags: String }
    let index: Int
    let tcp: TCP?
    let verdict: String
    let reason: String?
    /// The tracker's finer event (the line's `detail`).
    let detail: String?
    let state: String?
    var flags: String? { tcp?.flags }
    var event: String? { detail }
}

/// Replays `name` with default rules (accept, checksums verified: scapy wrote correct ones) and
/// checks every packet against `expected`, in order.
private func check(_ name: String, _ expected: [Expected], sourceLocation: SourceLocation = #_sourceLocation) throws {
    var lines: [String] = []
    let summary = try Replay(path: scenario(name), pipeline: PipelineConfiguration(defaultVerdict: .accept,
                                                                                   verifyChecksums: true))
        .run(perPacket: { lines.append($0) })
    #expect(lines.count == expected.count, "\(name): one line per packet", sourceLocation: sourceLocation)
    #expect(summary.counters.packets == expected.count, "\(name)", sourceLocation: sourceLocation)
    for (line, want) in zip(lines, expected) {
        let got = try JSONDecoder().decode(Outcome.self, from: Data(line.utf8))
        let context = Comment(rawValue: "\(name) packet \(got.index) [\(got.flags ?? "")] expected \(want): \(line)")
        #expect(got.verdict == want.verdict, context, sourceLocation: sourceLocation)
        #expect(got.reason == want.reason, context, sourceLocation: sourceLocation)
        #expect(got.event == want.event, context, sourceLocation: sourceLocation)
        if let state = want.state {
            #expect(got.state == state, context, sourceLocation: sourceLocation)
        }
    }
    let drops = expected.filter { $0.verdict == "drop" }.count
    #expect(summary.counters.accepted == expected.count - drops, "\(name): \(summary.json)", sourceLocation: sourceLocation)
}

/// Handshake H of the reference's catalogue (client ISN 1000, server ISN 5000).
private let handshake: [Expected] = [.pass("SYN_SENT"), .pass("SYN_RECV"), .pass("ESTABLISHED")]

/// The scenario captures replayed through the whole offline pipeline, each packet's verdict and
/// reason asserted (docs/tracking.md: "The handshake", "Windows", "RST", "Drop reasons").
@Suite struct ReplayScenarioTests {
    @Test func cleanIPv4HandshakeDataAndClose() throws {
        try check("clean-ipv4", handshake + [
            .pass("ESTABLISHED"), .pass("ESTABLISHED"), .pass("ESTABLISHED"), .pass("ESTABLISHED"),
            .pass("FIN_WAIT"), .pass("CLOSE_WAIT"), .pass("LAST_ACK"), .pass("TIME_WAIT"),
        ])
    }

    @Test func ipv6Handshake() throws {
        try check("handshake-ipv6", handshake + [.pass("ESTABLISHED"), .pass("ESTABLISHED")])
    }

    @Test func nullFinAndXmasScansAreInvalidFlagsWithOrWithoutAConnection() throws {
        let scan: [Expected] = [
            .drop("invalid_flags", "flags_null"), .drop("invalid_flags", "flags_fin_no_ack"),
            .drop("invalid_flags", "flags_xmas"),
        ]
        try check("scans", scan + handshake + scan + [.pass("ESTABLISHED")])
    }

    @Test func strayACKAndSYNACKHaveNoConnection() throws {
        try check("stray-ack", [.drop("no_connection", "nocon_ack"), .drop("no_connection", "nocon_synack")])
    }

    @Test func synACKMustAckTheISNPlusOne() throws {
        try check("synack-wrong-ack", [
            .pass("SYN_SENT"), .drop("bad_ack", "synack_wrong_ack"), .drop("bad_ack", "synack_wrong_ack"), .pass("SYN_RECV"), .pass("ESTABLISHED"),
        ])
    }

    @Test func dataBeforeTheHandshakeCompletesIsOutOfOrder() throws {
        try check("data-before-handshake", [
            .pass("SYN_SENT"), .drop("handshake_order", "data_before_established"), .pass("SYN_RECV"),
            .drop("handshake_order", "server_data_before_ack"),
            .pass("ESTABLISHED"),
        ])
    }

    @Test func rstOutOfWindowIsDroppedInWindowInexactPassesExactCloses() throws {
        try check("rst", handshake + [
            .drop("rst_invalid", "rst_out_of_window"), .drop("rst_invalid", "rst_below_rcvnxt"),
            .pass("ESTABLISHED", event: "rst_in_window_inexact"), .pass("ESTABLISHED"), .pass("CLOSE"),
        ])
    }

    @Test func dataAndACKsFarOutsideTheWindowAreDropped() throws {
        try check("out-of-window", handshake + [
            .drop("bad_seq", "seq_above_window"), .drop("bad_seq", "seq_above_window"),
            .drop("bad_ack", "ack_above_sent"), .pass("ESTABLISHED"),
        ])
    }

    @Test("issue 12's strict corners replayed: another SYN-ACK ISN, zero window, right edge, empty SACK, RST ending a handshake, RST timestamps")
    func strictCorners() throws {
        try check("strict-corners", [
            .pass("SYN_SENT"), .pass("SYN_RECV"), .drop("handshake_order", "synack_other_isn"), .pass("ESTABLISHED"),
            .pass("ESTABLISHED"), .pass("ESTABLISHED"), .drop("bad_seq", "zero_window_data"), .pass("ESTABLISHED"),
            .pass("ESTABLISHED"), .drop("bad_seq", "seq_above_window"),
            .pass("ESTABLISHED", event: "tcp_opt_empty_sack"), .pass("CLOSE"),
            .pass("SYN_SENT"), .pass("SYN_RECV"), .pass("CLOSE"), .drop("no_connection", "nocon_ack"),
            .pass("SYN_SENT"), .drop("rst_invalid", "rst_ts_mismatch"), .pass("CLOSE"),
        ])
    }

    @Test func synOnAnEstablishedConnectionIsDropped() throws {
        try check("syn-in-established", handshake + [
            .drop("syn_in_established", "syn_resend"), .drop("syn_in_established", "syn_new_isn"),
            .drop("syn_in_established", "syn_toclient"),
            .pass("ESTABLISHED"),
        ])
    }
}
