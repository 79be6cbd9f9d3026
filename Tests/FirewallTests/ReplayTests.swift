import Capture
import Engine
import Tracking
@testable import Firewall
import Foundation
import Testing

/// The capture fixtures live with the Capture tests.
private func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CaptureTests/Fixtures/\(name)").path
}

private func replay(_ name: String, policy: Verdict = .accept) throws -> (lines: [String], summary: Replay.Summary) {
    var lines: [String] = []
    let summary = try Replay(path: fixture(name), pipeline: PipelineConfiguration(defaultVerdict: policy,
                                                                                  verifyChecksums: false))
        .run(perPacket: { lines.append($0) })
    return (lines, summary)
}

@Suite struct ReplayTests {
    @Test func rawCaptureGivesOneLinePerPacketAndASummary() throws {
        let (lines, summary) = try replay("raw.pcap")
        #expect(lines.count == 6)
        #expect(summary.counters.packets == 6)
        #expect(summary.counters.accepted == 6)
        #expect(summary.counters.ipv6 == 3)
        let first = try #require(lines.first)
        #expect(first.hasPrefix("{\"index\":1,\"ts\":\""))
        #expect(first.contains("\"proto\":\"TCP\",\"src\":\"192.0.2.1\",\"sport\":40000,\"dst\":\"192.0.2.10\",\"dport\":22,\"flags\":\"S\",\"verdict\":\"accept\",\"state\":\"SYN_SENT\"}"))
        // The tracker follows both handshakes.
        #expect(lines[1].hasSuffix("\"flags\":\"SA\",\"verdict\":\"accept\",\"state\":\"SYN_RECV\"}"))
        #expect(lines[2].hasSuffix("\"flags\":\"A\",\"verdict\":\"accept\",\"state\":\"ESTABLISHED\"}"))
        #expect(lines[5].hasSuffix("\"state\":\"ESTABLISHED\"}"))
        #expect(lines[4].contains("\"src\":\"2001:db8::10\",\"sport\":443,\"dst\":\"2001:db8::1\",\"dport\":40001,\"flags\":\"SA\""))
        // Every line is valid JSON.
        for line in lines + [summary.json] {
            #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(line.utf8)) }
        }
    }

    @Test func policyDropRefusesTheSYNAndTheRestHasNoConnection() throws {
        let (lines, summary) = try replay("ipv4.pcap", policy: .drop)
        #expect(lines.count == 3)
        #expect(lines[0].contains("\"flags\":\"S\",\"verdict\":\"drop\",\"reason\":\"policy\""))
        #expect(lines[1].contains("\"verdict\":\"drop\",\"reason\":\"no_connection\""))
        #expect(lines[2].contains("\"verdict\":\"drop\",\"reason\":\"no_connection\""))
        #expect(summary.json.contains("\"reasons\":{\"no_connection\":2,\"policy\":1}"))
    }

    @Test func everyLinkTypeReplays() throws {
        for name in ["ethernet.pcap", "sll.pcap", "sll2.pcap", "null.pcap", "sample.pcapng", "ipv6.pcap"] {
            let (lines, summary) = try replay(name)
            #expect(lines.count == summary.counters.packets, "\(name)")
            #expect(summary.counters.packets > 0, "\(name)")
        }
    }

    @Test func timeComesFromTheCapture() throws {
        let (_, summary) = try replay("raw.pcap")
        let first = try #require(summary.firstTimestamp)
        let last = try #require(summary.lastTimestamp)
        #expect(first <= last)
        #expect(summary.json.contains("\"first_ts\":\""))
    }

    @Test func missingAndUnreadableFilesAreCaptureErrors() {
        #expect(throws: CaptureError.self) { try replay("does-not-exist.pcap") }
        #expect(throws: CaptureError.self) { try replay("not-a-capture.txt") }
    }

    @Test func aFileDamagedPartWayGivesTheTotalsOfTheFramesBeforeTheDamage() throws {
        let (lines, summary) = try replay("truncated.pcap")
        #expect(lines.count == 1)  // the IPv4 SYN; the ARP frame before it is skipped
        #expect(summary.counters.packets == 1)
        #expect(summary.skippedFrames == 1)
        guard case .corrupt(_, let frame, _) = summary.error else {
            Issue.record("expected the damage in the summary, got \(String(describing: summary.error))")
            return
        }
        #expect(frame == 3)
        #expect(summary.json.hasPrefix("{\"summary\":{\"packets\":1,\"accepted\":1,"))
        #expect(summary.json.contains(",\"error\":\"capture file '"))
        #expect(summary.json.contains("is damaged at frame 3: "))
        #expect(summary.json.hasSuffix("\"}}"))
        let whole = try replay("raw.pcap").summary
        #expect(whole.error == nil)
        #expect(!whole.json.contains("\"error\""))
    }
}
