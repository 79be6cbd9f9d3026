import Control
import EventLog
import Foundation
import Sandbox

// The attacks of `synwall demo`, one step each. Every attack runs as `synwall-testbed peer …` in the
// attacker's namespace; its fate is read back from synwall's event log (LogTally), and every
// step ends by saying whether the client's download kept going.

extension DemoCommand {
    /// How long the daemon's log may hold repeats before writing their aggregate (its 1 s
    /// window), plus a margin.
    static let logSettle: TimeInterval = 1.3

    /// Runs `synwall-testbed peer ARGUMENTS` in `host` and waits; throws unless it exits 0.
    @discardableResult
    static func peer(_ context: Context, in host: SandboxHost, _ arguments: [String], timeout: Duration = .seconds(20))
        throws -> CommandResult
    {
        let sandbox = try context.requireSandbox()
        guard let binary = sandbox.testbedPath else { throw SandboxError.noTestbedBinary }
        let command = [binary, "peer"] + arguments
        let result = try sandbox.run(in: host, command, timeout: timeout)
        guard result.succeeded else { throw DemoError.peerFailed(command, result) }
        return result
    }

    /// The last line a peer printed, shown as its own output.
    static func echo(_ context: Context, _ result: CommandResult) {
        if let line = result.stdout.split(separator: "\n").last { context.say("   | \(line)") }
    }

    /// Says whether the download kept going since `before` bytes; a stopped one is a problem.
    static func reportDownload(_ context: Context, since before: UInt64) {
        guard let watch = context.download else { return }
        let after = watch.bytes
        if watch.isFlowing && after > before {
            context.say("   The download kept going: \(mebibytes(before)) -> \(mebibytes(after)), connection open.")
        } else if after >= watch.size {
            context.say("   The download had already finished (\(mebibytes(after))): make it larger with --download-size.")
            context.problems += 1
        } else {
            context.say("   The download STOPPED at \(mebibytes(after)): \(watch.process.output)")
            context.problems += 1
        }
    }

    /// Says the attack was stopped and how, or, counting a problem, what the log showed instead.
    static func verdict(_ context: Context, stopped: Bool, _ evidence: String, otherwise failure: String) {
        context.say(stopped ? "   Stopped: \(evidence)" : "   NOT stopped: \(failure)")
        if !stopped { context.problems += 1 }
    }

    static func requireAttacker(_ context: Context) throws -> (Sandbox, SandboxHost, DownloadWatch) {
        let sandbox = try context.requireSandbox()
        guard let attacker = sandbox.attacker else { throw DemoError.noAttacker }
        guard let watch = context.download else { throw DemoError.noDownload }
        return (sandbox, attacker, watch)
    }

    // MARK: - SYN flood

    static func synFlood(_ context: Context) throws {
        let (sandbox, attacker, watch) = try requireAttacker(context)
        let before = watch.bytes
        let since = wallClockNow()
        context.say("   The attacker sends \(context.flood) SYNs to \(sandbox.server.ipv4) port \(context.port), each "
                    + "from a different forged address in 198.18.0.0/15, to fill the connection tables.")
        echo(context, try peer(context, in: attacker, [
            "syn-flood", sandbox.server.ipv4, String(context.port), "--count", String(context.flood),
        ], timeout: .seconds(60)))
        // While the flood's handshakes still fill the cap: the client has completed handshakes
        // before (a proven source, not spoofed), so its new connection takes the place of the
        // oldest half-open one instead of being refused.
        let reconnected = try download(context, from: sandbox.server.ipv4, bytes: 4096, idleTimeout: 2).succeeded
        let provenOverCap = (try? ControlClient(path: context.controlPath, timeoutSeconds: 5)
            .send(ControlRequest(command: .stats)).stats?.total.provenOverHalfOpenCap) ?? 0
        Thread.sleep(forTimeInterval: logSettle)
        let tally = LogTally(path: context.logPath, since: since)
        let logged = tally.count(.drop, reason: "table_full")
        let suppressed = tally.count(.suppressed)
        let dropped = logged + suppressed
        let details = tally.details(.drop, reason: "table_full").joined(separator: ", ")
        verdict(context, stopped: logged > 0 && context.flood - dropped <= halfOpenLimit,
                "synwall let \(context.flood - dropped) of them start a handshake (set limit half-open "
                + "\(halfOpenLimit)) and dropped \(dropped) as table_full (\(details)).",
                otherwise: "the log shows \(dropped) table_full drops of \(context.flood) SYNs: "
                + "\(context.flood - dropped) may have got through.")
        context.say("   The log holds \(tally.records(.drop, reason: "table_full")) of those drops one by one and counts "
                    + "the other \(suppressed) in `suppressed` records: it writes at most 100 records a second.")
        reportDownload(context, since: before)
        if reconnected {
            context.say("   A new connection from the client went through during the flood: it has completed "
                        + "handshakes before, so it is no spoofed source (\(provenOverCap) let in over the full "
                        + "half-open cap, `synwall stats`). New sources wait until the flood's handshakes time out, 5 s.")
        } else {
            context.say("   A new connection from the client FAILED during the flood: \(provenOverCap) let in over the cap.")
            context.problems += 1
        }
    }

    // MARK: - Scans

    static func scans(_ context: Context) throws {
        let (sandbox, attacker, watch) = try requireAttacker(context)
        let before = watch.bytes
        let since = wallClockNow()
        let ports = "20-29"
        context.say("   The attacker scans ports \(ports) of \(sandbox.server.ipv4) three times, a second apart: with "
                    + "segments carrying no flags (NULL), FIN alone, then FIN+PSH+URG (XMAS); it listens for answers.")
        let result = try peer(context, in: attacker, [
            "scan", sandbox.server.ipv4, "--ports", ports, "--source", attacker.ipv4,
            "--interface", attacker.interfaces[0].name, "--wait", "0.5", "--pause", "1.1",
        ])
        echo(context, result)
        Thread.sleep(forTimeInterval: logSettle)
        let fields = Dictionary(result.stdout.split(separator: " ").compactMap { word -> (String, Int)? in
            let pair = word.split(separator: "=")
            guard pair.count == 2, let value = Int(pair[1].trimmingCharacters(in: .whitespacesAndNewlines)) else {
                return nil
            }
            return (String(pair[0]), value)
        }, uniquingKeysWith: { $1 })
        let sent = fields["sent"] ?? 0
        let replies = fields["replies"] ?? -1
        let tally = LogTally(path: context.logPath, since: since)
        let dropped = tally.count(.drop, reason: "invalid_flags") { $0.source == attacker.ipv4 }
        let details = tally.details(.drop, reason: "invalid_flags").joined(separator: ", ")
        verdict(context, stopped: sent > 0 && dropped == sent && replies == 0,
                "all \(dropped) of \(sent) probes dropped as invalid_flags (\(details)); "
                + "the scanner got \(replies) answers, so it learned nothing about the ports.",
                otherwise: "\(dropped) of \(sent) probes dropped as invalid_flags, and \(replies) answers came back.")
        reportDownload(context, since: before)
    }

    // MARK: - Injections

    /// Learns the download's sequence numbers with `synwall peer sniff` on the router's
    /// client-facing link: what an attacker with a tap on the path sees.
    static func sniffDownload(_ context: Context) throws -> SniffedConnection {
        let sandbox = try context.requireSandbox()
        guard let router = sandbox.router else { throw DemoError.noSandbox }
        let result = try peer(context, in: router, [
            "sniff", "--interface", router.interfaces[0].name, "--port", String(context.port), "--timeout", "3",
        ])
        guard let line = result.stdout.split(separator: "\n").last(where: { $0.hasPrefix("synwall peer: sniffed ") }),
              let connection = SniffedConnection(line: String(line))
        else { throw DemoError.peerFailed(["peer", "sniff"], result) }
        context.say("   A tap on the client's link shows the download: client \(connection.clientAddress) port "
                    + "\(connection.clientPort), its next seq \(connection.clientNext), its ack \(connection.clientAcknowledgment).")
        return connection
    }

    static func rstInjection(_ context: Context) throws {
        let (_, attacker, watch) = try requireAttacker(context)
        let connection = try sniffDownload(context)
        let before = watch.bytes
        let since = wallClockNow()
        let seq = connection.clientNext &+ 1000
        context.say("   The attacker forges a RST from the client to the server with seq \(seq): inside the "
                    + "server's receive window, 1000 past the exact next number.")
        echo(context, try peer(context, in: attacker, [
            "inject", "--source", connection.clientAddress, "--source-port", String(connection.clientPort),
            "--destination", connection.serverAddress, "--destination-port", String(connection.serverPort),
            "--flags", "R", "--seq", String(seq),
        ]))
        Thread.sleep(forTimeInterval: logSettle)
        let tally = LogTally(path: context.logPath, since: since)
        let dropped = tally.count(.drop, reason: "rst_invalid") {
            $0.source == connection.clientAddress && $0.sourcePort == connection.clientPort
        }
        let details = tally.details(.drop, reason: "rst_invalid").joined(separator: ", ")
        let passed = tally.count(.anomaly) { $0.source == connection.clientAddress }
        verdict(context, stopped: dropped >= 1,
                "synwall dropped the RST as rst_invalid (\(details)): with `set tcp rst exact` only the exact "
                + "next sequence number may reset a connection.",
                otherwise: "the log has no rst_invalid drop of the forged RST (anomaly records from the client: "
                + "\(passed)): it reached the server.")
        reportDownload(context, since: before)
    }

    static func dataInjection(_ context: Context) throws {
        let (_, attacker, watch) = try requireAttacker(context)
        let connection = try sniffDownload(context)
        let before = watch.bytes
        let since = wallClockNow()
        let seq = connection.clientAcknowledgment &+ 50_000_000
        context.say("   The attacker forges data from the server to the client with seq \(seq), 50 MB past what the "
                    + "client has received: far outside the window.")
        echo(context, try peer(context, in: attacker, [
            "inject", "--source", connection.serverAddress, "--source-port", String(connection.serverPort),
            "--destination", connection.clientAddress, "--destination-port", String(connection.clientPort),
            "--flags", "PA", "--seq", String(seq), "--ack", String(connection.clientNext), "--payload", "INJECTED",
        ]))
        Thread.sleep(forTimeInterval: logSettle)
        let tally = LogTally(path: context.logPath, since: since)
        let dropped = tally.count(.drop, reason: "bad_seq") {
            $0.source == connection.serverAddress && $0.sourcePort == connection.serverPort
        }
        let details = tally.details(.drop, reason: "bad_seq").joined(separator: ", ")
        verdict(context, stopped: dropped >= 1,
                "synwall dropped the segment as bad_seq (\(details)); the client never saw it.",
                otherwise: "the log has no bad_seq drop of the forged segment: it reached the client.")
        reportDownload(context, since: before)
    }

    // MARK: - Brute force

    static func bruteForce(_ context: Context) throws {
        let (sandbox, attacker, watch) = try requireAttacker(context)
        // First: the flood's half-open entries have timed out, new connections go through again.
        var reconnected = false
        let started = ContinuousClock.now
        while !reconnected && ContinuousClock.now - started < .seconds(10) {
            reconnected = try download(context, from: sandbox.server.ipv4, bytes: 4096, idleTimeout: 2).succeeded
        }
        if reconnected {
            context.say("   A new connection from the client goes through again: the flood's half-open entries "
                        + "have timed out.")
        } else {
            context.say("   New connections from the client still fail 10 s after the flood: that is a problem.")
            context.problems += 1
        }

        let before = watch.bytes
        let since = wallClockNow()
        let attempts = 12
        context.say("   The attacker makes \(attempts) quick login attempts on \(sandbox.server.ipv4) port \(sshPort) "
                    + "(max-src-conn-rate \(sshRate.connections)/\(sshRate.seconds) allows \(sshRate.connections)).")
        let result = try peer(context, in: attacker, [
            "brute-force", sandbox.server.ipv4, String(sshPort), "--attempts", String(attempts), "--timeout", "0.5",
        ], timeout: .seconds(60))
        echo(context, result)
        Thread.sleep(forTimeInterval: logSettle)
        let answered = result.stdout.split(separator: "\n").filter { $0.hasSuffix(": answered") }.count
        let tally = LogTally(path: context.logPath, since: since)
        let overloads = tally.count(.overload) { $0.source == attacker.ipv4 }
        let overloadDetail = tally.entries.first { $0.type == .overload }?.detail ?? "-"
        let blocked = tally.count(.drop, reason: "policy") { $0.source == attacker.ipv4 && $0.label == "brute force" }
        verdict(context, stopped: overloads >= 1 && blocked >= 1 && answered <= sshRate.connections,
                "\(answered) attempts were answered; the next went over the rate: an overload record "
                + "(\(overloadDetail)),\n   then the block rule \"brute force\" dropped \(blocked) more connection "
                + "attempts from \(attacker.ipv4): that source is shut out.",
                otherwise: "\(answered) attempts were answered; the log shows \(overloads) overload records and "
                + "\(blocked) drops by the block rule \"brute force\".")
        reportDownload(context, since: before)
    }
}
