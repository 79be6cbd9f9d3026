import ArgumentParser
import DemoOptions
import Dispatch
import Foundation
import Sandbox
import Synchronization

/// `synwall-testbed demo` (what `synwall demo` runs): builds a throwaway network of namespaces (client, router, server and an
/// attacker), runs synwall on the router, and while the client downloads a large file from the
/// server, the attacker floods, scans, injects and brute-forces; the demo tells, live, that the
/// download kept going and how each attack was stopped, then reviews the event log. Everything
/// it creates is removed on every exit path, Ctrl-C included. It needs no Python.
///
/// The demo is a list of ``Step``s run in order; a scenario is added by appending a step.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show synwall stopping attacks on real traffic in a throwaway network (needs root).",
        discussion: """
            Creates four network namespaces — a client, a router running synwall, a server and an \
            attacker. The client downloads from the server through the router while the attacker \
            runs a spoofed SYN flood, NULL/FIN/XMAS scans, a RST and a data injection against the \
            download, and an SSH brute force. The demo reports each attack's fate from synwall's \
            event log, checks the download arrived intact, and ends with `synwall log --top reason` \
            and `--histogram`. Nothing outside the namespaces is touched, and they are removed when \
            the demo ends or is interrupted.
            """)

    @OptionGroup var options: DemoOptions

    @Option(help: ArgumentHelp("The synwall binary the demo runs (default: the one beside this program).",
                               visibility: .hidden))
    var synwall: String?

    func run() throws {
        guard geteuid() == 0 else {
            Self.fail("the demo creates network namespaces and firewall rules, which needs root: run it with sudo")
        }
        guard ExecutableLocator.locate("ip") != nil else {
            Self.fail("the demo needs the 'ip' command: install iproute2 (apt-get install iproute2)")
        }
        guard let testbed = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            Self.fail("cannot find this program's own path through /proc/self/exe")
        }
        let besideThis = URL(fileURLWithPath: testbed).deletingLastPathComponent().appendingPathComponent("synwall").path
        guard let binary = synwall ?? ExecutableLocator.locate(besideThis) ?? ExecutableLocator.locate("synwall") else {
            Self.fail("the demo runs synwall, which is neither beside \(testbed) nor on PATH: give it with --synwall PATH")
        }

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-demo-\(getpid())")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let context = Context(
            binary: binary, testbed: testbed, port: options.port, downloadBytes: UInt64(options.downloadSize) << 20,
            downloadRate: options.downloadRate << 10, flood: options.flood,
            logPath: options.log ?? scratch.appendingPathComponent("events.jsonl").path, scratch: scratch,
            keepLog: options.log != nil)
        let signals = context.catchInterrupts()
        defer {
            signals.forEach { $0.cancel() }
            context.cleanUp()
        }

        context.say("synwall demo: a client, a router running synwall, a server and an attacker, each in its own "
                    + "network namespace.")
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
        context.stopTicker()
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

    /// The demo, in order.
    static let steps: [Step] = [
        Step(title: "Build the network", perform: buildNetwork),
        Step(title: "Start synwall on the router", perform: startFirewall),
        Step(title: "Start the services on the server", perform: startServices),
        Step(title: "Check the path over IPv4 and IPv6", perform: checkPath),
        Step(title: "Start a long download: client <- server, through synwall", perform: startDownload),
        Step(title: "Restart synwall in the middle of the download (SIGTERM, then start again)",
             perform: restartFirewall),
        Step(title: "Attack: SYN flood from spoofed sources", perform: synFlood),
        Step(title: "Attack: NULL, FIN and XMAS scans", perform: scans),
        Step(title: "Attack: RST injection against the download (in the window, not exact)", perform: rstInjection),
        Step(title: "Attack: data injection into the download (out of the window)", perform: dataInjection),
        Step(title: "Attack: SSH brute force", perform: bruteForce),
        Step(title: "Finish the download", perform: finishDownload),
        Step(title: "Stop synwall", perform: stopFirewall),
        Step(title: "Review the event log: synwall log --top reason, then --histogram", perform: reviewLog),
    ]

    /// The demo's SSH port (an echo server stands in for sshd).
    static let sshPort: UInt16 = 22
    /// The half-open limit of the demo's rule file.
    static let halfOpenLimit = 200
    /// The brute-force limit of the demo's rule file: connections per window.
    static let sshRate = (connections: 5, seconds: 30)

    static func buildNetwork(_ context: Context) throws {
        let sandbox = try Sandbox.create(prefix: "swdemo", testbed: context.testbed, attacker: true)
        guard context.adopt(sandbox) else { throw DemoError.interrupted }
        let client = sandbox.client, server = sandbox.server
        context.say("   client   \(client.ipv4) / \(client.ipv6)  (namespace \(client.namespace))")
        if let router = sandbox.router {
            context.say("   router   \(router.interfaces.map(\.ipv4).joined(separator: ", "))  "
                        + "(namespace \(router.namespace)), forwarding between the others")
        }
        context.say("   server   \(server.ipv4) / \(server.ipv6)  (namespace \(server.namespace))")
        if let attacker = sandbox.attacker {
            context.say("   attacker \(attacker.ipv4)  (namespace \(attacker.namespace)), on its own router port; "
                        + "it may forge any source address")
        }
    }

    /// The demo's rule file: the router forwards the download service and SSH, with defences.
    static func rules(port: UInt16) -> String {
        """
        # synwall demo: the router forwards a download service and SSH, and defends both.
        set tcp rst exact              # a RST must carry the exact next sequence number (RFC 5961)
        set limit half-open \(halfOpenLimit)        # at most \(halfOpenLimit) unfinished handshakes at once (SYN floods)
        set timeout tcp.syn_sent 5s    # and a handshake that never finishes is forgotten in 5 s
        set timeout tcp.syn_recv 5s
        table <bruteforce> persist
        policy forward drop log
        block forward quick from <bruteforce> log label "brute force"
        pass forward proto tcp to port \(port) label "download"
        pass forward proto tcp to port ssh max-src-conn-rate \(sshRate.connections)/\(sshRate.seconds) overload <bruteforce> label "ssh"

        """
    }

    static func startFirewall(_ context: Context) throws {
        let sandbox = try context.requireSandbox()
        let rulesPath = sandbox.workDirectory.appendingPathComponent("demo.rules").path
        try rules(port: context.port).write(toFile: rulesPath, atomically: true, encoding: .utf8)
        context.say("   The rule file (\(rulesPath)):")
        for line in rules(port: context.port).split(separator: "\n") { context.say("   > \(line)") }
        let daemon = try launchFirewall(context, sandbox: sandbox, rulesPath: rulesPath)
        context.say("   Running: synwall run --hook forward --rules demo.rules --log \(context.logPath) "
                    + "--state \(context.statePath)")
        for line in daemon.standardOutput.split(separator: "\n") where line.hasPrefix("synwall: ") {
            context.say("   | \(line)")
        }
        context.say("   Every packet the router forwards now goes through synwall: the rules decide which "
                    + "connections may start, the tracker judges every packet after that.")
    }

    /// Starts `synwall run` on the router with the demo's rules, log, control socket and state
    /// file, and waits for its ready line.
    static func launchFirewall(_ context: Context, sandbox: Sandbox, rulesPath: String) throws -> SandboxProcess {
        let command = [context.binary, "run", "--hook", "forward", "--rules", rulesPath, "--log", context.logPath,
                       "--pid-file", "none", "--control", context.controlPath, "--state", context.statePath]
        let daemon = try sandbox.spawn(in: sandbox.firewallHost, command)
        context.daemon = daemon
        guard daemon.waitForLine(prefix: DaemonCounters.readyLinePrefix, timeout: .seconds(10)) != nil else {
            let exited = !daemon.isRunning
            daemon.stop(grace: .seconds(2))
            throw exited ? DemoError.daemonExited(daemon.output) : DemoError.daemonNotReady(daemon.output)
        }
        return daemon
    }

    /// An upgrade or `systemctl restart`: SIGTERM saves every connection to the state file, the
    /// new daemon restores them, and the download never notices.
    static func restartFirewall(_ context: Context) throws {
        guard let old = context.daemon else { throw DemoError.noDaemon }
        let sandbox = try context.requireSandbox()
        let before = context.download?.bytes ?? 0
        old.terminate()
        guard old.waitForExit(timeout: .seconds(10)) != nil else {
            old.kill()
            throw DemoError.daemonHung
        }
        if let saved = old.firstLine(prefix: "synwall: state: saved ") { context.say("   | \(saved)") }
        let rulesPath = sandbox.workDirectory.appendingPathComponent("demo.rules").path
        let daemon = try launchFirewall(context, sandbox: sandbox, rulesPath: rulesPath)
        let restored = daemon.firstLine(prefix: "synwall: state: restored ")
        if let restored { context.say("   | \(restored)") }
        context.say("   The new synwall took the connections over: each one's windows are learned again from its "
                    + "next segments (logged once as state_resumed); nothing else is adopted.")
        Thread.sleep(forTimeInterval: 1.5)
        if restored == nil {
            context.say("   The new synwall restored NO connection: \(daemon.output)")
            context.problems += 1
        }
        reportDownload(context, since: before)
    }

    static func startServices(_ context: Context) throws {
        let sandbox = try context.requireSandbox()
        guard let binary = sandbox.testbedPath else { throw SandboxError.noTestbedBinary }
        let command = [binary, "peer", "download-server", "--port", String(context.port),
                       "--rate", String(context.downloadRate)]
        let server = try sandbox.spawn(in: sandbox.server, command)
        guard server.waitForLine(prefix: Sandbox.peerListeningPrefix, timeout: .seconds(5)) != nil else {
            throw SandboxError.notReady(command: command, expected: Sandbox.peerListeningPrefix, output: server.output)
        }
        context.downloadServer = server
        try sandbox.startEchoServer(port: sshPort)
        context.say("   Port \(context.port): a download service that sends a checkable byte pattern at "
                    + "\(context.downloadRate >> 10) KiB/s (IPv4 and IPv6).")
        context.say("   Port \(sshPort): an echo server standing in for SSH.")
    }

    static func checkPath(_ context: Context) throws {
        let sandbox = try context.requireSandbox()
        for address in [sandbox.server.ipv4, sandbox.server.ipv6] {
            let result = try download(context, from: address, bytes: 65_536, idleTimeout: 3)
            if result.succeeded {
                context.say("   64 KiB downloaded from \(address) port \(context.port) through the router, every byte "
                            + "as sent.")
            } else {
                context.say("   The download from \(address) failed: "
                            + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
                context.problems += 1
            }
        }
    }

    /// A short download by the client, waited for.
    static func download(_ context: Context, from address: String, bytes: UInt64, idleTimeout: Double) throws
        -> CommandResult
    {
        let sandbox = try context.requireSandbox()
        guard let binary = sandbox.testbedPath else { throw SandboxError.noTestbedBinary }
        return try sandbox.run(in: sandbox.client, [
            binary, "peer", "download", address, String(context.port), "--bytes", String(bytes),
            "--idle-timeout", String(idleTimeout),
        ], timeout: .seconds(Int64(idleTimeout) + 5))
    }

    static func startDownload(_ context: Context) throws {
        let sandbox = try context.requireSandbox()
        guard let binary = sandbox.testbedPath else { throw SandboxError.noTestbedBinary }
        let process = try sandbox.spawn(in: sandbox.client, [
            binary, "peer", "download", sandbox.server.ipv4, String(context.port),
            "--bytes", String(context.downloadBytes), "--progress", "0.25", "--idle-timeout", "10",
        ])
        let watch = DownloadWatch(process: process, size: context.downloadBytes)
        context.download = watch
        let deadline = ContinuousClock.now + .seconds(5)
        while watch.bytes == 0 && watch.isFlowing && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard watch.bytes > 0 else { throw DemoError.downloadDidNotStart(process.output) }
        context.say("   The client is downloading \(mebibytes(context.downloadBytes)) from \(sandbox.server.ipv4) "
                    + "port \(context.port); it checks every byte against the pattern as it arrives.")
        context.startTicker()
    }

    static func finishDownload(_ context: Context) throws {
        guard let watch = context.download, let server = context.downloadServer else { throw DemoError.noDownload }
        context.stopTicker()
        let before = watch.bytes
        if watch.isFlowing {
            server.signal(SIGUSR1)
            context.say("   The attacks are over: the server sends the rest at full speed (\(mebibytes(before)) so far).")
        }
        guard watch.process.waitForExit(timeout: .seconds(90)) != nil else {
            throw DemoError.downloadHung(watch.process.output)
        }
        let fields = watch.completion
        let bytes = fields?["bytes"].flatMap { UInt64($0) } ?? watch.bytes
        let mismatches = fields?["mismatches"].flatMap { Int($0) }
        let checksum = fields?["fnv1a"] ?? "-"
        // The server's line for this transfer: "sent N of N bytes to ADDRESS port P fnv1a=HEX".
        let sentLine = server.standardOutput.split(separator: "\n")
            .last { $0.contains("of \(context.downloadBytes) bytes to ") }
        let serverChecksum = sentLine?.split(separator: "=").last.map(String.init) ?? "-"
        if watch.process.termination == .exited(0), bytes == context.downloadBytes, mismatches == 0,
           checksum == serverChecksum {
            context.say("   Download complete: \(bytes) bytes (\(mebibytes(bytes))), the whole file, never reset; "
                        + "every byte matched the pattern,")
            context.say("   and the checksums agree: client fnv1a=\(checksum), server fnv1a=\(serverChecksum).")
        } else {
            context.say("   The download did not arrive intact: \(bytes) of \(context.downloadBytes) bytes, "
                        + "\(mismatches.map(String.init) ?? "?") mismatches, client fnv1a=\(checksum), "
                        + "server fnv1a=\(serverChecksum): \(watch.process.output)")
            context.problems += 1
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
                    + "\(counters.accepted) and dropped \(counters.dropped).")
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
    }

    /// Prints `synwall log LOG --top reason` and `synwall log LOG --histogram --bucket 5s`, run
    /// by the synwall binary itself, its output straight to ours.
    static func reviewLog(_ context: Context) throws {
        let invocations = [[context.logPath, "--top", "reason"], [context.logPath, "--histogram", "--bucket", "5s"]]
        for arguments in invocations {
            context.say("")
            context.say("   $ synwall log \(arguments.dropFirst().joined(separator: " "))   (the demo's log)")
            do {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: context.binary)
                process.arguments = ["log"] + arguments
                try process.run()
                process.waitUntilExit()
                if process.terminationStatus != 0 {
                    context.say("   synwall log failed: exit status \(process.terminationStatus)")
                    context.problems += 1
                }
            } catch {
                context.say("   synwall log failed: \(error)")
                context.problems += 1
            }
        }
        context.say("")
        if context.keepLog {
            context.say("   The log stays at \(context.logPath): try synwall log \(context.logPath) --reason bad_seq")
        }
    }
}

// MARK: - Context

extension DemoCommand {
    /// What the steps share: the sandbox, the processes, the settings and the tally. The steps
    /// run on one thread; the download ticker and the interrupt handler only print and read.
    final class Context: @unchecked Sendable {
        /// The synwall binary the demo runs on the router (and whose `log` reviews the events).
        let binary: String
        /// This program: its `peer` helpers make the traffic and the attacks.
        let testbed: String
        let port: UInt16
        let downloadBytes: UInt64
        /// Bytes per second.
        let downloadRate: Int
        let flood: Int
        let logPath: String
        let scratch: URL
        let keepLog: Bool
        var daemon: SandboxProcess?
        var downloadServer: SandboxProcess?
        var download: DownloadWatch?
        var problems = 0
        /// The demo daemon's control socket (its own, so a synwall running on the host is no bother).
        var controlPath: String { scratch.appendingPathComponent("control.sock").path }
        /// The demo daemon's state file (its own, never the host's /var/lib/synwall).
        var statePath: String { scratch.appendingPathComponent("state").path }

        private let printing = Mutex(())
        /// What the interrupt handler and the ticker share with the steps.
        private let shared = Mutex(Shared())

        private struct Shared {
            var sandbox: Sandbox?
            var interrupted = false
            var ticker: Ticker?
        }

        /// The ticker's timer, handed between threads (a dispatch source is thread-safe).
        private final class Ticker: @unchecked Sendable {
            let timer: any DispatchSourceTimer
            init(timer: any DispatchSourceTimer) { self.timer = timer }
        }

        init(binary: String, testbed: String, port: UInt16, downloadBytes: UInt64, downloadRate: Int, flood: Int, logPath: String,
             scratch: URL, keepLog: Bool) {
            self.binary = binary
            self.testbed = testbed
            self.port = port
            self.downloadBytes = downloadBytes
            self.downloadRate = downloadRate
            self.flood = flood
            self.logPath = logPath
            self.scratch = scratch
            self.keepLog = keepLog
        }

        /// Prints one line at once (the ticker prints from another thread).
        func say(_ line: String) {
            printing.withLock { _ in
                print(line)
                fflush(nil)
            }
        }

        /// Every 3 s, one line on the download's progress, until ``stopTicker()``.
        func startTicker() {
            guard let watch = download else { return }
            let timer = DispatchSource.makeTimerSource(queue: .global())
            let last = LastBytes(watch.bytes)
            timer.schedule(deadline: .now() + 3, repeating: 3)
            timer.setEventHandler { [self] in
                let bytes = watch.bytes
                let added = bytes >= last.value ? bytes - last.value : 0
                last.value = bytes
                let state = watch.isFlowing ? "still flowing" : "the client stopped"
                say("   ~ download: \(DemoCommand.mebibytes(bytes)) so far, +\(DemoCommand.mebibytes(added)) in 3 s, \(state)")
            }
            let ticker = Ticker(timer: timer)
            shared.withLock { $0.ticker = ticker }
            timer.resume()
        }

        func stopTicker() {
            let current = shared.withLock { shared in
                defer { shared.ticker = nil }
                return shared.ticker
            }
            current?.timer.cancel()
        }

        /// Records the sandbox for cleanup; false (and the sandbox removed) when Ctrl-C came first.
        func adopt(_ new: Sandbox) -> Bool {
            let adopted = shared.withLock { shared in
                guard !shared.interrupted else { return false }
                shared.sandbox = new
                return true
            }
            if !adopted { new.teardown() }
            return adopted
        }

        var isInterrupted: Bool { shared.withLock { $0.interrupted } }

        func requireSandbox() throws -> Sandbox {
            guard let sandbox = shared.withLock({ $0.sandbox }) else { throw DemoError.noSandbox }
            return sandbox
        }

        /// Removes the namespaces (which stops the daemon and the peers) and the scratch files.
        func cleanUp() {
            stopTicker()
            shared.withLock { $0.sandbox }?.teardown()
            try? FileManager.default.removeItem(at: scratch)
        }

        /// On SIGINT/SIGTERM: clean up at once and exit 130. During the build, the build step
        /// notices the flag through ``adopt(_:)`` and cleans up itself.
        func catchInterrupts() -> [any DispatchSourceSignal] {
            [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [self] in
                    let current = shared.withLock { shared in
                        shared.interrupted = true
                        return shared.sandbox
                    }
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
        case noDownload
        case downloadDidNotStart(CommandResult)
        case downloadHung(CommandResult)
        case noAttacker
        case peerFailed([String], CommandResult)

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
            case .noDownload: return "the download was not started"
            case let .downloadDidNotStart(output):
                return "the download received nothing within 5 s: \(output)"
            case let .downloadHung(output):
                return "the download did not finish within 90 s: \(output)"
            case .noAttacker: return "the network has no attacker namespace"
            case let .peerFailed(command, output):
                return "synwall peer \(command.dropFirst(2).joined(separator: " ")) failed: \(output)"
            }
        }
    }
}

/// The byte count the ticker saw last (touched only from the ticker's serial handler).
private final class LastBytes: @unchecked Sendable {
    var value: UInt64
    init(_ value: UInt64) { self.value = value }
}
