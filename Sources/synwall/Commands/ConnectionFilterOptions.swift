import ArgumentParser
import Control

/// The connection filters `conns` and `trace` share: addresses, ports, state and protocol,
/// combined (all given must match).
struct ConnectionFilterOptions: ParsableArguments {
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

    /// The filter the options describe.
    var filter: ConnectionFilter {
        ConnectionFilter(src: src, dst: dst, host: host, port: port, sport: sport, dport: dport, state: state, proto: proto)
    }

    func validate() throws {
        do throws(ControlError) {
            _ = try filter.compiled()
        } catch {
            throw ValidationError(error.description)
        }
    }
}
