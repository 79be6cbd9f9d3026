import Wire

/// What a rule's clauses were written with, for the checks across them: which were given
/// (for "given twice"), and the tokens an error points at.
struct RuleClauses {
    /// Clauses parsed so far (`return…` must be the first).
    var count = 0
    /// Each clause's keyword (by clause name) once given.
    var seen: [String: Token] = [:]
    /// The first `port` of `from` or `to`.
    var port: Token?
    var icmp: Token?
    var limits: [Token] = []
    var overload: Token?
    var all: Token?
    var from: Token?
    var to: Token?
}

/// The checks across a rule's clauses, once all are parsed: each error points at the clause
/// that cannot stand with the others.
extension Parser {
    func checkAcrossClauses(_ rule: RuleSyntax, _ clauses: RuleClauses) throws(Failure) {
        try checkPorts(rule, clauses)
        try checkReplies(rule)
        try checkLimits(rule, clauses)
        if let family = rule.family { try checkFamily(family, rule, clauses) }
    }

    /// Ports need TCP or UDP; ICMP types need their ICMP.
    private func checkPorts(_ rule: RuleSyntax, _ clauses: RuleClauses) throws(Failure) {
        if let portToken = clauses.port {
            guard let protocols = rule.protocols else {
                throw failure("'port' needs 'proto tcp' or 'proto udp' in the same rule", at: portToken.span,
                              hint: "ports exist only in TCP and UDP: add proto tcp (or udp)")
            }
            if let other = protocols.first(where: { !IPProtocol(rawValue: $0).hasPorts }) {
                throw failure("'port' applies only to TCP and UDP, but this rule also matches '\(IPProtocol(rawValue: other).name)'",
                              at: portToken.span, hint: "write a separate rule for the other protocols")
            }
        }
        if let icmpToken = clauses.icmp {
            let wanted: IPProtocol = icmpToken.text == "icmp6-type" ? .icmpv6 : .icmp
            guard rule.protocols == [wanted.rawValue] else {
                throw failure("'\(icmpToken.text)' needs 'proto \(wanted.name)' in the same rule", at: icmpToken.span,
                              hint: "add proto \(wanted.name)")
            }
        }
    }

    /// `return-rst` answers TCP only.
    private func checkReplies(_ rule: RuleSyntax) throws(Failure) {
        guard let reply = rule.reply, reply.kind == .rst, let protocols = rule.protocols,
              !protocols.contains(IPProtocol.tcp.rawValue) else { return }
        let names = protocols.map { IPProtocol(rawValue: $0).name }.joined(separator: ", ")
        throw failure("'return-rst' answers only TCP, and this rule matches proto \(names)", at: reply.token.span,
                      hint: "write block return (a RST for TCP, an ICMP unreachable for the rest) or block return-icmp")
    }

    /// Limits and `overload` belong to pass rules, and `overload` needs a limit.
    private func checkLimits(_ rule: RuleSyntax, _ clauses: RuleClauses) throws(Failure) {
        if rule.action == .block, let token = clauses.limits.first ?? clauses.overload {
            throw failure("'\(token.text)' applies only to 'pass' rules", at: token.span,
                          hint: "limits decide when a passing connection is refused; a 'block' rule refuses all")
        }
        if let overload = clauses.overload, clauses.limits.isEmpty {
            throw failure("'overload' needs 'max-src-conn' or 'max-src-conn-rate' in the same rule", at: overload.span,
                          hint: "for example: max-src-conn-rate 5/30 overload <bruteforce>")
        }
    }

    /// `inet` or `inet6` against the addresses and the ICMP protocol of the rule.
    private func checkFamily(_ family: AddressFamily, _ rule: RuleSyntax, _ clauses: RuleClauses) throws(Failure) {
        for (address, clause) in [(rule.from, clauses.from), (rule.to, clauses.to)] {
            guard let address, clause != nil else { continue }
            for entry in address.entries where entry.prefix.isIPv4 != (family == .inet) {
                let kind = entry.prefix.isIPv4 ? "IPv4" : "IPv6"
                throw failure("\(kind) address \(entry.prefix) can never match in an '\(family.rawValue)' rule",
                              at: entry.span, hint: "remove '\(family.rawValue)' or this address")
            }
        }
        guard let protocols = rule.protocols, let protoToken = clauses.seen["proto"] else { return }
        if family == .inet6, protocols.contains(IPProtocol.icmp.rawValue) {
            throw failure("'icmp' is ICMP for IPv4 and can never match in an 'inet6' rule", at: protoToken.span,
                          hint: "use proto icmp6")
        }
        if family == .inet, protocols.contains(IPProtocol.icmpv6.rawValue) {
            throw failure("'icmp6' is ICMP for IPv6 and can never match in an 'inet' rule", at: protoToken.span,
                          hint: "use proto icmp")
        }
    }
}
