import Foundation

extension Sandbox {
    /// The line `synwall peer listen` prints once its socket listens.
    public static let peerListeningPrefix = "synwall peer: listening"

    /// Starts `synwall-testbed peer listen` (a TCP echo server on IPv4 and IPv6) in `host` (default: the
    /// server) and waits, at most `timeout`, until it listens.
    ///
    /// - Parameter maxConnections: the server exits after serving this many; nil: until stopped.
    /// - Throws: ``SandboxError/noTestbedBinary``, or ``SandboxError/notReady(command:expected:output:)``.
    @discardableResult
    public func startEchoServer(
        in host: SandboxHost? = nil, port: UInt16, maxConnections: Int? = nil,
        timeout: Duration = .seconds(5)
    ) throws -> SandboxProcess {
        guard let testbedPath else { throw SandboxError.noTestbedBinary }
        var command = [testbedPath, "peer", "listen", "--port", String(port)]
        if let maxConnections { command += ["--max-connections", String(maxConnections)] }
        let process = try spawn(in: host ?? server, command)
        guard process.waitForLine(prefix: Self.peerListeningPrefix, timeout: timeout) != nil else {
            let output = process.output
            process.stop(grace: .milliseconds(500))
            throw SandboxError.notReady(command: command, expected: Self.peerListeningPrefix, output: output)
        }
        return process
    }

    /// Opens a TCP connection from `host` to `address`:`port` with `synwall-testbed peer connect`, sends
    /// `message` and waits for its echo, all within `timeout`.
    ///
    /// - Returns: the peer's result: status 0 on success, 1 with a one-line reason on stderr.
    /// - Throws: ``SandboxError/noTestbedBinary``, or a timeout if the helper itself hangs.
    public func connect(
        from host: SandboxHost, to address: String, port: UInt16, message: String = "hello through synwall",
        timeout: Duration = .seconds(3)
    ) throws -> CommandResult {
        guard let testbedPath else { throw SandboxError.noTestbedBinary }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        return try run(in: host, [
            testbedPath, "peer", "connect", address, String(port), "--message", message,
            "--timeout", String(seconds),
        ], timeout: timeout + .seconds(5))
    }

    /// True when a TCP connection from `host` to `address`:`port` succeeds and echoes within
    /// `timeout` (see ``connect(from:to:port:message:timeout:)``).
    public func tcpConnect(
        from host: SandboxHost, to address: String, port: UInt16, timeout: Duration = .seconds(3)
    ) -> Bool {
        (try? connect(from: host, to: address, port: port, timeout: timeout))?.succeeded ?? false
    }

    /// Waits at most `timeout` for `process` to print a line starting with `prefix`; the line,
    /// or nil on timeout or exit (see ``SandboxProcess/waitForLine(prefix:in:timeout:)``).
    public func waitForLine(
        prefix: String, in process: SandboxProcess, stream: SandboxProcess.Stream = .standardOutput,
        timeout: Duration
    ) -> String? {
        process.waitForLine(prefix: prefix, in: stream, timeout: timeout)
    }

    /// The Python that has scapy on Debian (the first `python3` on `PATH` may not).
    public static let scapyPython = "/usr/bin/python3"

    /// Runs a Python script (typically scapy, to send crafted packets) inside `host` with
    /// `/usr/bin/python3`, waiting at most `timeout`.
    public func runPython(
        in host: SandboxHost, script: String, arguments: [String] = [], timeout: Duration = .seconds(60)
    ) throws -> CommandResult {
        guard FileManager.default.isExecutableFile(atPath: Self.scapyPython) else {
            throw SandboxError.toolMissing(name: Self.scapyPython, package: "python3-scapy")
        }
        guard FileManager.default.fileExists(atPath: script) else { throw SandboxError.fileMissing(path: script) }
        return try run(in: host, [Self.scapyPython, script] + arguments, timeout: timeout)
    }

    /// Turns checksum and segmentation offloads off on one interface, so frames carry real
    /// checksums and a bad one is noticed (veth otherwise marks frames as already verified).
    public func disableOffloads(in host: SandboxHost, interface: String) throws {
        _ = try ExecutableLocator.require("ethtool", package: "ethtool")
        try runChecked(in: host, [
            "ethtool", "-K", interface, "rx", "off", "tx", "off", "tso", "off", "gso", "off", "gro", "off",
        ])
    }

    /// Turns offloads off on every veth of the sandbox (see ``disableOffloads(in:interface:)``).
    public func disableOffloads() throws {
        for host in hosts {
            for interface in host.interfaces { try disableOffloads(in: host, interface: interface.name) }
        }
    }

    /// The firewall state of `host`: `iptables-save -t mangle`, `ip6tables-save -t mangle` and
    /// `nft list ruleset`, for checking what a daemon installed or left behind.
    public func firewallState(in host: SandboxHost) throws -> FirewallState {
        let ipv4 = try runChecked(in: host, ["iptables-save", "-t", "mangle"])
        let ipv6 = try runChecked(in: host, ["ip6tables-save", "-t", "mangle"])
        let nft = try runChecked(in: host, ["nft", "list", "ruleset"])
        return FirewallState(iptablesMangle: ipv4.stdout, ip6tablesMangle: ipv6.stdout, nftRuleset: nft.stdout)
    }
}

/// A snapshot of a namespace's firewall configuration.
public struct FirewallState: Sendable, Equatable, CustomStringConvertible {
    /// Output of `iptables-save -t mangle`.
    public let iptablesMangle: String
    /// Output of `ip6tables-save -t mangle`.
    public let ip6tablesMangle: String
    /// Output of `nft list ruleset`.
    public let nftRuleset: String

    /// Lines of the iptables and ip6tables dumps that mention `text` (case-sensitive), comments
    /// (`#` lines) left out.
    public func iptablesLines(containing text: String) -> [String] {
        (iptablesMangle + "\n" + ip6tablesMangle).split(separator: "\n")
            .filter { !$0.hasPrefix("#") && $0.contains(text) }.map(String.init)
    }

    /// True when `nft list ruleset` shows a table with this family and name.
    public func hasNftTable(family: String, name: String) -> Bool {
        nftRuleset.split(separator: "\n").contains { $0.hasPrefix("table \(family) \(name) ") || $0 == "table \(family) \(name)" }
    }

    public var description: String {
        "--- iptables-save -t mangle ---\n\(iptablesMangle)--- ip6tables-save -t mangle ---\n"
            + "\(ip6tablesMangle)--- nft list ruleset ---\n\(nftRuleset)"
    }
}
