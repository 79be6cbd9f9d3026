import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// Least privilege: once ready, every thread of `synwall run` holds CAP_NET_ADMIN alone (in
    /// its effective, permitted, inheritable, ambient and bounding sets) with no-new-privs, as
    /// `--user`'s account when given; filtering, reload, log reopen and detach keep working.
    /// And `contrib/synwall.service` passes `systemd-analyze verify`, and its ExecStart runs the
    /// way the unit starts it.
    @Suite struct Privileges {
        /// CAP_NET_ADMIN (12) as the kernel's mask.
        static let netAdminMask: UInt64 = 1 << 12
        /// `nobody` / `nogroup` on Debian: an account that owns nothing.
        static let nobody: UInt32 = 65534

        @Test("--user nobody: every thread has uid/gid nobody and CAP_NET_ADMIN only; filtering, SIGHUP reload, SIGUSR1 log reopen and detach still work")
        func userDropKeepsFiltering() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: 8080)
            try sandbox.startEchoServer(port: 8081)
            let directory = try Self.directory(in: sandbox, owner: Self.nobody)
            let rules = directory.appendingPathComponent("test.rules")
            try Self.writeRules(ports: [8080], to: rules)
            let log = directory.appendingPathComponent("events.jsonl").path
            let pidFile = directory.appendingPathComponent("synwall.pid").path
            // The control socket's directory does not exist yet, in a directory of root's: the
            // daemon creates it and gives it to nobody, who can then remove the socket at stop.
            let runDirectory = sandbox.workDirectory.appendingPathComponent("run-\(getpid())").path
            let socketPath = runDirectory + "/control.sock"

            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--rules", rules.path, "--log", log,
                                                    "--pid-file", pidFile, "--user", "nobody", "--control", socketPath])
            let summary = daemon.process.firstLine(prefix: "synwall: privileges:")
            #expect(summary?.contains("user nobody (uid 65534), group nogroup (gid 65534)") == true,
                    "\(daemon.process.output)")
            #expect(summary?.contains("capabilities cap_net_admin only, no-new-privs") == true, "\(daemon.process.output)")
            #expect(daemon.process.firstLine(prefix: "synwall: warning:") == nil,
                    "the account owns the log and pid file directory and can read the rules: \(daemon.process.output)")

            let threads = try ThreadStatus.all(of: daemon.process.pid)
            #expect(threads.count >= 3, "main, a queue worker and the log writer at least: \(threads)")
            for thread in threads {
                thread.expectDropped(mask: Self.netAdminMask, uid: Self.nobody, gid: Self.nobody, groups: [Self.nobody])
            }
            #expect(Self.owner(of: log) == Self.nobody, "the event log was handed to nobody")
            #expect(PidText.read(pidFile) == daemon.process.pid)

            // Verdicts after the drop: the rule file's pass works, its policy drops.
            #expect(sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8080, timeout: .seconds(4)),
                    "port 8080 passes: \(daemon.process.output)")
            #expect(!sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8081, timeout: .seconds(2)),
                    "no rule opens 8081")

            // SIGHUP: nobody re-reads the rule file (root's, mode 0644).
            try Self.writeRules(ports: [8080, 8081], to: rules)
            daemon.process.signal(SIGHUP)
            #expect(daemon.process.waitForLine(prefix: "synwall: reloaded:", timeout: .seconds(5)) != nil,
                    "\(daemon.process.output)")
            #expect(sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8081, timeout: .seconds(4)),
                    "the reloaded rules open 8081")

            // SIGUSR1 after a rename: nobody creates the new log in its directory and writes there.
            try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
            daemon.process.signal(SIGUSR1)
            Thread.sleep(forTimeInterval: 0.5)
            #expect(!sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8082, timeout: .seconds(2)))
            let reopened = Self.waitForContent(log, timeout: 5)
            #expect(reopened.contains("\"event_type\""), "the reopened log gets the drop of port 8082: '\(reopened)'")
            #expect(Self.owner(of: log) == Self.nobody, "nobody created the new log")

            // SIGTERM: iptables run as nobody with the ambient CAP_NET_ADMIN removes everything.
            let counters = try daemon.stop()
            #expect(counters.accepted > 0 && counters.dropped > 0, "\(counters)")
            try sandbox.expectNoSynwallRules("after SIGTERM, detached by the dropped daemon")
            #expect(!FileManager.default.fileExists(atPath: pidFile), "nobody removed its pid file")
            #expect(Self.owner(of: runDirectory) == Self.nobody, "the socket's new directory was given to nobody")
            #expect(!FileManager.default.fileExists(atPath: socketPath), "nobody removed its control socket")
            #expect(Self.waitForContent(log, containing: "\"stopped\"", timeout: 3).contains("\"stopped\""),
                    "the stop record reached the reopened log")
        }

        @Test("as root without --user: uid 0 stays, but every thread holds CAP_NET_ADMIN only; detach works")
        func rootKeepsNetAdminOnly() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            try sandbox.startEchoServer(port: Harness.port)
            let pidFile = sandbox.workDirectory.appendingPathComponent("synwall.pid").path
            let daemon = try Daemon.start(sandbox, ["--hook", "forward", "--pid-file", pidFile])
            #expect(daemon.process.firstLine(prefix: "synwall: privileges:")?
                .contains("user root (uid 0), capabilities cap_net_admin only") == true, "\(daemon.process.output)")
            let threads = try ThreadStatus.all(of: daemon.process.pid)
            #expect(threads.count >= 2, "\(threads)")
            for thread in threads {
                thread.expectDropped(mask: Self.netAdminMask, uid: 0, gid: 0, groups: nil)
            }
            try sandbox.expectConnections(succeed: true, "through the dropped daemon")
            let counters = try daemon.stop()
            #expect(counters.accepted >= 10, "\(counters)")
            try sandbox.expectNoSynwallRules("after SIGTERM")
            #expect(!FileManager.default.fileExists(atPath: pidFile))
        }

        @Test("--user with an unknown account: refused before anything is bound or attached")
        func unknownUserRefused() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            let result = try sandbox.run(in: sandbox.firewallHost,
                                         [binary, "run", "--rules", "none", "--hook", "forward", "--pid-file", "none",
                                          "--control", "none", "--state", "none", "--user", "synwall-no-such-user"])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("--user synwall-no-such-user: no such user"), "\(result)")
            #expect(result.stderr.contains("useradd --system"), "the message says how to create it: \(result)")
            #expect(!result.stdout.contains("synwall: ready"), "\(result)")
            try sandbox.expectNoSynwallRules("nothing was attached")
        }

        @Test("a drop that cannot be done (root without CAP_SETPCAP) stops the start: detached, pid file gone, exit 1")
        func failedDropRefusesToRun() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            try sandbox.startEchoServer(port: Harness.port)
            let pidFile = sandbox.workDirectory.appendingPathComponent("synwall.pid").path
            // Root, but its bounding set lacks CAP_SETPCAP: the other capabilities cannot be dropped.
            let result = try sandbox.run(in: sandbox.firewallHost,
                                         ["/usr/bin/setpriv", "--bounding-set=-setpcap", binary, "run", "--rules", "none",
                                          "--hook", "forward", "--pid-file", pidFile, "--user", "nobody", "--state", "none",
                                          "--control", sandbox.workDirectory.appendingPathComponent("control.sock").path],
                                         timeout: .seconds(20))
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("cannot drop privileges: dropping from the bounding set"), "\(result)")
            #expect(result.stderr.contains("refuses to run with more privilege than asked"), "\(result)")
            #expect(!result.stdout.contains("synwall: ready"), "it never reported ready: \(result)")
            try sandbox.expectNoSynwallRules("the attachment was removed before exiting")
            #expect(!FileManager.default.fileExists(atPath: pidFile), "the pid file was removed")
            try sandbox.expectConnections(succeed: true, "nothing of synwall is left in the way")
        }

        @Test("contrib/synwall.service passes systemd-analyze verify")
        func unitVerifies() throws {
            let binary = try Harness.synwallBinary()
            let unit = try Self.unitText()
            for directive in ["CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_SETPCAP",
                              "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_SETPCAP",
                              "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "ProtectHome=yes",
                              "ProtectKernelModules=yes", "ProtectKernelTunables=yes", "User=synwall",
                              "RuntimeDirectory=synwall", "LogsDirectory=synwall", "StateDirectory=synwall",
                              "Type=notify", "FileDescriptorStoreMax=64", "Restart=on-failure",
                              // Ordered as Debian's nftables.service: before any interface is up.
                              "DefaultDependencies=no", "Wants=network-pre.target",
                              "Before=network-pre.target shutdown.target", "Conflicts=shutdown.target",
                              "WantedBy=sysinit.target",
                              "Documentation=man:synwall(8) man:synwall.rules(5)",
                              "EnvironmentFile=-/etc/default/synwall",
                              "ExecStartPre=/usr/sbin/synwall check --quiet /etc/synwall/synwall.rules",
                              "ExecReload=/usr/sbin/synwall reload --control /run/synwall/control.sock "
                                  + "--pid-file /run/synwall/synwall.pid"] {
                #expect(unit.split(separator: "\n").contains { $0 == directive }, "the unit sets \(directive)")
            }
            #expect(!unit.contains("/bin/kill"), "reload goes through synwall reload, whose exit status is the outcome")
            guard let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
                .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
            else {
                throw HarnessError("systemd-analyze is missing: install the systemd package (scripts/setup.sh does)")
            }
            // The unit names /usr/sbin/synwall; verify a copy naming the binary under test
            // (verify checks that the Exec programs exist). Its man pages are not installed
            // here (--man=no); the package test verifies the installed unit with them.
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("synwall-unit-\(getpid())-\(UInt32.random(in: 0 ... .max))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let copy = directory.appendingPathComponent("synwall.service")
            try unit.replacingOccurrences(of: "/usr/sbin/synwall", with: binary)
                .write(to: copy, atomically: true, encoding: .utf8)
            let result = try Self.runTool([analyze, "verify", "--man=no", copy.path])
            #expect(result.status == 0, "systemd-analyze verify: \(result.output)")
            #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                    "systemd-analyze verify reports nothing (it only warns about bad values): \(result.output)")

            // A broken value is noticed: the check can fail.
            try unit.replacingOccurrences(of: "/usr/sbin/synwall", with: binary)
                .replacingOccurrences(of: "ProtectSystem=strict", with: "ProtectSystem=strictest")
                .write(to: copy, atomically: true, encoding: .utf8)
            let broken = try Self.runTool([analyze, "verify", "--man=no", copy.path])
            #expect(broken.output.contains("strictest") || broken.status != 0, "\(broken.output)")
        }

        @Test("the unit's ExecStartPre, ExecStart and ExecReload, run as the unit does (user nobody, ambient CAP_NET_ADMIN, and CAP_NET_RAW and CAP_SETPCAP until ready): checks, filters, reloads (failing on a broken file), detaches")
        func unitStyleStart() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            try sandbox.startEchoServer(port: 8080)
            try sandbox.startEchoServer(port: 8081)
            let directory = try Self.directory(in: sandbox, owner: Self.nobody)
            let rules = directory.appendingPathComponent("synwall.rules")
            try Self.writeRules(ports: [8080], to: rules)
            let logs = directory.appendingPathComponent("log")
            let runtime = directory.appendingPathComponent("run")
            let state = directory.appendingPathComponent("lib")
            for sub in [logs, runtime, state] {
                try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
                #expect(chown(sub.path, Self.nobody, Self.nobody) == 0)
            }

            // ExecStartPre, ExecStart and ExecReload from the unit, their paths moved into this
            // sandbox ($SYNWALL_OPTIONS from /etc/default/synwall is empty); the router's hook.
            let unit = try Self.unitText()
            func command(_ directive: String, _ subcommand: String) throws -> [String] {
                guard let line = unit.split(separator: "\n").first(where: { $0.hasPrefix(directive + "=") }) else {
                    throw HarnessError("contrib/synwall.service has no \(directive)=")
                }
                let words = line.dropFirst(directive.count + 1).split(separator: " ").map(String.init)
                #expect(words.first == "/usr/sbin/synwall" && words.dropFirst().first == subcommand, "\(words)")
                let arguments = words.dropFirst(2).filter { $0 != "$SYNWALL_OPTIONS" }.map {
                    $0.replacingOccurrences(of: "/etc/synwall/synwall.rules", with: rules.path)
                        .replacingOccurrences(of: "/var/log/synwall", with: logs.path)
                        .replacingOccurrences(of: "/run/synwall", with: runtime.path)
                        .replacingOccurrences(of: "/var/lib/synwall", with: state.path)
                }
                #expect(!arguments.contains { $0.hasPrefix("/etc/") || $0.hasPrefix("/var/") || $0.hasPrefix("/run/") || $0.hasPrefix("$") },
                        "every path of \(directive) was moved: \(arguments)")
                return [subcommand] + arguments
            }
            let arguments = Array(try command("ExecStart", "run").dropFirst())
            let startPre = try command("ExecStartPre", "check")
            let reload = try command("ExecReload", "reload")
            let pidFile = runtime.appendingPathComponent("synwall.pid").path
            #expect(arguments.contains(pidFile), "\(arguments)")

            // What systemd does with User=, AmbientCapabilities=, CapabilityBoundingSet=,
            // NoNewPrivileges= and SecureBits=noroot-locked.
            let setpriv = ["/usr/bin/setpriv", "--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups",
                           "--inh-caps=-all,+net_admin,+net_raw,+setpcap", "--ambient-caps=-all,+net_admin,+net_raw,+setpcap",
                           "--bounding-set=-all,+net_admin,+net_raw,+setpcap", "--securebits=+noroot,+noroot_locked",
                           "--no-new-privs"]
            // ExecStartPre: a broken file stops the start, with its FILE:LINE.
            try "pass forward proto tcp to prot 8080\n".write(to: rules, atomically: true, encoding: .utf8)
            let refused = try sandbox.run(in: sandbox.firewallHost, setpriv + [binary] + startPre, timeout: .seconds(10))
            #expect(refused.status == 1 && refused.stderr.contains("synwall.rules:1:"), "\(refused)")
            try Self.writeRules(ports: [8080], to: rules)
            let checked = try sandbox.run(in: sandbox.firewallHost, setpriv + [binary] + startPre, timeout: .seconds(10))
            #expect(checked.status == 0 && checked.stdout.isEmpty, "\(checked)")

            let process = try sandbox.spawn(in: sandbox.firewallHost,
                                            setpriv + [binary, "run"] + arguments + ["--hook", "forward"])
            defer { _ = process.stop(grace: .seconds(2)) }
            guard process.waitForLine(prefix: DaemonCounters.readyLinePrefix, timeout: Harness.readyTimeout) != nil else {
                throw HarnessError("the unit-style start did not get ready: \(process.output)")
            }
            #expect(process.firstLine(prefix: "synwall: privileges:")?.contains("cap_net_admin only") == true,
                    "\(process.output)")
            #expect(process.firstLine(prefix: "synwall: warning:") == nil, "\(process.output)")
            // block return's raw sockets were opened with CAP_NET_RAW, which is gone now.
            #expect(process.firstLine(prefix: "synwall: block return:") == nil, "\(process.output)")
            for thread in try ThreadStatus.all(of: process.pid) {
                thread.expectDropped(mask: Self.netAdminMask, uid: Self.nobody, gid: Self.nobody, groups: [])
            }
            #expect(PidText.read(pidFile) == process.pid)

            #expect(sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8080, timeout: .seconds(4)),
                    "\(process.output)")
            #expect(!sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8081, timeout: .seconds(2)))
            try Self.writeRules(ports: [8080, 8081], to: rules)
            let reloaded = try sandbox.run(in: sandbox.firewallHost, setpriv + [binary] + reload, timeout: .seconds(15))
            #expect(reloaded.status == 0 && reloaded.stdout.hasPrefix("synwall: reloaded "), "\(reloaded)")
            #expect(process.waitForLine(prefix: "synwall: reloaded:", timeout: .seconds(5)) != nil, "\(process.output)")
            #expect(sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8081, timeout: .seconds(4)))
            // A broken file: ExecReload fails (so does `systemctl reload`), the running rules stay.
            try "pass forward proto tcp to prot 8080\n".write(to: rules, atomically: true, encoding: .utf8)
            let failed = try sandbox.run(in: sandbox.firewallHost, setpriv + [binary] + reload, timeout: .seconds(15))
            #expect(failed.status == 1 && failed.stderr.contains("synwall.rules:1:"), "\(failed)")
            #expect(failed.stderr.contains("reload failed; the running rules stay in force"), "\(failed)")
            #expect(sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8081, timeout: .seconds(4)))
            #expect(Self.owner(of: logs.appendingPathComponent("events.jsonl").path) == Self.nobody)

            process.terminate()
            let ended = process.waitForExit(timeout: Harness.stopTimeout)
            #expect(ended == .exited(0), "\(process.output)")
            try sandbox.expectNoSynwallRules("after SIGTERM")
            #expect(!FileManager.default.fileExists(atPath: pidFile))
            // The connections were saved as the unit's user, privately.
            let stateFile = state.appendingPathComponent("state").path
            #expect(Self.owner(of: stateFile) == Self.nobody, "\(process.output)")
            #expect(process.firstLine(prefix: "synwall: state: saved ") != nil, "\(process.output)")
        }

        // MARK: - Helpers

        /// A directory in the sandbox owned by `owner` (uid and gid), mode 0755.
        static func directory(in sandbox: Sandbox, owner: UInt32) throws -> URL {
            let url = sandbox.workDirectory.appendingPathComponent("privileged")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
            guard chown(url.path, owner, owner) == 0 else {
                throw HarnessError("cannot chown \(url.path): \(String(cString: strerror(errno)))")
            }
            return url
        }

        /// A rule file passing `ports` through the router and dropping (and logging) the rest.
        static func writeRules(ports: [UInt16], to url: URL) throws {
            let passes = ports.map { "pass forward proto tcp to port \($0)" }.joined(separator: "\n")
            try "policy forward drop log\n\(passes)\n".write(to: url, atomically: true, encoding: .utf8)
            #expect(chmod(url.path, 0o644) == 0)
        }

        static func owner(of path: String) -> UInt32? {
            var info = stat()
            return stat(path, &info) == 0 ? info.st_uid : nil
        }

        /// The file's text once it holds `needle` (or any text when nil), within `timeout` seconds.
        static func waitForContent(_ path: String, containing needle: String? = nil, timeout: Double) -> String {
            let deadline = Date().addingTimeInterval(timeout)
            var text = ""
            repeat {
                text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                if let needle, text.contains(needle) { return text }
                if needle == nil, !text.isEmpty { return text }
                Thread.sleep(forTimeInterval: 0.1)
            } while Date() < deadline
            return text
        }

        static func unitText() throws -> String {
            let path = Harness.packageRoot.appendingPathComponent("contrib/synwall.service").path
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw HarnessError("contrib/synwall.service is missing")
            }
            return text
        }

        /// Runs a host tool (not in a namespace), bounded by `timeout`.
        static func runTool(_ arguments: [String], timeout: TimeInterval = 30) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: arguments[0])
            process.arguments = Array(arguments.dropFirst())
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
                throw HarnessError("\(arguments.joined(separator: " ")) took longer than \(Int(timeout)) s")
            }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
    }
}

/// The pid in a pid file.
enum PidText {
    static func read(_ path: String) -> Int32? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap {
            Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}

/// One thread's credentials from `/proc/<pid>/task/<tid>/status`.
struct ThreadStatus: CustomStringConvertible {
    let tid: String
    let fields: [String: String]

    /// Every thread of `pid`.
    static func all(of pid: Int32) throws -> [ThreadStatus] {
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        return tasks.compactMap { tid in
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8)
            else { return nil }
            var fields: [String: String] = [:]
            for line in text.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            return ThreadStatus(tid: tid, fields: fields)
        }
    }

    func mask(_ key: String) -> UInt64? { fields[key].flatMap { UInt64($0, radix: 16) } }

    func ids(_ key: String) -> [UInt32] {
        (fields[key] ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
    }

    var description: String {
        "thread \(tid) (\(fields["Name"] ?? "?")): "
            + ["Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs"]
            .map { "\($0)=\(fields[$0] ?? "?")" }.joined(separator: " ")
    }

    /// Expects exactly `mask` in every capability set, no-new-privs, and the ids (all four
    /// uids and gids, and the supplementary `groups` unless nil).
    func expectDropped(mask: UInt64, uid: UInt32, gid: UInt32, groups: [UInt32]?,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        for key in ["CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd"] {
            #expect(self.mask(key) == mask, "\(key) should be exactly CAP_NET_ADMIN: \(self)",
                    sourceLocation: sourceLocation)
        }
        #expect(fields["NoNewPrivs"] == "1", "\(self)", sourceLocation: sourceLocation)
        #expect(ids("Uid") == [uid, uid, uid, uid], "\(self)", sourceLocation: sourceLocation)
        #expect(ids("Gid") == [gid, gid, gid, gid], "\(self)", sourceLocation: sourceLocation)
        if let groups {
            #expect(ids("Groups") == groups, "supplementary groups: \(self)", sourceLocation: sourceLocation)
        }
    }
}
