import Tracking
import Wire

/// Parses one statement (its tokens, macros already expanded) into a `Statement`.
///
/// The first error ends the statement (it is skipped; the file's other statements are still
/// parsed, so every broken statement is reported). Warnings go to `warnings`.
struct Parser {
    /// Ends the statement with one diagnostic.
    struct Failure: Error {
        var diagnostic: Diagnostic
    }

    private let tokens: [Token]
    private var index = 0
    private var lastTaken: Token?
    /// Where "end of line" points: just after the last token.
    private let endSpan: SourceSpan
    private(set) var warnings: [Diagnostic] = []

    /// The words that may start a statement.
    static let statementKeywords = ["pass", "block", "policy", "table", "set", "include"]
    /// The words that may appear in a rule after `pass` or `block`.
    static let ruleKeywords = [
        "in", "out", "forward", "quick", "log", "on", "inet", "inet6", "proto", "from", "to", "all",
        "icmp-type", "icmp6-type", "label", "max-src-conn", "max-src-conn-rate", "overload", "flush", "keep",
    ]
    static let settingKeywords = ["limit", "timeout", "tcp", "syn-rate", "return", "log", "reload", "state", "offload"]

    /// Words users of other firewalls type at the start of a statement, and what to say.
    static let statementSynonyms: [String: String] = [
        "allow": "did you mean 'pass'? (synwall says 'pass' and 'block', as pf does)",
        "accept": "did you mean 'pass'? (synwall says 'pass' and 'block', as pf does)",
        "permit": "did you mean 'pass'? (synwall says 'pass' and 'block', as pf does)",
        "deny": "did you mean 'block'? (synwall says 'pass' and 'block', as pf does)",
        "drop": "did you mean 'block'? (synwall says 'pass' and 'block', as pf does)",
        "reject": "did you mean 'block'? synwall cannot answer with a reset, it drops",
        "limit": "write 'pass … max-src-conn-rate 6/30 overload <table>' and block that table",
        "define": "define a macro as: name = value",
    ]

    /// pf and ufw words a rule does not take, and why.
    static let unsupportedRuleWords: [String: String] = [
        "flags": "rules see only packets that start a connection (a SYN for TCP), so 'flags' is not needed",
        "synproxy": "synwall does not answer handshakes itself; 'pass' keeps state",
        "modulate": "synwall does not rewrite packets; 'pass' keeps state",
        "return": "synwall cannot answer with a reset or ICMP error; 'block' drops",
        "return-rst": "synwall cannot answer with a reset; 'block' drops",
        "return-icmp": "synwall cannot answer with an ICMP error; 'block' drops",
        "port": "a port belongs to 'from' or 'to': write 'to port 22' (destination) or 'from port 53' (source)",
        "state": "'pass' always keeps state in synwall",
        "any": "write 'from any' or 'to any' (or 'all')",
    ]

    init(tokens: [Token], endSpan: SourceSpan) {
        self.tokens = tokens
        self.endSpan = endSpan
    }

    // MARK: - Statements

    /// The statement, or the first error in it.
    mutating func parseStatement() throws(Failure) -> Statement {
        guard let first = next() else { throw failure("empty statement", at: endSpan) }
        guard first.kind == .word else {
            throw failure("expected a statement (pass, block, policy, table, set, include or name = value), found \(first.quoted)",
                          at: first.span)
        }
        switch first.text {
        case "pass", "block": return .rule(try parseRule(first))
        case "policy": return .policy(try parsePolicy(first))
        case "table": return .table(try parseTable(first))
        case "set": return .setting(try parseSetting(first), token: first)
        case "include":
            guard let path = next(), path.kind == .string || path.kind == .word else {
                throw failure("expected a quoted file name after 'include'", at: takenSpan,
                              hint: "write include \"other.rules\" (relative to this file)")
            }
            try expectEnd()
            return .include(path: path.text, token: path)
        default:
            let hint = Parser.statementSynonyms[first.text.lowercased()]
                ?? Suggestion.hint(for: first.text, among: Parser.statementKeywords)
                ?? "a statement starts with pass, block, policy, table, set or include, or defines a macro (name = value)"
            throw failure("unknown keyword '\(first.text)'", at: first.span, hint: hint)
        }
    }

    // MARK: - Rules

    private mutating func parseRule(_ first: Token) throws(Failure) -> RuleSyntax {
        var rule = RuleSyntax(action: first.text == "pass" ? .pass : .block, first: first)
        var seen: [String: Token] = [:]
        var portToken: Token?
        var icmpToken: Token?
        var limitTokens: [Token] = []
        var overloadToken: Token?
        var allToken: Token?
        var fromToken: Token?, toToken: Token?

        func once(_ token: Token, as name: String? = nil) throws(Failure) {
            let key = name ?? token.text
            if seen[key] != nil {
                let hint: String
                switch key {
                case "proto": hint = "list several in one clause: proto { tcp, udp }"
                case "from", "to": hint = "list several addresses in one clause: \(key) { 192.0.2.1, 198.51.100.0/24 }"
                case "on": hint = "list several interfaces in one clause: on { eth0, eth1 }"
                default: hint = "remove one of them"
                }
                throw failure("'\(token.text)' given twice in one rule", at: token.span, hint: hint)
            }
            seen[key] = token
        }

        var previousWasFirst = true
        while let token = next() {
            defer { previousWasFirst = false }
            guard token.kind == .word else {
                throw failure("expected a keyword, found \(token.quoted)", at: token.span,
                              hint: "a rule reads: pass|block [in|out|forward] [log] [quick] [on IF] [inet|inet6] "
                                  + "[proto P] [from ADDR [port P]] [to ADDR [port P]] [options]")
            }
            switch token.text {
            case "in", "out", "forward":
                if rule.direction == .forward, token.text != "forward", peek?.isWord("on") == true {
                    try once(token, as: token.text + " on")
                    _ = next()
                    let spec = try parseInterfaces(after: token)
                    if token.text == "in" { rule.inInterface = spec } else { rule.outInterface = spec }
                    continue
                }
                if let earlier = rule.direction {
                    throw failure("a rule has one direction, and '\(earlier.rawValue)' was already given", at: token.span,
                                  hint: earlier == .forward
                                      ? "in a forward rule write 'in on IF' and 'out on IF' for the interfaces"
                                      : "write one rule per direction, or leave the direction out to match all three")
                }
                rule.direction = Direction(rawValue: token.text)
            case "return", "return-rst", "return-icmp", "return-icmp6":
                guard rule.action == .block else {
                    throw failure("'\(token.text)' applies only to 'block' rules", at: token.span,
                                  hint: "a pass rule lets the connection start; write block \(token.text) … to refuse it with an answer")
                }
                try once(token, as: "return")
                guard previousWasFirst else {
                    throw failure("'\(token.text)' goes right after 'block'", at: token.span,
                                  hint: "write block \(token.text) in … (as pf does)")
                }
                rule.reply = (token.text == "return-icmp6" ? .icmp : RuleReply(rawValue: token.text)!, token)
            case "quick":
                try once(token)
                rule.quick = true
            case "log":
                try once(token)
                rule.log = true
            case "on":
                try once(token)
                rule.interface = try parseInterfaces(after: token)
            case "inet", "inet6":
                try once(token, as: "inet")
                rule.family = token.text == "inet" ? .inet : .inet6
            case "proto":
                try once(token)
                rule.protocols = try parseProtocols(after: token)
            case "all":
                if seen["from"] != nil || seen["to"] != nil {
                    throw failure("'all' means 'from any to any' and cannot follow 'from' or 'to'", at: token.span,
                                  hint: "remove 'all'")
                }
                try once(token)
                allToken = token
                rule.from = AddressSyntax(any: true)
                rule.to = AddressSyntax(any: true)
            case "from", "to":
                if let allToken {
                    throw failure("'all' means 'from any to any'; '\(token.text)' cannot follow it", at: token.span,
                                  hint: "remove 'all' (at column \(allToken.span.column)) or this '\(token.text)'")
                }
                try once(token)
                let (address, ports, port) = try parseHost(after: token)
                if token.text == "from" {
                    rule.from = address
                    rule.fromPorts = ports
                    fromToken = token
                } else {
                    rule.to = address
                    rule.toPorts = ports
                    toToken = token
                }
                if let port { portToken = portToken ?? port }
            case "icmp-type", "icmp6-type":
                try once(token, as: "icmp-type")
                icmpToken = token
                rule.icmpTypes = try parseICMPTypes(after: token, version6: token.text == "icmp6-type")
            case "label":
                try once(token)
                guard let value = next(), value.kind == .string || value.kind == .word else {
                    throw failure("expected a quoted label after 'label'", at: takenSpan, hint: "write label \"ssh\"")
                }
                rule.label = value.text
            case "max-src-conn":
                try once(token)
                limitTokens.append(token)
                rule.maxConnections = try parseCount(after: token)
            case "max-src-conn-rate":
                try once(token)
                limitTokens.append(token)
                rule.rate = try parseRate(after: token, example: "5/30")
            case "overload":
                try once(token)
                overloadToken = token
                guard let table = next(), table.kind == .table else {
                    throw failure("expected a table such as <bruteforce> after 'overload'", at: takenSpan,
                                  hint: "declare one with: table <bruteforce> persist")
                }
                rule.overload = (table.text, table.span)
                if peek?.isWord("flush") == true {
                    _ = next()
                    rule.flush = true
                }
            case "flush":
                throw failure("'flush' goes right after 'overload <table>'", at: token.span,
                              hint: "write overload <bruteforce> flush")
            case "keep":
                try once(token)
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

        // Checks across clauses.
        if let portToken {
            guard let protocols = rule.protocols else {
                throw failure("'port' needs 'proto tcp' or 'proto udp' in the same rule", at: portToken.span,
                              hint: "ports exist only in TCP and UDP: add proto tcp (or udp)")
            }
            if let other = protocols.first(where: { !IPProtocol(rawValue: $0).hasPorts }) {
                throw failure("'port' applies only to TCP and UDP, but this rule also matches '\(IPProtocol(rawValue: other).name)'",
                              at: portToken.span, hint: "write a separate rule for the other protocols")
            }
        }
        if let icmpToken {
            let wanted: IPProtocol = icmpToken.text == "icmp6-type" ? .icmpv6 : .icmp
            let name = wanted.name
            guard rule.protocols == [wanted.rawValue] else {
                throw failure("'\(icmpToken.text)' needs 'proto \(name)' in the same rule", at: icmpToken.span,
                              hint: "add proto \(name)")
            }
        }
        if let reply = rule.reply, reply.kind == .rst, let protocols = rule.protocols, !protocols.contains(IPProtocol.tcp.rawValue) {
            let names = protocols.map { IPProtocol(rawValue: $0).name }.joined(separator: ", ")
            throw failure("'return-rst' answers only TCP, and this rule matches proto \(names)", at: reply.token.span,
                          hint: "write block return (a RST for TCP, an ICMP unreachable for the rest) or block return-icmp")
        }
        if rule.action == .block {
            if let token = limitTokens.first ?? overloadToken {
                throw failure("'\(token.text)' applies only to 'pass' rules", at: token.span,
                              hint: "limits decide when a passing connection is refused; a 'block' rule refuses all")
            }
        }
        if let overloadToken, limitTokens.isEmpty {
            throw failure("'overload' needs 'max-src-conn' or 'max-src-conn-rate' in the same rule", at: overloadToken.span,
                          hint: "for example: max-src-conn-rate 5/30 overload <bruteforce>")
        }
        if let family = rule.family {
            for (address, clause) in [(rule.from, fromToken), (rule.to, toToken)] {
                guard let address, clause != nil else { continue }
                for entry in address.entries where entry.prefix.isIPv4 != (family == .inet) {
                    let kind = entry.prefix.isIPv4 ? "IPv4" : "IPv6"
                    throw failure("\(kind) address \(entry.prefix) can never match in an '\(family.rawValue)' rule",
                                  at: entry.span, hint: "remove '\(family.rawValue)' or this address")
                }
            }
            if let protocols = rule.protocols, let protoToken = seen["proto"] {
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
        return rule
    }

    /// `on IF`, `on ! IF`, `on { IF, IF }`; a trailing `+` or `*` matches any suffix.
    private mutating func parseInterfaces(after keyword: Token) throws(Failure) -> InterfaceSpec {
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

    private mutating func parseProtocols(after keyword: Token) throws(Failure) -> [UInt8] {
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

    private mutating func parseICMPTypes(after keyword: Token, version6: Bool) throws(Failure) -> [UInt8] {
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

    /// `from`/`to`: an optional address, then an optional `port …`. Returns the port keyword too.
    private mutating func parseHost(after keyword: Token) throws(Failure) -> (AddressSyntax, PortSet?, Token?) {
        var address = AddressSyntax(any: true)
        if !(peek?.isWord("port") ?? false) {
            address = try parseAddress(after: keyword)
        }
        guard let portKeyword = peek, portKeyword.isWord("port") else { return (address, nil, nil) }
        _ = next()
        return (address, try parsePorts(after: portKeyword), portKeyword)
    }

    private mutating func parseAddress(after keyword: Token) throws(Failure) -> AddressSyntax {
        var address = AddressSyntax()
        if peek?.kind == .bang {
            _ = next()
            address.negated = true
        }
        guard let token = next() else {
            throw failure("expected an address after '\(keyword.text)'", at: endSpan, hint: Parser.addressHint)
        }
        switch token.kind {
        case .word where token.text == "any":
            address.any = true
        case .leftBrace:
            let items = try parseList(opening: token, what: "address", allowNegation: true)
            for item in items {
                try addAddressItem(item, to: &address, inList: true)
            }
        case .table:
            address.tables.append((token.text, token.span))
        case .word:
            try addAddressItem(token, to: &address, inList: false)
        default:
            throw failure("expected an address after '\(keyword.text)', found \(token.quoted)", at: token.span,
                          hint: Parser.addressHint)
        }
        return address
    }

    static let addressHint = "write an IPv4 or IPv6 address, a prefix such as 192.0.2.0/24, 'any', a list { … } or a table <name>"

    /// One address item; a `!` inside a list arrives as a `bang` token joined to the next
    /// by `parseList` (its text starts with "!").
    private mutating func addAddressItem(_ token: Token, to address: inout AddressSyntax, inList: Bool) throws(Failure) {
        var token = token
        var included = true
        if inList, token.text.hasPrefix("!") {
            included = false
            token.text.removeFirst()
        }
        if token.kind == .table {
            guard included else {
                throw failure("a table cannot be negated inside a list", at: token.span,
                              hint: "negate the whole list (from ! { … }) or use the table alone (from ! <\(token.text)>)")
            }
            address.tables.append((token.text, token.span))
            return
        }
        if token.text == "any" {
            throw failure("'any' inside a list matches everything", at: token.span, hint: "write 'any' alone")
        }
        try parsePrefix(token, included: included, into: &address.entries)
    }

    private mutating func parsePrefix(_ token: Token, included: Bool,
                                      into entries: inout [(prefix: IPPrefix, included: Bool, span: SourceSpan)]) throws(Failure) {
        switch IPPrefix.parse(token.text) {
        case .success(let prefix):
            if IPPrefix.hasHostBits(token.text) {
                warnings.append(token.span.file.diagnostic(
                    .warning, "\(token.text) has host bits set; it means \(prefix)", at: token.span,
                    hint: "write \(prefix)"))
            }
            entries.append((prefix, included, token.span))
        case .failure(.badLength(let length, let maximum)):
            throw failure("invalid prefix length '/\(length)' for \(maximum == 32 ? "IPv4" : "IPv6") (0-\(maximum))",
                          at: token.span)
        case .failure(.notAnAddress), nil:
            let hint = token.text == "self"
                ? "synwall does not know the host's own addresses: list them, or put them in a table"
                : Parser.addressHint + (token.text.contains(".") && token.text.contains(where: \.isLetter)
                    ? " (host names are not resolved)" : "")
            throw failure("invalid address '\(token.text)'", at: token.span, hint: hint)
        }
    }

    private mutating func parsePorts(after keyword: Token) throws(Failure) -> PortSet {
        var included: [ClosedRange<UInt16>] = []
        var excluded: [ClosedRange<UInt16>] = []
        if peek?.kind == .leftBrace {
            let opening = next()
            guard let opening else { throw failure("expected a port", at: endSpan) }
            var sawItem = false
            while true {
                guard let token = peek else {
                    throw failure("unterminated list; expected '}'", at: opening.span, hint: "close the list with '}'")
                }
                if token.kind == .rightBrace {
                    _ = next()
                    break
                }
                if token.kind == .comma {
                    _ = next()
                    continue
                }
                let (range, negate) = try parsePortItem()
                if negate { excluded.append(contentsOf: range) } else { included.append(contentsOf: range) }
                sawItem = true
            }
            guard sawItem else { throw failure("empty list", at: opening.span, hint: "put at least one port inside { }") }
        } else {
            guard peek != nil else {
                throw failure("expected a port after 'port'", at: endSpan,
                              hint: "write a number, a service name (ssh), a range (1000:2000) or a list { 80, 443 }")
            }
            let (range, negate) = try parsePortItem()
            if negate { excluded.append(contentsOf: range) } else { included.append(contentsOf: range) }
        }
        let set = PortSet(included: included, excluded: excluded)
        if set.isEmpty {
            throw failure("these ports match nothing", at: keyword.span, hint: "check the ranges and negations")
        }
        return set
    }

    /// One port item: `[op] PORT[:PORT]`. Returns the ranges it covers and whether it excludes.
    private mutating func parsePortItem() throws(Failure) -> ([ClosedRange<UInt16>], Bool) {
        guard var token = next() else { throw failure("expected a port", at: endSpan) }
        var op: Token.Kind?
        switch token.kind {
        case .less, .lessEqual, .greater, .greaterEqual, .notEqual, .bang, .equals:
            op = token.kind
            guard let value = next() else { throw failure("expected a port after \(token.quoted)", at: endSpan) }
            token = value
        default:
            break
        }
        guard token.kind == .word else {
            throw failure("expected a port, found \(token.quoted)", at: token.span,
                          hint: "write a number, a service name (ssh), a range (1000:2000) or a list { 80, 443 }")
        }
        let parts = token.text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard op == nil || op == .bang || op == .notEqual else {
                throw failure("a comparison cannot apply to a range", at: token.span, hint: "write the range alone: 1000:2000")
            }
            let low = try port(String(parts[0]), token)
            let high = try port(String(parts[1]), token)
            guard low <= high else {
                throw failure("empty port range \(token.text)", at: token.span, hint: "write the lower port first: \(high):\(low)")
            }
            return ([low...high], op != nil)
        }
        let value = try port(token.text, token)
        switch op {
        case nil, .equals: return ([value...value], false)
        case .bang, .notEqual: return ([value...value], true)
        case .less:
            guard value > 0 else { throw failure("'< 0' matches no port", at: token.span) }
            return ([0...(value - 1)], false)
        case .lessEqual: return ([0...value], false)
        case .greater:
            guard value < UInt16.max else { throw failure("'> 65535' matches no port", at: token.span) }
            return ([(value + 1)...UInt16.max], false)
        case .greaterEqual: return ([value...UInt16.max], false)
        default: return ([value...value], false)
        }
    }

    private func port(_ text: String, _ token: Token) throws(Failure) -> UInt16 {
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            guard text.utf8.count <= 5, let value = Int(text), value <= 65535 else {
                throw failure("port \(text) is out of range (0-65535)", at: token.span)
            }
            return UInt16(value)
        }
        if let value = WellKnownNames.services[text] { return value }
        guard !text.isEmpty else {
            throw failure("invalid port range '\(token.text)'", at: token.span, hint: "write LOW:HIGH, such as 1000:2000")
        }
        throw failure("unknown service '\(text)'", at: token.span,
                      hint: Suggestion.hint(for: text, among: WellKnownNames.serviceNames)
                          ?? "use a port number, or a service name from the built-in table (see rules/README.md)")
    }

    /// The tokens inside `{ … }` (commas optional, newlines already dropped). With
    /// `allowNegation`, a `!` is folded into the following item (its text gets a leading `!`).
    private mutating func parseList(opening: Token?, what: String, allowNegation: Bool = false) throws(Failure) -> [Token] {
        guard let opening else { throw failure("expected '{'", at: endSpan) }
        var items: [Token] = []
        var negateNext: Token?
        while true {
            guard let token = next() else {
                throw failure("unterminated list; expected '}'", at: opening.span, hint: "close the list with '}'")
            }
            switch token.kind {
            case .rightBrace:
                if let negateNext { throw failure("expected an \(what) after '!'", at: negateNext.span) }
                guard !items.isEmpty else {
                    throw failure("empty list", at: opening.span, hint: "put at least one \(what) inside { }")
                }
                return items
            case .comma:
                continue
            case .bang where allowNegation:
                negateNext = token
            case .leftBrace:
                throw failure("lists cannot be nested", at: token.span, hint: "write all items in one list")
            case .word, .string, .table:
                var item = token
                if negateNext != nil {
                    item.text = "!" + item.text
                    negateNext = nil
                }
                items.append(item)
            default:
                throw failure("expected an \(what) or '}', found \(token.quoted)", at: token.span)
            }
        }
    }

    private mutating func parseCount(after keyword: Token) throws(Failure) -> Int {
        guard let token = next(), token.kind == .word, token.text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let value = Int(token.text) else {
            throw failure("expected a number after '\(keyword.text)'", at: takenSpan,
                          hint: "for example: \(keyword.text) 10")
        }
        guard value >= 1 else { throw failure("'\(keyword.text)' must be at least 1", at: token.span) }
        return value
    }

    /// `COUNT/SECONDS`, both at least 1.
    /// `100/s`, `6000/m`, `100/1`, `5/30`: a count per window of seconds; nil otherwise.
    static func perSecondRate(_ text: String) -> (count: Int, seconds: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].hasPrefix("+"), let count = Int(parts[0]), count >= 1, count <= 1_000_000 else { return nil }
        switch parts[1] {
        case "s": return (count, 1)
        case "m": return (count, 60)
        case "h": return (count, 3600)
        default:
            guard !parts[1].hasPrefix("+"), let seconds = Int(parts[1]), seconds >= 1, seconds <= 86_400 else { return nil }
            return (count, seconds)
        }
    }

    private mutating func parseRate(after keyword: Token, example: String) throws(Failure) -> (count: Int, seconds: Int) {
        guard let token = next(), token.kind == .word else {
            throw failure("expected COUNT/SECONDS after '\(keyword.text)', such as \(example)", at: takenSpan)
        }
        let parts = token.text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[0]), let seconds = Int(parts[1]),
              !parts[0].hasPrefix("+"), !parts[1].hasPrefix("+") else {
            throw failure("expected COUNT/SECONDS after '\(keyword.text)', such as \(example)", at: token.span)
        }
        guard count >= 1, seconds >= 1 else {
            throw failure("both numbers of '\(keyword.text)' must be at least 1", at: token.span)
        }
        return (count, seconds)
    }

    // MARK: - Policy, tables, settings

    private mutating func parsePolicy(_ first: Token) throws(Failure) -> PolicySyntax {
        guard let directionToken = next(), directionToken.kind == .word,
              let direction = Direction(rawValue: directionToken.text) else {
            throw failure("expected a direction ('in', 'out' or 'forward') after 'policy'" + (lastTaken.map { ", found \($0.quoted)" } ?? ""),
                          at: takenSpan,
                          hint: lastTaken.flatMap { Suggestion.hint(for: $0.text, among: ["in", "out", "forward"]) }
                              ?? "write policy in drop, policy out pass or policy forward drop")
        }
        guard let verdictToken = next(), verdictToken.kind == .word else {
            throw failure("expected 'pass' or 'drop' after 'policy \(direction.rawValue)'", at: takenSpan,
                          hint: "write policy \(direction.rawValue) drop (or pass)")
        }
        let verdict: Verdict
        switch verdictToken.text {
        case "pass", "accept": verdict = .accept
        case "block", "drop": verdict = .drop
        case "reject":
            throw failure("'reject' is not available for a policy", at: verdictToken.span,
                          hint: "a policy drops silently; to answer, end the file with a rule such as block return \(direction.rawValue) all")
        default:
            throw failure("expected 'pass' or 'drop' after 'policy \(direction.rawValue)', found \(verdictToken.quoted)",
                          at: verdictToken.span,
                          hint: Suggestion.hint(for: verdictToken.text, among: ["pass", "drop", "block", "accept"])
                              ?? "write policy \(direction.rawValue) drop (or pass)")
        }
        var log = false
        if peek?.isWord("log") == true {
            _ = next()
            log = true
        }
        try expectEnd(candidates: log ? [] : ["log"])
        return PolicySyntax(direction: direction, verdict: verdict, log: log, first: first, directionToken: directionToken)
    }

    private mutating func parseTable(_ first: Token) throws(Failure) -> TableSyntax {
        guard let nameToken = next(), nameToken.kind == .table else {
            throw failure("expected a table name such as <trusted> after 'table'", at: takenSpan,
                          hint: "table names are written in angle brackets: table <trusted> { 192.0.2.0/24 }")
        }
        var table = TableSyntax(name: nameToken.text, nameToken: nameToken)
        let options = ["persist", "const", "expire", "file"]
        while let token = next() {
            switch token.kind {
            case .leftBrace:
                let items = try parseList(opening: token, what: "address", allowNegation: true)
                var entries: [(prefix: IPPrefix, included: Bool, span: SourceSpan)] = []
                for item in items {
                    var item = item
                    var included = true
                    if item.text.hasPrefix("!") {
                        included = false
                        item.text.removeFirst()
                    }
                    if item.kind == .table {
                        throw failure("a table cannot contain another table", at: item.span,
                                      hint: "list the addresses, or use both tables in the rule: from { <a>, <b> }")
                    }
                    try parsePrefix(item, included: included, into: &entries)
                }
                table.entries += entries.map { ($0.prefix, $0.included) }
            case .word where token.text == "persist":
                table.persist = true
            case .word where token.text == "const":
                table.isConst = true
            case .word where token.text == "expire":
                guard let value = next(), value.kind == .word else {
                    throw failure("expected a duration after 'expire'", at: takenSpan, hint: Parser.durationHint)
                }
                table.expire = try duration(value)
            case .word where token.text == "file":
                guard let path = next(), path.kind == .string || path.kind == .word else {
                    throw failure("expected a quoted file name after 'file'", at: takenSpan,
                                  hint: "write file \"blocked.txt\" (one address or prefix per line)")
                }
                table.files.append((path.text, path))
            case .word:
                throw failure("unknown keyword '\(token.text)'", at: token.span,
                              hint: Suggestion.hint(for: token.text, among: options)
                                  ?? "a table takes a list { … }, file \"…\", persist, const and expire DURATION")
            default:
                throw failure("expected a list { … }, file \"…\", persist, const or expire, found \(token.quoted)",
                              at: token.span)
            }
        }
        return table
    }

    static let durationHint = DurationText.hint

    private func duration(_ token: Token) throws(Failure) -> Duration {
        guard let value = Parser.durationValue(token.text) else {
            throw failure("invalid duration '\(token.text)'", at: token.span, hint: Parser.durationHint)
        }
        return value
    }

    /// The duration `text` writes in ``DurationText``'s grammar (`90`, `30s`, `1h30m`, `1w`,
    /// `500ms`); nil when malformed or over ~30 years (10⁹ seconds), longer than any timer.
    static func durationValue(_ text: String) -> Duration? {
        guard let nanoseconds = DurationText.nanoseconds(text), nanoseconds <= 1_000_000_000 * 1_000_000_000 else {
            return nil
        }
        return .nanoseconds(Int64(nanoseconds))
    }

    private mutating func parseSetting(_ first: Token) throws(Failure) -> SettingSyntax {
        guard let name = next(), name.kind == .word else {
            throw failure("expected a setting after 'set'", at: takenSpan,
                          hint: "settings: " + Parser.settingKeywords.joined(separator: ", "))
        }
        let setting: SettingSyntax
        switch name.text {
        case "limit":
            let names = SettingSyntax.LimitName.allCases.map(\.rawValue) + ["file-size"]
            guard let which = next(), which.kind == .word else {
                throw failure("expected what to limit after 'set limit'", at: takenSpan,
                              hint: "one of: " + names.joined(separator: ", "))
            }
            if which.text == "file-size" {
                guard let size = next(), size.kind == .word, let bytes = Parser.byteSize(size.text) else {
                    throw failure("expected a size after 'set limit file-size'", at: takenSpan,
                                  hint: "write set limit file-size 64M (bytes, or with K, M or G; at least 4K)")
                }
                setting = .fileSize(bytes)
                break
            }
            guard let limit = SettingSyntax.LimitName(rawValue: which.text) else {
                throw failure("unknown limit '\(which.text)'", at: which.span,
                              hint: Suggestion.hint(for: which.text, among: names) ?? "one of: " + names.joined(separator: ", "))
            }
            setting = .limit(limit, try parseCount(after: which))
        case "timeout":
            let names = RuleSettings.TimeoutName.allCases.map(\.rawValue)
            guard let which = next(), which.kind == .word else {
                throw failure("expected a timeout name after 'set timeout'", at: takenSpan,
                              hint: "one of: " + names.joined(separator: ", "))
            }
            guard let timeout = RuleSettings.TimeoutName(rawValue: which.text) else {
                throw failure("unknown timeout '\(which.text)'", at: which.span,
                              hint: Suggestion.hint(for: which.text, among: names) ?? "one of: " + names.joined(separator: ", "))
            }
            guard let value = next(), value.kind == .word else {
                throw failure("expected a duration after 'set timeout \(which.text)'", at: takenSpan,
                              hint: Parser.durationHint)
            }
            setting = .timeout(timeout, try duration(value))
        case "tcp":
            guard let which = next(), which.kind == .word else {
                throw failure("expected 'pickup', 'rst', 'paws' or 'timestamps' after 'set tcp'", at: takenSpan)
            }
            switch which.text {
            case "pickup":
                setting = .tcpPickup
            case "rst":
                guard let mode = next(), mode.kind == .word, let check = RuleSettings.RSTCheck(rawValue: mode.text) else {
                    throw failure("expected 'exact' or 'window' after 'set tcp rst'", at: takenSpan,
                                  hint: "exact drops a RST unless its sequence number is the one expected; window (the default) accepts any in the window")
                }
                setting = .tcpRST(check)
            case "paws":
                setting = .tcpPAWS
            case "timestamps":
                guard let mode = next(), mode.kind == .word, mode.text == "strict" else {
                    throw failure("expected 'strict' after 'set tcp timestamps'", at: takenSpan,
                                  hint: "strict drops a segment without timestamps once both SYNs carried them")
                }
                setting = .tcpTimestampsStrict
            default:
                throw failure("unknown TCP setting '\(which.text)'", at: which.span,
                              hint: Suggestion.hint(for: which.text, among: ["pickup", "rst", "paws", "timestamps"])
                                  ?? "write set tcp pickup, set tcp rst exact, set tcp paws or set tcp timestamps strict")
            }
        case "syn-rate":
            let rate = try parseRate(after: name, example: "100/1")
            var burst: Int?
            if peek?.isWord("burst") == true, let burstToken = next() {
                burst = try parseCount(after: burstToken)
            }
            setting = .synRate(RuleSettings.Rate(count: rate.count, seconds: rate.seconds, burst: burst))
            try expectEnd(candidates: burst == nil ? ["burst"] : [])
            return setting
        case "return":
            guard let rateWord = next(), rateWord.kind == .word, rateWord.text == "rate" else {
                throw failure("expected 'rate' after 'set return'", at: takenSpan,
                              hint: "write set return rate 100/s (answers of block return rules per second, all queues)")
            }
            guard let value = next(), value.kind == .word, let rate = Parser.perSecondRate(value.text) else {
                throw failure("expected a rate such as 100/s after 'set return rate'", at: takenSpan,
                              hint: "write COUNT/s, COUNT/m or COUNT/SECONDS, COUNT at least 1")
            }
            var burst: Int?
            if peek?.isWord("burst") == true, let burstToken = next() {
                burst = try parseCount(after: burstToken)
            }
            setting = .returnRate(RuleSettings.Rate(count: rate.count, seconds: rate.seconds, burst: burst))
            try expectEnd(candidates: burst == nil ? ["burst"] : [])
            return setting
        case "log" where peek?.isWord("flows") == true:
            _ = next()
            guard let mode = next(), mode.kind == .word, mode.text == "on" || mode.text == "off" else {
                throw failure("expected 'on' or 'off' after 'set log flows'", at: takenSpan,
                              hint: "set log flows off stops the flow records written when a connection ends")
            }
            setting = .logFlows(mode.text == "on")
        case "log" where peek?.isWord("rotate") == true:
            guard let rotate = next(), let size = next(), size.kind == .word,
                  let bytes = Parser.byteSize(size.text) else {
                throw failure("expected a size after 'set log rotate'", at: takenSpan,
                              hint: "write set log rotate 100M keep 10 (sizes in bytes, or with K, M or G)")
            }
            _ = rotate
            guard let keep = next(), keep.kind == .word, keep.text == "keep" else {
                throw failure("expected 'keep N' after the size", at: takenSpan,
                              hint: "write set log rotate 100M keep 10: how many rotated files to keep")
            }
            setting = .logRotate(bytes: bytes, keep: try parseCount(after: keep))
        case "log":
            guard let path = next(), path.kind == .string || path.kind == .word else {
                throw failure("expected a quoted file name after 'set log'", at: takenSpan,
                              hint: "write set log \"/var/log/synwall/events.jsonl\"")
            }
            setting = .log(path.text)
        case "reload":
            guard let mode = next(), mode.kind == .word, let states = RuleSettings.ReloadStates(rawValue: mode.text) else {
                throw failure("expected 'keep' or 'recheck' after 'set reload'", at: takenSpan,
                              hint: "keep leaves live connections alone on reload; recheck cuts those the new rules would block")
            }
            setting = .reload(states)
        case "state":
            setting = try parseStateSetting()
        case "offload":
            setting = try parseOffloadSetting()
        default:
            let special: [String: String] = [
                "block-policy": "synwall always drops silently; there is no block policy to set",
                "skip": "to leave an interface alone, do not attach synwall to it (synwall run --hook …)",
            ]
            throw failure("unknown setting '\(name.text)'", at: name.span,
                          hint: special[name.text] ?? Suggestion.hint(for: name.text, among: Parser.settingKeywords)
                              ?? "settings: " + Parser.settingKeywords.joined(separator: ", "))
        }
        try expectEnd()
        return setting
    }

    /// `set offload after N` or `set offload mark BIT` (after `set offload`).
    private mutating func parseOffloadSetting() throws(Failure) -> SettingSyntax {
        let names = ["after", "mark"]
        guard let which = next(), which.kind == .word, names.contains(which.text) else {
            throw failure("expected 'after' or 'mark' after 'set offload'", at: takenSpan,
                          hint: "set offload after 20 (packets each way before an established connection's plain "
                              + "segments pass in the kernel), set offload mark 0x100000 (the mark bit it uses)")
        }
        if which.text == "after" {
            let count = try parseCount(after: which)
            return .offloadAfter(count)
        }
        guard let value = next(), value.kind == .word else {
            throw failure("expected a mark bit after 'set offload mark'", at: takenSpan,
                          hint: "write set offload mark 0x100000: one bit, below 0x20000000 (it and the two above it are used)")
        }
        let text = value.text.lowercased()
        let parsed = text.hasPrefix("0x") ? UInt32(text.dropFirst(2), radix: 16) : UInt32(text)
        guard let bit = parsed, bit != 0, bit & (bit - 1) == 0, bit < 0x2000_0000 else {
            throw failure("'\(value.text)' is not a single mark bit below 0x20000000", at: value.span,
                          hint: "write one bit, e.g. 0x100000: offload uses it and the two bits above it")
        }
        return .offloadMark(bit)
    }

    /// `set state checkpoint INTERVAL|off` or `set state max-age DURATION` (after `set state`).
    private mutating func parseStateSetting() throws(Failure) -> SettingSyntax {
        let names = ["checkpoint", "max-age"]
        guard let which = next(), which.kind == .word else {
            throw failure("expected 'checkpoint' or 'max-age' after 'set state'", at: takenSpan,
                          hint: "set state checkpoint 10s (how often connections are saved for a crash; off: never), "
                              + "set state max-age 10m (an older state file is not loaded)")
        }
        guard names.contains(which.text) else {
            throw failure("unknown state setting '\(which.text)'", at: which.span,
                          hint: Suggestion.hint(for: which.text, among: names) ?? "one of: checkpoint, max-age")
        }
        guard let value = next(), value.kind == .word else {
            throw failure("expected \(which.text == "checkpoint" ? "an interval or off" : "a duration") after "
                              + "'set state \(which.text)'", at: takenSpan, hint: Parser.durationHint)
        }
        if which.text == "checkpoint" {
            return .stateCheckpoint(value.text == "off" ? .zero : try duration(value))
        }
        return .stateMaxAge(try duration(value))
    }

    /// `100M`, `64K`, `1G` or a number of bytes; at least 4096.
    static func byteSize(_ text: String) -> Int? {
        var digits = Substring(text)
        var unit = 1
        switch text.last {
        case "K", "k": unit = 1 << 10
        case "M", "m": unit = 1 << 20
        case "G", "g": unit = 1 << 30
        default: break
        }
        if unit != 1 { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let value = Int(digits) else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow || bytes < 4096 ? nil : bytes
    }

    // MARK: - Token access

    private var peek: Token? { index < tokens.count ? tokens[index] : nil }

    private mutating func next() -> Token? {
        guard index < tokens.count else {
            lastTaken = nil
            return nil
        }
        defer { index += 1 }
        lastTaken = tokens[index]
        return tokens[index]
    }

    /// The span of the token `next()` last returned, or the end of the line when it returned
    /// nil: where "expected X after Y" points.
    private var takenSpan: SourceSpan { lastTaken?.span ?? endSpan }

    /// Fails when tokens remain; `candidates` are the words that could have come next.
    private mutating func expectEnd(candidates: [String] = []) throws(Failure) {
        guard let token = next() else { return }
        if token.kind == .word, let hint = Suggestion.hint(for: token.text, among: candidates) {
            throw failure("unknown keyword '\(token.text)'", at: token.span, hint: hint)
        }
        throw failure("unexpected \(token.quoted) at the end of the statement", at: token.span, hint: "remove it")
    }

    private func failure(_ message: String, at span: SourceSpan, hint: String? = nil) -> Failure {
        Failure(diagnostic: span.file.diagnostic(.error, message, at: span, hint: hint))
    }
}
