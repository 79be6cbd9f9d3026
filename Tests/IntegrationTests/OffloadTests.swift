import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// Offload (issue 17, docs/offload.md): with `set offload after N`, an established
    /// connection's plain segments pass in the kernel once it has shown N good packets each way;
    /// whatever still needs synwall's judgement keeps reaching it.
    @Suite struct Offload {
        /// A rule file that offloads after `after` packets each way (with `set tcp rst exact`
        /// when `rstExact`).
        static func rules(_ sandbox: Sandbox, after: Int, rstExact: Bool = false) throws -> String {
            let file = sandbox.workDirectory.appendingPathComponent("offload.rules")
            try "set offload after \(after)\n\(rstExact ? "set tcp rst exact\n" : "")pass all\n"
                .write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }

        /// The port an overload rule guards in the flush test.
        static let loginPort: UInt16 = 8081

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
            let bulk = try CleanTraffic.transfer(sandbox, to: server.ipv4, port: 9300, megabytes: 50)
            #expect(bulk.received == String(bulk.sent), "every byte: \(bulk)")
            let stats = try Self.stats(sandbox, daemon)
            #expect(stats.contains("offloaded"), "stats show the offload: \(stats)")
            // The offload rule counted what passed in the kernel: most of the 50 MB.
            let bytesLine = stats.split(separator: "\n").drop { !$0.contains("passed in the kernel") }
                .first { $0.contains("bytes") }
            let kernelBytes = bytesLine.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            #expect(kernelBytes > 40 << 20, "the kernel passed most of the bytes: \(stats)")
            try sandbox.expectConnections(succeed: true, "new connections after the transfer")
            let counters = try daemon.stop()
            #expect(counters.dropped == 0, "\(counters)")
            #expect(counters.received < 1_000, "the transfer's segments passed in the kernel: \(counters)")
            try sandbox.expectNoSynwallRules("after detach")
        }

        @Test("on an offloaded connection: out-of-window data, a SYN, FIN+URG+PSH, an inexact RST and data after a FIN are dropped and logged; the connection lives on")
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
                                                    "--rules", try Self.rules(sandbox, after: 3, rstExact: true)])
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
            #expect(counters.values["drop.rst_invalid"] == 1, "the in-window inexact RST (set tcp rst exact): \(counters)")
            #expect(stats.contains("offloaded"), "\(stats)")
            let logged = try sandbox.run(in: client, [Harness.synwallBinary(), "log", log, "--json"], timeout: .seconds(10))
            #expect(logged.stdout.contains("\"kernel_invalid\""), "the kernel's finding is logged: \(logged.stdout)")
            for reason in ["bad_seq", "syn_in_established", "invalid_flags", "rst_invalid"] {
                #expect(logged.stdout.contains("\"reason\":\"\(reason)\""), "\(reason) is logged: \(logged.stdout)")
            }
        }

        /// `conns --kill`, a `set reload recheck` reload whose rules block it, or an overload
        /// rule's `flush` of its source cuts an offloaded connection: synwall deletes its kernel connection too, so its next segment
        /// comes back to synwall and meets no entry (docs/offload.md, "Cut by synwall").
        @Test("an offloaded connection cut by conns --kill, a recheck reload or an overload flush is cut in the kernel too: its next segment reaches synwall and is dropped",
              arguments: ["kill", "recheck", "overload"])
        func cuttingAnOffloadedConnection(how: String) throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let client = sandbox.client, server = sandbox.server
            let port = ["kill": 5702, "recheck": 5703, "overload": 5704][how] ?? 5705
            try sandbox.runChecked(in: client, ["iptables", "-A", "OUTPUT", "-p", "tcp", "--sport", String(port),
                                                "--tcp-flags", "RST", "RST", "-j", "DROP"])
            let rules = try Self.rules(sandbox, after: 3)
            if how == "overload" {
                try sandbox.startEchoServer(port: Self.loginPort)
                try """
                    set offload after 3
                    table <bruteforce> persist
                    block forward quick from <bruteforce>
                    pass forward proto tcp to port \(Self.loginPort) max-src-conn-rate 3/60 overload <bruteforce> flush
                    pass all

                    """.write(toFile: rules, atomically: true, encoding: .utf8)
            }
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--attach", "iptables", "--rules", rules])
            let control = daemon.arguments[try #require(daemon.arguments.firstIndex(of: "--control")) + 1]
            let binary = try Harness.synwallBinary()
            let script = try sandbox.spawn(in: client, ["/usr/bin/python3", try Harness.script("offload"),
                "--iface", client.interfaces[0].name, "--src", client.ipv4, "--dst", server.ipv4,
                "--sport", String(port), "--dport", String(how == "overload" ? Self.loginPort : Harness.port),
                "--pause", how == "overload" ? "8" : "3"])
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
            } else if how == "overload" {
                // A brute force from the same client: its third connection within the minute
                // (the offloaded one was the first) puts it in <bruteforce> and flushes the
                // connections it opened through that rule, the offloaded one too.
                var outcomes: [Bool] = []
                for _ in 0 ..< 3 {
                    outcomes.append(sandbox.tcpConnect(from: client, to: server.ipv4, port: Self.loginPort,
                                                       timeout: .seconds(2)))
                }
                #expect(outcomes == [true, true, false], "three per minute, then overloaded: \(outcomes)")
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

        /// The last "progress BYTES" of the restart traffic's client.
        static func progress(_ client: SandboxProcess) -> Int {
            client.standardOutput.split(separator: "\n").last { $0.hasPrefix("progress ") }
                .flatMap { Int($0.dropFirst("progress ".count)) } ?? 0
        }

        /// A restart in the middle of an offloaded 200 MB download with 50 idle keep-alive
        /// connections (docs/offload.md, "Restarts"). SIGTERM detaches (the marked kernel
        /// connections go with the rules); kill -9 leaves the rules: the offloaded download goes
        /// on in the kernel with its strict windows while new connections are refused
        /// (fail-closed). Either way the start deletes the marked connections, restores every
        /// connection followed packet by packet, and the download completes byte for byte.
        @Test("a restart (SIGTERM or kill -9) in the middle of an offloaded 200 MB download: every byte arrives; while synwall is dead the offloaded download goes on and new connections are refused",
              arguments: ["stop", "kill"])
        func restartMidTransfer(how: String) throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let rules = sandbox.workDirectory.appendingPathComponent("offload.rules")
            try "set offload after 20\nset state checkpoint 1s\npass forward proto tcp\n"
                .write(to: rules, atomically: true, encoding: .utf8)
            let path = sandbox.workDirectory.appendingPathComponent("state").path
            let arguments = ["--hook", "forward", "--attach", "iptables", "--state", path, "--rules", rules.path]
            let probePort: UInt16 = 8082
            try sandbox.startEchoServer(port: probePort)
            let first = try Daemon.start(sandbox, arguments)
            let restart = Restart()
            let client = try restart.startTraffic(sandbox)
            let stats = try Self.stats(sandbox, first)
            #expect(stats.contains("offloaded"), "the download is offloaded: \(stats)")
            if how == "stop" {
                _ = try first.stop()
                try sandbox.expectNoSynwallRules("after the stop")
            } else {
                // A checkpoint written while the download was offloaded.
                Thread.sleep(forTimeInterval: 2)
                first.process.kill()
                #expect(first.process.waitForExit(timeout: .seconds(5)) == .signaled(9))
                let dead = Self.progress(client)
                #expect(!sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: probePort,
                                            timeout: .seconds(2)), "a new connection while synwall is dead (fail-closed)")
                let later = Self.progress(client)
                #expect(later > dead || client.firstLine(prefix: "RESULT") != nil,
                        "the offloaded download went on in the kernel: \(dead) then \(later)")
            }
            let second = try Daemon.start(sandbox, arguments)
            #expect((restart.restoredCount(second) ?? 0) >= Restart.idleConnections, "\(second.process.output)")
            let restoreLine = second.process.firstLine(prefix: "synwall: state: restored ") ?? ""
            if client.firstLine(prefix: "RESULT") == nil {
                #expect(restoreLine.contains("offloaded, now followed packet by packet"), "\(restoreLine)")
            }
            restart.expectTrafficSurvived(client, "across \(how) and a start")
            #expect(sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: probePort),
                    "a new connection after the start")
            let counters = try second.stop()
            #expect(counters.values["drop.no_connection", default: 0] == 0, "\(counters)")
            #expect(counters.values["drop.bad_seq", default: 0] == 0, "\(counters)")
            try sandbox.expectNoSynwallRules("after detach")
        }

        /// The kernel rules are attached at start; a reload cannot add offload's (docs/offload.md,
        /// "Reloads"): the reload succeeds with a warning and nothing is offloaded.
        @Test("a reload that turns offload on is taken with a warning that it waits for a restart; nothing is offloaded")
        func reloadCannotTurnOffloadOn() throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            let server = sandbox.server
            try sandbox.startEchoServer(port: Harness.port)
            let rules = sandbox.workDirectory.appendingPathComponent("plain.rules")
            try "pass all\n".write(to: rules, atomically: true, encoding: .utf8)
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--attach", "iptables", "--rules", rules.path])
            let control = daemon.arguments[try #require(daemon.arguments.firstIndex(of: "--control")) + 1]
            try "set offload after 3\npass all\n".write(to: rules, atomically: true, encoding: .utf8)
            let reload = try sandbox.run(in: sandbox.firewallHost, [try Harness.synwallBinary(), "reload", "--rules",
                                                                     rules.path, "--control", control], timeout: .seconds(15))
            #expect(reload.status == 0 && reload.stderr.contains("not in force until the next start"), "\(reload)")
            let bulk = try CleanTraffic.transfer(sandbox, to: server.ipv4, port: 9300, megabytes: 5)
            #expect(bulk.received == String(bulk.sent), "every byte: \(bulk)")
            let stats = try Self.stats(sandbox, daemon)
            #expect(!stats.contains("offloaded"), "\(stats)")
            let counters = try daemon.stop()
            #expect(counters.dropped == 0, "\(counters)")
            // 5 MB in GSO segments of up to 64 KiB and their ACKs: about 160 packets, all seen
            // by synwall (offloaded after 3 each way, it would see a dozen).
            #expect(counters.received > 100, "every segment came to synwall: \(counters)")
        }
    }
}
