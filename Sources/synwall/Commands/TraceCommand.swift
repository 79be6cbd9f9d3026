import ArgumentParser
import Control
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Show the running daemon's decisions on matching packets, live.",
        discussion: """
        One line per packet the filters match, in either direction of a connection: time, \
        queue, direction, endpoints, TCP flags, sequence and acknowledgment numbers and window, \
        then the verdict and why — the drop reason and the tracker's finer event, the flow's \
        state after the packet, the rule that decided (for a packet that asked the rules) or admitted its flow and, \
        when a window check failed, the sequence or acknowledgment range it would have accepted. \
        The filters are those of synwall conns.

        Ends on Ctrl-C or after --count lines. Bounded: at most --rate lines a second (default \
        \(TraceLimits.defaultRate), at most \(TraceLimits.maximumRate)), 256 per queue per \
        receive round, \(TraceLimits.bufferedLines) between two polls (this command polls five \
        times a second); lines over those bounds are dropped, counted and reported on stderr. \
        One trace at a time; a trace whose client went away ends \(TraceLimits.idleSeconds) s \
        later. While no trace runs the daemon's packet path pays one atomic load per receive \
        round.

        Examples:
          synwall trace --host 203.0.113.7
          synwall trace --dport 22 --count 20
          synwall trace --src 10.0.0.0/8 --json | jq .
        """
    )

    @OptionGroup var filterOptions: ConnectionFilterOptions
    @Option(name: [.customShort("n"), .long], help: ArgumentHelp("Stop after this many lines (0: until Ctrl-C).",
                                                                 valueName: "n"))
    var count: Int = 0
    @Option(name: .long, help: ArgumentHelp("Most lines a second.", valueName: "n"))
    var rate: Int = TraceLimits.defaultRate
    @Flag(name: .long, help: "Print JSON Lines with the event log's keys.")
    var json = false

    @OptionGroup var controlOptions: ControlOptions

    var filter: ConnectionFilter { filterOptions.filter }

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must not be negative") }
        guard (1...TraceLimits.maximumRate).contains(rate) else {
            throw ValidationError("--rate must be between 1 and \(TraceLimits.maximumRate) lines a second")
        }
    }

    /// Seconds between polls.
    static let pollInterval = 0.2

    func run() throws {
        // Ctrl-C, SIGTERM and a closed pipe end the trace cleanly: blocked here and waited for
        // between polls, so the daemon is always told (trace_end).
        var endSignals = sigset_t()
        sigemptyset(&endSignals)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&endSignals, signal) }
        pthread_sigmask(SIG_BLOCK, &endSignals, nil)
        try Self.reportingErrors {
            let started = try controlOptions.send(ControlRequest(command: .trace, filter: filter, rate: rate))
            guard let session = started.trace?.session else { throw CLIError("the daemon did not start a trace") }
            var printed = 0
            var reportedDrops = 0
            var last = started.trace!
            func show(_ batch: TraceBatch) -> Bool {
                for line in batch.lines {
                    if count > 0 && printed >= count { return false }
                    if json {
                        writeLine(line.json.text)
                    } else {
                        writeText(line.text)
                    }
                    printed += 1
                }
                if batch.dropped > reportedDrops {
                    writeLine("synwall: trace: \(batch.dropped - reportedDrops) more line(s) dropped (over \(batch.rate) "
                        + "a second, or too many at once)", to: 2)
                    reportedDrops = batch.dropped
                }
                last = batch
                return count == 0 || printed < count
            }
            var going = true
            var failure: Error?
            while going {
                var wait = timespec(tv_sec: 0, tv_nsec: Int(Self.pollInterval * 1e9))
                if sigtimedwait(&endSignals, nil, &wait) > 0 { break }
                do {
                    let polled = try controlOptions.send(ControlRequest(command: .trace, trace: session))
                    guard let batch = polled.trace else { break }
                    going = show(batch)
                } catch {
                    failure = error
                    break
                }
            }
            if let ended = try? controlOptions.send(ControlRequest(command: .traceEnd, trace: session)).trace,
               ended.session == session, ended.rate > 0 {
                _ = show(ended)
            }
            if let failure { throw failure }
            writeLine("synwall: trace: \(printed) line(s) shown, \(last.matched) matching decision(s), "
                + "\(last.dropped) dropped", to: 2)
        }
    }
}
