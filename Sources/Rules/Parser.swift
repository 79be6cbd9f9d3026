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
    /// The token `next()` last returned (nil at the end of the statement).
    private(set) var lastTaken: Token?
    /// Where "end of line" points: just after the last token.
    let endSpan: SourceSpan
    /// Warnings found so far (the statement still parses).
    var warnings: [Diagnostic] = []

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

    // MARK: - Pieces every kind of statement uses

    /// The tokens inside `{ … }` (commas optional, newlines already dropped). With
    /// `allowNegation`, a `!` is folded into the following item (its text gets a leading `!`).
    mutating func parseList(opening: Token?, what: String, allowNegation: Bool = false) throws(Failure) -> [Token] {
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

    mutating func parseCount(after keyword: Token) throws(Failure) -> Int {
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

    mutating func parseRate(after keyword: Token, example: String) throws(Failure) -> (count: Int, seconds: Int) {
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

    // MARK: - Token access

    var peek: Token? { index < tokens.count ? tokens[index] : nil }

    mutating func next() -> Token? {
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
    var takenSpan: SourceSpan { lastTaken?.span ?? endSpan }

    /// Fails when tokens remain; `candidates` are the words that could have come next.
    mutating func expectEnd(candidates: [String] = []) throws(Failure) {
        guard let token = next() else { return }
        if token.kind == .word, let hint = Suggestion.hint(for: token.text, among: candidates) {
            throw failure("unknown keyword '\(token.text)'", at: token.span, hint: hint)
        }
        throw failure("unexpected \(token.quoted) at the end of the statement", at: token.span, hint: "remove it")
    }

    func failure(_ message: String, at span: SourceSpan, hint: String? = nil) -> Failure {
        Failure(diagnostic: span.file.diagnostic(.error, message, at: span, hint: hint))
    }
}
