import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// Attacks sent with scapy from the client, through the router (synwall on the forward hook)
    /// to the server, while a real connection works: each is dropped with the reason the
    /// model gives (docs/tracking.md: "The handshake", "Windows", "Drop reasons"), counted in the stop line, and found by
    /// `synwall log --reason … --json` with the right addresses and ports.
    @Suite struct Attacks {
        /// The client port that answers the server's crafted SYN with a crafted SYN-ACK.
        static let synAckClientPort = 5555
        /// The server port of that crafted SYN.
        static let synServerPort = 44444

        @Test("scans, spoofed RSTs, out-of-window data, a bad SYN-ACK and early data are dropped and logged; the live connection survives")
        func attacksThroughTheRouter() throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            try sandbox.disableOffloads()
            try sandbox.startEchoServer(port: Harness.port)
            let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--log", log])
            let client = sandbox.client, server = sandbox.server
            let script = try Harness.script("attacks")
            let port = String(Harness.port)

            // The server drops the early flow's SYN, so its data meets a connection still in
            // SYN_SENT; the client's kernel RSTs for the crafted SYN are dropped, so the SYN-ACK
            // meets one in SYN_SENT too.
            try sandbox.runChecked(in: server, ["iptables", "-A", "INPUT", "-p", "tcp", "--sport", "31010", "-j", "DROP"])
            try sandbox.runChecked(in: client, ["iptables", "-A", "OUTPUT", "-p", "tcp", "--sport",
                                                String(Self.synAckClientPort), "--tcp-flags", "RST", "RST", "-j", "DROP"])

            let live = try sandbox.runPython(in: client, script: script, arguments: [
                "live", "--iface", client.interfaces[0].name, "--src", client.ipv4, "--dst", server.ipv4, "--dport", port,
            ], timeout: .seconds(20))
            try #require(live.succeeded, "the live-connection attack ran: \(live)")
            let liveResult = try ScriptResult(live.stdout)
            #expect(liveResult.bool("alive") == true, "the live connection works after the spoofed RSTs and injection: \(live)")
            let liveSport = try #require(liveResult.int("sport"))

            let scans = try sandbox.runPython(in: client, script: script, arguments: [
                "scans", "--src", client.ipv4, "--dst", server.ipv4, "--dport", port,
            ], timeout: .seconds(20))
            try #require(scans.succeeded, "\(scans)")
            let early = try sandbox.runPython(in: client, script: script, arguments: [
                "early", "--src", client.ipv4, "--dst", server.ipv4, "--dport", port,
            ], timeout: .seconds(20))
            try #require(early.succeeded, "\(early)")
            let syn = try sandbox.runPython(in: server, script: script, arguments: [
                "syn", "--src", server.ipv4, "--dst", client.ipv4,
                "--sport", String(Self.synServerPort), "--dport", String(Self.synAckClientPort),
            ], timeout: .seconds(20))
            try #require(syn.succeeded, "\(syn)")
            Thread.sleep(forTimeInterval: 0.3)
            let synAck = try sandbox.runPython(in: client, script: script, arguments: [
                "synack", "--src", client.ipv4, "--dst", server.ipv4,
                "--sport", String(Self.synAckClientPort), "--dport", String(Self.synServerPort),
            ], timeout: .seconds(20))
            try #require(synAck.succeeded, "\(synAck)")

            // Real traffic still flows after all of it.
            try sandbox.expectConnections(succeed: true, "after the attacks")
            #expect(daemon.process.isRunning, "synwall survives: \(daemon.process.output)")

            let counters = try daemon.stop()
            // NULL, FIN, XMAS, ACK scan, far RST, far data, bad SYN-ACK, early data: 8 drops, and
            // the real traffic (the live connection's challenge ACK included) passes.
            #expect(counters.dropped == 8, "the stop line counts the drops: \(counters)")
            #expect(counters.accepted > 0 && counters.received == counters.accepted + counters.dropped, "\(counters)")
            let all = try sandbox.run(in: client, [Harness.synwallBinary(), "log", log, "--json"], timeout: .seconds(10))
            let droppedInLog = all.stdout.split(separator: "\n").compactMap { line -> Int? in
                guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      record["event_type"] as? String == "drop" else { return nil }
                return record["count"] as? Int ?? 1
            }.reduce(0, +)
            #expect(droppedInLog == counters.dropped, "every drop is in the log: \(all.stdout)")

            let clientIP = client.ipv4, serverIP = server.ipv4
            let http = Int(Harness.port)
            try expectLogged(sandbox, log, reason: "invalid_flags", count: 3,
                             src: clientIP, dst: serverIP, dport: http, sports: [31001, 31002, 31003],
                             details: ["flags_null", "flags_fin_no_ack", "flags_xmas"])
            try expectLogged(sandbox, log, reason: "no_connection", count: 1,
                             src: clientIP, dst: serverIP, dport: http, sports: [31004], details: ["nocon_ack"])
            try expectLogged(sandbox, log, reason: "rst_invalid", count: 1,
                             src: clientIP, dst: serverIP, dport: http, sports: [liveSport], details: ["rst_out_of_window"])
            try expectLogged(sandbox, log, reason: "bad_seq", count: 1,
                             src: clientIP, dst: serverIP, dport: http, sports: [liveSport], details: ["seq_above_window"])
            try expectLogged(sandbox, log, reason: "handshake_order", count: 1,
                             src: clientIP, dst: serverIP, dport: http, sports: [31010], details: ["data_before_established"])
            try expectLogged(sandbox, log, reason: "bad_ack", count: 1,
                             src: clientIP, dst: serverIP, dport: Self.synServerPort, sports: [Self.synAckClientPort],
                             details: ["synack_wrong_ack"])
            // The RST inside the window but not exact passes (Linux's choice, `set tcp rst exact`
            // drops it) and is logged as an anomaly.
            try expectLogged(sandbox, log, reason: "rst_in_window_inexact", count: 1,
                             src: clientIP, dst: serverIP, dport: http, sports: [liveSport],
                             details: ["rst_in_window_inexact"], eventType: "anomaly")
            #expect(counters.values["drop.invalid_flags"] == 3, "the stop line counts drops by reason: \(counters)")
            try sandbox.expectNoSynwallRules("after SIGTERM")
        }

        @Test("a SYN flood from 3,000 spoofed sources: echo connections keep succeeding, synwall keeps running")
        func synFloodFromSpoofedSources() throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let daemon = try Daemon.start(sandbox, ["--hook", "forward"])
            let sources = 3000
            let flood = try sandbox.spawn(in: sandbox.client, [
                Sandbox.scapyPython, try Harness.script("attacks"), "synflood", "--src", sandbox.client.ipv4,
                "--dst", sandbox.server.ipv4, "--dport", String(Harness.port), "--count", String(sources),
            ])
            defer { _ = flood.stop(grace: .seconds(1)) }
            // Echo connections while the flood runs (bounded: at most 20 rounds of at most 4 s).
            var succeeded = 0, failed: [String] = []
            for _ in 0..<20 where flood.isRunning || succeeded + failed.count < 3 {
                let result = try sandbox.connectToServer(ipv6: false)
                if result.succeeded { succeeded += 1 } else { failed.append(result.description) }
            }
            let ended = flood.waitForExit(timeout: .seconds(30))
            #expect(ended == .exited(0), "the flood script finished: \(flood.output)")
            let sent = try ScriptResult(flood.standardOutput)
            #expect(sent.int("sent") == sources, "\(flood.output)")
            #expect(succeeded >= 3 && failed.isEmpty, "every echo connection during the flood succeeds: \(succeeded) ok, \(failed)")
            #expect(daemon.process.isRunning, "synwall survives the flood: \(daemon.process.output)")
            try sandbox.expectConnections(succeed: true, "after the flood")
            let counters = try daemon.stop()
            #expect(counters.received >= sources, "every spoofed SYN reached synwall: \(counters)")
            #expect(counters.values["verdict_errors"] == 0, "\(counters)")
        }

        /// Runs `synwall log LOG --reason REASON --json` and expects `count` occurrences (summing
        /// aggregated `count`s), all drops from `src` to `dst`:`dport`, from the given source ports
        /// (an aggregate carries its last repeat's port), each with one of the given details.
        private func expectLogged(
            _ sandbox: Sandbox, _ log: String, reason: String, count: Int, src: String, dst: String, dport: Int,
            sports: Set<Int>, details: Set<String>, eventType: String = "drop",
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            let result = try sandbox.run(in: sandbox.client, [Harness.synwallBinary(), "log", log, "--reason", reason, "--json"],
                                         timeout: .seconds(10))
            #expect(result.succeeded, "synwall log --reason \(reason): \(result)", sourceLocation: sourceLocation)
            var total = 0
            var seenPorts: Set<Int> = []
            for line in result.stdout.split(separator: "\n") where !line.isEmpty {
                let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                                          "a JSON record: \(line)", sourceLocation: sourceLocation)
                // EVE layout: the type's own fields in the object named after the type.
                let fields = record[eventType] as? [String: Any] ?? [:]
                #expect(fields["reason"] as? String == reason, "\(line)", sourceLocation: sourceLocation)
                #expect(record["event_type"] as? String == eventType, "\(line)", sourceLocation: sourceLocation)
                #expect(record["src_ip"] as? String == src, "\(line)", sourceLocation: sourceLocation)
                #expect(record["dest_ip"] as? String == dst, "\(line)", sourceLocation: sourceLocation)
                #expect(record["dest_port"] as? Int == dport, "\(line)", sourceLocation: sourceLocation)
                if let sport = record["src_port"] as? Int { seenPorts.insert(sport) }
                if let detail = fields["detail"] as? String {
                    #expect(details.contains(detail), "\(reason) detail is one of \(details): \(line)",
                            sourceLocation: sourceLocation)
                }
                total += record["count"] as? Int ?? 1
            }
            #expect(total == count, "\(count) \(reason) occurrence(s) in the log: \(result.stdout)",
                    sourceLocation: sourceLocation)
            #expect(seenPorts.isSubset(of: sports) && !seenPorts.isEmpty,
                    "\(reason) records come from source ports \(sports): \(result.stdout)", sourceLocation: sourceLocation)
        }
    }
}

/// The JSON line an attack script prints.
private struct ScriptResult {
    let fields: [String: Any]

    init(_ stdout: String) throws {
        guard let line = stdout.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw HarnessError("the attack script printed no JSON line: \(stdout)")
        }
        fields = object
    }

    func int(_ key: String) -> Int? { fields[key] as? Int }
    func bool(_ key: String) -> Bool? { fields[key] as? Bool }
}
