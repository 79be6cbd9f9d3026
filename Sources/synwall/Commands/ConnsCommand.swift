import ArgumentParser
import Control
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct ConnsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conns",
        abstract: "List the running daemon's live connections.",
        discussion: """
        One line per tracked connection: protocol, source (the side that opened it) and \
        destination, state, age, idle time, packets and bytes each way (> from the source, < \
        back), and the rule that admitted it (number and FILE:LINE, as synwall rules list shows; \
        'policy' when no rule decided). Filters combine: \
        synwall conns --port 22 --state established.

        --kill removes the matching connections from every queue's table: their next packets \
        are judged as new ones, so a TCP connection's next segment is dropped (no_connection, \
        unless 'set tcp pickup'). It shows what matches and asks first, unless --yes (needed \
        when standard input is not a terminal); the killed connections are listed, counted, \
        and logged as flow records with reason killed.
        """
    )

    @OptionGroup var filterOptions: ConnectionFilterOptions
    @Option(name: .long, help: ArgumentHelp("Show at most this many connections.", valueName: "n"))
    var limit: Int = 10_000

    @Flag(name: .long, help: "Print JSON Lines, one connection per line.")
    var json = false

    @Flag(name: .long, help: "Kill the matching connections (remove them from the daemon's tables).")
    var kill = false

    @Flag(name: [.customShort("y"), .long], help: "With --kill: do not ask first.")
    var yes = false

    @OptionGroup var watchOptions: WatchOptions
    @OptionGroup var controlOptions: ControlOptions

    var filter: ConnectionFilter { filterOptions.filter }

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must not be negative") }
        if kill, watchOptions.watch { throw ValidationError("--kill cannot be combined with --watch") }
        if yes, !kill { throw ValidationError("--yes applies to --kill; add --kill") }
    }

    func run() throws {
        if kill { return try runKill() }
        try Self.reportingErrors {
            try watchOptions.run { _ in
                let response = try controlOptions.send(ControlRequest(command: .conns, filter: filter, limit: limit))
                let records = response.connections ?? []
                if json { return records.map { JSONOutput.connection($0).text }.joined(separator: "\n") }
                return ConnectionTable.render(records, matched: response.matched ?? records.count)
            }
        }
    }

    /// `--kill`: shows what matches and asks (unless --yes), then kills and lists what went.
    private func runKill() throws {
        try Self.reportingErrors {
            if !yes {
                guard isatty(0) == 1 else {
                    throw CLIError("--kill asks before killing, and standard input is not a terminal; add --yes", status: 64)
                }
                let preview = try controlOptions.send(ControlRequest(command: .conns, filter: filter, limit: limit))
                let records = preview.connections ?? []
                let matched = preview.matched ?? records.count
                guard matched > 0 else {
                    writeLine("no connection matches; nothing killed")
                    return
                }
                writeLine(ConnectionTable.render(records, matched: matched))
                let everything = filter == ConnectionFilter()
                writeText("kill \(matched == 1 ? "this connection" : "these \(matched) connections")"
                    + (everything ? " (no filter: every connection)" : "") + "? [y/N] ", to: 2, newline: false)
                let answer = readLine(strippingNewline: true)?.lowercased() ?? ""
                guard answer == "y" || answer == "yes" else {
                    writeLine("nothing killed")
                    return
                }
            }
            let response = try controlOptions.send(ControlRequest(command: .kill, filter: filter, limit: limit))
            let records = response.connections ?? []
            let killed = response.matched ?? records.count
            if json {
                for record in records { writeLine(JSONOutput.connection(record).text) }
                return
            }
            if killed > 0 { writeLine(ConnectionTable.render(records, matched: killed)) }
            writeLine("killed \(killed) connection\(killed == 1 ? "" : "s")")
        }
    }
}
