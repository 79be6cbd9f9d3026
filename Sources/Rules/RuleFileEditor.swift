import Wire
/// Edits the rules of a rule file the way `ufw insert/delete` does, but on the file as a
/// person wrote it: only the lines of the rule concerned change; comments, blank lines,
/// macros, tables and the layout of everything else stay byte for byte.
///
/// Rules are numbered from 1 in evaluation order, across included files (as `rules list`
/// shows). An edit changes one file: the one holding the rule concerned (`add` appends to
/// the main file). Every edit is checked by compiling the whole resulting ruleset first; an
/// edit that would leave it invalid changes nothing. `save()` then writes atomically and
/// keeps one backup (`FILE.bak`).
public struct RuleFileEditor: Sendable {
    /// The main rule file.
    public let path: String
    /// The ruleset as it stands (after the edits made so far).
    public private(set) var ruleset: CompiledRuleset
    /// Files changed by edits, with their new text, not yet saved.
    public private(set) var pendingChanges: [String: String] = [:]
    /// Contents of the files read or changed so far.
    private var contents: [String: String] = [:]

    /// What an edit did.
    public struct Change: Sendable {
        /// One line for the user: `added rule 8: pass in proto tcp to port 8080`.
        public var summary: String
        /// The file that changed.
        public var file: String
        /// The ruleset after the change.
        public var ruleset: CompiledRuleset
    }

    /// Opens `path`; fails when it cannot be read or does not compile (fix it first).
    public init(path: String) throws(RuleEditError) {
        self.path = path
        switch FileSystem.read(path) {
        case .success(let text): contents[path] = text
        case .failure(let failure): throw .cannotRead(path: path, reason: failure.reason)
        }
        switch RuleCompiler.compile(file: path) {
        case .success(let ruleset): self.ruleset = ruleset
        case .failure(let diagnostics): throw .fileInvalid(path: path, diagnostics: diagnostics)
        }
    }

    /// Opens `text` as if it were the file at `path` (for tests and previews).
    public init(text: String, path: String) throws(RuleEditError) {
        self.path = path
        contents[path] = text
        switch RuleCompiler.compile(text: text, path: path) {
        case .success(let ruleset): self.ruleset = ruleset
        case .failure(let diagnostics): throw .fileInvalid(path: path, diagnostics: diagnostics)
        }
    }

    /// The current text of `file` (the main file by default), edits included.
    public func text(of file: String? = nil) -> String? {
        contents[file ?? path]
    }

    /// A numbered listing: `  3  rules/default.rules:31  pass in proto tcp to port ssh`,
    /// then the policies. `hits`, when given (from the daemon), adds a count column.
    public func listing(hits: [UInt64]? = nil) -> String {
        let rules = ruleset.rules
        let numberWidth = String(rules.count).count
        let placeWidth = rules.map { $0.location.fileAndLine.count }.max() ?? 0
        let hitWidth = hits.map { counts in counts.map { String($0).count }.max() ?? 1 } ?? 0
        var lines: [String] = []
        for rule in rules {
            let number = String(rule.index + 1)
            var line = String(repeating: " ", count: numberWidth - number.count + 2) + number + "  "
            if let hits {
                let count = rule.index < hits.count ? String(hits[rule.index]) : "-"
                line += String(repeating: " ", count: max(0, hitWidth - count.count)) + count + "  "
            }
            let place = rule.location.fileAndLine
            line += place + String(repeating: " ", count: placeWidth - place.count + 2) + rule.text
            lines.append(line)
        }
        if rules.isEmpty { lines.append("(no rules)") }
        for direction in Direction.allCases {
            let policy = ruleset.policy(for: direction)
            lines.append(policy.text + (policy.location.map { "  (\($0.fileAndLine))" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - Edits

    /// Appends `ruleText` after the last rule of the main file (or at its end when it has none).
    @discardableResult
    public mutating func add(_ ruleText: String) throws(RuleEditError) -> Change {
        let text = try checkedRuleText(ruleText)
        let lines = try lines(of: path)
        let mainRules = ruleset.rules.filter { $0.location.file == path }
        var at = lines.count
        var indent = ""
        if let last = mainRules.last {
            at = last.lastLine
            indent = Self.indentation(of: lines[last.location.line - 1])
        } else {
            while at > 0, Self.content(of: lines[at - 1]).allSatisfy({ $0 == " " || $0 == "\t" }) { at -= 1 }
        }
        var edited = lines
        edited.insert(indent + text + lineEnd(of: path), at: at)
        return try commit(file: path, lines: edited, expectedRuleCount: ruleset.rules.count + 1, newRuleLine: at + 1) {
            "added rule \($0): \($1)"
        }
    }

    /// Inserts `ruleText` before rule `number` (1-based), in that rule's file, with its indentation,
    /// and above the comment lines that describe that rule (see `commentLines(of:)`).
    /// `number` may be one past the last rule, which appends like `add`.
    @discardableResult
    public mutating func insert(_ ruleText: String, at number: Int) throws(RuleEditError) -> Change {
        if number == ruleset.rules.count + 1 { return try add(ruleText) }
        let target = try rule(number)
        let text = try checkedRuleText(ruleText)
        let file = target.location.file
        var lines = try lines(of: file)
        let at = target.location.line - 1 - commentLines(of: target, in: lines)
        lines.insert(Self.indentation(of: lines[target.location.line - 1]) + text + lineEnd(of: file), at: at)
        return try commit(file: file, lines: lines, expectedRuleCount: ruleset.rules.count + 1,
                          newRuleLine: at + 1) { "inserted rule \($0): \($1)" }
    }

    /// Deletes rule `number` (1-based): its lines and the comment lines that describe it (see
    /// `commentLines(of:)`); other comments stay.
    @discardableResult
    public mutating func delete(number: Int) throws(RuleEditError) -> Change {
        let target = try rule(number)
        let file = target.location.file
        var lines = try lines(of: file)
        let first = target.location.line - 1 - commentLines(of: target, in: lines)
        lines.removeSubrange(first..<target.lastLine)
        return try commit(file: file, lines: lines, expectedRuleCount: ruleset.rules.count - 1, newRuleLine: nil) { _, _ in
            "deleted rule \(number): \(target.text)"
        }
    }

    /// Deletes the rule written as `ruleText` (compared token by token, so spacing and
    /// comments do not matter). Fails when no rule or several rules read so.
    @discardableResult
    public mutating func delete(text ruleText: String) throws(RuleEditError) -> Change {
        guard let wanted = Compilation.normalized(ruleText) else { throw .notARule(ruleText) }
        let matches = ruleset.rules.filter { $0.text == wanted }
        guard let first = matches.first else { throw .noRuleReads(wanted) }
        guard matches.count == 1 else { throw .severalRulesRead(wanted, numbers: matches.map { $0.index + 1 }) }
        return try delete(number: first.index + 1)
    }

    /// Moves rule `from` so that it becomes rule `to` (both 1-based), within one file. The
    /// rule's lines move as they are, indentation, continuation lines and the comment lines
    /// that describe it included; it lands above the comment lines of the rule it now precedes.
    @discardableResult
    public mutating func move(from: Int, to: Int) throws(RuleEditError) -> Change {
        let moving = try rule(from)
        _ = try rule(to)
        guard from != to else {
            return Change(summary: "rule \(from) stays where it is", file: moving.location.file, ruleset: ruleset)
        }
        let others = ruleset.rules.filter { $0.index != moving.index }
        let file = moving.location.file
        // The rule it will precede, or (moving to the end) the rule it will follow.
        let anchor = others[min(to - 1, others.count - 1)]
        let before = to - 1 < others.count
        guard anchor.location.file == file else {
            throw .moveAcrossFiles(from: from, fromFile: file, to: to, toFile: anchor.location.file)
        }
        var lines = try lines(of: file)
        let comments = commentLines(of: moving, in: lines)
        let blockStart = moving.location.line - 1 - comments
        let block = Array(lines[blockStart..<moving.lastLine])
        var insertAt = before ? anchor.location.line - 1 - commentLines(of: anchor, in: lines) : anchor.lastLine
        lines.removeSubrange(blockStart..<moving.lastLine)
        if insertAt > blockStart { insertAt -= block.count }
        lines.insert(contentsOf: block, at: insertAt)
        return try commit(file: file, lines: lines, expectedRuleCount: ruleset.rules.count,
                          newRuleLine: insertAt + comments + 1) {
            "moved rule \(from) to \($0): \($1)"
        }
    }

    /// How many comment lines directly above `rule` (no blank line between) describe it. They
    /// do unless the rule is directly followed by another rule: then they head that run of
    /// rules (`# --- inbound ---` over several rules) and belong to none of them alone; and
    /// comments that start at the top of the file are its header.
    func commentLines(of rule: Rule, in lines: [String]) -> Int {
        let file = rule.location.file
        if ruleset.rules.contains(where: { $0.location.file == file && $0.location.line == rule.lastLine + 1 }) {
            return 0
        }
        var count = 0
        var index = rule.location.line - 2
        while index >= 0 {
            let content = Self.content(of: lines[index]).drop { $0 == " " || $0 == "\t" }
            guard content.hasPrefix("#") else { break }
            // A comment that ends a continued line is part of that line, not a comment line.
            if index > 0, Self.content(of: lines[index - 1]).hasSuffix("\\") { break }
            count += 1
            index -= 1
        }
        // Comments from the very top of the file down to the rule are the file's header.
        return index < 0 ? 0 : count
    }

    // MARK: - Saving

    /// Writes every changed file atomically (temporary file, then rename; owner and mode
    /// kept), after copying its previous contents to `FILE.bak` when `backup` is set.
    /// Returns the files written.
    @discardableResult
    public mutating func save(backup: Bool = true) throws(RuleEditError) -> [String] {
        var written: [String] = []
        for (file, text) in pendingChanges.sorted(by: { $0.key < $1.key }) {
            if case .failure(let failure) = FileSystem.writeAtomically(text, to: file, backup: backup ? file + ".bak" : nil) {
                throw .cannotWrite(path: file, reason: failure.description)
            }
            written.append(file)
        }
        pendingChanges = [:]
        return written
    }

    // MARK: - Internals

    private func rule(_ number: Int) throws(RuleEditError) -> Rule {
        guard number >= 1, number <= ruleset.rules.count else {
            throw .noSuchRule(number, count: ruleset.rules.count)
        }
        return ruleset.rules[number - 1]
    }

    /// The rule text, checked to be one `pass`/`block` line.
    private func checkedRuleText(_ text: String) throws(RuleEditError) -> String {
        let trimmed = String(text.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
        guard !trimmed.contains("\n"), !trimmed.contains("\r") else { throw .multipleLines }
        guard trimmed.hasPrefix("pass ") || trimmed.hasPrefix("block ") || trimmed == "pass" || trimmed == "block",
              !trimmed.hasSuffix("\\") else {
            throw .notARule(trimmed)
        }
        return trimmed
    }

    /// The lines of `file`, each with its own line end (`\n` or `\r\n`; none on a last line
    /// without one), so that joining them gives the text back byte for byte. Split on bytes:
    /// in Swift, `"\r\n"` is a single `Character` and is not equal to `"\n"`.
    private mutating func lines(of file: String) throws(RuleEditError) -> [String] {
        if contents[file] == nil {
            switch FileSystem.read(file) {
            case .success(let text): contents[file] = text
            case .failure(let failure): throw .cannotRead(path: file, reason: failure.reason)
            }
        }
        let bytes = Array((contents[file] ?? "").utf8)
        var lines: [String] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            lines.append(String(decoding: bytes[start...index], as: UTF8.self))
            start = index + 1
        }
        if start < bytes.count { lines.append(String(decoding: bytes[start...], as: UTF8.self)) }
        return lines
    }

    /// The line end a new line of `file` gets: the one most of its lines use (`\n` for a new file).
    private func lineEnd(of file: String) -> String {
        let bytes = Array((contents[file] ?? "").utf8)
        var crlf = 0, lf = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            if index > 0, bytes[index - 1] == UInt8(ascii: "\r") { crlf += 1 } else { lf += 1 }
        }
        return crlf > lf ? "\r\n" : "\n"
    }

    /// A line without its line end.
    private static func content(of line: String) -> String {
        var bytes = Array(line.utf8)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Validates the edited file within the whole ruleset, then adopts it. `newRuleLine` is
    /// where the added or moved rule now starts in `file`; `summary` gets its number and text.
    private mutating func commit(file: String, lines: [String], expectedRuleCount: Int, newRuleLine: Int?,
                                 summary: (Int, String) -> String) throws(RuleEditError) -> Change
    {
        // Every line keeps its own end, but the last line of a file without a final newline
        // gets one when a line now follows it, and an appended last line loses its own when
        // the file had none at its end.
        let newline = lineEnd(of: file)
        var lines = lines
        for index in lines.indices.dropLast() where !lines[index].utf8.contains(UInt8(ascii: "\n")) {
            lines[index] += newline
        }
        let original = contents[file] ?? ""
        if let last = lines.last, !original.isEmpty, original.utf8.last != UInt8(ascii: "\n") {
            lines[lines.count - 1] = Self.content(of: last)
        }
        let text = lines.joined()
        var overrides = pendingChanges
        overrides[file] = text
        let result: Result<CompiledRuleset, Diagnostics>
        if let mainText = overrides[path] {
            result = RuleCompiler.compile(text: mainText, path: path, overrides: overrides)
        } else {
            result = RuleCompiler.compile(file: path, overrides: overrides)
        }
        switch result {
        case .failure(let diagnostics):
            throw .editInvalid(diagnostics)
        case .success(let newRuleset):
            let placed = newRuleLine.flatMap { line in
                newRuleset.rules.first { $0.location.file == file && $0.location.line == line }
            }
            guard newRuleset.rules.count == expectedRuleCount, newRuleLine == nil || placed != nil else {
                throw .notARule(newRuleLine.map { Self.content(of: lines[$0 - 1]) } ?? "")
            }
            contents[file] = text
            pendingChanges[file] = text
            ruleset = newRuleset
            return Change(summary: summary((placed?.index ?? 0) + 1, placed?.text ?? ""), file: file, ruleset: newRuleset)
        }
    }

    private static func indentation(of line: String) -> String {
        String(line.prefix { $0 == " " || $0 == "\t" })
    }
}

/// Why a rule edit was refused. Nothing is changed when one is thrown.
public enum RuleEditError: Error, Sendable, CustomStringConvertible {
    /// The file could not be read.
    case cannotRead(path: String, reason: String)
    /// The file has errors already.
    case fileInvalid(path: String, diagnostics: Diagnostics)
    /// There is no rule with that number.
    case noSuchRule(Int, count: Int)
    /// The text given is not a single `pass`/`block` rule.
    case notARule(String)
    /// The text given spans several lines.
    case multipleLines
    /// No rule reads like the text given.
    case noRuleReads(String)
    /// Several rules read like the text given.
    case severalRulesRead(String, numbers: [Int])
    /// `move` would carry a rule into another file.
    case moveAcrossFiles(from: Int, fromFile: String, to: Int, toFile: String)
    /// The edit would make the ruleset invalid.
    case editInvalid(Diagnostics)
    /// Writing failed.
    case cannotWrite(path: String, reason: String)

    /// The diagnostics behind the refusal, for `fileInvalid` and `editInvalid`.
    public var diagnostics: Diagnostics? {
        switch self {
        case .fileInvalid(_, let diagnostics), .editInvalid(let diagnostics): return diagnostics
        default: return nil
        }
    }

    /// One line saying what happened and what to do (the diagnostics, if any, apart).
    public var message: String {
        switch self {
        case .cannotRead(let path, let reason):
            return "cannot read '\(path)': \(reason)"
        case .fileInvalid(let path, _):
            return "\(path) has errors; fix them first (synwall check \(path)), then edit"
        case .noSuchRule(let number, let count):
            return "there is no rule \(number): the file has \(count) rule\(count == 1 ? "" : "s") (see synwall rules list)"
        case .notARule(let text):
            return "'\(text)' is not a rule: give one rule, starting with pass or block, on one line"
        case .multipleLines:
            return "give one rule on one line"
        case .noRuleReads(let text):
            return "no rule reads '\(text)' (see synwall rules list; or delete by number)"
        case .severalRulesRead(let text, let numbers):
            return "rules \(numbers.map(String.init).joined(separator: ", ")) all read '\(text)'; delete one by number"
        case .moveAcrossFiles(let from, let fromFile, let to, let toFile):
            return "rule \(from) is in \(fromFile) but position \(to) is in \(toFile); move rules within one file, "
                + "or delete and insert"
        case .editInvalid:
            return "the edit would make the rules invalid; nothing was changed"
        case .cannotWrite(let path, let reason):
            return "cannot write '\(path)': \(reason); the file is unchanged"
        }
    }

    /// The diagnostics (if any), then the message.
    public var description: String {
        diagnostics.map { "\($0)\n\(message)" } ?? message
    }
}
