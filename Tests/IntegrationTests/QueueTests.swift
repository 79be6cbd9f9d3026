import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// The NFQUEUE engine under stress: several queues, a receive buffer that overflows, and
    /// every packet id verdicted.
    @Suite struct Queues {
        /// Sends `count` UDP datagrams as fast as a plain socket can, from the client to the server.
        private func udpBurst(_ sandbox: Sandbox, count: Int, ipv6: Bool = false) throws {
            let script = sandbox.workDirectory.appendingPathComponent("burst.py")
            try """
            import socket, sys
            family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
            s = socket.socket(family, socket.SOCK_DGRAM)
            payload = b"x" * 64
            sent = 0
            for i in range(int(sys.argv[2])):
                try:
                    s.sendto(payload, (sys.argv[1], 9))
                    sent += 1
                except OSError:
                    pass
            print(sent)
            """.write(to: script, atomically: true, encoding: .utf8)
            let target = ipv6 ? sandbox.server.ipv6 : sandbox.server.ipv4
            try sandbox.runChecked(in: sandbox.client, ["/usr/bin/python3", script.path, target, String(count)],
                                   timeout: .seconds(60))
        }

        /// Packets waiting in the kernel for a verdict, per queue, in the firewall namespace.
        private func waiting(_ sandbox: Sandbox) throws -> [Int: Int] {
            let text = try sandbox.runChecked(in: sandbox.firewallHost,
                                              ["cat", "/proc/net/netfilter/nfnetlink_queue"]).stdout
            var result: [Int: Int] = [:]
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count >= 3, let queue = Int(fields[0]), let waiting = Int(fields[2]) {
                    result[queue] = waiting
                }
            }
            return result
        }

        @Test("--queues 0-1 binds both queues, one worker each, and traffic passes")
        func twoQueues() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--queues", "0-1"])
            let ready = daemon.process.firstLine(prefix: "synwall: ready") ?? ""
            #expect(ready.contains("queues 0-1"), "\(ready)")
            #expect(Set(try waiting(sandbox).keys) == [0, 1], "both queues are bound")
            let rules = try sandbox.synwallTraces()
            #expect(rules.lines.contains { $0.contains("--queue-balance 0:1") }, "\(rules.state)")
            for _ in 0 ..< 3 { try sandbox.expectConnections(succeed: true, "through two queues") }
            let counters = try daemon.stop()
            #expect(counters.received >= 30, "\(counters)")
            try sandbox.expectNoSynwallRules("after SIGTERM")
        }

        @Test("a receive buffer that overflows (ENOBUFS) is counted and survived; no packet is left unverdicted")
        func enobufsIsSurvived() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            // The smallest receive buffer synwall accepts, so a stopped daemon overflows it quickly.
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--receive-buffer", "65536",
                                                    "--queue-maxlen", "65536"])
            daemon.process.signal(SIGSTOP)
            try udpBurst(sandbox, count: 5000)
            daemon.process.signal(SIGCONT)
            // Bounded wait for the queue to empty: every packet the kernel queued got a verdict.
            let deadline = ContinuousClock.now + .seconds(10)
            var left = try waiting(sandbox)[0] ?? -1
            while left != 0, ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.05)
                left = try waiting(sandbox)[0] ?? -1
            }
            #expect(left == 0, "the kernel still holds \(left) packets without a verdict")
            #expect(daemon.process.isRunning, "synwall survives ENOBUFS: \(daemon.process.output)")
            try sandbox.expectConnections(succeed: true, "after the overflow")
            let counters = try daemon.stop()
            #expect(counters.values["enobufs", default: 0] > 0, "the overflow was noticed and counted: \(counters)")
            #expect(counters.received > 0 && counters.received < 5000 + 100, "\(counters)")
            #expect(counters.values["verdict_errors", default: -1] == 0, "\(counters)")
        }
    }
}

extension IntegrationTests.Queues {
    @Test("under systemd (JOURNAL_STREAM) the daemon's messages go to stderr with syslog priorities")
    func journaldMessages() throws {
        let sandbox = try Harness.sandbox()
        defer { sandbox.teardown() }
        let binary = try Harness.synwallBinary()
        let process = try sandbox.spawn(in: sandbox.firewallHost, [
            "/usr/bin/env", "JOURNAL_STREAM=8:12345", binary, "run", "--rules", "none", "--hook", "forward", "--pid-file", "none",
            "--control", "none", "--state", "none",
        ])
        let started = process.waitForLine(prefix: "<6>synwall: started", in: .standardError, timeout: Harness.readyTimeout)
        #expect(started?.contains("fail.mode=closed") == true, "\(process.output)")
        process.terminate()
        #expect(process.waitForExit(timeout: Harness.stopTimeout) == .exited(0), "\(process.output)")
        #expect(process.standardError.contains("<6>synwall: stopped events.lost=0 packets.accepted="), "\(process.output)")
        #expect(process.standardOutput.isEmpty, "no duplicate plain lines under journald: \(process.output)")
        try sandbox.expectNoSynwallRules("after SIGTERM")
    }
}
