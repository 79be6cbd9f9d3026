import ArgumentParser
import Dispatch
import Foundation
import Sandbox

/// `synwall demo`: builds a throwaway network of namespaces (client — router — server), runs
/// synwall on the router, pushes real IPv4 and IPv6 connections through it and tells, in plain
/// sentences, what happened. Everything it creates is removed on every exit path, Ctrl-C included.
///
/// The demo is a list of ``Step``s run in order; a scenario is added by appending a step.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show synwall filtering real traffic in a throwaway network (needs root).",
        discussion: """
            Creates three network namespaces — a client, a router running synwall, and a \
            server — sends TCP connections over IPv4 and IPv6 through the router, and reports \
            what synwall saw. Nothing outside the namespaces is touched, and they are removed \
            when the demo ends or is interrupted.
            """)

    @Option(help: "TCP port of the demo's echo server.")
    var port: UInt16 = 8080

    @Option(help: "Connections to make per IP version.")
    var connections = 3

    @Option(help: "Keep synwall's JSON Lines event log at this path (default: a temporary file).")
    var log: String?

    func validate() throws {
        guard (1...100).contains(connections) else {
            throw ValidationError("--connections must be between 1 and 100.")
        }
    }

    func run() throws {
        guard geteuid() == 0 else {
            Self.fail("the demo creates network namespaces and firewall rules, which needs root: run it with sudo")
        }
        guard ExecutableLocator.locate("ip") != nil else {
            Self.fail("the demo needs the 'ip' command: install iproute2 (apt-get install iproute2)")
        }
        guard let binary = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            Self.fail("cannot find this program's own path through /proc/self/exe")
        }

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-demo-\(getpid())")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let context = Context(
            binary: binary, port: port, connections: connections,
            logPath: log ?? scratch.appendingPathComponent("events.jsonl").path, scratch: scratch,
            keepLog: log != nil)
        let signals = context.catchInterrupts()
        defer {
            signals.forEach { $0.cancel() }
            context.cleanUp()
        }

        context.say("synwall demo: a client, a router running synwall, and a server, each in its own network namespace.")
        for (number, step) in Self.steps.enumerated() {
            context.say("")
            context.say("\(number + 1). \(step.title)")
            do {
                try step.perform(context)
            } catch {
                if !context.isInterrupted { context.say("   Failed: \(error)") }
                context.problems += 1
                break
            }
        }
        context.say("")
        context.cleanUp()
        context.say("Cleaned up: the namespaces, their links and synwall's rules are gone.")
        if context.isInterrupted { Foundation.exit(130) }
        if context.problems > 0 {
            context.say("The demo ran into \(context.problems) problem\(context.problems == 1 ? "" : "s") (see above).")
            throw ExitCode.failure
        }
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("synwall: error: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

// MARK: - Steps

extension DemoCommand {
    /// One stage of the demo: a title and the work, which reports through the context.
    struct Step: Sendable {
        let title: String
        let perform: @Sendable (Context) throws -> Void
    }

    /// The demo, in order. Attack scenarios go between the connections and the stop.
    static let steps: [Step] = [
        Step(title: "Build the network", perform: buildNetwork),
        Step(title: "Start synwall on the router", perform: startFirewall),
        Step(title: "Start an echo server on the server", perform: startServer),
        Step(title: "Connect over IPv4", perform: { try connect($0, ipv6: false) }),
        Step(title: "Connect over IPv6", perform: { try connect($0, ipv6: true) }),
        Step(title: "Try a port no rule opens", perform: connectBlocked),
        Step(title: "Stop synwall", perform: stopFirewall),
        Step(title: "Read the event log", perform: readEvents),
    ]

    static func buildNetwork(_ context: Context) throws {
        let sandbox = try Sandbox.create(prefix: "swdemo", synwall: context.binary)
        guard context.adopt(sandbox) else { throw DemoError.interrupted }
        let client = sandbox.client, server = sandbox.server
        context.say("   client \(client.ipv4) / \(client.ipv6)  (namespace \(client.namespace))")
        if let router = sandbox.router {
            context.say("   router \(router.interfaces.map { "\($0.ipv4) / \($0.ipv6)" }.joined(separator: " and "))"
                        + "  (namespace \(router.namespace)), forwarding between the two")
        }
        context.say("   server \(server.ipv4) / \(server.ipv6)  (namespace \(server.namespace))")
    }

    /// The demo's rule file: the router forwards the echo service and ping, nothing else.
    static func rules(port: UInt16) -> String {
        """
        # synwall demo: a router that forwards one service and ping, and drops (and logs) the rest.
        policy forward drop log
        pass forward proto tcp to port \(port) label "echo service"
        pass forward inet proto icmp icmp-type echoreq label "ping"
        pass forward inet6 proto icmp6 label "ping6"

        """
    }

    static func startFirewall(_ context: Context) throws {
        let sandbox = try context.requireSandbox()
        let rulesPath = sandbox.workDirectory.appendingPathComponent("demo.rules").path
        try rules(port: context.port).write(toFile: rulesPath, atomically: true, encoding: .utf8)
        context.say("   The rule file (\(rulesPath)):")
        for line in rules(port: context.port).split(separator: "\n") { context.say("   > \(line)") }
        let command = [context.binary, "run", "--hook", "forward", "--rules", rulesPath, "--log", context.logPath,
                       "--pid-file", "none"]
        let daemon = try sandbox.spawn(in: sandbox.firewallHost, command)
        context.daemon = daemon
        guard daemon.waitForLine(prefix: DaemonCounters.readyLinePrefix, timeout: .seconds(10)) != nil else {
            let exited = !daemon.isRunning
            daemon.stop(grace: .seconds(2))
            throw exited ? DemoError.daemonExited(daemon.output) : DemoError.daemonNotReady(daemon.output)
        }
        context.say("   Running: synwall run --hook forward --rules demo.rules --log \(context.logPath)")
        for line in daemon.standardOutput.split(separator: "\n") where line.hasPrefix("synwall: ") {
            context.say("   | \(line)")
        }
        context.say("   Every IP packet the router forwards now goes through synwall before it moves on: the rules "
                    + "decide which connections may start, the tracker judges every packet after that.")
    }

    static func startServer(_ context: Context) throws {
        let sandbox = try context.requireSandbox()
        try sandbox.startEchoServer(port: context.port)
        context.say("   The server echoes whatever it receives on TCP port \(context.port) (IPv4 and IPv6).")
    }

    static func connect(_ context: Context, ipv6: Bool) throws {
        let sandbox = try context.requireSandbox()
        let target = ipv6 ? sandbox.server.ipv6 : sandbox.server.ipv4
        var failures: [String] = []
        for index in 1...context.connections {
            let result = try sandbox.connect(
                from: sandbox.client, to: target, port: context.port,
                message: "demo connection \(index) over IPv\(ipv6 ? 6 : 4)", timeout: .seconds(3))
            if !result.succeeded { failures.append(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let made = context.connections - failures.count
        context.connectionsMade += made
        context.say("   \(made) of \(context.connections) TCP connections from the client to \(target) port "
                    + "\(context.port) went through the router and came back echoed.")
        if let reason = failures.first {
            context.say("   \(failures.count) failed; the first said: \(reason)")
            context.problems += 1
        }
    }

    static func connectBlocked(_ context: Context) throws {
        let sandbox = try context.requireSandbox()
        let blockedPort = context.port &+ 1
        try sandbox.startEchoServer(port: blockedPort)
        let result = try sandbox.connect(from: sandbox.client, to: sandbox.server.ipv4, port: blockedPort,
                                         message: "not allowed", timeout: .seconds(2))
        if result.succeeded {
            context.say("   A connection to port \(blockedPort) went through, though no rule opens it: that is a problem.")
            context.problems += 1
        } else {
            context.say("   The server also listens on port \(blockedPort), but no rule opens it: synwall dropped the "
                        + "client's SYNs (policy forward drop log), so the connection timed out.")
        }
    }

    static func stopFirewall(_ context: Context) throws {
        guard let daemon = context.daemon else { throw DemoError.noDaemon }
        daemon.terminate()
        guard let ended = daemon.waitForExit(timeout: .seconds(10)) else {
            daemon.kill()
            throw DemoError.daemonHung
        }
        let stopLine = daemon.firstLine(prefix: DaemonCounters.stopLinePrefix)
        if let stopLine { context.say("   | \(stopLine)") }
        guard let counters = stopLine.flatMap(DaemonCounters.init(stopLine:)) else {
            throw DemoError.noStopLine(ended, daemon.output)
        }
        context.say("   synwall received \(counters.received) packets from the kernel: it accepted "
                    + "\(counters.accepted) and dropped \(counters.dropped) (\(counters.malformed) of them malformed).")
        let sandbox = try context.requireSandbox()
        let state = try sandbox.firewallState(in: sandbox.firewallHost)
        let leftovers = (state.iptablesMangle + "\n" + state.ip6tablesMangle + "\n" + state.nftRuleset)
            .split(separator: "\n").filter { !$0.hasPrefix("#") && $0.lowercased().contains("synwall") }
        let exit = ended == .exited(0) ? "exited cleanly" : "ended (\(ended))"
        if leftovers.isEmpty {
            context.say("   It \(exit), and the router's firewall has no synwall rule left.")
        } else {
            context.say("   It \(exit), but left \(leftovers.count) rule line\(leftovers.count == 1 ? "" : "s") behind, "
                        + "first: \(leftovers[0])")
            context.problems += 1
        }
        if ended != .exited(0) { context.problems += 1 }
        if counters.received == 0 {
            context.say("   No packet reached synwall, so the connections bypassed it: that is a problem.")
            context.problems += 1
        }
    }

    static func readEvents(_ context: Context) throws {
        let text = (try? String(contentsOfFile: context.logPath, encoding: .utf8)) ?? ""
        var byReason: [String: Int] = [:]
        var total = 0
        for line in text.split(separator: "\n") {
            total += 1
            let record = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            let reason = record?["reason"] as? String ?? record?["event_type"] as? String ?? "unknown"
            byReason[reason, default: 0] += 1
        }
        if total == 0 {
            context.say("   No events were logged, though the blocked connection should have been: that is a problem.")
            context.problems += 1
        } else {
            let summary = byReason.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            context.say("   \(total) event\(total == 1 ? "" : "s") logged: \(summary).")
            if let drop = text.split(separator: "\n").first(where: { $0.contains("\"event_type\":\"drop\"") }) {
                context.say("   The first drop, as the log holds it:")
                context.say("   \(drop)")
            }
        }
        if context.keepLog { context.say("   The log stays at \(context.logPath).") }
    }
}

// MARK: - Context

extension DemoCommand {
    /// What the steps share: the sandbox, the daemon, the settings and the tally.
    final class Context: @unchecked Sendable {
        let binary: String
        let port: UInt16
        let connections: Int
        let logPath: String
        let scratch: URL
        let keepLog: Bool
        var daemon: SandboxProcess?
        var connectionsMade = 0
        var problems = 0

        private let lock = NSLock()
        private var sandbox: Sandbox?
        private var interrupted = false

        init(binary: String, port: UInt16, connections: Int, logPath: String, scratch: URL, keepLog: Bool) {
            self.binary = binary
            self.port = port
            self.connections = connections
            self.logPath = logPath
            self.scratch = scratch
            self.keepLog = keepLog
        }

        func say(_ line: String) {
            print(line)
            fflush(nil)
        }

        /// Records the sandbox for cleanup; false (and the sandbox removed) when Ctrl-C came first.
        func adopt(_ new: Sandbox) -> Bool {
            lock.lock()
            guard !interrupted else {
                lock.unlock()
                new.teardown()
                return false
            }
            sandbox = new
            lock.unlock()
            return true
        }

        var isInterrupted: Bool {
            lock.lock()
            defer { lock.unlock() }
            return interrupted
        }

        func requireSandbox() throws -> Sandbox {
            lock.lock()
            defer { lock.unlock() }
            guard let sandbox else { throw DemoError.noSandbox }
            return sandbox
        }

        /// Removes the namespaces (which stops the daemon and the peers) and the scratch files.
        func cleanUp() {
            lock.lock()
            let current = sandbox
            lock.unlock()
            current?.teardown()
            try? FileManager.default.removeItem(at: scratch)
        }

        /// On SIGINT/SIGTERM: clean up at once and exit 130. During the build, the build step
        /// notices the flag through ``adopt(_:)`` and cleans up itself.
        func catchInterrupts() -> [any DispatchSourceSignal] {
            [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [self] in
                    lock.lock()
                    interrupted = true
                    let current = sandbox
                    lock.unlock()
                    say("\nInterrupted: cleaning up.")
                    guard current != nil else { return }
                    cleanUp()
                    say("Cleaned up: the namespaces, their links and synwall's rules are gone.")
                    Foundation.exit(130)
                }
                source.resume()
                return source
            }
        }
    }

    /// Why a demo step stopped.
    enum DemoError: Error, CustomStringConvertible {
        case interrupted
        case noSandbox
        case noDaemon
        case daemonNotReady(CommandResult)
        case daemonExited(CommandResult)
        case daemonHung
        case noStopLine(SandboxProcess.Termination, CommandResult)

        var description: String {
            switch self {
            case .interrupted: return "interrupted"
            case .noSandbox: return "the network was not built"
            case .noDaemon: return "synwall is not running"
            case let .daemonNotReady(output):
                return "synwall did not report ready within 10 s: \(output)"
            case let .daemonExited(output):
                return "synwall exited before it was ready: \(output)"
            case .daemonHung: return "synwall did not stop within 10 s of SIGTERM and was killed"
            case let .noStopLine(ended, output):
                return "synwall \(ended) without its stop line: \(output)"
            }
        }
    }
}
