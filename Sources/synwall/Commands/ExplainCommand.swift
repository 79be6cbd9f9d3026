import ArgumentParser
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

        The direction defaults to in, TCP flags to S, the ICMP type to echoreq. Prints the \
        deciding rule (its number as 'synwall rules list' shows it, FILE:LINE and text) or the \
        policy, and the verdict. The answer comes from the file alone: the running daemon's \
        per-source counters and the addresses it added to tables are not consulted.
        Exit status 1 when the rules or the description are invalid.
        """
    )

    @Argument(help: ArgumentHelp("The packet, quoted or as several words.", valueName: "packet"))
    var packet: [String]

    @Option(name: .long, help: ArgumentHelp("The rule file (default: /etc/synwall/synwall.rules if it exists, "
        + "else rules/default.rules).", valueName: "file"))
    var rules: String?

    func run() throws {
        let path = rules ?? DefaultRuleFile.path
        let ruleset: CompiledRuleset
        switch RuleCompiler.compile(file: path) {
        case .failure(let diagnostics):
            writeLine(diagnostics.description, to: 2)
            throw ExitCode(1)
        case .success(let compiled):
            ruleset = compiled
        }
        try Self.reportingErrors {
            switch PacketDescription.parse(packet.joined(separator: " ")) {
            case .failure(let error):
                throw CLIError("cannot read the packet: \(error)")
            case .success(let description):
                writeLine(Explanation(packet: description, ruleset: ruleset).text)
            }
        }
    }
}
