import Sandbox
import Testing

extension IntegrationTests {
    /// (c) attach paths: nft where the kernel has nft's queue statement, a clear failure where it
    /// does not; and a second instance on a busy queue.
    @Suite struct Attach {
        /// nft's answer (commit-free, in `host`) to a queue rule: succeeded when this kernel
        /// accepts nft's `queue` statement; otherwise its error says why.
        private func nftQueueProbe(_ sandbox: Sandbox, in host: SandboxHost) throws -> CommandResult {
            let probe = sandbox.workDirectory.appendingPathComponent("nft-queue-probe.nft").path
            try """
                table inet synwall_probe {
                    chain probe { type filter hook forward priority 0; policy accept; meta l4proto tcp queue num 0; }
                }

                """.write(toFile: probe, atomically: true, encoding: .utf8)
            return try sandbox.run(in: host, ["nft", "-c", "-f", probe])
        }

        @Test("--attach nft works and is removed, or fails clearly and leaves nothing, as the kernel allows")
        func nftAttach() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let router = sandbox.firewallHost
            try sandbox.startEchoServer(port: Harness.port)
            let probe = try nftQueueProbe(sandbox, in: router)
            let nftQueue = probe.succeeded

            let binary = try Harness.synwallBinary()
            let process = try sandbox.spawn(in: router, [binary, "run", "--rules", "none", "--attach", "nft", "--hook", "forward",
                                                         "--control", "none", "--state", "none"])
            // Whichever comes first, bounded: the ready line, or the process ending.
            let ready = process.waitForLine(prefix: DaemonCounters.readyLinePrefix, timeout: Harness.readyTimeout)

            if nftQueue {
                // This kernel has the queue statement: the nft path must work and clean up.
                let daemon = Daemon(process: process, arguments: [])
                #expect(ready != nil, "with nft queue available, --attach nft should start: \(process.output)")
                let state = try sandbox.firewallState(in: router)
                #expect(state.hasNftTable(family: "inet", name: "synwall"), "\(state)")
                try sandbox.expectConnections(succeed: true, "through synwall attached with nft")
                let counters = try daemon.stop()
                #expect(counters.received > 0, "\(counters)")
                try sandbox.expectNoSynwallRules("after SIGTERM the nft table is gone")
            } else {
                // This kernel lacks it (CONFIG_NFT_QUEUE): a clear error, a non-zero exit, no leftovers.
                #expect(ready == nil, "--attach nft cannot work without nft queue: \(process.output)")
                let ended = process.waitForExit(timeout: .seconds(5))
                #expect(ended != nil && ended != .exited(0), "should exit non-zero: \(process.output)")
                let errorLine = process.firstLine(prefix: "synwall: error:", in: .standardError)
                #expect(errorLine != nil, "one 'synwall: error:' line on stderr: \(process.output)")
                if let errorLine {
                    #expect(errorLine.lowercased().contains("nft"), "the message names nft: \(errorLine)")
                    #expect(errorLine.lowercased().contains("queue"), "and its missing queue support: \(errorLine)")
                    // For the right reason: the kernel's refusal that our own probe met, not a
                    // script nft could not read.
                    #expect(!errorLine.contains("syntax error"), "synwall's probe must parse: \(errorLine)")
                    let reason = probe.stderr.split(separator: "\n").first { $0.contains("Error: ") }
                        .map { String($0[$0.range(of: "Error: ")!.upperBound...]) } ?? "?"
                    #expect(errorLine.contains("cannot queue packets from nft") && errorLine.contains(reason),
                            "names the kernel's refusal (\(reason)): \(errorLine)")
                }
                try sandbox.expectNoSynwallRules("a failed nft attach leaves nothing behind")
                try sandbox.expectConnections(succeed: true, "after the failed attach traffic is untouched")
            }
        }

        @Test("a second synwall on the same queue fails naming the queue; the first keeps working")
        func secondInstanceOnBusyQueue() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let first = try Daemon.start(sandbox, ["--hook", "forward", "--queue", "3"])
            let binary = try Harness.synwallBinary()

            // With --attach none (which takes no --hook) only the queue binding can conflict;
            // with iptables the chains of a live instance may be what it trips over first.
            for attach in ["none", "iptables"] {
                let second = try sandbox.spawn(in: sandbox.firewallHost, [binary, "run", "--rules", "none", "--queue", "3", "--attach", attach,
                                                                          "--control", "none", "--state", "none"]
                                               + (attach == "none" ? [] : ["--hook", "forward"]))
                let ended = second.waitForExit(timeout: .seconds(5))
                #expect(ended != nil && ended != .exited(0),
                        "a second instance (--attach \(attach)) must exit non-zero: \(second.output)")
                second.stop(grace: .seconds(2))
                let errorLine = second.firstLine(prefix: "synwall: error:", in: .standardError) ?? ""
                #expect(!errorLine.isEmpty, "one 'synwall: error:' line: \(second.output)")
                if attach == "none" {
                    #expect(errorLine.contains("queue") && errorLine.contains("3"),
                            "the error names queue 3: \(errorLine)")
                }
                #expect(first.process.isRunning, "the first instance is unaffected")
            }
            let traces = try sandbox.synwallTraces()
            #expect(traces.lines.contains { $0.contains("synwall pid=\(first.process.pid)") },
                    "the first instance's rules are still in place: \(traces.state)")
            try sandbox.expectConnections(succeed: true, "through the first instance")
            let counters = try first.stop()
            #expect(counters.received > 0, "\(counters)")
            try sandbox.expectNoSynwallRules("after SIGTERM")
        }
    }
}
