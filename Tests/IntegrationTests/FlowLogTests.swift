import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// Flow records and a log that adds up, on the real daemon routing between namespaces.
    @Suite struct FlowLog {
        /// Short TIME_WAIT and CLOSE timeouts, so a closed connection leaves the table (and is
        /// logged) within the test.
        static func rules(_ extra: String = "") -> String {
            """
            set timeout tcp.time_wait 1s
            set timeout tcp.close 1s
            \(extra)
            policy forward block
            pass forward proto tcp to port \(Harness.port) label "echo"
            block forward proto tcp to port 9 label "discard"
            pass forward proto { icmp, icmp6 }

            """
        }

        static func records(_ text: String) -> [[String: Any]] {
            text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        @Test("a closed connection leaves one flow record: counts each way, how it ended, the rule; synwall log --event flow shows it")
        func closedConnectionsAreLoggedAsFlows() throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let rules = sandbox.workDirectory.appendingPathComponent("flows.rules").path
            try Self.rules().write(toFile: rules, atomically: true, encoding: .utf8)
            let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--rules", rules, "--log", log])
            let connection = try sandbox.connect(from: sandbox.client, to: sandbox.server.ipv4, port: Harness.port)
            #expect(connection.succeeded, "\(connection)")
            // TIME_WAIT (1 s) passes and an idle round expires the entry (bounded wait).
            var flows: [[String: Any]] = []
            for _ in 0..<20 where flows.isEmpty {
                Thread.sleep(forTimeInterval: 0.5)
                let result = try sandbox.run(in: sandbox.client, [Harness.synwallBinary(), "log", log, "--event", "flow",
                                                                  "--json"], timeout: .seconds(10))
                flows = Self.records(result.stdout)
            }
            let counters = try daemon.stop()
            try #require(flows.count == 1, "one flow record for one connection: \(flows)")
            let record = flows[0]
            #expect(record["src_ip"] as? String == sandbox.client.ipv4)
            #expect(record["dest_ip"] as? String == sandbox.server.ipv4)
            #expect(record["dest_port"] as? Int == Int(Harness.port))
            #expect(record["reason"] == nil, "the flow's fields are nested: \(record)")
            let flow = try #require(record["flow"] as? [String: Any], "\(record)")
            #expect(["closed", "reset"].contains(flow["reason"] as? String ?? ""), "\(flow)")
            let toServer = flow["pkts_toserver"] as? Int ?? 0, toClient = flow["pkts_toclient"] as? Int ?? 0
            #expect(toServer >= 4 && toClient >= 3, "handshake, data and close each way: \(flow)")
            #expect(toServer + toClient == counters.accepted, "every accepted packet is the flow's: \(counters) \(flow)")
            #expect((flow["bytes_toserver"] as? Int ?? 0) > 40 * toServer, "the message's bytes: \(flow)")
            let rule = try #require(flow["rule"] as? [String: Any], "\(flow)")
            #expect(rule["label"] as? String == "echo")
            #expect(rule["line"] as? Int == 5)
            let table = try sandbox.run(in: sandbox.client, [Harness.synwallBinary(), "log", log, "--event", "flow", "--table"],
                                        timeout: .seconds(10))
            #expect(table.stdout.contains("pkts \(toServer)>\(toClient)<"), "\(table)")
            #expect(table.stdout.contains("echo"), "\(table)")
        }

        @Test("after a flood over the log's rate cap, --top reason and the histogram add up to the daemon's drop counters")
        func floodedLogAddsUpToTheCounters() throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let rules = sandbox.workDirectory.appendingPathComponent("flood.rules").path
            try Self.rules("set log flows off").write(toFile: rules, atomically: true, encoding: .utf8)
            let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--rules", rules, "--log", log])
            let script = try Harness.script("attacks")
            // 3,000 SYNs from 3,000 spoofed sources to a blocked port: 3,000 keys, over the
            // log's 100 records a second; and three scans.
            let flood = try sandbox.runPython(in: sandbox.client, script: script, arguments: [
                "synflood", "--src", sandbox.client.ipv4, "--dst", sandbox.server.ipv4, "--dport", "9",
                "--count", "3000",
            ], timeout: .seconds(60))
            try #require(flood.succeeded, "\(flood)")
            let scans = try sandbox.runPython(in: sandbox.client, script: script, arguments: [
                "scans", "--src", sandbox.client.ipv4, "--dst", sandbox.server.ipv4, "--dport", String(Harness.port),
            ], timeout: .seconds(20))
            try #require(scans.succeeded, "\(scans)")
            let connection = try sandbox.connect(from: sandbox.client, to: sandbox.server.ipv4, port: Harness.port)
            #expect(connection.succeeded, "\(connection)")
            let counters = try daemon.stop()
            let drops = counters.values.filter { $0.key.hasPrefix("drop.") && $0.value > 0 }
            #expect(drops.values.reduce(0, +) == counters.dropped, "\(counters)")
            #expect(counters.dropped >= 3003, "the flood and the scans were dropped: \(counters)")

            let all = Self.records(try sandbox.run(in: sandbox.client, [Harness.synwallBinary(), "log", log, "--json"],
                                                   timeout: .seconds(10)).stdout)
            let suppressed = all.filter { $0["event_type"] as? String == "suppressed" }
            #expect(!suppressed.isEmpty, "the flood went over the log's rate cap")
            #expect(all.allSatisfy { $0["event_type"] as? String != "flow" }, "set log flows off")

            let top = try sandbox.run(in: sandbox.client, [Harness.synwallBinary(), "log", log, "--top", "reason",
                                                           "-n", "50", "--json"], timeout: .seconds(10))
            var byReason: [String: Int] = [:]
            for row in Self.records(top.stdout) {
                if let name = row["reason"] as? String { byReason[name] = row["count"] as? Int }
            }
            for (key, count) in drops {
                let reason = String(key.dropFirst("drop.".count))
                #expect(byReason[reason] == count, "--top reason \(reason): \(byReason[reason] ?? 0), the daemon counted \(count): \(top.stdout)")
            }
            // The histogram counts every occurrence: the drops, and whatever passed and was
            // logged (anomalies, alerts).
            let passedAndLogged = all.filter { ["anomaly", "alert"].contains($0["event_type"] as? String ?? "") }
                .reduce(0) { $0 + ($1["count"] as? Int ?? 1) }
            let histogram = try sandbox.run(in: sandbox.client, [Harness.synwallBinary(), "log", log, "--histogram",
                                                                 "--json"], timeout: .seconds(10))
            let total = Self.records(histogram.stdout).reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
            #expect(total == counters.dropped + passedAndLogged, "histogram \(total), drops \(counters.dropped) + logged passes \(passedAndLogged)")
        }
    }
}
