import Capture
import EventLog
import Engine
import Tracking
@testable import Firewall
import Foundation
import LogReview
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
        // The event log's dialect (docs/json.md): the decision line synwall trace prints.
        #expect(first.hasPrefix("{\"index\":1,\"timestamp\":\""))
        #expect(first.contains("\"direction\":\"in\",\"proto\":\"TCP\",\"src_ip\":\"192.0.2.1\",\"src_port\":40000,\"dest_ip\":\"192.0.2.10\",\"dest_port\":22,\"verdict\":\"accept\",\"state\":\"SYN_SENT\",\"tcp\":{\"flags\":\"S\","), "\(first)")
        // The tracker follows both handshakes.
        #expect(lines[1].contains("\"verdict\":\"accept\",\"state\":\"SYN_RECV\",\"tcp\":{\"flags\":\"SA\""))
        #expect(lines[2].contains("\"verdict\":\"accept\",\"state\":\"ESTABLISHED\",\"tcp\":{\"flags\":\"A\""))
        #expect(lines[5].contains("\"state\":\"ESTABLISHED\""))
        #expect(lines[4].contains("\"src_ip\":\"2001:db8::10\",\"src_port\":443,\"dest_ip\":\"2001:db8::1\",\"dest_port\":40001,"))
        #expect(lines[4].contains("\"tcp\":{\"flags\":\"SA\""))
        // Every line is valid JSON.
        for line in lines + [summary.json] {
            #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(line.utf8)) }
        }
    }

    @Test func policyDropRefusesTheSYNAndTheRestHasNoConnection() throws {
        let (lines, summary) = try replay("ipv4.pcap", policy: .drop)
        #expect(lines.count == 3)
        #expect(lines[0].contains("\"verdict\":\"drop\",\"reason\":\"policy\""))
        #expect(lines[0].contains("\"tcp\":{\"flags\":\"S\""))
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
        #expect(summary.json.contains("\"first_seen\":\""))
    }

    @Test func missingAndUnreadableFilesAreCaptureErrors() {
        for name in ["does-not-exist.pcap", "not-a-capture.txt"] {
            do {
                _ = try replay(name)
                Issue.record("\(name) replayed")
            } catch let error as ReplayError {
                guard case .capture = error else {
                    Issue.record("\(name): \(error)")
                    continue
                }
            } catch {
                Issue.record("\(name): \(error)")
            }
        }
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

@Suite struct ReplayLogTests {
    @Test func replayLogWritesTheRecordsSynwallLogReads() throws {
        let capture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/scans.pcap").path
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UInt32.random(in: 0...UInt32.max)).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        var replay = Replay(path: capture, pipeline: PipelineConfiguration(defaultVerdict: .accept, verifyChecksums: false))
        replay.logPath = log
        let summary = try replay.run(perPacket: nil)
        #expect(summary.loggedRecords > 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        var parser = LogLineParser()
        var drops = 0
        for line in text.split(separator: "\n") {
            let event = try parser.parse(String(line))
            if event.eventType == .drop { drops += event.count }
        }
        #expect(drops == summary.counters.dropped, "every drop is in the log, counted: \(text)")
        #expect(text.contains(#""drop":{"reason":"invalid_flags""#))
    }
}
