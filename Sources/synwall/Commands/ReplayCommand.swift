import ArgumentParser
import Engine
import Firewall
import Rules
import Tracking
import Wire
#if canImport(Glibc)
import Glibc
#endif

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run the firewall pipeline offline over a pcap or pcapng file.",
        discussion: """
        Reads Ethernet, raw IP and Linux cooked (SLL, SLL2) captures through libpcap and judges \
        each packet as the live daemon would, with time taken from the capture. Prints one JSON \
        object per packet in the event log's dialect, as synwall trace prints decisions (index, \
        timestamp, direction, proto, src_ip, src_port, dest_ip, dest_port, verdict, reason, \
        detail, state, rule, tcp; docs/json.md), and a closing {"summary":…} object. Exit status \
        2 when the file cannot be read; a file damaged part-way is judged up to the damage, and \
        the summary of those frames (with an "error" field) is printed before exiting 2.

        --log FILE writes the event records the daemon would have written for the capture \
        (drops, alerts, anomalies, flow records; aggregated and capped the same way), for \
        synwall log FILE. On a terminal, a long replay shows its progress on stderr.
        """
    )

    @Argument(help: ArgumentHelp("The capture file (pcap or pcapng).", valueName: "file"))
    var file: String

    @Flag(name: .long, help: "Print only the closing summary.")
    var summary = false

    @Option(name: .long, help: ArgumentHelp("Whether new connections may start when no rule file decides: "
        + "accept or drop.", valueName: "verdict"))
    var policy: Verdict = .accept

    @Option(name: .long, help: ArgumentHelp("Capacity of the connection table.", valueName: "n"))
    var maxStates: Int?

    @Option(name: .long, help: ArgumentHelp("Rule file deciding which new connections may start.",
                                            valueName: "file"))
    var rules: String?

    @Option(name: .long, help: ArgumentHelp("Direction of the capture's new connections for the rules: in, out "
        + "or forward.", valueName: "direction"))
    var direction: Direction = .in

    @Option(name: .long, help: ArgumentHelp("Also write the event records the daemon would have written, "
        + "as JSON Lines for synwall log.", valueName: "file"))
    var log: String?

    @Flag(name: .long, help: ArgumentHelp("Verify checksums (captures taken on a sending host often hold "
        + "offloaded, not-yet-computed checksums, so this is off by default)."))
    var verifyChecksums = false

    func run() throws {
        try Self.reportingErrors {
            var compiled: CompiledRuleset?
            var tracker = TrackerConfiguration(maxStates: max(16, maxStates ?? 1_000_000))
            if let rules {
                switch RuleCompiler.compile(file: rules) {
                case .success(let ruleset):
                    compiled = ruleset
                    tracker = TrackerConfiguration(ruleset.settings, base: tracker, maxStatesOverride: maxStates)
                case .failure(let diagnostics):
                    writeLine(diagnostics.description, to: 2)
                    throw CLIError("\(rules) has errors")
                }
            }
            var replay = Replay(path: file, pipeline: PipelineConfiguration(
                defaultVerdict: policy, verifyChecksums: verifyChecksums, tracker: tracker),
                rules: compiled, direction: direction)
            replay.logPath = log
            let result: Replay.Summary
            let progress = Progress(label: "replay", total: Progress.fileSize(file))
            do {
                result = try replay.run(perPacket: summary ? nil : { print($0) },
                                        progress: progress.map { meter in { frames, bytes in
                                            meter.show(bytes: bytes, detail: "\(frames) frames") } })
            } catch {
                progress?.clear()
                throw CLIError(String(describing: error), status: (error as? ReplayError)?.isLog == true ? 1 : 2)
            }
            progress?.clear()
            print(result.json)
            // A file damaged part-way: the totals of the frames judged are out, then the error.
            if let damage = result.error {
                fflush(nil)  // the summary (print is buffered) goes out before the error line
                throw CLIError(damage.description, status: 2)
            }
        }
    }
}

extension Direction: ExpressibleByArgument {}
