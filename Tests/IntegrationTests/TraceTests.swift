import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// `synwall trace` against the real daemon routing between namespaces: live lines for the
    /// matching packets only, each with its verdict and why; bounded; ended by Ctrl-C, a count,
    /// or its client's death.
    @Suite struct Trace {
        static func controlPath(_ daemon: Daemon) throws -> String {
            let index = try #require(daemon.arguments.firstIndex(of: "--control"))
            return daemon.arguments[index + 1]
        }

        static func lines(_ text: String) -> [[String: Any]] {
            text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        @Test("a trace shows every decision on the matching packets, both ways, with verdict, reason, state and rule; Ctrl-C ends it")
        func traceShowsMatchingDecisions() throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let rules = sandbox.workDirectory.appendingPathComponent("trace.rules").path
            try """
            policy forward block
            pass forward proto tcp to port \(Harness.port) label "echo"
            pass forward proto { icmp, icmp6 }

            """.write(toFile: rules, atomically: true, encoding: .utf8)
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--rules", rules])
            let control = try Self.controlPath(daemon)
            let binary = try Harness.synwallBinary()
            let trace = try sandbox.spawn(in: sandbox.client, [binary, "trace", "--control", control, "--host",
                                                               sandbox.server.ipv4, "--port", String(Harness.port), "--json"])
            defer { _ = trace.stop(grace: .seconds(1)) }
            Thread.sleep(forTimeInterval: 1)
            #expect(trace.isRunning, "\(trace.output)")
            let connection = try sandbox.connect(from: sandbox.client, to: sandbox.server.ipv4, port: Harness.port)
            #expect(connection.succeeded, "\(connection)")
            let scans = try sandbox.runPython(in: sandbox.client, script: try Harness.script("attacks"), arguments: [
                "scans", "--src", sandbox.client.ipv4, "--dst", sandbox.server.ipv4, "--dport", String(Harness.port),
            ], timeout: .seconds(20))
            try #require(scans.succeeded, "\(scans)")
            // Not traced: another port (blocked by the policy), and IPv6.
            _ = try sandbox.connect(from: sandbox.client, to: sandbox.server.ipv4, port: 9, timeout: .seconds(1))
            _ = try sandbox.connect(from: sandbox.client, to: sandbox.server.ipv6, port: Harness.port)
            Thread.sleep(forTimeInterval: 1)
            trace.signal(SIGINT)
            let ended = trace.waitForExit(timeout: .seconds(10))
            #expect(ended == .exited(0), "Ctrl-C ends the trace cleanly: \(trace.output)")
            let counters = try daemon.stop()

            let records = Self.lines(trace.standardOutput)
            #expect(records.count >= 10, "handshake, data and close, and the scans: \(trace.standardOutput)")
            for record in records {
                let ports = [record["src_port"] as? Int, record["dest_port"] as? Int]
                #expect(ports.contains(Int(Harness.port)), "only the filtered port: \(record)")
                #expect(record["src_ip"] as? String != sandbox.client.ipv6, "only IPv4 to the server: \(record)")
            }
            let syn = try #require(records.first { ($0["tcp"] as? [String: Any])?["flags"] as? String == "S" })
            #expect(syn["verdict"] as? String == "accept")
            #expect(syn["state"] as? String == "SYN_SENT")
            #expect((syn["rule"] as? [String: Any])?["label"] as? String == "echo", "\(syn)")
            #expect(syn["direction"] as? String == "forward")
            let reply = try #require(records.first {
                $0["src_ip"] as? String == sandbox.server.ipv4 && $0["state"] as? String == "ESTABLISHED"
            }, "the replies are traced too")
            #expect((reply["rule"] as? [String: Any])?["label"] as? String == "echo",
                    "a later packet names the rule that admitted its flow: \(reply)")
            let xmas = try #require(records.first { ($0["tcp"] as? [String: Any])?["flags"] as? String == "FPU" })
            #expect(xmas["verdict"] as? String == "drop")
            #expect(xmas["reason"] as? String == "invalid_flags")
            #expect(xmas["detail"] as? String == "flags_xmas")
            #expect(trace.standardError.contains("line(s) shown"), "\(trace.standardError)")
            #expect(counters.values["drop.invalid_flags"] == 3, "\(counters)")
        }

        @Test("--count ends a trace; the rate bound drops and reports lines; a dead client's trace ends by itself")
        func traceIsBounded() throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let daemon = try Daemon.start(sandbox, ["--hook", "forward"])
            let control = try Self.controlPath(daemon)
            let binary = try Harness.synwallBinary()

            // --count: three lines of a connection, then it ends by itself.
            let counted = try sandbox.spawn(in: sandbox.client, [binary, "trace", "--control", control, "--dport",
                                                                 String(Harness.port), "--count", "3"])
            Thread.sleep(forTimeInterval: 1)
            _ = try sandbox.connect(from: sandbox.client, to: sandbox.server.ipv4, port: Harness.port)
            #expect(counted.waitForExit(timeout: .seconds(10)) == .exited(0), "\(counted.output)")
            #expect(counted.standardOutput.split(separator: "\n").count == 3, "\(counted.output)")
            #expect(counted.standardOutput.contains("-> accept"), "\(counted.output)")

            // The rate: 10 lines a second against 600 SYNs from spoofed sources.
            let limited = try sandbox.spawn(in: sandbox.client, [binary, "trace", "--control", control, "--dport", "7",
                                                                 "--rate", "10", "--json"])
            Thread.sleep(forTimeInterval: 1)
            let flood = try sandbox.runPython(in: sandbox.client, script: try Harness.script("attacks"), arguments: [
                "synflood", "--src", sandbox.client.ipv4, "--dst", sandbox.server.ipv4, "--dport", "7", "--count", "600",
            ], timeout: .seconds(60))
            try #require(flood.succeeded, "\(flood)")
            Thread.sleep(forTimeInterval: 0.5)
            limited.signal(SIGINT)
            #expect(limited.waitForExit(timeout: .seconds(10)) == .exited(0), "\(limited.output)")
            let shown = Self.lines(limited.standardOutput).count
            let result = Self.lines(flood.stdout).last ?? [:]
            let seconds = result["seconds"] as? Double ?? 1
            #expect(shown > 0 && Double(shown) <= 10 * (seconds + 3), "\(shown) lines in about \(seconds) s at 10 a second")
            #expect(limited.standardError.contains("dropped (over 10 a second"), "\(limited.output)")
            let summary = limited.standardError.split(separator: "\n").last.map(String.init) ?? ""
            #expect(summary.contains("600 matching decision(s)"), "every SYN matched: \(summary)")

            // A client killed without telling the daemon: its trace ends within 5 s of its last
            // poll, then another can start.
            let orphan = try sandbox.spawn(in: sandbox.client, [binary, "trace", "--control", control])
            Thread.sleep(forTimeInterval: 1)
            orphan.kill()
            _ = orphan.waitForExit(timeout: .seconds(5))
            let refused = try sandbox.run(in: sandbox.client, [binary, "trace", "--control", control, "--count", "1"],
                                          timeout: .seconds(10))
            #expect(!refused.succeeded && refused.stderr.contains("another synwall trace is running"), "\(refused)")
            Thread.sleep(forTimeInterval: 6)
            let again = try sandbox.spawn(in: sandbox.client, [binary, "trace", "--control", control, "--count", "1"])
            Thread.sleep(forTimeInterval: 1)
            _ = try sandbox.connect(from: sandbox.client, to: sandbox.server.ipv4, port: Harness.port)
            #expect(again.waitForExit(timeout: .seconds(10)) == .exited(0), "a new trace starts: \(again.output)")
            _ = try daemon.stop()
        }
    }
}
