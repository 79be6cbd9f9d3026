import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// Fragmented legal segments through a router with synwall on the forward hook, where
    /// nothing else in the namespace loads conntrack: with `--attach iptables` synwall makes the
    /// kernel reassemble first, so the tracker counts every byte and the receiver's ACK of all
    /// of them passes (issue 12: it was dropped as `bad_ack`). With `--attach none` and a plain
    /// NFQUEUE rule the pieces reach synwall, which holds their verdicts and judges the
    /// datagram whole (docs/fragments.md, "Held verdicts"). `--attach nft` does the same as
    /// iptables with its own chain (AttachmentScriptTests); this machine's kernel has no nft
    /// queue statement, so it cannot run here.
    @Suite struct Fragments {
        /// Client source ports of the crafted connections (the client kernel's RSTs from
        /// them are dropped, or it would reset the handshake scapy makes).
        static let ports = (ipv4: 5601, ipv6: 5602)

        @Test("a segment in IPv4 fragments (3, out of order, one twice) and IPv6 (2, out of order, one twice): no drop, the ACK passes",
              arguments: ["iptables", "none"])
        func fragmentedSegmentThroughTheRouter(attach: String) throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            try sandbox.disableOffloads()
            try sandbox.startEchoServer(port: Harness.port)
            let client = sandbox.client, server = sandbox.server
            for (tool, port) in [("iptables", Self.ports.ipv4), ("ip6tables", Self.ports.ipv6)] {
                try sandbox.runChecked(in: client, [tool, "-A", "OUTPUT", "-p", "tcp", "--sport", String(port),
                                                    "--tcp-flags", "RST", "RST", "-j", "DROP"])
            }
            let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
            let daemon: Daemon
            if attach == "none" {
                daemon = try Daemon.start(sandbox, ["--attach", "none", "--queue", "7", "--log", log])
                #expect(daemon.process.standardOutput.contains("unreassembled"),
                        "the start line says fragments may arrive unreassembled: \(daemon.process.output)")
                let router = try #require(sandbox.router)
                for tool in ["iptables", "ip6tables"] {
                    try sandbox.runChecked(in: router, [tool, "-t", "mangle", "-A", "FORWARD", "-j", "NFQUEUE",
                                                        "--queue-num", "7"])
                }
            } else {
                daemon = try Daemon.start(sandbox, ["--hook", "forward", "--attach", attach, "--log", log])
                #expect(daemon.process.standardOutput.contains("kernel reassembles fragments first"),
                        "the start line says the kernel reassembles: \(daemon.process.output)")
            }

            let script = try Harness.script("fragments")
            for (source, destination, port) in [(client.ipv4, server.ipv4, Self.ports.ipv4),
                                                (client.ipv6, server.ipv6, Self.ports.ipv6)] {
                let run = try sandbox.runPython(in: client, script: script, arguments: [
                    "segment", "--iface", client.interfaces[0].name, "--src", source, "--dst", destination,
                    "--sport", String(port), "--dport", String(Harness.port),
                ], timeout: .seconds(30))
                try #require(run.succeeded, "the fragment script ran: \(run)")
                #expect(run.stdout.contains("\"acked\": true"),
                        "the server's ACK of all 1,000 bytes came back through the router (\(destination)): \(run)")
            }
            try sandbox.expectConnections(succeed: true, "after the fragments")
            let counters = try daemon.stop()
            #expect(counters.dropped == 0, "no packet dropped: \(counters) \(daemon.process.output)")
            if attach == "none" {
                // 4 IPv4 pieces and 3 IPv6 pieces held, one datagram of each judged whole.
                #expect(counters.values["fragments.held"] == 5, "\(counters)")
                #expect(counters.values["fragments.reassembled"] == 2, "\(counters)")
            }
            try sandbox.expectNoSynwallRules("after detach (the reassembly chain goes too)")
        }

        @Test("with --attach none and no reassembly: an overlap rewrite and a tiny first fragment are dropped as fragment, with the rest of their datagrams; a rewrite before the datagram is complete keeps all of it from the server")
        func unreassembledAttacks() throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            try sandbox.disableOffloads()
            try sandbox.startEchoServer(port: Harness.port)
            let client = sandbox.client, server = sandbox.server
            let router = try #require(sandbox.router)
            let rewritePort = 5611, tinyPort = 5612, earlyPort = 5613
            for port in [rewritePort, earlyPort] {
                try sandbox.runChecked(in: client, ["iptables", "-A", "OUTPUT", "-p", "tcp", "--sport", String(port),
                                                    "--tcp-flags", "RST", "RST", "-j", "DROP"])
            }
            let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
            let daemon = try Daemon.start(sandbox, ["--attach", "none", "--queue", "7", "--log", log])
            #expect(daemon.process.standardOutput.contains("unreassembled"),
                    "the start line says fragments may arrive unreassembled: \(daemon.process.output)")
            for tool in ["iptables", "ip6tables"] {
                try sandbox.runChecked(in: router, [tool, "-t", "mangle", "-A", "FORWARD", "-j", "NFQUEUE",
                                                    "--queue-num", "7"])
            }
            let script = try Harness.script("fragments")
            for (mode, port) in [("rewrite", rewritePort), ("tiny", tinyPort), ("early", earlyPort)] {
                let run = try sandbox.runPython(in: client, script: script, arguments: [
                    mode, "--iface", client.interfaces[0].name, "--src", client.ipv4, "--dst", server.ipv4,
                    "--sport", String(port), "--dport", String(Harness.port),
                ], timeout: .seconds(30))
                try #require(run.succeeded, "the \(mode) script ran: \(run)")
                if mode == "early" {
                    #expect(run.stdout.contains("\"acked\": false"), "no byte of the rewritten datagram reached the server: \(run)")
                }
            }
            Thread.sleep(forTimeInterval: 0.5)
            let counters = try daemon.stop()
            // rewrite: the rewritten middle piece and the flags rewrite at offset 8 (the datagram
            // had passed whole); tiny: the tiny first fragment and the piece after it; early: the
            // held first piece, the flags rewrite and the two pieces after it.
            #expect(counters.values["drop.fragment"] == 8, "eight pieces dropped as fragment: \(counters)")
            let logged = try sandbox.run(in: client, [Harness.synwallBinary(), "log", log, "--reason", "fragment",
                                                      "--json"], timeout: .seconds(10))
            let records = logged.stdout.split(separator: "\n").filter { $0.contains("\"fragment\"") }
            #expect(!records.isEmpty, "the fragment drops are in the event log: \(logged)")
        }
    
        @Test("a flood of 10,000 incomplete datagrams from 1,000 sources is dropped as fragment within bounds while a transfer goes on")
        func fragmentFlood() throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            let server = sandbox.server
            let router = try #require(sandbox.router)
            let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
            let daemon = try Daemon.start(sandbox, ["--attach", "none", "--queue", "7", "--log", log])
            try sandbox.runChecked(in: router, ["iptables", "-t", "mangle", "-A", "FORWARD", "-j", "NFQUEUE",
                                                "--queue-num", "7"])
            // A 100 MB transfer through the router, with the flood sent while it runs.
            let sink = sandbox.workDirectory.appendingPathComponent("sink.py")
            let source = sandbox.workDirectory.appendingPathComponent("source.py")
            try CleanTraffic.sink.write(to: sink, atomically: true, encoding: .utf8)
            try CleanTraffic.source.write(to: source, atomically: true, encoding: .utf8)
            let receiver = try sandbox.spawn(in: server, ["/usr/bin/python3", sink.path, server.ipv4, "9200"])
            Thread.sleep(forTimeInterval: 0.5)
            let sender = try sandbox.spawn(in: sandbox.client, ["/usr/bin/python3", source.path, server.ipv4, "9200",
                                                                "100", "0"])
            let flood = try sandbox.runPython(in: sandbox.client, script: try Harness.script("fragments"), arguments: [
                "flood", "--dst", server.ipv4, "--count", "10000", "--sources", "1000", "--seconds", "2",
            ], timeout: .seconds(30))
            try #require(flood.succeeded, "the flood ran: \(flood)")
            #expect(sender.waitForExit(timeout: .seconds(90)) != nil, "the transfer ended")
            _ = receiver.waitForExit(timeout: .seconds(10))
            #expect(sender.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == String(100 << 20),
                    "every byte of the transfer arrived during the flood: \(sender.output)")
            let control = daemon.arguments[try #require(daemon.arguments.firstIndex(of: "--control")) + 1]
            let stats = try sandbox.run(in: router, [Harness.synwallBinary(), "stats", "--control", control],
                                        timeout: .seconds(10))
            print("during the flood: \(stats.stdout)")
            let counters = try daemon.stop()
            // Every piece is dropped: pushed out of the full table, or given up at the stop.
            #expect(counters.values["drop.fragment"] == 10_000, "\(counters)")
            #expect(counters.dropped == 10_000, "nothing else was dropped: \(counters)")
            #expect((counters.values["fragments.abandoned"] ?? 0) == 10_000, "\(counters)")
            let logged = try sandbox.run(in: router, [Harness.synwallBinary(), "log", log, "--reason", "fragment",
                                                      "--json"], timeout: .seconds(20))
            #expect(logged.stdout.split(separator: "\n").count >= 100, "the flood is in the event log: \(logged.stderr)")
        }
    }
}
