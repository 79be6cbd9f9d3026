import ArgumentParser
import EventLog
import LogReview
import enum Rules.Suggestion
import enum Tracking.DropReason
import enum Tracking.TrackerEvent
import Wire
#if canImport(Glibc)
import Glibc
#endif

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Review the event log: filter, follow, find the top talkers, draw a histogram.",
        discussion: """
        Reads each FILE with its rotations (FILE.N and FILE.N.gz, oldest first), several files \
        merged by time. A malformed line is skipped with a warning naming its file and line. \
        Default FILE: \(LogReviewOptions.defaultPath).

        Filters combine with AND; a filter given several times matches any of its values. \
        Times: relative (30m, 1h, 2d, 1h30m) or RFC 3339 (2026-11-24T21:03:00Z, \
        2026-11-24T22:03:00+01:00, 2026-11-24); without an offset, UTC, as the log is written.

        Records print as an aligned table on a terminal (coloured unless NO_COLOR is set) and as \
        JSON Lines, exactly as in the file, when standard output is not a terminal; --table, \
        --json and --csv choose. --top and --histogram count occurrences: an aggregated record \
        counts as many as its count field, and a suppressed record (over the log's rate cap) \
        counts by the reasons and sources it carries, so the totals match the daemon's counters. \
        --histogram --by reason (or src, dst, port, rule) draws one series per value, stacked, \
        with a legend (the six largest; the rest as 'other'; JSON and CSV give one row per bucket \
        and value); --log-scale makes bar lengths follow log(1 + count), so a trickle stays \
        visible beside a flood.

        Each connection that ends leaves a flow record (unless set log flows off): how it ended \
        (closed, reset, timeout, evicted, killed, flushed, reload), packets and bytes each way, \
        its rule. Records nest their type's fields as Suricata's EVE does (docs/event-log.md); \
        older flat records are read too.

        Examples:
          synwall log --since 1h --reason bad_seq
          synwall log --src 203.0.113.0/24 --port 22 --json | jq .
          synwall log --top src -n 20 --since 1d
          synwall log --histogram --bucket 5m --event drop
          synwall log --histogram --by reason --log-scale --since 6h
          synwall log --follow --reason invalid_flags
          synwall log --event flow --since 10m
        """
    )

    @Argument(help: ArgumentHelp("Log files to read (default \(LogReviewOptions.defaultPath)).", valueName: "file"))
    var files: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only records at or after this time (30m, 1h, 2d, or RFC 3339).",
                                            valueName: "time"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("Only records before this time (same forms as --since).", valueName: "time"))
    var until: String?

    @Option(name: .customLong("src"), help: ArgumentHelp("Source address or CIDR prefix (repeatable).", valueName: "addr"))
    var sources: [String] = []

    @Option(name: .customLong("dst"), help: ArgumentHelp("Destination address or CIDR prefix (repeatable).",
                                                         valueName: "addr"))
    var destinations: [String] = []

    @Option(name: .customLong("port"), help: ArgumentHelp("Source or destination port (repeatable).", valueName: "port"))
    var ports: [String] = []

    @Option(name: .customLong("reason"), help: ArgumentHelp("Reason, e.g. bad_seq, invalid_flags, policy (repeatable).",
                                                            valueName: "reason"))
    var reasons: [String] = []

    @Option(name: .customLong("rule"), help: ArgumentHelp("Rule: its label, FILE:LINE, or LINE (repeatable).",
                                                          valueName: "rule"))
    var rules: [String] = []

    @Option(name: .customLong("event"), help: ArgumentHelp("Event type: \(EventType.allCases.map(\.rawValue).joined(separator: ", ")) "
        + "(repeatable).", valueName: "type"))
    var events: [String] = []

    @Flag(name: [.short, .long], help: ArgumentHelp("Keep printing new records as they are written, across rotations "
        + "(Ctrl-C ends). Without --since, starts at the end of the file."))
    var follow = false

    @Flag(name: .long, help: "Print an aligned table (the default on a terminal).")
    var table = false

    @Flag(name: .long, help: "Print JSON Lines, records exactly as in the file (the default when not on a terminal).")
    var json = false

    @Flag(name: .long, help: "Print CSV with a header line.")
    var csv = false

    @Option(name: .long, help: ArgumentHelp("Print the most frequent values of src, dst, port, reason or rule.",
                                            valueName: "key"))
    var top: String?

    @Option(name: .customShort("n"), help: ArgumentHelp("How many values --top prints (default 10).", valueName: "n"))
    var count: Int?

    @Flag(name: .long, help: "Draw occurrences over time as a bar chart.")
    var histogram = false

    @Option(name: .long, help: ArgumentHelp("Histogram bucket width (default 1m): 10s, 5m, 1h, 1d….", valueName: "width"))
    var bucket: String?

    @Option(name: .long, help: ArgumentHelp("With --histogram, one series per value of src, dst, port, reason or rule.",
                                            valueName: "key"))
    var by: String?

    @Flag(name: .long, help: "With --histogram, bar lengths on a log scale.")
    var logScale = false

    @Option(name: .long, help: ArgumentHelp("Colour: auto (on a terminal), always or never.", valueName: "when"))
    var color: String = "auto"

    func validate() throws {
        // The real clock: relative times checked against time 0 would all be 0 (and equal).
        _ = try makeOptions(now: Self.now(), standardOutputIsTerminal: false)
    }

    func run() throws {
        // A reader must end on Ctrl-C, SIGTERM or a closed pipe even when started with those
        // signals blocked (a parent's mask is inherited).
        var endSignals = sigset_t()
        sigemptyset(&endSignals)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&endSignals, signal) }
        pthread_sigmask(SIG_UNBLOCK, &endSignals, nil)
        try Self.reportingErrors {
            let terminal = isatty(1) == 1
            let options: LogReviewOptions
            do {
                options = try makeOptions(now: Self.now(), standardOutputIsTerminal: terminal)
            } catch let error as ValidationError {
                throw CLIError(error.message)
            }
            let output = LogTextOutput(fileDescriptor: 1)
            do {
                try LogReview(options: options).run(output: output, warn: { writeLine("synwall: warning: \($0)", to: 2) })
            } catch {
                throw CLIError(String(describing: error))
            }
        }
    }

    /// The review's options from the arguments; `ValidationError` says what to fix.
    func makeOptions(now: UInt64, standardOutputIsTerminal terminal: Bool) throws -> LogReviewOptions {
        let query = try makeQuery(now: now)
        if [table, json, csv].filter({ $0 }).count > 1 {
            throw ValidationError("choose one of --table, --json and --csv")
        }
        let (mode, histogramBy) = try makeMode()
        if follow {
            if mode != .records { throw ValidationError("--follow prints records; it cannot be combined with --top or --histogram") }
            if files.count > 1 { throw ValidationError("--follow follows one file; name only one") }
        }

        let format: LogReviewOptions.Format
        if json {
            format = .json
        } else if csv {
            format = .csv
        } else if table || terminal || mode != .records {
            format = .table
        } else {
            format = .json
        }
        let useColor: Bool
        switch color {
        case "auto": useColor = terminal && getenv("NO_COLOR") == nil && Self.environment("TERM") != "dumb"
        case "always": useColor = true
        case "never": useColor = false
        default: throw ValidationError("--color '\(color)' must be auto, always or never")
        }
        return LogReviewOptions(paths: files.isEmpty ? [LogReviewOptions.defaultPath] : files, query: query, format: format,
                                mode: mode, follow: follow, color: useColor, unicode: terminal,
                                terminalWidth: Self.terminalWidth(), histogramBy: histogramBy, histogramLogScale: logScale)
    }

    /// The filter: times, addresses, ports, reasons, rules and event types.
    private func makeQuery(now: UInt64) throws -> LogQuery {
        var query = LogQuery()
        if let since {
            guard let time = LogTime.parse(since, now: now) else { throw Self.badTime("--since", since) }
            query.since = time
        }
        if let until {
            guard let time = LogTime.parse(until, now: now) else { throw Self.badTime("--until", until) }
            query.until = time
        }
        if let from = query.since, let to = query.until, from >= to {
            throw ValidationError("--since must be earlier than --until")
        }
        query.sources = try sources.map { try Self.prefix($0, "--src") }
        query.destinations = try destinations.map { try Self.prefix($0, "--dst") }
        query.ports = try ports.map { text in
            guard let port = UInt16(text) else {
                throw ValidationError("--port '\(text)' is not a port number (0-65535)")
            }
            return port
        }
        for reason in reasons where !Self.knownReasons.contains(reason) {
            // An unknown value near a known one is a typo; one near none may be a newer reason.
            if let hint = Suggestion.hint(for: reason, among: Self.knownReasons) {
                throw ValidationError("--reason '\(reason)' is not a reason synwall writes; \(hint)")
            }
        }
        query.reasons = reasons
        query.rules = rules
        query.eventTypes = try events.map { text in
            guard let type = EventType(rawValue: text) else {
                throw ValidationError("--event '\(text)' is not an event type; use one of "
                    + EventType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return type
        }
        return query
    }

    /// What to print: records, a top list or a histogram (with its key, when split by one).
    private func makeMode() throws -> (LogReviewOptions.Mode, histogramBy: LogTopCounter.Key?) {
        if top != nil && histogram {
            throw ValidationError("choose either --top or --histogram")
        }
        var mode = LogReviewOptions.Mode.records
        if let top {
            guard let key = LogTopCounter.Key(rawValue: top) else {
                throw ValidationError("--top '\(top)' is not a key; use one of src, dst, port, reason, rule")
            }
            let limit = count ?? 10
            guard limit >= 1 else { throw ValidationError("-n must be at least 1") }
            mode = .top(key, limit: limit)
        } else if count != nil {
            throw ValidationError("-n applies to --top; add --top src|dst|port|reason|rule")
        }
        if histogram {
            var width: UInt64 = 60_000_000_000
            if let bucket {
                guard let parsed = DurationText.nanoseconds(bucket), parsed >= 1_000_000_000 else {
                    throw ValidationError("--bucket '\(bucket)' is not a width of at least 1s (10s, 5m, 1h, 1d…)")
                }
                width = parsed
            }
            mode = .histogram(bucketNanoseconds: width)
        } else if bucket != nil {
            throw ValidationError("--bucket applies to --histogram; add --histogram")
        }
        var histogramBy: LogTopCounter.Key?
        if let by {
            guard histogram else { throw ValidationError("--by applies to --histogram; add --histogram") }
            guard let key = LogTopCounter.Key(rawValue: by) else {
                throw ValidationError("--by '\(by)' is not a key; use one of src, dst, port, reason, rule")
            }
            histogramBy = key
        }
        if logScale, !histogram { throw ValidationError("--log-scale applies to --histogram; add --histogram") }
        return (mode, histogramBy)
    }

    private static func badTime(_ option: String, _ text: String) -> ValidationError {
        ValidationError("\(option) '\(text)' is not a time; use a duration back from now (30m, 1h, 2d) "
            + "or RFC 3339 (2026-11-24T21:03:00Z)")
    }

    private static func prefix(_ text: String, _ option: String) throws -> IPPrefix {
        guard let prefix = IPPrefix(text) else {
            throw ValidationError("\(option) '\(text)' is not an address or CIDR prefix (203.0.113.7, 203.0.113.0/24, 2001:db8::/32)")
        }
        return prefix
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The reasons records carry: drop reasons, the tracker's event names (anomalies), and
    /// those of the daemon's own records.
    static let knownReasons: [String] = DropReason.allCases.map(\.rawValue) + TrackerEvent.allCases.map(\.rawValue)
        + ["anomaly", "rule_log", "rate_limit", "queue_full", "reloaded", "reload_failed", "started", "stopped", "killed"]

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = environment("COLUMNS"), let value = Int(columns), value > 0 { return value }
        return 80
    }
}
