import Foundation
import Sandbox
import Testing

/// What the integration tests share: where the synwall binary is, how to start and stop the
/// daemon in a sandbox, and the bounded waits they all use.
enum Harness {
    /// Port of the echo server in every test.
    static let port: UInt16 = 8080
    /// Time limit for a connection expected to succeed.
    static let connectTimeout: Duration = .seconds(4)
    /// Time limit for a connection expected to fail (it will use all of it).
    static let blockedTimeout: Duration = .seconds(2)
    /// Time limit for the daemon's ready line.
    static let readyTimeout: Duration = .seconds(10)
    /// Time limit for the daemon to exit after SIGTERM.
    static let stopTimeout: Duration = .seconds(10)

    /// The package root, from this file's path (Tests/IntegrationTests/Harness.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The synwall binary: `$SYNWALL_BINARY`, else `<package root>/.build/debug/synwall`.
    /// Throws (failing the test, never skipping it) when it is missing or when not root.
    static func synwallBinary() throws -> String {
        guard geteuid() == 0 else {
            throw HarnessError("the integration tests create network namespaces and need root: run `swift test` as root")
        }
        let environment = ProcessInfo.processInfo.environment["SYNWALL_BINARY"] ?? ""
        let path = environment.isEmpty
            ? packageRoot.appendingPathComponent(".build/debug/synwall").path : environment
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("the synwall binary is not at \(path): run `swift build` first "
                               + "(or point SYNWALL_BINARY at it)")
        }
        return path
    }

    /// The test bed (`synwall-testbed`, whose `peer` helpers make the traffic): beside the
    /// synwall binary, as `swift build` and the package put it.
    static func testbedBinary() throws -> String {
        let path = URL(fileURLWithPath: try synwallBinary()).deletingLastPathComponent()
            .appendingPathComponent("synwall-testbed").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("the test bed is not at \(path), beside the synwall binary: run `swift build` first")
        }
        return path
    }

    /// A new sandbox with the test bed for its peers.
    static func sandbox(_ topology: SandboxTopology = .routed) throws -> Sandbox {
        try Sandbox.create(topology: topology, prefix: "swt", testbed: testbedBinary())
    }

    /// The `--hook` options a firewall in this sandbox uses: forward on the router (both
    /// directions cross it), input and output on the server (both halves of its connections).
    static func hookArguments(for sandbox: Sandbox) -> [String] {
        sandbox.router == nil ? ["--hook", "input", "--hook", "output"] : ["--hook", "forward"]
    }

    /// The malformed-packet flood script, from the test bundle or the source tree.
    static func script(_ name: String) throws -> String {
        if let url = Bundle.module.url(forResource: name, withExtension: "py", subdirectory: "Scripts") {
            return url.path
        }
        let path = packageRoot.appendingPathComponent("Tests/IntegrationTests/Scripts/\(name).py").path
        guard FileManager.default.fileExists(atPath: path) else { throw HarnessError("script \(name).py not found") }
        return path
    }
}

/// A failure of the test harness itself, with what to do about it.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A running `synwall run` inside a sandbox namespace.
struct Daemon {
    let process: SandboxProcess
    let arguments: [String]

    /// Starts `synwall run ARGUMENTS` in `host` (default: the sandbox's firewall host) and waits
    /// for its ready line. Throws with the daemon's output if it exits or stays silent. Without
    /// `--control` in ARGUMENTS, the control socket goes in the sandbox's work directory, never
    /// at the host's /run/synwall (where a real daemon may serve).
    static func start(
        _ sandbox: Sandbox, in host: SandboxHost? = nil, _ arguments: [String]
    ) throws -> Daemon {
        let binary = try Harness.synwallBinary()
        var arguments = arguments
        if !arguments.contains("--control") {
            let name = "control-\(UUID().uuidString.prefix(8)).sock"
            arguments += ["--control", sandbox.workDirectory.appendingPathComponent(name).path]
        }
        // Never the host's /var/lib/synwall: each daemon its own state file unless the test says.
        if !arguments.contains("--state") {
            let name = "state-\(UUID().uuidString.prefix(8))"
            arguments += ["--state", sandbox.workDirectory.appendingPathComponent(name).path]
        }
        // Never the host's /etc/synwall/synwall.rules: no rule file unless the test names one.
        if !arguments.contains("--rules") { arguments += ["--rules", "none"] }
        let process = try sandbox.spawn(in: host ?? sandbox.firewallHost, [binary, "run"] + arguments)
        guard process.waitForLine(prefix: DaemonCounters.readyLinePrefix, timeout: Harness.readyTimeout) != nil
        else {
            process.stop(grace: .seconds(2))
            throw HarnessError("`synwall run \(arguments.joined(separator: " "))` did not print "
                               + "'\(DaemonCounters.readyLinePrefix)' within \(Harness.readyTimeout): \(process.output)")
        }
        return Daemon(process: process, arguments: arguments)
    }

    /// Sends SIGTERM, expects exit status 0 and the stop line, and returns its counters.
    func stop() throws -> DaemonCounters {
        process.terminate()
        guard let ended = process.waitForExit(timeout: Harness.stopTimeout) else {
            process.kill()
            throw HarnessError("synwall did not exit within \(Harness.stopTimeout) of SIGTERM: \(process.output)")
        }
        #expect(ended == .exited(0), "synwall should exit 0 after SIGTERM: \(process.output)")
        guard let counters = DaemonCounters(output: process.standardOutput) else {
            throw HarnessError("synwall printed no '\(DaemonCounters.stopLinePrefix)' line: \(process.output)")
        }
        return counters
    }
}

extension Sandbox {
    /// Connects from the client to the server over IPv4 or IPv6; the peer's result.
    func connectToServer(ipv6: Bool, timeout: Duration = Harness.connectTimeout) throws -> CommandResult {
        try connect(from: client, to: ipv6 ? server.ipv6 : server.ipv4, port: Harness.port, timeout: timeout)
    }

    /// Expects a connection over each IP version to succeed (`true`) or to fail (`false`).
    func expectConnections(succeed: Bool, _ comment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for ipv6 in [false, true] {
            let result = try connectToServer(ipv6: ipv6, timeout: succeed ? Harness.connectTimeout : Harness.blockedTimeout)
            #expect(result.succeeded == succeed,
                    "IPv\(ipv6 ? 6 : 4) connection should \(succeed ? "succeed" : "fail") \(comment): \(result)",
                    sourceLocation: sourceLocation)
        }
    }

    /// Lines of `host`'s firewall dumps (iptables and ip6tables mangle, nft ruleset) that mention
    /// synwall in any case: its chains, its jump comments, its nft table.
    func synwallTraces(in host: SandboxHost? = nil) throws -> (lines: [String], state: FirewallState) {
        let state = try firewallState(in: host ?? firewallHost)
        let lines = (state.iptablesMangle + "\n" + state.ip6tablesMangle + "\n" + state.nftRuleset)
            .split(separator: "\n").filter { !$0.hasPrefix("#") && $0.lowercased().contains("synwall") }
        return (lines.map(String.init), state)
    }

    /// Expects no trace of synwall in `host`'s firewall (see ``synwallTraces(in:)``).
    func expectNoSynwallRules(in host: SandboxHost? = nil, _ comment: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let traces = try synwallTraces(in: host)
        #expect(traces.lines.isEmpty, "\(comment): \(traces.state)", sourceLocation: sourceLocation)
    }
}
