import Tracking

/// What the decode → track → decide path (the one the daemon and `replay` run) made of a
/// described packet: its verdict, and whether the rules were asked at all.
public struct TrackedVerdict: Sendable, Equatable {
    /// The verdict the daemon would give.
    public var verdict: Verdict
    /// Why it drops (nil when it passes).
    public var reason: DropReason?
    /// The tracker's finer name for what it saw (`flags_xmas`), if any.
    public var event: TrackerEvent?
    /// False when the packet was judged before the rules (by the decoder or the tracker).
    public var rulesConsulted: Bool

    /// A verdict as the pipeline gave it.
    public init(verdict: Verdict, reason: DropReason?, event: TrackerEvent?, rulesConsulted: Bool) {
        self.verdict = verdict
        self.reason = reason
        self.event = event
        self.rulesConsulted = rulesConsulted
    }
}

/// Which rule (or policy) decides for a described packet, and how to say it.
public struct Explanation: Sendable {
    /// The packet asked about.
    public var packet: PacketDescription
    /// The decision, from the rule file alone (no run-time counters or table additions).
    public var decision: RuleDecision
    /// The ruleset it was taken from.
    public var ruleset: CompiledRuleset
    /// What the daemon's own decode and track path made of the packet (Engine's
    /// `Explanation.judged`); nil when only the rules were asked.
    public var tracked: TrackedVerdict?

    /// Decides for `packet` with `ruleset`; `tracked` is the pipeline's verdict, when known.
    public init(packet: PacketDescription, ruleset: CompiledRuleset, tracked: TrackedVerdict? = nil) {
        self.packet = packet
        self.ruleset = ruleset
        self.decision = ruleset.evaluate(packet.packet, context: packet.context)
        self.tracked = tracked
    }

    /// The verdict the daemon would give: the pipeline's when known, else the rules'.
    public var verdict: Verdict { tracked?.verdict ?? decision.verdict }

    /// `, and the sender gets a TCP RST (block return)` when the deciding rule answers this packet.
    var replyText: String {
        guard let reply = decision.reply else { return "" }
        let rule = reply.rawValue
        switch reply.kind(forProtocol: packet.packet.protocolNumber) {
        case .tcpReset: return ", and the sender gets a TCP RST (block \(rule))"
        case .icmpPortUnreachable:
            return ", and the sender gets an ICMP\(packet.packet.version == .v6 ? "v6" : "") port unreachable (block \(rule))"
        case .icmpProhibited:
            return ", and the sender gets an ICMP\(packet.packet.version == .v6 ? "v6" : "") administratively prohibited (block \(rule))"
        case nil: return " (block \(rule) answers TCP only: nothing is sent)"
        }
    }

    /// The deciding rule's 1-based number (as `rules list` shows it), or nil for the policy.
    public var ruleNumber: Int? { decision.ruleIndex.map { $0 + 1 } }

    /// Lines for the terminal, the verdict first:
    ///
    ///     verdict: pass (the connection may start; the tracker follows it from here)
    ///     packet:  tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags S
    ///     rule 3:  rules/default.rules:31: pass in on $ext_if proto tcp to port ssh label "ssh"
    ///
    /// When the tracker (or the decoder) judges the packet before the rules see it, the verdict
    /// says so and names the reason; the rule lines then say what the rules would decide for a
    /// packet of that flow that reached them.
    public var text: String {
        var lines: [String] = []
        let rulesAsked = tracked?.rulesConsulted ?? packet.startsConnection(pickup: ruleset.settings.tcpPickup)
        if let tracked, !tracked.rulesConsulted {
            let name = tracked.reason?.rawValue ?? "drop"
            let reason = name + (tracked.event.map(\.rawValue).flatMap { $0 == name ? nil : ", \($0)" } ?? "")
            lines.append(tracked.verdict == .accept
                ? "verdict: pass (the tracker passes it without asking the rules)"
                : "verdict: drop (\(reason): the tracker drops it before the rules see it)")
        } else if let tracked, tracked.verdict == .drop, decision.verdict == .accept {
            // The rules pass it, and the tracker still refuses the new flow (a limit).
            lines.append("verdict: drop (\(tracked.reason?.rawValue ?? "drop"): the rules pass it, the tracker refuses it)")
        } else if verdict == .accept {
            lines.append("verdict: pass (the connection may start; the tracker follows it from here)"
                + (decision.log ? ", logged" : ""))
        } else {
            let reason = tracked?.reason.flatMap { $0 == .policy ? nil : " (\($0.rawValue))" } ?? ""
            lines.append("verdict: drop (the rules block it\(reason))" + (decision.log ? ", logged" : "") + replyText)
        }
        lines.append("packet:  " + packet.summary)
        if tracked != nil, !rulesAsked {
            lines.append("rules:   not asked; a packet of this flow that reached them would get "
                + (decision.verdict == .accept ? "pass" : "block") + " from:")
        }
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
        if tracked == nil, !rulesAsked {
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
