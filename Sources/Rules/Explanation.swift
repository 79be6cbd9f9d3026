import Tracking

/// Which rule (or policy) decides for a described packet, and how to say it.
public struct Explanation: Sendable {
    /// The packet asked about.
    public var packet: PacketDescription
    /// The decision, from the rule file alone (no run-time counters or table additions).
    public var decision: RuleDecision
    /// The ruleset it was taken from.
    public var ruleset: CompiledRuleset

    /// Decides for `packet` with `ruleset`.
    public init(packet: PacketDescription, ruleset: CompiledRuleset) {
        self.packet = packet
        self.ruleset = ruleset
        self.decision = ruleset.evaluate(packet.packet, context: packet.context)
    }

    /// The deciding rule's 1-based number (as `rules list` shows it), or nil for the policy.
    public var ruleNumber: Int? { decision.ruleIndex.map { $0 + 1 } }

    /// Lines for the terminal:
    ///
    ///     packet:  tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags S
    ///     rule 3:  rules/default.rules:31: pass in on $ext_if proto tcp to port ssh label "ssh"
    ///     verdict: pass (the connection may start; the tracker follows it from here)
    public var text: String {
        var lines = ["packet:  " + packet.summary]
        let place = ruleset.location(of: decision).map { "\($0.fileAndLine): " } ?? ""
        switch decision.origin {
        case .rule(let index):
            let rule = ruleset.rules[index]
            lines.append("rule \(index + 1):" + String(repeating: " ", count: max(1, 3 - String(index + 1).count)) + place + rule.text)
            if let label = rule.label { lines.append("label:   " + label) }
            if let limits = rule.limits {
                var parts: [String] = []
                if let count = limits.maxConnections { parts.append("max-src-conn \(count)") }
                if let rate = limits.maxConnectionRate { parts.append("max-src-conn-rate \(rate.count)/\(rate.seconds)") }
                if let table = limits.overloadTable { parts.append("overload <\(table)>" + (limits.flush ? " flush" : "")) }
                lines.append("limits:  " + parts.joined(separator: ", ")
                    + " (counted by the running daemon; a source over a limit is refused" + (limits.overloadTable != nil ? " and added to the table)" : ")"))
            }
        case .policy(let direction):
            let policy = ruleset.policy(for: direction)
            if policy.location == nil {
                lines.append("policy:  \(policy.text): no rule matched, and the file has no 'policy \(direction.rawValue)' line")
            } else {
                lines.append("policy:  " + place + policy.text + " (no rule matched)")
            }
        }
        let verdict = decision.verdict == .accept
            ? "pass (the connection may start; the tracker follows it from here)"
            : "block (the packet is dropped)"
        lines.append("verdict: " + verdict + (decision.log ? ", logged" : ""))
        if !packet.startsConnection(pickup: ruleset.settings.tcpPickup) {
            let flags = packet.flags.description.isEmpty ? "none" : packet.flags.description
            lines.append("note:    the rules see only packets that start a connection; with flags \(flags) and no tracked "
                + "connection the tracker drops this packet first (no_connection)"
                + (packet.flags == .ack ? " unless 'set tcp pickup' is on" : ""))
        }
        // Tables filled at run time could change the answer only through a rule before the decider.
        let end = decision.ruleIndex ?? ruleset.rules.count
        var dynamic: [String] = []
        for index in 0..<end {
            for table in ruleset.matchers[index].source.dynamicTables + ruleset.matchers[index].destination.dynamicTables {
                let name = "<\(ruleset.tables[table].name)>"
                if !dynamic.contains(name) { dynamic.append(name) }
            }
        }
        if !dynamic.isEmpty {
            lines.append("tables:  " + dynamic.joined(separator: ", ")
                + " may hold addresses added while running; only their written entries are considered here")
        }
        return lines.joined(separator: "\n")
    }
}
