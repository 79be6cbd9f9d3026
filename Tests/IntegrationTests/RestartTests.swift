import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// Restarts, upgrades and crashes: the state file keeps every connection (issue 11).
    @Suite struct Restart {
        /// Megabytes of the download that runs through each restart.
        static let megabytes = 200
        /// Idle connections with keep-alives open across each restart.
        static let idleConnections = 50
        /// The download's pace (bytes/s), so that it is still running when the daemon restarts.
        static let rate = 40 << 20

        /// Server and client of `restart_traffic.py`; returns the client once the download is
        /// well under way.
        func startTraffic(_ sandbox: Sandbox, ipv6: Bool = false, megabytes: Int = Self.megabytes,
                                  rate: Int = Self.rate) throws -> SandboxProcess {
            let script = try Harness.script("restart_traffic")
            let address = ipv6 ? sandbox.server.ipv6 : sandbox.server.ipv4
            let server = try sandbox.spawn(in: sandbox.server, ["/usr/bin/python3", script, "server", address,
                                                                String(Harness.port)])
            guard server.waitForLine(prefix: "listening", timeout: .seconds(10)) != nil else {
                throw HarnessError("the traffic server did not start: \(server.output)")
            }
            let client = try sandbox.spawn(in: sandbox.client, [
                "/usr/bin/python3", script, "client", address, String(Harness.port), String(megabytes),
                String(Self.idleConnections), String(rate),
            ])
            guard client.waitForLine(prefix: "idle \(Self.idleConnections)", timeout: .seconds(30)) != nil,
                  client.waitForLine(prefix: "progress", timeout: .seconds(10)) != nil else {
                throw HarnessError("the traffic client did not get going: \(client.output)")
            }
            Thread.sleep(forTimeInterval: 1)
            return client
        }

        /// Waits for the client's verdict and checks it: every byte, every idle connection.
        func expectTrafficSurvived(_ client: SandboxProcess, _ comment: String, megabytes: Int = Self.megabytes,
                                           sourceLocation: SourceLocation = #_sourceLocation) {
            let ended = client.waitForExit(timeout: .seconds(90))
            let result = client.firstLine(prefix: "RESULT") ?? "no RESULT line"
            #expect(ended == .exited(0), "\(comment): \(result)\n\(client.output)", sourceLocation: sourceLocation)
            #expect(result.contains("download=\(megabytes << 20)/\(megabytes << 20) pattern_ok=1 "
                                    + "idle_ok=\(Self.idleConnections)/\(Self.idleConnections)"),
                    "\(comment): \(result)", sourceLocation: sourceLocation)
        }

        /// The number in the start line's "restored N connections".
        func restoredCount(_ daemon: Daemon) -> Int? {
            guard let line = daemon.process.firstLine(prefix: "synwall: state: restored ") else { return nil }
            return Int(line.dropFirst("synwall: state: restored ".count).prefix { $0.isNumber })
        }

        private func stateArguments(_ sandbox: Sandbox) -> (path: String, arguments: [String]) {
            let path = sandbox.workDirectory.appendingPathComponent("state").path
            return (path, ["--hook", "forward", "--state", path])
        }

        @Test("SIGTERM and start during a 200 MB download with 50 idle keep-alive connections: all survive")
        func cleanRestart() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let (path, arguments) = stateArguments(sandbox)
            let first = try Daemon.start(sandbox, arguments)
            let client = try startTraffic(sandbox)

            let before = try first.stop()
            #expect(first.process.firstLine(prefix: "synwall: state: saved ") != nil, "\(first.process.output)")
            let second = try Daemon.start(sandbox, arguments)
            let restored = restoredCount(second)
            #expect((restored ?? 0) >= Self.idleConnections + 1,
                    "every connection comes back: \(second.process.output)")

            expectTrafficSurvived(client, "across SIGTERM and a start")
            let control = second.arguments[(second.arguments.firstIndex(of: "--control") ?? 0) + 1]
            let stats = try sandbox.run(in: sandbox.client, [try Harness.synwallBinary(), "stats", "--control", control])
            #expect(stats.stdout.contains("restored (state file)") && stats.stdout.contains("resumed after restart"),
                    "\(stats)")
            let resumed = stats.stdout.split(separator: "\n").first { $0.contains("resumed after restart") }
                .flatMap { $0.split(separator: " ").dropFirst(3).first.flatMap { Int($0) } }
            #expect((resumed ?? 0) >= Self.idleConnections + 1, "every connection resumed: \(stats.stdout)")
            let after = try second.stop()
            #expect(before.values["drop.no_connection", default: 0] == 0, "\(before)")
            #expect(after.values["drop.no_connection", default: 0] == 0, "no connection is unknown after the restart: \(after)")
            #expect(after.received > 1_000, "the restarted daemon judged the rest of the download: \(after)")
            let inspect = try sandbox.run(in: sandbox.client, [try Harness.synwallBinary(), "state", "inspect", path])
            #expect(inspect.status == 0 && inspect.stdout.contains("at a clean stop"), "\(inspect)")
        }

        @Test("kill -9 and a start within 2 s: the last checkpoint brings the connections back")
        func crashRestart() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let rules = sandbox.workDirectory.appendingPathComponent("checkpoint.rules")
            try "set state checkpoint 1s\npass forward proto tcp\n".write(to: rules, atomically: true, encoding: .utf8)
            let (path, base) = stateArguments(sandbox)
            let arguments = base + ["--rules", rules.path]
            let first = try Daemon.start(sandbox, arguments)
            let client = try startTraffic(sandbox)
            // A checkpoint written after every connection was open.
            Thread.sleep(forTimeInterval: 2.5)
            let inspect = try sandbox.run(in: sandbox.client, [try Harness.synwallBinary(), "state", "inspect", path])
            #expect(inspect.stdout.contains("at a checkpoint"), "\(inspect)")

            first.process.kill()
            #expect(first.process.waitForExit(timeout: .seconds(5)) == .signaled(9))
            let second = try Daemon.start(sandbox, arguments)
            #expect((restoredCount(second) ?? 0) >= Self.idleConnections + 1, "\(second.process.output)")

            expectTrafficSurvived(client, "across kill -9 and a start")
            let after = try second.stop()
            #expect(after.values["drop.no_connection", default: 0] == 0, "\(after)")
        }

        @Test("restarted with a different number of queues: connections find their new worker",
              arguments: [("0-1", "0-3"), ("0-3", "0-1")])
        func requeued(queues: (before: String, after: String)) throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let (_, base) = stateArguments(sandbox)
            let first = try Daemon.start(sandbox, base + ["--queues", queues.before])
            let client = try startTraffic(sandbox)
            _ = try first.stop()
            let second = try Daemon.start(sandbox, base + ["--queues", queues.after])
            #expect(second.process.firstLine(prefix: "synwall: state: ")?.contains("wait for their queue") == true,
                    "\(second.process.output)")
            expectTrafficSurvived(client, "across \(queues.before) → \(queues.after)")
            let after = try second.stop()
            #expect(after.values["drop.no_connection", default: 0] == 0, "\(after)")
        }

        @Test("a damaged, foreign or linked state file: one warning, moved aside, a clean start")
        func badStateFiles() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let (path, arguments) = stateArguments(sandbox)
            let elf = try Data(contentsOf: URL(fileURLWithPath: "/bin/ls")).prefix(4096)
            let cases: [(String, () throws -> Void)] = [
                ("foreign", { try elf.write(to: URL(fileURLWithPath: path)) }),
                ("sparse 10 GB", {
                    FileManager.default.createFile(atPath: path, contents: Data("SYNWSTAT".utf8))
                    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                    try handle.truncate(atOffset: 10 << 30)
                    try handle.close()
                }),
                ("symbolic link", {
                    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/etc/passwd")
                }),
            ]
            for (name, make) in cases {
                try? FileManager.default.removeItem(atPath: path)
                try? FileManager.default.removeItem(atPath: path + ".bad")
                try make()
                let daemon = try Daemon.start(sandbox, arguments)
                let warning = daemon.process.firstLine(prefix: "synwall: warning: state file")
                #expect(warning?.contains("moved aside") == true, "\(name): \(daemon.process.output)")
                var info = stat()
                #expect(lstat(path + ".bad", &info) == 0, "\(name): the file is kept for a look")
                try sandbox.expectConnections(succeed: true, "after a \(name) state file")
                _ = try daemon.stop()
                // The stop wrote a good file, loaded by the next start.
                let next = try Daemon.start(sandbox, arguments)
                #expect(restoredCount(next) != nil, "\(name): \(next.process.output)")
                _ = try next.stop()
            }
            #expect((try? String(contentsOfFile: "/etc/passwd", encoding: .utf8))?.contains("root:") == true,
                    "the link's target is untouched")
        }

        @Test("a connection that timed out while synwall was down is not resurrected")
        func timedOutWhileDown() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let rules = sandbox.workDirectory.appendingPathComponent("short.rules")
            try "set timeout tcp.established 3s\npass forward proto tcp\n".write(to: rules, atomically: true, encoding: .utf8)
            let (_, base) = stateArguments(sandbox)
            let arguments = base + ["--rules", rules.path]
            let script = sandbox.workDirectory.appendingPathComponent("late.py")
            try """
            import socket, sys, time
            s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
            s.sendall(b"first\\n"); s.recv(64)
            print("open", flush=True)
            time.sleep(float(sys.argv[3]))
            s.sendall(b"late\\n")
            s.settimeout(3)
            try:
                print("echo " + s.recv(64).decode().strip(), flush=True)
            except OSError:
                print("no echo", flush=True)
            """.write(to: script, atomically: true, encoding: .utf8)

            let first = try Daemon.start(sandbox, arguments)
            let client = try sandbox.spawn(in: sandbox.client, ["/usr/bin/python3", script.path, sandbox.server.ipv4,
                                                                String(Harness.port), "8"])
            guard client.waitForLine(prefix: "open", timeout: .seconds(5)) != nil else {
                throw HarnessError("the client did not connect: \(client.output)")
            }
            _ = try first.stop()
            Thread.sleep(forTimeInterval: 4)  // longer than the 3 s the connection had left
            let second = try Daemon.start(sandbox, arguments)
            #expect(second.process.firstLine(prefix: "synwall: state: restored 0 connections")?
                .contains("1 timed out meanwhile") == true, "\(second.process.output)")
            _ = client.waitForExit(timeout: .seconds(15))
            #expect(client.firstLine(prefix: "no echo") != nil, "its late segment has no connection: \(client.output)")
            let after = try second.stop()
            #expect(after.values["drop.no_connection", default: 0] >= 1, "\(after)")
        }

        @Test("kill -9 under a service manager: the queue's socket waits in its fd store, the next start reads what was queued, no packet dropped")
        func descriptorHandover() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            let work = sandbox.workDirectory.appendingPathComponent("manager")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let rules = sandbox.workDirectory.appendingPathComponent("checkpoint.rules")
            try "set state checkpoint 1s\npass forward proto tcp\n".write(to: rules, atomically: true, encoding: .utf8)
            let arguments = ["--hook", "forward", "--rules", rules.path, "--state", work.appendingPathComponent("state").path,
                             "--control", work.appendingPathComponent("control.sock").path, "--pid-file", "none",
                             "--queue-maxlen", "65536"]
            let manager = try sandbox.spawn(in: sandbox.firewallHost, [
                "/usr/bin/python3", try Harness.script("fake_service_manager"), work.path, binary,
            ] + arguments)
            defer { _ = manager.stop(grace: .seconds(2)) }
            guard manager.waitForLine(prefix: "ready 1", timeout: .seconds(20)) != nil,
                  manager.firstLine(prefix: "stored synwall-queue-0") != nil else {
                throw HarnessError("the daemon did not store its queue socket: \(manager.output)")
            }
            func queueStatus() throws -> [String] {
                let text = try sandbox.run(in: sandbox.firewallHost, ["cat", "/proc/net/netfilter/nfnetlink_queue"]).stdout
                return text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
                    .first { $0.first == "0" } ?? []
            }
            let before = try queueStatus()

            // A paced download, so that what the kernel queues while nobody reads stays far
            // below the queue's 65,536 packets.
            let megabytes = 30
            let client = try startTraffic(sandbox, megabytes: megabytes, rate: 4 << 20)
            Thread.sleep(forTimeInterval: 2.5)  // a checkpoint with every connection
            FileManager.default.createFile(atPath: work.appendingPathComponent("crash").path, contents: nil)
            guard manager.waitForLine(prefix: "killed 1", timeout: .seconds(10)) != nil else {
                throw HarnessError("the daemon was not killed: \(manager.output)")
            }
            Thread.sleep(forTimeInterval: 1.5)  // packets queue in the stored socket meanwhile
            let waiting = try queueStatus()
            FileManager.default.createFile(atPath: work.appendingPathComponent("restart").path, contents: nil)
            guard manager.waitForLine(prefix: "ready 2", timeout: .seconds(20)) != nil else {
                let second = (try? String(contentsOf: work.appendingPathComponent("daemon-2.out"), encoding: .utf8)) ?? ""
                throw HarnessError("the second daemon did not get ready: \(manager.output)\n\(second)")
            }
            expectTrafficSurvived(client, "across kill -9 with the socket in the store", megabytes: megabytes)
            let after = try queueStatus()
            let second = (try? String(contentsOf: work.appendingPathComponent("daemon-2.out"), encoding: .utf8)) ?? ""
            #expect(second.contains("took over the socket an earlier synwall left") && second.contains("still bound"),
                    "\(second)")
            // Fields: queue, port id, waiting, copy mode, copy range, dropped (queue full),
            // dropped (socket full), last id.
            #expect(before.count >= 8 && after.count >= 8, "\(before) \(after)")
            #expect(after[1] == before[1], "the same socket served the queue throughout: \(before) → \(after)")
            #expect((Int(waiting.count >= 3 ? waiting[2] : "0") ?? 0) > 0,
                    "packets waited in the kernel while no synwall ran: \(waiting)")
            #expect(after.count >= 8 && after[5] == "0" && after[6] == "0", "no packet dropped: \(after)")
            // STATUS= with live counters while running (what `systemctl status` shows).
            #expect(manager.waitForLine(prefix: "notify STATUS=packets: ", timeout: .seconds(15)) != nil, "\(manager.output)")
            let live = manager.standardOutput.split(separator: "\n").map(String.init).filter { $0.hasPrefix("notify STATUS=packets: ") }
            #expect(live.contains { $0.range(of: #"^notify STATUS=packets: [1-9][0-9]* received, [0-9]+ dropped; connections: [0-9]+ \([0-9]+ half-open\) of [0-9]+; rules: 1 from .*checkpoint\.rules$"#,
                                            options: .regularExpression) != nil }, "\(live)")
            FileManager.default.createFile(atPath: work.appendingPathComponent("stop").path, contents: nil)
            #expect(manager.waitForLine(prefix: "stopped 2 status 0", timeout: .seconds(20)) != nil, "\(manager.output)")
            #expect(second.contains("synwall: state: restored"), "\(second)")
        }

        @Test("a second daemon on the same state file is refused")
        func secondInstance() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let (path, arguments) = stateArguments(sandbox)
            let first = try Daemon.start(sandbox, arguments)
            let second = try sandbox.run(in: sandbox.firewallHost, [
                try Harness.synwallBinary(), "run", "--rules", "none", "--queue", "7", "--hook", "forward", "--state", path, "--control", "none",
                "--pid-file", "none",
            ], timeout: .seconds(10))
            #expect(second.status == 1 && second.stderr.contains("another synwall uses the state file"), "\(second)")
            _ = try first.stop()
        }
    }
}
