import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// Offload (issue 17, docs/offload.md): with `set offload after N`, an established
    /// connection's plain segments pass in the kernel once it has shown N good packets each way;
    /// whatever still needs synwall's judgement keeps reaching it.
    @Suite struct Offload {
        /// A rule file that offloads after `after` packets each way.
        static func rules(_ sandbox: Sandbox, after: Int) throws -> String {
            let file = sandbox.workDirectory.appendingPathComponent("offload.rules")
            try "set offload after \(after)\npass all\n".write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }

        static func stats(_ sandbox: Sandbox, _ daemon: Daemon) throws -> String {
            let control = daemon.arguments[try #require(daemon.arguments.firstIndex(of: "--control")) + 1]
            return try sandbox.run(in: sandbox.firewallHost, [Harness.synwallBinary(), "stats", "--control", control],
                                   timeout: .seconds(10)).stdout
        }

        @Test("a 50 MB transfer is offloaded after 20 packets each way: every byte arrives, synwall sees a few hundred packets")
        func bulkTransferIsOffloaded() throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            let server = sandbox.server
            try sandbox.startEchoServer(port: Harness.port)
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--attach", "iptables",
                                                    "--rules", try Self.rules(sandbox, after: 20)])
            let sink = sandbox.workDirectory.appendingPathComponent("sink.py")
            let source = sandbox.workDirectory.appendingPathComponent("source.py")
            try CleanTraffic.sink.write(to: sink, atomically: true, encoding: .utf8)
            try CleanTraffic.source.write(to: source, atomically: true, encoding: .utf8)
            let receiver = try sandbox.spawn(in: server, ["/usr/bin/python3", sink.path, server.ipv4, "9300"])
            Thread.sleep(forTimeInterval: 0.5)
            let sent = try sandbox.run(in: sandbox.client, ["/usr/bin/python3", source.path, server.ipv4, "9300", "50", "0"],
                                       timeout: .seconds(90))
            _ = receiver.waitForExit(timeout: .seconds(10))
            #expect(sent.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == String(50 << 20), "every byte: \(sent)")
            let stats = try Self.stats(sandbox, daemon)
            #expect(stats.contains("offloaded"), "stats show the offload: \(stats)")
            try sandbox.expectConnections(succeed: true, "new connections after the transfer")
            let counters = try daemon.stop()
            #expect(counters.dropped == 0, "\(counters)")
            #expect(counters.received < 1_000, "the transfer's segments passed in the kernel: \(counters)")
            try sandbox.expectNoSynwallRules("after detach")
        }

        @Test("on an offloaded connection: out-of-window data, a SYN, FIN+URG+PSH and data after a FIN are dropped and logged; the connection lives on")
        func offloadedConnectionKeepsItsGuarantees() throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let client = sandbox.client, server = sandbox.server
            let port = 5701
            try sandbox.runChecked(in: client, ["iptables", "-A", "OUTPUT", "-p", "tcp", "--sport", String(port),
                                                "--tcp-flags", "RST", "RST", "-j", "DROP"])
            let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--attach", "iptables", "--log", log,
                                                    "--rules", try Self.rules(sandbox, after: 3)])
            let run = try sandbox.runPython(in: client, script: try Harness.script("offload"), arguments: [
                "--iface", client.interfaces[0].name, "--src", client.ipv4, "--dst", server.ipv4,
                "--sport", String(port), "--dport", String(Harness.port),
            ], timeout: .seconds(60))
            try #require(run.succeeded, "the offload script ran: \(run)")
            #expect(run.stdout.contains("\"alive\": true"), "the connection outlived the attacks: \(run)")
            #expect(run.stdout.contains("\"warm\": 6"), "\(run)")
            let stats = try Self.stats(sandbox, daemon)
            Thread.sleep(forTimeInterval: 0.5)
            let counters = try daemon.stop()
            #expect(counters.values["drop.bad_seq"] == 2, "out-of-window data and data after the FIN: \(counters)")
            #expect(counters.values["drop.syn_in_established"] == 1, "\(counters)")
            #expect(counters.values["drop.invalid_flags"] == 1, "\(counters)")
            #expect(stats.contains("offloaded"), "\(stats)")
            let logged = try sandbox.run(in: client, [Harness.synwallBinary(), "log", log, "--json"], timeout: .seconds(10))
            #expect(logged.stdout.contains("\"kernel_invalid\""), "the kernel's finding is logged: \(logged.stdout)")
        }

        /// `conns --kill`, or a `set reload recheck` reload whose rules block it, cuts an
        /// offloaded connection: synwall deletes its kernel connection too, so its next segment
        /// comes back to synwall and meets no entry (docs/offload.md, "Cut by synwall").
        @Test("an offloaded connection cut by conns --kill or a recheck reload is cut in the kernel too: its next segment reaches synwall and is dropped",
              arguments: ["kill", "recheck"])
        func cuttingAnOffloadedConnection(how: String) throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let client = sandbox.client, server = sandbox.server
            let port = how == "kill" ? 5702 : 5703
            try sandbox.runChecked(in: client, ["iptables", "-A", "OUTPUT", "-p", "tcp", "--sport", String(port),
                                                "--tcp-flags", "RST", "RST", "-j", "DROP"])
            let rules = try Self.rules(sandbox, after: 3)
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--attach", "iptables", "--rules", rules])
            let control = daemon.arguments[try #require(daemon.arguments.firstIndex(of: "--control")) + 1]
            let binary = try Harness.synwallBinary()
            let script = try sandbox.spawn(in: client, ["/usr/bin/python3", try Harness.script("offload"),
                "--iface", client.interfaces[0].name, "--src", client.ipv4, "--dst", server.ipv4,
                "--sport", String(port), "--dport", String(Harness.port), "--pause", "3"])
            try #require(script.waitForLine(prefix: "offloaded", timeout: .seconds(30)) != nil, "\(script.output)")
            let before = try Self.stats(sandbox, daemon)
            #expect(before.contains("offloaded"), "\(before)")
            let listed = try sandbox.run(in: sandbox.firewallHost, [binary, "conns", "--port", String(port),
                                                                     "--control", control], timeout: .seconds(10))
            #expect(listed.stdout.contains("ESTABLISHED*") && listed.stdout.contains("* offloaded"), "\(listed)")
            let json = try sandbox.run(in: sandbox.firewallHost, [binary, "conns", "--port", String(port),
                                                                   "--json", "--control", control], timeout: .seconds(10))
            #expect(json.stdout.contains("\"offloaded\":true"), "\(json)")
            if how == "kill" {
                let kill = try sandbox.run(in: sandbox.firewallHost, [binary, "conns", "--kill", "--yes",
                                                                       "--port", String(port), "--control", control],
                                           timeout: .seconds(10))
                #expect(kill.status == 0 && kill.stdout.contains("1"), "\(kill)")
            } else {
                try "set offload after 3\nset reload recheck\nblock quick forward proto tcp to port \(Harness.port)\npass all\n"
                    .write(toFile: rules, atomically: true, encoding: .utf8)
                let reload = try sandbox.run(in: sandbox.firewallHost, [binary, "reload", "--rules", rules,
                                                                         "--control", control], timeout: .seconds(15))
                #expect(reload.status == 0, "\(reload)")
            }
            #expect(script.waitForExit(timeout: .seconds(20)) != nil, "\(script.output)")
            #expect(script.standardOutput.contains("\"alive\": false"),
                    "the cut connection's data no longer passes in the kernel: \(script.output)")
            let counters = try daemon.stop()
            #expect((counters.values["drop.no_connection"] ?? 0) >= 1, "its next segment met no entry: \(counters)")
            // Detached: no connection is left marked in the kernel.
            let marked = try sandbox.run(in: sandbox.firewallHost, ["sh", "-c",
                "grep -c 'mark=1048576' /proc/net/nf_conntrack 2>/dev/null || true"], timeout: .seconds(5))
            let count = marked.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(count.isEmpty || count == "0", "\(marked)")
        }
    }
}
