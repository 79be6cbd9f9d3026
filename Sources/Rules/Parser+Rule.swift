import Wire

/// `pass` and `block` rules: the clauses, one at a time, then the checks across them
/// (`Parser+Validation.swift`).
extension Parser {
    /// A `pass` or `block` rule: its clauses in any order, each at most once, then the checks
    /// across them.
    mutating func parseRule(_ first: Token) throws(Failure) -> RuleSyntax {
        var rule = RuleSyntax(action: first.text == "pass" ? .pass : .block, first: first)
        var clauses = RuleClauses()
        while let token = next() {
            guard token.kind == .word else {
                throw failure("expected a keyword, found \(token.quoted)", at: token.span,
                              hint: "a rule reads: pass|block [in|out|forward] [log] [quick] [on IF] [inet|inet6] "
                                  + "[proto P] [from ADDR [port P]] [to ADDR [port P]] [options]")
            }
            try parseClause(token, into: &rule, &clauses)
            clauses.count += 1
        }
        try checkAcrossClauses(rule, clauses)
        return rule
    }

    /// One clause of a rule, starting at its keyword `token`.
    private mutating func parseClause(_ token: Token, into rule: inout RuleSyntax,
                                      _ clauses: inout RuleClauses) throws(Failure) {
        switch token.text {
        case "in", "out", "forward":
            try parseDirection(token, into: &rule, &clauses)
        case "return", "return-rst", "return-icmp", "return-icmp6":
            try parseReturn(token, into: &rule, &clauses)
        case "quick":
            try once(token, &clauses)
            rule.quick = true
        case "log":
            try once(token, &clauses)
            rule.log = true
        case "on":
            try once(token, &clauses)
            rule.interface = try parseInterfaces(after: token)
        case "inet", "inet6":
            try once(token, as: "inet", &clauses)
            rule.family = token.text == "inet" ? .inet : .inet6
        case "proto":
            try once(token, &clauses)
            rule.protocols = try parseProtocols(after: token)
        case "all", "from", "to":
            try parseHosts(token, into: &rule, &clauses)
        case "icmp-type", "icmp6-type":
            try once(token, as: "icmp-type", &clauses)
            clauses.icmp = token
            rule.icmpTypes = try parseICMPTypes(after: token, version6: token.text == "icmp6-type")
        case "label":
            try once(token, &clauses)
            guard let value = next(), value.kind == .string || value.kind == .word else {
                throw failure("expected a quoted label after 'label'", at: takenSpan, hint: "write label \"ssh\"")
            }
            rule.label = value.text
        case "max-src-conn":
            try once(token, &clauses)
            clauses.limits.append(token)
            rule.maxConnections = try parseCount(after: token)
        case "max-src-conn-rate":
            try once(token, &clauses)
            clauses.limits.append(token)
            rule.rate = try parseRate(after: token, example: "5/30")
        case "overload":
            try parseOverload(token, into: &rule, &clauses)
        case "flush":
            throw failure("'flush' goes right after 'overload <table>'", at: token.span,
                          hint: "write overload <bruteforce> flush")
        case "keep":
            try once(token, &clauses)
            guard next()?.isWord("state") == true else {
                throw failure("expected 'state' after 'keep'", at: takenSpan,
                              hint: "'pass' always keeps state; 'keep state' may be left out")
            }
        default:
            let hint = Parser.unsupportedRuleWords[token.text]
                ?? Suggestion.hint(for: token.text, among: Parser.ruleKeywords)
                ?? "see the rule reference in rules/README.md"
            throw failure("unknown keyword '\(token.text)'", at: token.span, hint: hint)
        }
    }

    /// Fails when the clause `name` (the token's word by default) was already given.
    private func once(_ token: Token, as name: String? = nil, _ clauses: inout RuleClauses) throws(Failure) {
        let key = name ?? token.text
        guard clauses.seen[key] == nil else {
            let hint: String
            switch key {
            case "proto": hint = "list several in one clause: proto { tcp, udp }"
            case "from", "to": hint = "list several addresses in one clause: \(key) { 192.0.2.1, 198.51.100.0/24 }"
            case "on": hint = "list several interfaces in one clause: on { eth0, eth1 }"
            default: hint = "remove one of them"
            }
            throw failure("'\(token.text)' given twice in one rule", at: token.span, hint: hint)
        }
        clauses.seen[key] = token
    }

    /// `in`, `out` or `forward`; in a forward rule, `in on IF` and `out on IF` name the
    /// interfaces the packet comes in and goes out on.
    private mutating func parseDirection(_ token: Token, into rule: inout RuleSyntax,
                                         _ clauses: inout RuleClauses) throws(Failure) {
        if rule.direction == .forward, token.text != "forward", peek?.isWord("on") == true {
            try once(token, as: token.text + " on", &clauses)
            _ = next()
            let spec = try parseInterfaces(after: token)
            if token.text == "in" { rule.inInterface = spec } else { rule.outInterface = spec }
            return
        }
        if let earlier = rule.direction {
            throw failure("a rule has one direction, and '\(earlier.rawValue)' was already given", at: token.span,
                          hint: earlier == .forward
                              ? "in a forward rule write 'in on IF' and 'out on IF' for the interfaces"
                              : "write one rule per direction, or leave the direction out to match all three")
        }
        rule.direction = Direction(rawValue: token.text)
    }

    /// `block return`, `return-rst`, `return-icmp` or `return-icmp6`, right after `block`.
    private func parseReturn(_ token: Token, into rule: inout RuleSyntax, _ clauses: inout RuleClauses) throws(Failure) {
        guard rule.action == .block else {
            throw failure("'\(token.text)' applies only to 'block' rules", at: token.span,
                          hint: "a pass rule lets the connection start; write block \(token.text) … to refuse it with an answer")
        }
        try once(token, as: "return", &clauses)
        guard clauses.count == 0 else {
            throw failure("'\(token.text)' goes right after 'block'", at: token.span,
                          hint: "write block \(token.text) in … (as pf does)")
        }
        rule.reply = (token.text == "return-icmp6" ? .icmp : RuleReply(rawValue: token.text)!, token)
    }

    /// `all` (from any to any), or `from`/`to` with an address and perhaps ports.
    private mutating func parseHosts(_ token: Token, into rule: inout RuleSyntax,
                                     _ clauses: inout RuleClauses) throws(Failure) {
        if token.text == "all" {
            if clauses.seen["from"] != nil || clauses.seen["to"] != nil {
                throw failure("'all' means 'from any to any' and cannot follow 'from' or 'to'", at: token.span,
                              hint: "remove 'all'")
            }
            try once(token, &clauses)
            clauses.all = token
            rule.from = AddressSyntax(any: true)
            rule.to = AddressSyntax(any: true)
            return
        }
        if let all = clauses.all {
            throw failure("'all' means 'from any to any'; '\(token.text)' cannot follow it", at: token.span,
                          hint: "remove 'all' (at column \(all.span.column)) or this '\(token.text)'")
        }
        try once(token, &clauses)
        let (address, ports, port) = try parseHost(after: token)
        if token.text == "from" {
            rule.from = address
            rule.fromPorts = ports
            clauses.from = token
        } else {
            rule.to = address
            rule.toPorts = ports
            clauses.to = token
        }
        if let port { clauses.port = clauses.port ?? port }
    }

    /// `overload <table>`, perhaps followed by `flush`.
    private mutating func parseOverload(_ token: Token, into rule: inout RuleSyntax,
                                        _ clauses: inout RuleClauses) throws(Failure) {
        try once(token, &clauses)
        clauses.overload = token
        guard let table = next(), table.kind == .table else {
            throw failure("expected a table such as <bruteforce> after 'overload'", at: takenSpan,
                          hint: "declare one with: table <bruteforce> persist")
        }
        rule.overload = (table.text, table.span)
        if peek?.isWord("flush") == true {
            _ = next()
            rule.flush = true
        }
    }

    /// `on IF`, `on ! IF`, `on { IF, IF }`; a trailing `+` or `*` matches any suffix.
    mutating func parseInterfaces(after keyword: Token) throws(Failure) -> InterfaceSpec {
        var spec = InterfaceSpec()
        if peek?.kind == .bang {
            _ = next()
            spec.negated = true
        }
        var names: [Token] = []
        if peek?.kind == .leftBrace {
            names = try parseList(opening: next(), what: "interface")
        } else if let token = next(), token.kind == .word || token.kind == .string {
            names = [token]
        } else {
            throw failure("expected an interface name after '\(keyword.text)'", at: takenSpan,
                          hint: "write on eth0, on { eth0, eth1 } or on eth+ (every name starting with eth)")
        }
        for token in names {
            guard token.kind == .word || token.kind == .string else {
                throw failure("expected an interface name, found \(token.quoted)", at: token.span)
            }
            var name = token.text
            let wildcard = name.hasSuffix("+") || name.hasSuffix("*")
            if wildcard { name.removeLast() }
            guard name.utf8.count <= 15, !name.isEmpty || wildcard,
                  name.unicodeScalars.allSatisfy({ $0.isASCII && $0 != "/" && $0 != " " }) else {
                throw failure("invalid interface name '\(token.text)'", at: token.span,
                              hint: "interface names have at most 15 characters, no '/' or spaces")
            }
            if wildcard { spec.prefixes.append(name) } else { spec.names.append(name) }
        }
        return spec
    }

    mutating func parseProtocols(after keyword: Token) throws(Failure) -> [UInt8] {
        let items: [Token]
        if peek?.kind == .leftBrace {
            items = try parseList(opening: next(), what: "protocol")
        } else if let token = next(), token.kind == .word {
            items = [token]
        } else {
            throw failure("expected a protocol after 'proto'", at: takenSpan,
                          hint: "write proto tcp, proto udp, proto icmp, proto icmp6, a number or a list { tcp, udp }")
        }
        var numbers: [UInt8] = []
        for token in items {
            guard token.kind == .word else { throw failure("expected a protocol, found \(token.quoted)", at: token.span) }
            if let number = IPProtocol.names[token.text] {
                numbers.append(number)
            } else if token.text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                guard let number = UInt8(token.text) else {
                    throw failure("protocol number \(token.text) is out of range (0-255)", at: token.span)
                }
                numbers.append(number)
            } else {
                throw failure("unknown protocol '\(token.text)'", at: token.span,
                              hint: Suggestion.hint(for: token.text, among: WellKnownNames.protocolNames)
                                  ?? "use tcp, udp, icmp, icmp6, another IANA protocol name or a number 0-255")
            }
        }
        return numbers
    }

    mutating func parseICMPTypes(after keyword: Token, version6: Bool) throws(Failure) -> [UInt8] {
        let names = version6 ? WellKnownNames.icmp6Types : WellKnownNames.icmpTypes
        let items: [Token]
        if peek?.kind == .leftBrace {
            items = try parseList(opening: next(), what: "ICMP type")
        } else if let token = next(), token.kind == .word {
            items = [token]
        } else {
            throw failure("expected an ICMP type after '\(keyword.text)'", at: takenSpan,
                          hint: "write a name such as echoreq, a number 0-255, or a list { echoreq, unreach }")
        }
        var types: [UInt8] = []
        for token in items {
            if let type = names[token.text] {
                types.append(type)
            } else if let type = UInt8(token.text) {
                types.append(type)
            } else {
                throw failure("unknown \(version6 ? "ICMPv6" : "ICMP") type '\(token.text)'", at: token.span,
                              hint: Suggestion.hint(for: token.text,
                                                    among: version6 ? WellKnownNames.icmp6TypeNames : WellKnownNames.icmpTypeNames)
                                  ?? "use a number 0-255 or a name: " + (version6 ? WellKnownNames.icmp6TypeNames : WellKnownNames.icmpTypeNames).joined(separator: ", "))
            }
        }
        return types
    }
}
