import Tracking
import Wire

/// `policy`, `table` and `set` statements.
extension Parser {
    mutating func parsePolicy(_ first: Token) throws(Failure) -> PolicySyntax {
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

    mutating func parseTable(_ first: Token) throws(Failure) -> TableSyntax {
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

    func duration(_ token: Token) throws(Failure) -> Duration {
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

    /// `set NAME …`: one setting, dispatched on its name.
    mutating func parseSetting(_ first: Token) throws(Failure) -> SettingSyntax {
        guard let name = next(), name.kind == .word else {
            throw failure("expected a setting after 'set'", at: takenSpan,
                          hint: "settings: " + Parser.settingKeywords.joined(separator: ", "))
        }
        let setting: SettingSyntax
        switch name.text {
        case "limit": setting = try parseLimitSetting()
        case "timeout": setting = try parseTimeoutSetting()
        case "tcp": setting = try parseTCPSetting()
        case "syn-rate":
            let rate = try parseRate(after: name, example: "100/1")
            return .synRate(try parseBurstAndEnd(rate))
        case "return":
            guard let rateWord = next(), rateWord.kind == .word, rateWord.text == "rate" else {
                throw failure("expected 'rate' after 'set return'", at: takenSpan,
                              hint: "write set return rate 100/s (answers of block return rules per second, all queues)")
            }
            guard let value = next(), value.kind == .word, let rate = Parser.perSecondRate(value.text) else {
                throw failure("expected a rate such as 100/s after 'set return rate'", at: takenSpan,
                              hint: "write COUNT/s, COUNT/m or COUNT/SECONDS, COUNT at least 1")
            }
            return .returnRate(try parseBurstAndEnd(rate))
        case "log": setting = try parseLogSetting()
        case "reload":
            guard let mode = next(), mode.kind == .word, let states = RuleSettings.ReloadStates(rawValue: mode.text) else {
                throw failure("expected 'keep' or 'recheck' after 'set reload'", at: takenSpan,
                              hint: "keep leaves live connections alone on reload; recheck cuts those the new rules would block")
            }
            setting = .reload(states)
        case "state": setting = try parseStateSetting()
        case "offload": setting = try parseOffloadSetting()
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

    /// A rate's optional `burst N`, then the end of the statement (`set syn-rate`, `set return rate`).
    private mutating func parseBurstAndEnd(_ rate: (count: Int, seconds: Int)) throws(Failure) -> RuleSettings.Rate {
        var burst: Int?
        if peek?.isWord("burst") == true, let burstToken = next() {
            burst = try parseCount(after: burstToken)
        }
        try expectEnd(candidates: burst == nil ? ["burst"] : [])
        return RuleSettings.Rate(count: rate.count, seconds: rate.seconds, burst: burst)
    }

    /// `set limit NAME N` or `set limit file-size SIZE` (after `set limit`).
    private mutating func parseLimitSetting() throws(Failure) -> SettingSyntax {
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
            return .fileSize(bytes)
        }
        guard let limit = SettingSyntax.LimitName(rawValue: which.text) else {
            throw failure("unknown limit '\(which.text)'", at: which.span,
                          hint: Suggestion.hint(for: which.text, among: names) ?? "one of: " + names.joined(separator: ", "))
        }
        return .limit(limit, try parseCount(after: which))
    }

    /// `set timeout NAME DURATION` (after `set timeout`).
    private mutating func parseTimeoutSetting() throws(Failure) -> SettingSyntax {
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
        return .timeout(timeout, try duration(value))
    }

    /// `set tcp pickup`, `rst exact|window`, `paws` or `timestamps strict` (after `set tcp`).
    private mutating func parseTCPSetting() throws(Failure) -> SettingSyntax {
        guard let which = next(), which.kind == .word else {
            throw failure("expected 'pickup', 'rst', 'paws' or 'timestamps' after 'set tcp'", at: takenSpan)
        }
        switch which.text {
        case "pickup":
            return .tcpPickup
        case "rst":
            guard let mode = next(), mode.kind == .word, let check = RuleSettings.RSTCheck(rawValue: mode.text) else {
                throw failure("expected 'exact' or 'window' after 'set tcp rst'", at: takenSpan,
                              hint: "exact drops a RST unless its sequence number is the one expected; window (the default) accepts any in the window")
            }
            return .tcpRST(check)
        case "paws":
            return .tcpPAWS
        case "timestamps":
            guard let mode = next(), mode.kind == .word, mode.text == "strict" else {
                throw failure("expected 'strict' after 'set tcp timestamps'", at: takenSpan,
                              hint: "strict drops a segment without timestamps once both SYNs carried them")
            }
            return .tcpTimestampsStrict
        default:
            throw failure("unknown TCP setting '\(which.text)'", at: which.span,
                          hint: Suggestion.hint(for: which.text, among: ["pickup", "rst", "paws", "timestamps"])
                              ?? "write set tcp pickup, set tcp rst exact, set tcp paws or set tcp timestamps strict")
        }
    }

    /// `set log FILE`, `set log flows on|off` or `set log rotate SIZE keep N` (after `set log`).
    private mutating func parseLogSetting() throws(Failure) -> SettingSyntax {
        if peek?.isWord("flows") == true {
            _ = next()
            guard let mode = next(), mode.kind == .word, mode.text == "on" || mode.text == "off" else {
                throw failure("expected 'on' or 'off' after 'set log flows'", at: takenSpan,
                              hint: "set log flows off stops the flow records written when a connection ends")
            }
            return .logFlows(mode.text == "on")
        }
        if peek?.isWord("rotate") == true {
            _ = next()
            guard let size = next(), size.kind == .word, let bytes = Parser.byteSize(size.text) else {
                throw failure("expected a size after 'set log rotate'", at: takenSpan,
                              hint: "write set log rotate 100M keep 10 (sizes in bytes, or with K, M or G)")
            }
            guard let keep = next(), keep.kind == .word, keep.text == "keep" else {
                throw failure("expected 'keep N' after the size", at: takenSpan,
                              hint: "write set log rotate 100M keep 10: how many rotated files to keep")
            }
            return .logRotate(bytes: bytes, keep: try parseCount(after: keep))
        }
        guard let path = next(), path.kind == .string || path.kind == .word else {
            throw failure("expected a quoted file name after 'set log'", at: takenSpan,
                          hint: "write set log \"/var/log/synwall/events.jsonl\"")
        }
        return .log(path.text)
    }

    /// `set offload after N` or `set offload mark BIT` (after `set offload`).
    mutating func parseOffloadSetting() throws(Failure) -> SettingSyntax {
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
    mutating func parseStateSetting() throws(Failure) -> SettingSyntax {
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
}
