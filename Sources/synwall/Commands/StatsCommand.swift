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
        collector: synwall stats --prometheus --output /var/lib/prometheus/node-exporter/synwall.prom, \
        from a timer or cron every minute); --output writes the file atomically (a temporary file \
        beside it, then rename), so the collector never reads half of it, and when the daemon \
        cannot be asked it writes synwall_up 0 (and exits 1) instead of leaving stale counters. \
        The metrics include synwall_up, synwall_build_info{version,commit}, \
        synwall_reloads_total{result} and synwall_last_reload_success_timestamp_seconds; \
        contrib/grafana-dashboard.json draws them. --watch adds per-second rates.
        """
    )

    @Flag(name: .long, help: "Print JSON (the control socket's answer).")
    var json = false

    @Flag(name: .long, help: "Print the Prometheus text exposition format.")
    var prometheus = false

    @Option(name: .long, help: ArgumentHelp("Write to this file, atomically (temporary file and rename), "
        + "instead of standard output; with --watch, rewritten every interval.", valueName: "file"))
    var output: String?

    @OptionGroup var watchOptions: WatchOptions
    @OptionGroup var controlOptions: ControlOptions

    func validate() throws {
        if json && prometheus { throw ValidationError("use either --json or --prometheus, not both") }
        if let output, output.isEmpty || output.hasSuffix("/") {
            throw ValidationError("--output takes a file name, not '\(output)'")
        }
    }

    func run() throws {
        if let output {
            try Self.reportingErrors { try writeFile(output) }
            return
        }
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

    /// `--output FILE`: each report replaces the file atomically. With --prometheus, a daemon
    /// that cannot be asked leaves `synwall_up 0` there, and the command fails.
    private func writeFile(_ path: String) throws {
        var previous: StatsReport?
        var remaining = watchOptions.watch ? watchOptions.count : 1
        while true {
            let text: String
            var failure: CLIError?
            do {
                guard let report = try controlOptions.send(ControlRequest(command: .stats)).stats else {
                    throw CLIError("the daemon's answer held no counters")
                }
                defer { previous = report }
                text = render(report, previous: previous)
            } catch let error as CLIError {
                guard prometheus else { throw error }
                text = PrometheusText.down(version: BuildInfo.version, commit: BuildInfo.commit)
                failure = error
            }
            do {
                try AtomicFile.write(text.hasSuffix("\n") ? text : text + "\n", to: path)
            } catch {
                throw CLIError("cannot write \(path): \(error)")
            }
            if let failure {
                guard watchOptions.watch else { throw failure }
                writeText("synwall: error: \(failure.message) (wrote synwall_up 0; trying again)", to: 2)
            }
            if remaining > 0 {
                remaining -= 1
                if remaining == 0 { return }
            }
            Thread.sleep(forTimeInterval: watchOptions.interval)
        }
    }

    private func render(_ report: StatsReport, previous: StatsReport?) -> String {
        if prometheus { return PrometheusText.render(report) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self)
        }
        return StatsText.render(report, previous: previous)
    }
}
