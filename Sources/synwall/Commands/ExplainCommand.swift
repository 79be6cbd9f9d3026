import ArgumentParser
import Engine
import Rules

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show which rule decides for a packet, and the verdict.",
        discussion: """
        Describe the packet as: PROTO SOURCE > DESTINATION [in|out|forward] [on IF] \
        [in on IF] [out on IF] [flags LETTERS] [type ICMPTYPE], for example

          synwall explain 'tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags S'
          synwall explain 'udp [2001:db8::7]:5353 > [2001:db8::10]:53'
          synwall explain 'tcp 10.0.0.5:40000 > 198.51.100.5:443 forward in on lan0 out on wan0'

        The direction defaults to in, TCP flags to S, the ICMP type to echoreq. The packet goes \
        through the daemon's own decode and tracking path with these rules (as 'synwall replay' \
        runs it), as the first packet seen: the verdict comes first, then the deciding rule (its \
        number as 'synwall rules list' shows it, FILE:LINE and text) or the policy. A packet the \
        tracker drops before the rules (such as flags FPU, SF, SR or F alone, or an ACK with no \
        connection) gets that verdict and its reason. The answer comes from the file alone: the \
        running daemon's connections, per-source counters and table additions are not consulted.
        Exit status 1 when the rules or the description are invalid; with --exit-status, 0 when \
        the packet would pass and 3 when it would be dropped.
        """
    )

    @Argument(help: ArgumentHelp("The packet, quoted or as several words.", valueName: "packet"))
    var packet: [String]

    @Option(name: .long, help: ArgumentHelp("The rule file (default: /etc/synwall/synwall.rules).", valueName: "file"))
    var rules: String?

    @Flag(name: .long, help: "Exit 0 when the packet would pass, 3 when it would be dropped.")
    var exitStatus = false

    @Flag(name: .long, help: "Print one JSON object: verdict, reason, packet, rule or policy (docs/json.md).")
    var json = false

    func run() throws {
        let path = try ruleFile(rules, override: "--rules FILE")
        let ruleset: CompiledRuleset
        switch RuleCompiler.compile(file: path) {
        case .failure(let diagnostics):
            writeText(diagnostics.description, to: 2)
            throw ExitCode(1)
        case .success(let compiled):
            ruleset = compiled
        }
        try Self.reportingErrors {
            switch PacketDescription.parse(packet.joined(separator: " ")) {
            case .failure(let error):
                throw CLIError("cannot read the packet: \(error)")
            case .success(let description):
                let explanation = Explanation.judged(packet: description, ruleset: ruleset)
                if json {
                    writeLine(JSONOutput.explanation(explanation).text)
                } else {
                    writeText(explanation.text)
                }
                if exitStatus, explanation.verdict == .drop { throw ExitCode(3) }
            }
        }
    }
}
