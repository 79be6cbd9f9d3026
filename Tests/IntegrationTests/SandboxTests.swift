import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// The test bed itself, without synwall: topology, peers, isolation, teardown.
    @Suite struct TestBed {
        private func namespaces() throws -> [String] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ExecutableLocator.locate("ip") ?? "/usr/sbin/ip")
            process.arguments = ["netns", "list"]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self).split(separator: "\n")
                .compactMap { $0.split(separator: " ").first.map(String.init) }
        }

        @Test("routed and direct sandboxes carry IPv4 and IPv6, and teardown removes them", arguments: SandboxTopology.allCases)
        func topology(_ topology: SandboxTopology) throws {
            let sandbox = try Harness.sandbox(topology)
            defer { sandbox.teardown() }
            let names = sandbox.hosts.map(\.namespace)
            #expect(Set(names).count == (topology == .routed ? 3 : 2))
            #expect(Set(names).isSubset(of: try namespaces()), "the namespaces exist")
            #expect(names.allSatisfy { $0.hasPrefix("swt\(getpid())-") }, "prefix + pid + counter: \(names)")

            let server = try sandbox.startEchoServer(port: Harness.port, maxConnections: 2)
            try sandbox.expectConnections(succeed: true, "through the bare test bed")
            #expect(server.waitForExit(timeout: .seconds(3)) == .exited(0), "--max-connections 2: \(server.output)")
            #expect(server.standardOutput.contains("served 2 connections"), "\(server.output)")

            if let router = sandbox.router {
                let forwarding = try sandbox.runChecked(in: router, ["sysctl", "-n", "net.ipv4.ip_forward",
                                                                    "net.ipv6.conf.all.forwarding"])
                #expect(forwarding.stdout.split(separator: "\n") == ["1", "1"], "\(forwarding)")
            }
            // Nothing of the sandbox exists in the caller's namespace.
            let links = try String(contentsOfFile: "/proc/net/dev", encoding: .utf8)
            #expect(!links.contains(" c0:") && !links.contains(" s0:"), "no veth outside the namespaces")

            sandbox.teardown()
            sandbox.teardown()
            #expect(Set(names).isDisjoint(with: try namespaces()), "teardown (twice) removed every namespace")
            #expect(!FileManager.default.fileExists(atPath: sandbox.workDirectory.path))
            #expect(throws: SandboxError.self) { try sandbox.spawn(in: sandbox.client, ["true"]) }
        }

        @Test("two sandboxes at once do not collide")
        func twoAtOnce() throws {
            let first = try Harness.sandbox()
            defer { first.teardown() }
            let second = try Harness.sandbox()
            defer { second.teardown() }
            #expect(Set(first.hosts.map(\.namespace)).isDisjoint(with: second.hosts.map(\.namespace)))
            try first.startEchoServer(port: Harness.port)
            try second.expectConnections(succeed: false, "the second sandbox's server does not listen")
            try first.expectConnections(succeed: true, "the first one's does")
        }

        @Test("synwall peer reports refusals and timeouts in one line, within its time limit")
        func peerFailures() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let refused = try sandbox.connectToServer(ipv6: false)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("Connection refused"), "\(refused)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused)")

            // An NFQUEUE rule without a listener drops everything it matches (fail-closed).
            let router = try #require(sandbox.router)
            try sandbox.runChecked(in: router, ["iptables", "-t", "mangle", "-A", "FORWARD", "-p", "tcp",
                                                "-j", "NFQUEUE", "--queue-num", "9"])
            try sandbox.startEchoServer(port: Harness.port)
            let start = ContinuousClock.now
            let blocked = try sandbox.connectToServer(ipv6: false, timeout: .seconds(1))
            let elapsed = ContinuousClock.now - start
            #expect(blocked.status == 1)
            #expect(blocked.stderr.contains("timed out"), "\(blocked)")
            #expect(elapsed < .seconds(3), "bounded by --timeout: \(elapsed)")
            let ipv6 = try sandbox.connectToServer(ipv6: true)
            #expect(ipv6.succeeded, "only IPv4 was queued: \(ipv6)")
        }
    }
}
