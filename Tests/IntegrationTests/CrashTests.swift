import Sandbox
import Testing

extension IntegrationTests {
    /// (d) what `kill -9` leaves: fail-closed blocks, fail-open passes, a restart recovers.
    @Suite struct Crash {
        @Test("after kill -9 a fail-closed synwall blocks traffic; a fresh run replaces the stale chains")
        func killNineFailClosedThenRestart() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)

            let crashed = try Daemon.start(sandbox, ["--hook", "forward"])
            try sandbox.expectConnections(succeed: true, "while synwall runs")
            crashed.process.kill()
            #expect(crashed.process.waitForExit(timeout: .seconds(5)) == .signaled(9))

            let stale = try sandbox.synwallTraces()
            #expect(stale.lines.contains { $0.contains("SYNWALL-FWD") },
                    "kill -9 leaves the chains (nobody removed them): \(stale.state)")
            try sandbox.expectConnections(succeed: false, "fail-closed: queued packets have no listener")

            let fresh = try Daemon.start(sandbox, ["--hook", "forward"])
            let replaced = try sandbox.synwallTraces()
            #expect(replaced.lines.contains { $0.contains("synwall pid=\(fresh.process.pid)") },
                    "the new instance owns the chains: \(replaced.state)")
            #expect(!replaced.lines.contains { $0.contains("synwall pid=\(crashed.process.pid)") },
                    "the dead instance's jump rules are gone: \(replaced.state)")
            try sandbox.expectConnections(succeed: true, "through the restarted synwall")
            let counters = try fresh.stop()
            #expect(counters.received > 0, "\(counters)")
            try sandbox.expectNoSynwallRules("after the restarted instance's SIGTERM")
        }

        @Test("after kill -9 a --fail-open synwall lets traffic through")
        func killNineFailOpen() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)

            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--fail-open"])
            #expect(daemon.process.firstLine(prefix: "synwall: fail-open:") != nil, "\(daemon.process.output)")
            try sandbox.expectConnections(succeed: true, "while synwall runs")
            daemon.process.kill()
            #expect(daemon.process.waitForExit(timeout: .seconds(5)) == .signaled(9))

            let stale = try sandbox.synwallTraces()
            #expect(stale.lines.contains { $0.contains("SYNWALL-FWD") }, "the chains stay: \(stale.state)")
            try sandbox.expectConnections(succeed: true, "fail-open: the queue is bypassed without a listener")
        }
    }
}
