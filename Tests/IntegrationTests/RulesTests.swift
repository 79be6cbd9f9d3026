import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// The rule file in the live daemon: a rule blocks a port, `rules add` plus reload opens it
    /// while a live connection keeps flowing, a broken file changes nothing.
    @Suite struct LiveRules {
        @Test("a rule blocks a port; rules add + reload opens it, the live connection keeps flowing; a broken file changes nothing")
        func reloadKeepsConnections() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            try sandbox.startEchoServer(port: 8080)
            try sandbox.startEchoServer(port: 8081)
            let rules = sandbox.workDirectory.appendingPathComponent("test.rules")
            try """
            # test rules: only 8080 is open through the router
            policy forward drop log
            pass forward proto tcp to port 8080 label "web"
            """.write(to: rules, atomically: true, encoding: .utf8)
            let pidFile = sandbox.workDirectory.appendingPathComponent("synwall.pid").path
            // No control socket: the editing commands fall back to SIGHUP via the pid file.
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--rules", rules.path, "--pid-file", pidFile,
                                                    "--control", "none"])
            #expect(daemon.process.firstLine(prefix: "synwall: ready")?.contains("(1 rules)") == true)

            #expect(sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8080, timeout: .seconds(4)))
            #expect(!sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8081, timeout: .seconds(2)),
                    "no rule opens 8081")

            // A connection that lives across the reloads.
            let script = try Harness.script("long_connection")
            let long = try sandbox.spawn(in: sandbox.client,
                                         ["/usr/bin/python3", script, sandbox.server.ipv4, "8080", "4"])
            Thread.sleep(forTimeInterval: 0.5)

            // rules add, validated and written; no control socket answers, so the daemon gets
            // SIGHUP via the pid file.
            let add = try sandbox.run(in: sandbox.client, [binary, "rules", "add", "--file", rules.path,
                                                           "--pid-file", pidFile, "--control", "/nonexistent/control.sock",
                                                           "pass forward proto tcp to port 8081 label \"api\""])
            #expect(add.status == 0 && add.stdout.contains("asked synwall (pid "), "\(add)")
            #expect(daemon.process.waitForLine(prefix: "synwall: reloaded:", timeout: .seconds(5)) != nil,
                    "\(daemon.process.output)")
            #expect(sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8081, timeout: .seconds(4)),
                    "the reloaded rules open 8081")

            // A broken file: the reload fails, the running rules stay.
            try "pass forward proto tcp to prot 9000\n".write(to: rules, atomically: true, encoding: .utf8)
            let reload = try sandbox.run(in: sandbox.client, [binary, "reload", "--rules", rules.path,
                                                              "--pid-file", pidFile])
            #expect(reload.status == 1, "synwall reload checks the file first: \(reload)")
            #expect(reload.stderr.contains("test.rules:1:"), "\(reload)")
            daemon.process.signal(SIGHUP)
            #expect(daemon.process.waitForLine(prefix: "synwall: reload failed", timeout: .seconds(5)) != nil,
                    "\(daemon.process.output)")
            #expect(sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8081, timeout: .seconds(4)),
                    "the rules in force before the broken file still apply")

            #expect(long.waitForExit(timeout: .seconds(10)) == .exited(0))
            #expect(long.standardOutput.hasPrefix("ok "), "the live connection kept flowing: \(long.output)")
            let counters = try daemon.stop()
            #expect(counters.dropped > 0, "\(counters)")
        }

        @Test("a reload whose file gained an include of a binary: one error at once, a short event record, a small daemon")
        func reloadOfABinaryInclude() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            let rules = sandbox.workDirectory.appendingPathComponent("test.rules")
            let rulesText = (0..<2_000).map { "pass forward proto tcp from 10.\($0 / 250).\($0 % 250).0/24 to port \(1024 + $0)\n" }
                .joined()
            try rulesText.write(to: rules, atomically: true, encoding: .utf8)
            // 64 KB of an ELF executable, named like a rule file.
            let executable = try Data(contentsOf: URL(fileURLWithPath: binary)).prefix(65_536)
            try executable.write(to: sandbox.workDirectory.appendingPathComponent("extra.rules"))
            let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
            let control = sandbox.workDirectory.appendingPathComponent("control.sock").path
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--rules", rules.path, "--log", log,
                                                    "--control", control, "--pid-file", "none"])
            try (rulesText + "include \"extra.rules\"\n").write(to: rules, atomically: true, encoding: .utf8)
            // Before: the daemon grew past 1 GB, gave no answer within reload's 10 s and wrote a
            // 349 MB record. Now: one error, answered within the default timeout.
            let reload = try sandbox.run(in: sandbox.client, [binary, "reload", "--control", control], timeout: .seconds(15))
            #expect(reload.status == 1, "\(reload)")
            #expect(reload.stderr.contains("extra.rules:1:8: error: not a text file (a NUL byte at byte 7)"), "\(reload)")
            #expect(reload.stderr.utf8.count < 2_000, "\(reload)")
            let status = (try? String(contentsOfFile: "/proc/\(daemon.process.pid)/status", encoding: .utf8)) ?? ""
            let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
                .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
            #expect(peak > 0 && peak < 300_000, "daemon peak \(peak) kB")
            _ = try daemon.stop()
            let records = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let failed = records.split(separator: "\n").filter { $0.contains("\"reload_failed\"") }
            #expect(failed.count == 1, "\(records)")
            #expect(failed.allSatisfy { $0.utf8.count < Int(4_096 + 1_024) }, "\(failed.map(\.count))")
        }

        @Test("a rule file with errors stops the start with FILE:LINE:COLUMN and installs nothing")
        func brokenFileAtStart() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            let rules = sandbox.workDirectory.appendingPathComponent("broken.rules")
            try "policy in drop\npass in proto tcp to port 22\npas in proto tcp to port 80\n"
                .write(to: rules, atomically: true, encoding: .utf8)
            let result = try sandbox.run(in: sandbox.router!, [binary, "run", "--hook", "forward", "--control", "none", "--state", "none", "--rules", rules.path,
                                                              "--pid-file", "none"], timeout: .seconds(10))
            #expect(result.status == 1)
            #expect(result.stderr.contains("broken.rules:3:1: error:"), "\(result)")
            try sandbox.expectNoSynwallRules("a refused start installs nothing")
        }
    }
}

extension IntegrationTests.LiveRules {
    @Test("set reload recheck cuts a live connection the new rules block (one reload record, cut=1); keep lets it flow",
          arguments: ["recheck", "keep"])
    func reloadRecheckCutsBlockedConnections(_ mode: String) throws {
        let sandbox = try Harness.sandbox()
        defer { sandbox.teardown() }
        try sandbox.startEchoServer(port: 8080)
        let rules = sandbox.workDirectory.appendingPathComponent("reload.rules")
        let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
        try """
        set reload \(mode)
        policy forward drop
        pass forward proto tcp to port 8080
        pass forward proto tcp to port 8081
        """.write(to: rules, atomically: true, encoding: .utf8)
        let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--rules", rules.path, "--log", log,
                                                "--pid-file", "none"])
        // A connection to 8080 that sends a line every 100 ms for 4 s, across the reload.
        let script = try Harness.script("long_connection")
        let long = try sandbox.spawn(in: sandbox.client,
                                     ["/usr/bin/python3", script, sandbox.server.ipv4, "8080", "4"])
        Thread.sleep(forTimeInterval: 0.7)

        // The new rules no longer pass 8080.
        try """
        set reload \(mode)
        policy forward drop
        pass forward proto tcp to port 8081
        """.write(to: rules, atomically: true, encoding: .utf8)
        daemon.process.signal(SIGHUP)
        #expect(daemon.process.waitForLine(prefix: "synwall: reloaded:", timeout: .seconds(5)) != nil,
                "\(daemon.process.output)")

        #expect(long.waitForExit(timeout: .seconds(12)) == .exited(0))
        if mode == "recheck" {
            #expect(long.standardOutput.hasPrefix("failed after "), "the connection was cut: \(long.output)")
        } else {
            #expect(long.standardOutput.hasPrefix("ok "), "the connection kept flowing: \(long.output)")
        }
        _ = try daemon.stop()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let records = text.split(separator: "\n").filter {
            $0.contains("\"event_type\":\"reload\"") && $0.contains("\"reason\":\"\(mode)\"")
        }
        #expect(records.count == 1, "one reload record from the worker: \(text)")
        if mode == "recheck" {
            #expect(records.first?.contains("cut=1") == true, "\(records)")
            #expect(records.first?.contains(":8080 ESTABLISHED") == true, "the cut connection is named: \(records)")
            #expect(text.contains("\"reason\":\"no_connection\""), "its next segment had no connection: \(text)")
        } else {
            #expect(records.first?.contains("blocked_kept=1") == true, "\(records)")
        }
    }

    @Test("an overload rule puts a brute-force source into its table and blocks it; the log says so")
    func overloadBlocksBruteForce() throws {
        let sandbox = try Harness.sandbox()
        defer { sandbox.teardown() }
        try sandbox.startEchoServer(port: 8080)
        let rules = sandbox.workDirectory.appendingPathComponent("bruteforce.rules")
        try """
        table <bruteforce> persist
        policy forward drop
        block forward quick from <bruteforce> log label "brute force"
        pass forward proto tcp to port 8080 max-src-conn-rate 3/30 overload <bruteforce> label "login"
        """.write(to: rules, atomically: true, encoding: .utf8)
        let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
        let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--rules", rules.path, "--log", log,
                                                "--pid-file", "none"])
        var outcomes: [Bool] = []
        for _ in 0 ..< 5 {
            outcomes.append(sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8080,
                                               timeout: .seconds(2)))
        }
        #expect(outcomes == [true, true, true, false, false], "three per 30 s, then the source is blocked")
        let counters = try daemon.stop()
        #expect(counters.dropped > 0, "\(counters)")
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains("\"event_type\":\"overload\""), "the log records the overload: \(text)")
        #expect(text.contains("\"label\":\"brute force\""), "later attempts hit the block rule: \(text)")
        #expect(text.contains("\"src_ip\":\"\(sandbox.client.ipv4)\""), "\(text)")
    }
}
