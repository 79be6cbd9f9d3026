import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// Several queues with the kernel's balancing: both directions of every connection land on
    /// the same worker, so each worker's connection table sees whole connections.
    @Suite struct Fanout {
        /// Opens one connection from each of the given source addresses, echoes 30 lines over
        /// each (all open at once), holds them 6 s, closes them; prints "ok N" or what failed.
        private static let clients = """
        import socket, sys, time
        server, port = sys.argv[1], int(sys.argv[2])
        sources = sys.argv[3:]
        conns = []
        for source in sources:
            s = socket.socket()
            s.settimeout(3)
            s.bind((source, 0))
            s.connect((server, port))
            conns.append(s)
        done = 0
        for i in range(30):
            for s in conns:
                s.sendall(b"line %d\\n" % i)
            for s in conns:
                got = b""
                while not got.endswith(b"\\n"):
                    chunk = s.recv(100)
                    if not chunk:
                        print("failed: closed by peer", flush=True)
                        sys.exit(1)
                    got += chunk
                done += 1
        print("ok", done, flush=True)
        time.sleep(6)
        for s in conns:
            s.close()
        """

        /// Adds the addresses with these last bytes (in `host`'s own /24) to its first interface.
        private static func addAddresses(_ lastBytes: Range<Int>, to host: SandboxHost, in sandbox: Sandbox) throws
            -> [String]
        {
            let device = host.interfaces.first?.name ?? "eth0"
            let prefix = host.ipv4.split(separator: ".").dropLast().joined(separator: ".")
            let addresses = lastBytes.map { "\(prefix).\($0)" }
            for address in addresses {
                _ = try sandbox.runChecked(in: host, ["ip", "addr", "add", "\(address)/24", "dev", device])
            }
            return addresses
        }

        @Test("two queues: connections from 16 sources spread over both workers, none dropped, each tracked once")
        func bothDirectionsOnOneWorker() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            try sandbox.startEchoServer(port: 8080)
            let sources = try Self.addAddresses(10..<26, to: sandbox.client, in: sandbox)
            let socketPath = sandbox.workDirectory.appendingPathComponent("control.sock").path
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--queues", "0-1", "--control", socketPath,
                                                    "--pid-file", "none"])
            let script = sandbox.workDirectory.appendingPathComponent("clients.py")
            try Self.clients.write(to: script, atomically: true, encoding: .utf8)
            let clients = try sandbox.spawn(in: sandbox.client, ["/usr/bin/python3", script.path, sandbox.server.ipv4, "8080"]
                                            + sources)
            #expect(clients.waitForLine(prefix: "ok", timeout: .seconds(20)) != nil, "\(clients.output)")
            #expect(clients.standardOutput.hasPrefix("ok 480"), "every echo came back: \(clients.output)")

            // While they are open: each connection is tracked once, ESTABLISHED, on one worker.
            let conns = try sandbox.run(in: sandbox.client, [binary, "conns", "--control", socketPath, "--json",
                                                             "--dport", "8080"])
            #expect(conns.status == 0, "\(conns)")
            var queueOfSource: [String: Int] = [:]
            for line in conns.stdout.split(separator: "\n") {
                let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
                let source = record["src_ip"] as? String ?? "?"
                #expect(queueOfSource[source] == nil, "\(source) tracked twice: \(conns.stdout)")
                queueOfSource[source] = record["queue"] as? Int
                #expect(record["state"] as? String == "ESTABLISHED", "\(record)")
            }
            #expect(Set(queueOfSource.keys) == Set(sources), "every source's connection is tracked: \(conns.stdout)")
            #expect(Set(queueOfSource.values) == [0, 1], "the kernel spread the connections over both queues")

            let stats = try sandbox.run(in: sandbox.client, [binary, "stats", "--control", socketPath, "--json"])
            let envelope = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any] ?? [:]
            let report = envelope["stats"] as? [String: Any] ?? [:]
            let workers = report["workers"] as? [[String: Any]] ?? []
            #expect(workers.count == 2, "\(stats)")
            for worker in workers {
                #expect((worker["received"] as? Int ?? 0) > 100, "each worker carried traffic: \(worker)")
                #expect(worker["dropped"] as? Int == 0, "nothing dropped (no direction split): \(worker)")
            }
            _ = clients.stop(grace: .seconds(1))
            let counters = try daemon.stop()
            #expect(counters.dropped == 0, "\(counters)")
        }

        @Test("two queues: a source an overload rule blocks on one queue is blocked on the other too, and its flush cuts the source's connection there")
        func overloadIsSharedAcrossQueues() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            try sandbox.startEchoServer(port: 8080)
            try sandbox.startEchoServer(port: 8081)
            // Several server addresses: the kernel hashes the address pair, so one client's
            // connections to them land on both queues.
            let destinations = try Self.addAddresses(10..<22, to: sandbox.server, in: sandbox)
            let rules = sandbox.workDirectory.appendingPathComponent("shared.rules")
            try """
            table <bruteforce> persist
            policy forward drop
            block forward quick from <bruteforce> log label "brute force"
            pass forward proto tcp to port 8080 label "web"
            pass forward proto tcp to port 8081 max-src-conn-rate 3/60 overload <bruteforce> flush label "login"
            """.write(to: rules, atomically: true, encoding: .utf8)
            let socketPath = sandbox.workDirectory.appendingPathComponent("control.sock").path
            let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--queues", "0-1", "--rules", rules.path,
                                                    "--log", log, "--control", socketPath, "--pid-file", "none"])

            // Which queue carries the client's connections to each destination.
            for destination in destinations {
                #expect(sandbox.tcpConnect(from: sandbox.client, to: destination, port: 8080, timeout: .seconds(3)),
                        "web to \(destination) passes before the brute force")
            }
            let conns = try sandbox.run(in: sandbox.client, [binary, "conns", "--control", socketPath, "--json",
                                                             "--dport", "8080"])
            var queueOf: [String: Int] = [:]
            for line in conns.stdout.split(separator: "\n") {
                let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
                if let destination = record["dest_ip"] as? String, let queue = record["queue"] as? Int {
                    queueOf[destination] = queue
                }
            }
            let target = try #require(destinations.first { queueOf[$0] != nil }, "\(conns)")
            let elsewhere = try #require(destinations.first { queueOf[$0] != nil && queueOf[$0] != queueOf[target] },
                                         "some destination on the other queue: \(queueOf)")

            // A login session on the other queue, open while the brute force runs.
            let script = try Harness.script("long_connection")
            let session = try sandbox.spawn(in: sandbox.client, ["/usr/bin/python3", script, elsewhere, "8081", "8"])
            Thread.sleep(forTimeInterval: 0.5)

            // The brute force against one destination trips the overload on its queue...
            var outcomes: [Bool] = []
            for _ in 0 ..< 4 {
                outcomes.append(sandbox.tcpConnect(from: sandbox.client, to: target, port: 8081, timeout: .seconds(2)))
            }
            #expect(outcomes == [true, true, true, false], "three per 60 s, then blocked: \(outcomes)")
            // ...and the other queue blocks the source too.
            Thread.sleep(forTimeInterval: 0.5)
            #expect(!sandbox.tcpConnect(from: sandbox.client, to: elsewhere, port: 8080, timeout: .seconds(2)),
                    "queue \(queueOf[elsewhere] ?? -1) blocks the source queue \(queueOf[target] ?? -1) put in <bruteforce>")
            // ...and `flush` cut the source's login session on the other queue as well.
            #expect(session.waitForExit(timeout: .seconds(15)) != nil)
            #expect(session.standardOutput.hasPrefix("failed after"), "the session was cut: \(session.output)")
            let stats = try sandbox.run(in: sandbox.client, [binary, "stats", "--control", socketPath, "--json"])
            let envelope = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any] ?? [:]
            let report = envelope["stats"] as? [String: Any] ?? [:]
            let workers = report["workers"] as? [[String: Any]] ?? []
            let flushedThere = workers.first { $0["queue"] as? Int == queueOf[elsewhere] }?["flushed"] as? Int
            #expect(flushedThere == 1, "the other queue counts the flushed session: \(stats)")
            _ = try daemon.stop()
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let blockedElsewhere = text.split(separator: "\n").contains {
                $0.contains("\"label\":\"brute force\"") && $0.contains("\"dest_ip\":\"\(elsewhere)\"")
                    && $0.contains("\"queue\":\(queueOf[elsewhere] ?? -1)")
            }
            #expect(blockedElsewhere, "the block rule dropped it on the other queue: \(text)")
        }
    }
}
