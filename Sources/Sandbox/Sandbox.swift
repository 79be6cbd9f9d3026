import Foundation
import Synchronization

/// A disposable network test bed built from Linux network namespaces.
///
/// ``SandboxTopology/routed`` gives three namespaces — client, router, server — joined by two
/// veth pairs, with IPv4 and IPv6 forwarding on in the router and default routes in the ends.
/// ``SandboxTopology/direct`` gives client and server on one veth pair. A routed sandbox may
/// also get an attacker: a fourth namespace on a third router interface, whose spoofed packets
/// the router forwards (reverse-path filtering is off there) like any others. Namespace names are
/// unique per instance (prefix, process id, counter), so concurrent runs never collide; the
/// addresses (10.91.0.0/16, fd00:91::/32) exist only inside the namespaces.
///
/// ``teardown()`` stops every process the sandbox spawned and deletes the namespaces, which
/// removes their veths and firewall tables. It is idempotent and also runs from `deinit`.
///
/// ```swift
/// let sandbox = try Sandbox.create(testbed: "/path/to/synwall-testbed")
/// defer { sandbox.teardown() }
/// let server = try sandbox.startEchoServer(port: 8080)
/// let ok = sandbox.tcpConnect(from: sandbox.client, to: sandbox.server.ipv4, port: 8080, timeout: .seconds(3))
/// ```
public final class Sandbox: @unchecked Sendable {
    /// The topology this sandbox was built with.
    public let topology: SandboxTopology
    /// The client namespace.
    public let client: SandboxHost
    /// The router namespace (``SandboxTopology/routed`` only).
    public let router: SandboxHost?
    /// The server namespace.
    public let server: SandboxHost
    /// The attacker namespace, when the sandbox was created with one (routed only).
    public let attacker: SandboxHost?
    /// The `synwall-testbed` binary whose `peer` helpers make the traffic, if one was given.
    public let testbedPath: String?
    /// A private scratch directory (captured output, logs); removed by ``teardown()``.
    public let workDirectory: URL
    /// Default time limit of ``run(in:_:timeout:)``.
    public let defaultTimeout: Duration

    /// Every namespace of the sandbox: client, router (if any), server.
    public var hosts: [SandboxHost] {
        [client] + (router.map { [$0] } ?? []) + [server] + (attacker.map { [$0] } ?? [])
    }

    /// The namespace where a firewall under test runs: the router, or the server when direct.
    public var firewallHost: SandboxHost { router ?? server }

    let ipPath: String
    /// What the sandbox made, for its teardown.
    private let made = Mutex(Made())
    /// Held for the whole of a teardown, so a concurrent caller returns only once it is done.
    private let teardownLock = Mutex(())

    private struct Made {
        var spawned: [SandboxProcess] = []
        var namespaces: [String] = []
        var isTornDown = false
    }

    private static let counter = InstanceCounter()

    private init(
        topology: SandboxTopology, client: SandboxHost, router: SandboxHost?, server: SandboxHost,
        attacker: SandboxHost?, testbedPath: String?, workDirectory: URL, defaultTimeout: Duration, ipPath: String
    ) {
        self.topology = topology
        self.client = client
        self.router = router
        self.server = server
        self.attacker = attacker
        self.testbedPath = testbedPath
        self.workDirectory = workDirectory
        self.defaultTimeout = defaultTimeout
        self.ipPath = ipPath
    }

    deinit { teardown() }

    // MARK: - Creation

    /// Builds a new sandbox. Needs root and iproute2.
    ///
    /// - Parameters:
    ///   - topology: routed (client — router — server) or direct (client — server).
    ///   - prefix: start of the namespace names, so a leftover can be traced to its creator.
    ///   - testbed: the `synwall-testbed` binary, whose `peer` helpers
    ///     ``tcpConnect(from:to:port:message:timeout:)`` and
    ///     ``startEchoServer(in:port:maxConnections:timeout:)`` run.
    ///   - attacker: with ``SandboxTopology/routed``, add an ``attacker`` namespace on a third
    ///     router interface (ignored for ``SandboxTopology/direct``).
    ///   - defaultTimeout: the time limit of each command run in the sandbox.
    /// - Throws: ``SandboxError``; whatever was built is removed before it throws.
    public static func create(
        topology: SandboxTopology = .routed, prefix: String = "sw", testbed: String? = nil,
        attacker: Bool = false, defaultTimeout: Duration = .seconds(10)
    ) throws -> Sandbox {
        guard geteuid() == 0 else { throw SandboxError.notRoot }
        let ipPath = try ExecutableLocator.require("ip", package: "iproute2")
        _ = try ExecutableLocator.require("sysctl", package: "procps")
        if let testbed, !FileManager.default.isExecutableFile(atPath: testbed) {
            throw SandboxError.fileMissing(path: testbed)
        }

        let base = "\(prefix)\(getpid())-\(counter.next())"
        let plan = Plan(topology: topology, base: base, attacker: attacker)
        let workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-\(base)")
        do {
            try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        } catch {
            throw SandboxError.launchFailed(command: ["mkdir", workDirectory.path], reason: "\(error)")
        }
        let sandbox = Sandbox(
            topology: topology, client: plan.client, router: plan.router, server: plan.server,
            attacker: plan.attacker, testbedPath: testbed, workDirectory: workDirectory, defaultTimeout: defaultTimeout,
            ipPath: ipPath)
        do {
            try sandbox.build(plan)
        } catch {
            sandbox.teardown()
            throw error
        }
        return sandbox
    }

    private func build(_ plan: Plan) throws {
        for host in hosts {
            try registerNamespace(host.namespace)
            try ip(["netns", "add", host.namespace])
            // No duplicate-address detection anywhere, link-local addresses included: addresses
            // are usable at once instead of after a second or two.
            try run(in: host, [
                "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0",
                "net.ipv6.conf.default.accept_dad=0",
            ])
            try ip(["-n", host.namespace, "link", "set", "lo", "up"])
        }
        for link in plan.links {
            // Created directly inside the namespaces: no name ever exists in the caller's namespace.
            try ip([
                "-n", link.a.namespace, "link", "add", link.aInterface.name,
                "address", link.aInterface.mac, "type", "veth", "peer", "name", link.bInterface.name,
                "address", link.bInterface.mac, "netns", link.b.namespace,
            ])
        }
        for host in hosts {
            for interface in host.interfaces {
                try ip(["-n", host.namespace, "addr", "add",
                        "\(interface.ipv4)/\(interface.ipv4PrefixLength)", "dev", interface.name])
                try ip(["-n", host.namespace, "addr", "add",
                        "\(interface.ipv6)/\(interface.ipv6PrefixLength)", "dev", interface.name, "nodad"])
                try ip(["-n", host.namespace, "link", "set", interface.name, "up"])
            }
        }
        if let router {
            try run(in: router, [
                "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
            ])
            var ends = [(client, router.interfaces[0]), (server, router.interfaces[1])]
            if let attacker, router.interfaces.count > 2 {
                ends.append((attacker, router.interfaces[2]))
                // Spoofed sources must reach the firewall, as they would on a router without
                // reverse-path filtering: the interface's value counts with `all`'s.
                try run(in: router, [
                    "sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=0",
                    "net.ipv4.conf.\(router.interfaces[2].name).rp_filter=0",
                ])
            }
            for (end, gateway) in ends {
                try ip(["-n", end.namespace, "route", "add", "default", "via", gateway.ipv4])
                try ip(["-n", end.namespace, "-6", "route", "add", "default", "via", gateway.ipv6])
            }
        }
    }

    private func registerNamespace(_ name: String) throws {
        try made.withLock { made throws(SandboxError) in
            guard !made.isTornDown else { throw SandboxError.tornDown }
            made.namespaces.append(name)
        }
    }

    private func ip(_ arguments: [String]) throws {
        let result = try runCommand([ipPath] + arguments, displayCommand: ["ip"] + arguments,
                                    namespace: nil, timeout: defaultTimeout)
        guard result.succeeded else {
            throw SandboxError.commandFailed(command: ["ip"] + arguments, result: result)
        }
    }

    // MARK: - Running commands

    /// Runs `arguments` inside `host`'s namespace and waits for it, at most `timeout`
    /// (default: ``defaultTimeout``). A bare command name is looked up in the system directories.
    ///
    /// - Returns: status and output; a non-zero status is not an error.
    /// - Throws: ``SandboxError/timedOut(command:seconds:partial:)`` (the command is killed),
    ///   or a launch failure.
    @discardableResult
    public func run(
        in host: SandboxHost, _ arguments: [String], timeout: Duration? = nil
    ) throws -> CommandResult {
        try runCommand(netnsExec(host.namespace, arguments), displayCommand: arguments,
                       namespace: host.namespace, timeout: timeout ?? defaultTimeout)
    }

    /// Like ``run(in:_:timeout:)``, but throws ``SandboxError/commandFailed(command:result:)``
    /// unless the command exits with status 0.
    @discardableResult
    public func runChecked(
        in host: SandboxHost, _ arguments: [String], timeout: Duration? = nil
    ) throws -> CommandResult {
        let result = try run(in: host, arguments, timeout: timeout)
        guard result.succeeded else { throw SandboxError.commandFailed(command: arguments, result: result) }
        return result
    }

    /// Starts `arguments` inside `host`'s namespace without waiting for it (for a daemon or a
    /// server). The sandbox stops it at teardown if it still runs.
    public func spawn(in host: SandboxHost, _ arguments: [String]) throws -> SandboxProcess {
        guard !isTornDownAlready else { throw SandboxError.tornDown }
        let process = try SandboxProcess.launch(
            netnsExec(host.namespace, arguments), displayCommand: arguments,
            namespace: host.namespace, directory: workDirectory)
        track(process)
        return process
    }

    private func netnsExec(_ namespace: String, _ arguments: [String]) -> [String] {
        var command = arguments
        if let first = command.first, !first.contains("/"), let path = ExecutableLocator.locate(first) {
            command[0] = path
        }
        return [ipPath, "netns", "exec", namespace] + command
    }

    private func runCommand(
        _ arguments: [String], displayCommand: [String], namespace: String?, timeout: Duration
    ) throws -> CommandResult {
        let process = try SandboxProcess.launch(
            arguments, displayCommand: displayCommand, namespace: namespace, directory: workDirectory)
        // A command inside a namespace is stopped by a teardown that comes while it runs (from
        // another thread: Ctrl-C in the demo), like a spawned one.
        if namespace != nil { track(process) }
        defer { if namespace != nil { untrack(process) } }
        if let ended = process.waitForExit(timeout: timeout) {
            return CommandResult(status: ended.shellStatus, stdout: process.standardOutput,
                                 stderr: process.standardError)
        }
        process.stop(grace: .milliseconds(500))
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        throw SandboxError.timedOut(command: displayCommand, seconds: seconds, partial: process.output)
    }

    private func track(_ process: SandboxProcess) {
        made.withLock { $0.spawned.append(process) }
    }

    private func untrack(_ process: SandboxProcess) {
        made.withLock { $0.spawned.removeAll { $0 === process } }
    }

    // MARK: - Teardown

    /// Stops every spawned process that still runs, and every command of ``run(in:_:timeout:)``
    /// still waited for (SIGTERM, then SIGKILL after a short grace),
    /// deletes the namespaces (with their veths and firewall tables) and the scratch directory.
    /// Safe to call more than once and from any thread; a call made while another thread tears
    /// down returns when that teardown has finished.
    public func teardown() {
        teardownLock.withLock { _ in tearDownOnce() }
    }

    private func tearDownOnce() {
        let taken = made.withLock { made -> Made? in
            guard !made.isTornDown else { return nil }
            defer { made = Made(isTornDown: true) }
            return made
        }
        guard let processes = taken?.spawned, let namespaces = taken?.namespaces else { return }
        let running = processes.filter(\.isRunning)
        running.forEach { $0.terminate() }
        let deadline = ContinuousClock.now + .seconds(3)
        for process in running {
            let left = deadline - ContinuousClock.now
            if process.waitForExit(timeout: max(left, .zero)) == nil {
                process.kill()
                process.waitForExit(timeout: .seconds(2))
            }
        }
        for namespace in namespaces.reversed() {
            _ = try? runCommand([ipPath, "netns", "delete", namespace],
                                displayCommand: ["ip", "netns", "delete", namespace],
                                namespace: nil, timeout: .seconds(10))
        }
        try? FileManager.default.removeItem(at: workDirectory)
    }

    /// True once ``teardown()`` has run.
    public var isTornDownAlready: Bool { made.withLock { $0.isTornDown } }
}

/// A process-wide counter for unique sandbox names.
private final class InstanceCounter: Sendable {
    private let value = Mutex(0)

    func next() -> Int {
        value.withLock { value in
            value += 1
            return value
        }
    }
}
