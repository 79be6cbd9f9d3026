import Wire

/// Addresses and ports in a rule: `from`/`to` hosts, address lists and tables, prefixes,
/// port lists and ranges (rules/README.md, "Addresses" and "Ports").
extension Parser {
    /// `from`/`to`: an optional address, then an optional `port …`. Returns the port keyword too.
    mutating func parseHost(after keyword: Token) throws(Failure) -> (AddressSyntax, PortSet?, Token?) {
        var address = AddressSyntax(any: true)
        if !(peek?.isWord("port") ?? false) {
            address = try parseAddress(after: keyword)
        }
        guard let portKeyword = peek, portKeyword.isWord("port") else { return (address, nil, nil) }
        _ = next()
        return (address, try parsePorts(after: portKeyword), portKeyword)
    }

    mutating func parseAddress(after keyword: Token) throws(Failure) -> AddressSyntax {
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
    mutating func addAddressItem(_ token: Token, to address: inout AddressSyntax, inList: Bool) throws(Failure) {
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

    mutating func parsePrefix(_ token: Token, included: Bool,
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

    mutating func parsePorts(after keyword: Token) throws(Failure) -> PortSet {
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
    mutating func parsePortItem() throws(Failure) -> ([ClosedRange<UInt16>], Bool) {
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

    func port(_ text: String, _ token: Token) throws(Failure) -> UInt16 {
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
}
