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

        @Test("two queues: connections from 16 sources spread over both workers, none dropped, each tracked once")
        func bothDirectionsOnOneWorker() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            try sandbox.startEchoServer(port: 8080)
            let device = sandbox.client.interfaces.first?.name ?? "c0"
            let prefix = sandbox.client.ipv4.split(separator: ".").dropLast().joined(separator: ".")
            let sources = (10..<26).map { "\(prefix).\($0)" }
            for source in sources {
                _ = try sandbox.runChecked(in: sandbox.client, ["ip", "addr", "add", "\(source)/24", "dev", device])
            }
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
                let source = record["src"] as? String ?? "?"
                #expect(queueOfSource[source] == nil, "\(source) tracked twice: \(conns.stdout)")
                queueOfSource[source] = record["queue"] as? Int
                #expect(record["state"] as? String == "ESTABLISHED", "\(record)")
            }
            #expect(Set(queueOfSource.keys) == Set(sources), "every source's connection is tracked: \(conns.stdout)")
            #expect(Set(queueOfSource.values) == [0, 1], "the kernel spread the connections over both queues")

            let stats = try sandbox.run(in: sandbox.client, [binary, "stats", "--control", socketPath, "--json"])
            let report = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any] ?? [:]
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
    }
}
