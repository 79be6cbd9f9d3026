import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// The control socket with the real daemon: `synwall stats` (text, JSON, Prometheus,
    /// --watch), `synwall conns` (a live connection, filters), `synwall rules list` hit counters,
    /// `synwall reload` over the socket, and hostile clients that must not stall or crash it.
    @Suite struct Control {
        private static func json(_ text: String) throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw HarnessError("not a JSON object: \(text)")
            }
            return object
        }

        @Test("stats, conns and rules list read the running daemon; reload answers over the socket")
        func statsConnsAndHits() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            try sandbox.startEchoServer(port: 8080)
            let rules = sandbox.workDirectory.appendingPathComponent("test.rules")
            try """
            # only 8080 is open through the router
            policy forward drop log
            pass forward proto tcp to port 8080 label "web"
            """.write(to: rules, atomically: true, encoding: .utf8)
            let socketPath = sandbox.workDirectory.appendingPathComponent("control.sock").path
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--rules", rules.path,
                                                    "--control", socketPath, "--pid-file", "none"])
            #expect(daemon.process.firstLine(prefix: "synwall: ready")?.contains("control \(socketPath)") == true)

            // The socket is root's alone.
            let attributes = try FileManager.default.attributesOfItem(atPath: socketPath)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(attributes)")

            // Traffic: one live connection, and a refused port.
            let script = try Harness.script("long_connection")
            let long = try sandbox.spawn(in: sandbox.client, ["/usr/bin/python3", script, sandbox.server.ipv4, "8080", "5"])
            #expect(!sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8081, timeout: .seconds(2)))
            Thread.sleep(forTimeInterval: 1)

            // conns: the live connection, with its rule and counts; filters.
            let conns = try sandbox.run(in: sandbox.client, [binary, "conns", "--control", socketPath, "--json",
                                                             "--dport", "8080", "--state", "established"])
            #expect(conns.status == 0, "\(conns)")
            let lines = conns.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 1, "one established connection to 8080: \(conns.stdout)")
            if let line = lines.first {
                let record = try Self.json(line)
                // The event log's dialect (docs/json.md).
                #expect(record["src_ip"] as? String == sandbox.client.ipv4)
                #expect(record["dest_ip"] as? String == sandbox.server.ipv4)
                #expect(record["dest_port"] as? Int == 8080)
                #expect(record["proto"] as? String == "TCP")
                #expect(record["state"] as? String == "ESTABLISHED")
                #expect((record["rule"] as? [String: Any])?["number"] as? Int == 1, "admitted by rule 1: \(record)")
                #expect((record["pkts_toserver"] as? Int ?? 0) >= 5, "\(record)")
                #expect((record["bytes_toclient"] as? Int ?? 0) > 0, "\(record)")
                #expect((record["age"] as? Int ?? -1) >= 0)
            }
            let table = try sandbox.run(in: sandbox.client, [binary, "conns", "--control", socketPath])
            #expect(table.status == 0 && table.stdout.contains("ESTABLISHED") && table.stdout.contains("PROTO"), "\(table)")
            let none = try sandbox.run(in: sandbox.client, [binary, "conns", "--control", socketPath, "--port", "9999"])
            #expect(none.stdout.contains("0 connections"), "\(none)")
            let badFilter = try sandbox.run(in: sandbox.client, [binary, "conns", "--control", socketPath, "--state", "bogus"])
            #expect(badFilter.status != 0 && badFilter.stderr.contains("not a state"), "\(badFilter)")

            // stats: JSON, text, Prometheus, --watch.
            let stats = try sandbox.run(in: sandbox.client, [binary, "stats", "--control", socketPath, "--json"])
            #expect(stats.status == 0, "\(stats)")
            let envelope = try Self.json(stats.stdout)
            #expect(envelope["event_type"] as? String == "stats" && envelope["timestamp"] is String, "an EVE stats record")
            let report = envelope["stats"] as? [String: Any] ?? [:]
            let workers = report["workers"] as? [[String: Any]] ?? []
            #expect(workers.count == 1)
            #expect((workers.first?["received"] as? Int ?? 0) > 10, "\(stats.stdout)")
            #expect((workers.first?["states"] as? Int ?? 0) >= 1, "\(stats.stdout)")
            let ruleHits = report["rules"] as? [[String: Any]] ?? []
            #expect(ruleHits.first?["hits"] as? Int == 1, "rule 1 admitted one connection: \(ruleHits)")
            let text = try sandbox.run(in: sandbox.client, [binary, "stats", "--control", socketPath])
            #expect(text.stdout.contains("received") && text.stdout.contains("rule hits"), "\(text)")
            let prometheus = try sandbox.run(in: sandbox.client, [binary, "stats", "--control", socketPath, "--prometheus"])
            #expect(prometheus.stdout.contains("# TYPE synwall_packets_total counter"), "\(prometheus)")
            #expect(prometheus.stdout.contains("synwall_rule_hits_total{rule=\"1\",action=\"pass\""), "\(prometheus)")
            #expect(prometheus.stdout.contains("synwall_drops_total{queue=\"0\",reason=\"policy\"}"), "\(prometheus)")
            let watch = try sandbox.run(in: sandbox.client, [binary, "stats", "--control", socketPath, "--watch",
                                                             "--interval", "0.5", "--count", "2"])
            #expect(watch.status == 0 && watch.stdout.contains("per s"), "the second frame has rates: \(watch)")

            // rules list: hit counters from the daemon running this file.
            let list = try sandbox.run(in: sandbox.client, [binary, "rules", "list", "--file", rules.path,
                                                            "--control", socketPath])
            #expect(list.status == 0 && list.stdout.contains("  1  1  "), "rule 1 with 1 hit: \(list)")

            // reload over the socket: a broken file fails with the daemon's diagnostics, exit 1.
            try "pass forward proto tcp to prot 9000\n".write(to: rules, atomically: true, encoding: .utf8)
            let broken = try sandbox.run(in: sandbox.client, [binary, "reload", "--control", socketPath,
                                                              "--pid-file", "/nonexistent"])
            #expect(broken.status == 1 && broken.stderr.contains("test.rules:1:"), "\(broken)")
            try "policy forward drop\npass forward proto tcp to port { 8080 8081 }\n"
                .write(to: rules, atomically: true, encoding: .utf8)
            let good = try sandbox.run(in: sandbox.client, [binary, "reload", "--control", socketPath,
                                                            "--pid-file", "/nonexistent"])
            #expect(good.status == 0 && good.stdout.contains("reloaded"), "\(good)")

            // The textfile for node_exporter, written atomically: up, build info, reloads.
            let textfile = sandbox.workDirectory.appendingPathComponent("textfile/synwall.prom").path
            try FileManager.default.createDirectory(atPath: (textfile as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            let written = try sandbox.run(in: sandbox.client, [binary, "stats", "--control", socketPath, "--prometheus",
                                                               "--output", textfile])
            #expect(written.status == 0 && written.stdout.isEmpty, "\(written)")
            let prom = (try? String(contentsOfFile: textfile, encoding: .utf8)) ?? ""
            #expect(prom.contains("\nsynwall_up 1\n"), "\(prom)")
            #expect(prom.range(of: #"\nsynwall_build_info\{version="[0-9.]+",commit="[^"]+"\} 1\n"#, options: .regularExpression) != nil,
                    "\(prom)")
            #expect(prom.contains("synwall_reloads_total{result=\"success\"} 1\n"), "\(prom)")
            #expect(prom.contains("synwall_reloads_total{result=\"failure\"} 1\n"), "\(prom)")
            #expect(prom.contains("\nsynwall_last_reload_success_timestamp_seconds "), "\(prom)")
            #expect(prom.contains("synwall_rule_label_hits_total{label=\"web\"}") == false,
                    "the reloaded rules have no label: \(prom)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: (textfile as NSString).deletingLastPathComponent)
                        == ["synwall.prom"], "no temporary file left beside it")

            #expect(long.waitForExit(timeout: .seconds(10)) != nil)
            #expect(long.standardOutput.hasPrefix("ok"), "the live connection kept flowing: \(long.output)")
            _ = try daemon.stop()
            #expect(!FileManager.default.fileExists(atPath: socketPath), "the socket is removed at stop")
            let after = try sandbox.run(in: sandbox.client, [binary, "stats", "--control", socketPath])
            #expect(after.status == 1 && after.stderr.contains("no synwall daemon is listening"), "\(after)")
            // The textfile then says the daemon is down (exit 1 all the same).
            let down = try sandbox.run(in: sandbox.client, [binary, "stats", "--control", socketPath, "--prometheus",
                                                            "--output", textfile])
            #expect(down.status == 1 && down.stderr.contains("no synwall daemon is listening"), "\(down)")
            let downText = (try? String(contentsOfFile: textfile, encoding: .utf8)) ?? ""
            #expect(downText.contains("\nsynwall_up 0\n") && downText.contains("synwall_build_info{"), "\(downText)")
            #expect(!downText.contains("synwall_packets_total"), "\(downText)")
            // With no daemon, `reload` is an error; an edit is saved and says the rules apply at start.
            let reloadAfter = try sandbox.run(in: sandbox.client, [binary, "reload", "--control", socketPath,
                                                                   "--pid-file", "/nonexistent"])
            #expect(reloadAfter.status == 1 && reloadAfter.stderr.contains("no running synwall: no control socket"),
                    "\(reloadAfter)")
            let addAfter = try sandbox.run(in: sandbox.client, [binary, "rules", "add", "--file", rules.path,
                                                                "--control", socketPath, "--pid-file", "/nonexistent",
                                                                "pass forward proto tcp to port 8082"])
            #expect(addAfter.status == 0 && addAfter.stdout.contains("no daemon is running"), "\(addAfter)")
        }

        @Test("conns --kill cuts the matching live connection on the real daemon, leaves the other, and logs it")
        func connsKill() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            try sandbox.startEchoServer(port: 8080)
            try sandbox.startEchoServer(port: 8081)
            let rules = sandbox.workDirectory.appendingPathComponent("kill.rules")
            try "policy forward drop\npass forward proto tcp to port { 8080, 8081 }\n"
                .write(to: rules, atomically: true, encoding: .utf8)
            let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
            let socketPath = sandbox.workDirectory.appendingPathComponent("control.sock").path
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--rules", rules.path, "--log", log,
                                                    "--control", socketPath, "--pid-file", "none"])
            let script = try Harness.script("long_connection")
            let victim = try sandbox.spawn(in: sandbox.client, ["/usr/bin/python3", script, sandbox.server.ipv4, "8080", "5"])
            let bystander = try sandbox.spawn(in: sandbox.client, ["/usr/bin/python3", script, sandbox.server.ipv4, "8081", "5"])
            Thread.sleep(forTimeInterval: 1)

            // Without --yes and without a terminal to ask on: refused, nothing killed.
            let unasked = try sandbox.run(in: sandbox.client, [binary, "conns", "--kill", "--dport", "8080",
                                                               "--control", socketPath])
            #expect(unasked.status == 64, "\(unasked)")
            #expect(unasked.stderr.contains("standard input is not a terminal; add --yes"), "\(unasked)")
            let before = try sandbox.run(in: sandbox.client, [binary, "conns", "--control", socketPath, "--dport", "8080"])
            #expect(before.stdout.contains("\n1 connection"), "still there: \(before)")

            // On a terminal it shows what matches and asks; "n" kills nothing, "y" kills.
            func interactive(_ answer: String) throws -> CommandResult {
                let command = "\(binary) conns --kill --dport 8080 --control \(socketPath)"
                return try sandbox.run(in: sandbox.client, ["/bin/sh", "-c",
                                                            "printf '\(answer)\\n' | script -qec '\(command)' /dev/null"])
            }
            let declined = try interactive("n")
            #expect(declined.stdout.contains("kill this connection? [y/N]"), "\(declined)")
            #expect(declined.stdout.contains("nothing killed"), "\(declined)")
            let kill = try interactive("y")
            #expect(kill.status == 0, "\(kill)")
            #expect(kill.stdout.contains("ESTABLISHED") && kill.stdout.contains("killed 1 connection"), "\(kill)")
            let after = try sandbox.run(in: sandbox.client, [binary, "conns", "--control", socketPath, "--dport", "8080"])
            #expect(after.stdout.contains("0 connections"), "gone from the table: \(after)")

            // The killed connection's next segments are no_connection drops; the other flows on.
            #expect(victim.waitForExit(timeout: .seconds(15)) != nil)
            #expect(victim.standardOutput.hasPrefix("failed after "), "the connection was cut: \(victim.output)")
            #expect(bystander.waitForExit(timeout: .seconds(15)) != nil)
            #expect(bystander.standardOutput.hasPrefix("ok "), "the other connection kept flowing: \(bystander.output)")

            let nothing = try sandbox.run(in: sandbox.client, [binary, "conns", "--kill", "--yes", "--dport", "9",
                                                               "--control", socketPath])
            #expect(nothing.status == 0 && nothing.stdout == "killed 0 connections\n", "\(nothing)")
            let counters = try daemon.stop()
            #expect(counters.dropped > 0, "\(counters)")
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let killed = text.split(separator: "\n").filter { $0.contains("\"reason\":\"killed\"") }
            #expect(killed.count == 1, "one flow record for the killed connection: \(text)")
            #expect(killed.first?.contains("\"event_type\":\"flow\"") == true)
            #expect(killed.first?.contains("\"src_ip\":\"\(sandbox.client.ipv4)\"") == true, "\(killed)")
            #expect(killed.first?.contains("\"dest_port\":8080") == true, "\(killed)")
            #expect(text.contains("\"reason\":\"no_connection\""), "the next segments were no_connection drops: \(text)")
        }

        @Test("hostile clients neither stall nor crash the control socket or the packet path")
        func hostileClients() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            try sandbox.startEchoServer(port: 8080)
            let socketPath = sandbox.workDirectory.appendingPathComponent("control.sock").path
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--control", socketPath, "--pid-file", "none"])
            let script = try Harness.script("hostile_control_clients")
            let hostile = try sandbox.spawn(in: sandbox.client, ["/usr/bin/python3", script, socketPath, "6"])
            #expect(hostile.waitForLine(prefix: "hostile clients connected", timeout: .seconds(10)) != nil,
                    "\(hostile.output)")
            #expect(hostile.standardOutput.contains("junk answer: {\"error\":\"not a request"), "\(hostile.output)")

            // Packets flow all along; a real client is served at once (it displaces an idle one).
            #expect(sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8080, timeout: .seconds(4)))
            for _ in 0..<3 {
                let started = Date()
                let stats = try sandbox.run(in: sandbox.client, [binary, "stats", "--control", socketPath, "--json",
                                                                 "--timeout", "5"])
                #expect(stats.status == 0, "stats answered despite the hostile clients: \(stats)")
                #expect(Date().timeIntervalSince(started) < 5)
            }
            #expect(daemon.process.isRunning)
            _ = hostile.stop(grace: .seconds(1))
            let counters = try daemon.stop()
            #expect(counters.received > 0)
        }
    }
}
