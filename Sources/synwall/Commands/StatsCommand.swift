import ArgumentParser
import Control
import Foundation

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show the running daemon's counters.",
        discussion: """
        Packets by verdict and by drop reason, the connection table (occupancy, evictions, \
        refusals), the kernel queue (waiting, drops, ENOBUFS), the event log (records written \
        and lost) and hits per rule, for each queue worker and in total. Asked over the control \
        socket. --prometheus prints the Prometheus text format (for node_exporter's textfile \
        collector: synwall stats --prometheus > /var/lib/node_exporter/synwall.prom); --watch \
        adds per-second rates.
        """
    )

    @Flag(name: .long, help: "Print JSON (the control socket's answer).")
    var json = false

    @Flag(name: .long, help: "Print the Prometheus text exposition format.")
    var prometheus = false

    @OptionGroup var watchOptions: WatchOptions
    @OptionGroup var controlOptions: ControlOptions

    func validate() throws {
        if json && prometheus { throw ValidationError("use either --json or --prometheus, not both") }
    }

    func run() throws {
        try Self.reportingErrors {
            var previous: StatsReport?
            try watchOptions.run { _ in
                guard let report = try controlOptions.send(ControlRequest(command: .stats)).stats else {
                    throw CLIError("the daemon's answer held no counters")
                }
                defer { previous = report }
                if prometheus { return PrometheusText.render(report) }
                if json { return JSONOutput.stats(report) }
                return StatsText.render(report, previous: previous)
            }
        }
    }
}
