import Sandbox
import Testing

extension IntegrationTests {
    /// (a) real connections pass through a running daemon; (b) `--policy drop` stops them;
    /// (c) SIGTERM leaves nothing behind.
    @Suite struct Traffic {
        @Test("IPv4 and IPv6 connections pass through synwall on a router (forward hook)")
        func forwardPassesTraffic() throws {
            try passesTraffic(topology: .routed, chain: "SYNWALL-FWD")
        }

        @Test("IPv4 and IPv6 connections pass through synwall on the server (input hook)")
        func inputPassesTraffic() throws {
            try passesTraffic(topology: .direct, chain: "SYNWALL-IN")
        }

        private func passesTraffic(topology: SandboxTopology, chain: String) throws {
            let sandbox = try Harness.sandbox(topology)
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)

            let daemon = try Daemon.start(sandbox, Harness.hookArguments(for: sandbox))
            #expect(daemon.process.firstLine(prefix: "synwall: fail-closed:") != nil,
                    "the default is fail-closed, and says so first: \(daemon.process.output)")
            let installed = try sandbox.synwallTraces()
            #expect(installed.lines.contains { $0.contains(chain) },
                    "while running, \(chain) exists in mangle: \(installed.state)")
            #expect(installed.lines.contains { $0.contains("synwall pid=\(daemon.process.pid)") },
                    "the jump rule carries the daemon's pid: \(installed.state)")

            try sandbox.expectConnections(succeed: true, "through the running daemon")
            #expect(daemon.process.isRunning)

            let counters = try daemon.stop()
            // A handshake, the data and its echo, and the close: well over 10 packets for two connections.
            #expect(counters.received >= 10, "the packets went through the queue: \(counters)")
            #expect(counters.accepted >= 10, "policy accept passed them: \(counters)")
            #expect(counters.malformed == 0, "\(counters)")
            try sandbox.expectNoSynwallRules("after SIGTERM nothing of synwall remains")
            try sandbox.expectConnections(succeed: true, "once synwall has removed its rules")
        }

        @Test("--policy drop stops IPv4 and IPv6 connections")
        func policyDropBlocks() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            try sandbox.expectConnections(succeed: true, "before synwall runs (the test bed works)")

            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--policy", "drop"])
            try sandbox.expectConnections(succeed: false, "with --policy drop")

            let counters = try daemon.stop()
            #expect(counters.received > 0, "\(counters)")
            #expect(counters.dropped > 0, "the SYNs were dropped by synwall: \(counters)")
            #expect(counters.accepted == 0, "nothing decodable passes with --policy drop: \(counters)")
            #expect(counters.values["drop.policy", default: 0] > 0, "the stop line counts drops by reason: \(counters)")
            try sandbox.expectNoSynwallRules("after SIGTERM")
            try sandbox.expectConnections(succeed: true, "after synwall stopped")
        }
    }
}
