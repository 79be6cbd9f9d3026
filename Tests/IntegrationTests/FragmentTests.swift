import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// Fragmented legal segments through a router with synwall on the forward hook, where
    /// nothing else in the namespace loads conntrack: with `--attach iptables` synwall makes the
    /// kernel reassemble first, so the tracker counts every byte and the receiver's ACK of all
    /// of them passes (issue 12: it was dropped as `bad_ack`). `--attach nft` does the same with
    /// its own chain (AttachmentScriptTests); this machine's kernel has no nft queue statement,
    /// so it cannot run here.
    @Suite struct Fragments {
        /// Client source ports of the crafted connections (the client kernel's RSTs from
        /// them are dropped, or it would reset the handshake scapy makes).
        static let ports = (ipv4: 5601, ipv6: 5602)

        @Test("a segment in IPv4 fragments (3, out of order, one twice) and IPv6 (2, out of order, one twice): no drop, the ACK passes",
              arguments: ["iptables"])
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
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--attach", attach, "--log", log])
            #expect(daemon.process.standardOutput.contains("kernel reassembles fragments first"),
                    "the start line says the kernel reassembles: \(daemon.process.output)")

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
            try sandbox.expectNoSynwallRules("after detach (the reassembly chain goes too)")
        }

        @Test("with --attach none and no reassembly: an overlap rewrite and a tiny first fragment are dropped as fragment, with the rest of their datagrams")
        func unreassembledAttacks() throws {
            let sandbox = try Harness.sandbox(.routed)
            defer { sandbox.teardown() }
            try sandbox.disableOffloads()
            try sandbox.startEchoServer(port: Harness.port)
            let client = sandbox.client, server = sandbox.server
            let router = try #require(sandbox.router)
            let rewritePort = 5611, tinyPort = 5612
            try sandbox.runChecked(in: client, ["iptables", "-A", "OUTPUT", "-p", "tcp", "--sport", String(rewritePort),
                                                "--tcp-flags", "RST", "RST", "-j", "DROP"])
            let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
            let daemon = try Daemon.start(sandbox, ["--attach", "none", "--queue", "7", "--log", log])
            #expect(daemon.process.standardOutput.contains("unreassembled"),
                    "the start line says fragments may arrive unreassembled: \(daemon.process.output)")
            for tool in ["iptables", "ip6tables"] {
                try sandbox.runChecked(in: router, [tool, "-t", "mangle", "-A", "FORWARD", "-j", "NFQUEUE",
                                                    "--queue-num", "7"])
            }
            let script = try Harness.script("fragments")
            for (mode, port) in [("rewrite", rewritePort), ("tiny", tinyPort)] {
                let run = try sandbox.runPython(in: client, script: script, arguments: [
                    mode, "--iface", client.interfaces[0].name, "--src", client.ipv4, "--dst", server.ipv4,
                    "--sport", String(port), "--dport", String(Harness.port),
                ], timeout: .seconds(30))
                try #require(run.succeeded, "the \(mode) script ran: \(run)")
            }
            Thread.sleep(forTimeInterval: 0.5)
            let counters = try daemon.stop()
            // The rewritten middle piece, the flags rewrite at offset 8, the tiny first fragment
            // and the piece after it.
            #expect(counters.values["drop.fragment"] == 4, "four pieces dropped as fragment: \(counters)")
            let logged = try sandbox.run(in: client, [Harness.synwallBinary(), "log", log, "--reason", "fragment",
                                                      "--json"], timeout: .seconds(10))
            let records = logged.stdout.split(separator: "\n").filter { $0.contains("\"fragment\"") }
            #expect(!records.isEmpty, "the fragment drops are in the event log: \(logged)")
        }
    }
}
