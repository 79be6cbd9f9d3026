import ArgumentParser
import Control
import Foundation

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
        """
    )

    @Option(name: .long, help: ArgumentHelp("Source (opening side) address or prefix.", valueName: "prefix"))
    var src: String?
    @Option(name: .long, help: ArgumentHelp("Destination address or prefix.", valueName: "prefix"))
    var dst: String?
    @Option(name: .long, help: ArgumentHelp("Either end's address or prefix.", valueName: "prefix"))
    var host: String?
    @Option(name: .long, help: ArgumentHelp("Either end's port.", valueName: "port"))
    var port: Int?
    @Option(name: .long, help: ArgumentHelp("Source port.", valueName: "port"))
    var sport: Int?
    @Option(name: .long, help: ArgumentHelp("Destination port.", valueName: "port"))
    var dport: Int?
    @Option(name: .long, help: ArgumentHelp("State: established, syn_sent, syn_recv, fin_wait, close_wait, "
        + "last_ack, time_wait, close, unreplied, replied, stream.", valueName: "state"))
    var state: String?
    @Option(name: .long, help: ArgumentHelp("Protocol: tcp, udp, icmp, icmp6.", valueName: "proto"))
    var proto: String?
    @Option(name: .long, help: ArgumentHelp("Show at most this many connections.", valueName: "n"))
    var limit: Int = 10_000

    @Flag(name: .long, help: "Print JSON Lines, one connection per line.")
    var json = false

    @OptionGroup var watchOptions: WatchOptions
    @OptionGroup var controlOptions: ControlOptions

    var filter: ConnectionFilter {
        ConnectionFilter(src: src, dst: dst, host: host, port: port, sport: sport, dport: dport, state: state, proto: proto)
    }

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must not be negative") }
        do throws(ControlError) {
            _ = try filter.compiled()
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        try Self.reportingErrors {
            try watchOptions.run { _ in
                let response = try controlOptions.send(ControlRequest(command: .conns, filter: filter, limit: limit))
                let records = response.connections ?? []
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    return records.map { String(decoding: (try? encoder.encode($0)) ?? Data(), as: UTF8.self) }
                        .joined(separator: "\n")
                }
                return ConnectionTable.render(records, matched: response.matched ?? records.count)
            }
        }
    }
}
