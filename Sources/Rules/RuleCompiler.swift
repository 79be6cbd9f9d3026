import Wire

/// Turns a rule file (and the files it includes) into a `CompiledRuleset`, or into every
/// error found.
///
/// Compiling touches nothing but the files it reads: `synwall check` and a reload use the
/// same entry point. A ruleset is returned only when there is no error; its warnings are in
/// `CompiledRuleset.warnings`.
public enum RuleCompiler {
    /// Compiles the rule file at `path`.
    ///
    /// - Parameters:
    ///   - path: the file, as it should appear in diagnostics.
    ///   - overrides: file contents to use instead of what is on disk, keyed by path as
    ///     diagnostics show it (the editor validates a change this way before writing it).
    ///   - limits: the bounds on sizes, errors, includes and macros (see `InputLimits`).
    public static func compile(file path: String, overrides: [String: String] = [:],
                               limits: InputLimits = .standard) -> Result<CompiledRuleset, Diagnostics> {
        let compilation = Compilation(overrides: overrides, limits: limits)
        compilation.loadMain(path: path, text: nil)
        return compilation.finish(mainFile: path)
    }

    /// Compiles `text` as if it were the file at `path` (includes and table files are read
    /// relative to that path).
    public static func compile(text: String, path: String = "<rules>", overrides: [String: String] = [:],
                               limits: InputLimits = .standard) -> Result<CompiledRuleset, Diagnostics>
    {
        let compilation = Compilation(overrides: overrides, limits: limits)
        compilation.loadMain(path: path, text: text)
        return compilation.finish(mainFile: path)
    }
}

/// The state of one compile: macros, tables, settings and rules gathered in file order.
final class Compilation {
    struct ParsedRule {
        var syntax: RuleSyntax
        var text: String
        var lastLine: Int
    }

    struct DeclaredTable {
        var syntax: TableSyntax
        var entries: [(prefix: IPPrefix, included: Bool)]
    }

    let overrides: [String: String]
    /// The bounds in force (`set limit file-size` changes the file sizes for later files).
    var limits: InputLimits
    /// Bytes and files read so far, and tokens produced by macro expansion.
    var bytesRead = 0
    var filesRead = 0
    var expandedTokens = 0
    /// Set once `limits.errors` errors are reported: nothing more is read or parsed.
    var stopped = false
    /// Errors among `diagnostics[..<countedUpTo]`.
    private var errorsSeen = 0
    private var countedUpTo = 0
    var diagnostics: [Diagnostic] = []
    var macros: [String: [Token]] = [:]
    var includeStack: [(display: String, canonical: String)] = []
    var files: [String] = []
    var tables: [DeclaredTable] = []
    var settings = RuleSettings()
    var policies: [Direction: PolicySyntax] = [:]
    var rules: [ParsedRule] = []

    init(overrides: [String: String], limits: InputLimits = .standard) {
        self.overrides = overrides
        self.limits = limits
    }

    /// True once `limits.errors` errors have been reported.
    var tooManyErrors: Bool {
        while countedUpTo < diagnostics.count {
            if diagnostics[countedUpTo].severity == .error { errorsSeen += 1 }
            countedUpTo += 1
        }
        return errorsSeen >= limits.errors
    }

    // MARK: - Loading

    func loadMain(path: String, text: String?) {
        guard let file = load(path, display: path, text: text, kind: .rules, from: nil) else { return }
        process(file, canonical: FileSystem.canonicalPath(path) ?? path)
    }

    enum FileKind {
        case rules, table
        var name: String { self == .rules ? "rule file" : "table file" }
    }

    /// The file at `path` (or `text`, or its override) as a checked `SourceFile`, or nil after
    /// reporting why not: unreadable, over a size cap, one file too many, or not text (a NUL
    /// byte, a byte that is not UTF-8, an over-long line; reported at that byte's line and
    /// column). `from` is the token that named it (an include or `file`); errors about the
    /// file as a whole point there, or at line 1 of the main file.
    func load(_ path: String, display: String, text: String?, kind: FileKind, from token: Token?) -> SourceFile? {
        func fail(_ message: String, hint: String?) -> SourceFile? {
            if let token {
                diagnostics.append(token.span.file.diagnostic(.error, message, at: token.span, hint: hint))
            } else {
                diagnostics.append(Diagnostic(severity: .error, message: message,
                                              location: SourceLocation(file: display, line: 1, column: 1), hint: hint))
            }
            return nil
        }
        let cap = kind == .rules ? limits.ruleFileBytes : limits.tableFileBytes
        guard filesRead < limits.files else {
            return fail("more than \(limits.files) files read in one compile", hint: "is a file included over and over?")
        }
        filesRead += 1
        let raising = "set limit file-size SIZE before it raises the cap (synwall check --max-file-size SIZE for one check)"
        let bytes: [UInt8]
        if let contents = text ?? overrides[path] {
            bytes = Array(contents.utf8)
            guard bytes.count <= cap else {
                return fail("\(kind.name) '\(display)' has \(bytes.count) bytes, over the cap of \(InputLimits.describe(bytes: cap))",
                            hint: raising)
            }
        } else {
            switch FileSystem.readBytes(path, limit: cap) {
            case .success(let read):
                bytes = read
            case .failure(.tooLarge(let size, let limit)):
                let cap = InputLimits.describe(bytes: limit)
                let what = size.map { "has \($0) bytes, over the cap of \(cap)" }
                    ?? "gave more than the cap of \(cap) (it is not a regular file)"
                return fail("\(kind.name) '\(display)' \(what)",
                            hint: "is this the file you meant? if so, " + raising)
            case .failure(.system(let failure)):
                if token == nil {
                    return fail("cannot read the rule file: \(failure.reason)", hint: path == DefaultRuleFile.path
                        ? "create it (examples in \(DefaultRuleFile.examples)) or name another rule file"
                        : "is the path right? (without one, commands use \(DefaultRuleFile.path))")
                }
                return fail("cannot read \(kind == .rules ? "included file" : "table file") '\(display)': \(failure.reason)",
                            hint: kind == .rules ? "paths are relative to the including file" : "paths are relative to the rule file")
            }
        }
        guard bytesRead + bytes.count <= limits.totalBytes else {
            return fail("the files of this ruleset pass \(InputLimits.describe(bytes: limits.totalBytes)) in all at '\(display)'",
                        hint: "is a large file included over and over? " + raising)
        }
        bytesRead += bytes.count
        let file = SourceFile(path: display, bytes: bytes, quoteWidth: limits.quoteWidth)
        if let problem = file.firstProblem(lineBytes: limits.lineBytes) {
            let span = SourceSpan(file: file, line: problem.line, column: problem.column, length: 1)
            var diagnostic = file.diagnostic(.error, problem.message, at: span, hint: problem.hint)
            // A binary's "line" is noise: quote only what is printable.
            if problem.message.hasPrefix("not a text file") || problem.message.contains("is longer than") {
                diagnostic.sourceLine = ""
            }
            diagnostics.append(diagnostic)
            return nil
        }
        return file
    }

    /// Lexes `file`, splits it into statements and handles each in order, until the error
    /// limit is reached.
    func process(_ file: SourceFile, canonical: String) {
        files.append(file.path)
        includeStack.append((file.path, canonical))
        defer { includeStack.removeLast() }

        var lexer = Lexer(file: file)
        _ = tooManyErrors  // brings errorsSeen up to date
        lexer.errorLimit = max(0, limits.errors - errorsSeen)
        let tokens = lexer.tokenize()
        diagnostics += lexer.diagnostics
        for statement in Compilation.statements(tokens) {
            if stopped || tooManyErrors {
                stopped = true
                return
            }
            handle(statement, in: file)
        }
    }

    /// Splits tokens into statements: a newline ends one unless it is inside `{ }`. A line
    /// that starts a new statement ends an unclosed list anyway, so one missing `}` is
    /// reported where it is and does not swallow the rest of the file.
    static func statements(_ tokens: [Token]) -> [[Token]] {
        var statements: [[Token]] = []
        var current: [Token] = []
        var depth = 0
        for (position, token) in tokens.enumerated() {
            switch token.kind {
            case .newline:
                if depth > 0, position + 1 < tokens.count, startsStatement(tokens, at: position + 1) {
                    depth = 0
                }
                if depth == 0, !current.isEmpty {
                    statements.append(current)
                    current = []
                }
            case .leftBrace:
                depth += 1
                current.append(token)
            case .rightBrace:
                depth = max(0, depth - 1)
                current.append(token)
            default:
                current.append(token)
            }
        }
        if !current.isEmpty { statements.append(current) }
        return statements
    }

    private static func startsStatement(_ tokens: [Token], at position: Int) -> Bool {
        let token = tokens[position]
        guard token.kind == .word else { return false }
        if Parser.statementKeywords.contains(token.text) { return true }
        return position + 1 < tokens.count && tokens[position + 1].kind == .equals
    }

    private func handle(_ raw: [Token], in file: SourceFile) {
        guard let first = raw.first else { return }
        if raw.contains(where: { $0.kind == .invalid }) { return }  // the lexer has reported it
        if first.kind == .word, raw.count >= 2, raw[1].kind == .equals {
            defineMacro(raw)
            return
        }
        guard let tokens = expandMacros(raw) else { return }
        let last = raw[raw.count - 1]
        let endSpan = SourceSpan(file: file, line: last.span.line, column: last.span.column + last.span.length, length: 1)
        var parser = Parser(tokens: tokens, endSpan: endSpan)
        let statement: Statement
        do {
            statement = try parser.parseStatement()
            diagnostics += parser.warnings
        } catch {
            diagnostics += parser.warnings
            diagnostics.append(error.diagnostic)
            return
        }
        switch statement {
        case .include(let path, let token):
            include(path, token: token, from: file)
        case .table(let table):
            declare(table, in: file)
        case .setting(let setting, _):
            apply(setting, in: file)
        case .policy(let policy):
            if let earlier = policies[policy.direction] {
                diagnostics.append(file.diagnostic(.error, "the policy for '\(policy.direction.rawValue)' is already set at \(earlier.first.span.location.fileAndLine)",
                                                   at: policy.first.span, hint: "keep one policy line per direction"))
            } else {
                policies[policy.direction] = policy
            }
        case .rule(let rule):
            rules.append(ParsedRule(syntax: rule, text: Compilation.text(of: raw), lastLine: last.span.line))
        }
    }

    /// The statement as written, on one line: tokens joined by one space, except where they
    /// touched in the source (`!<table>`, `{80,`).
    static func text(of raw: [Token]) -> String {
        var text = ""
        var previous: Token?
        for token in raw {
            if let previous {
                let touching = previous.span.line == token.span.line
                    && previous.span.column + previous.span.length == token.span.column
                if !touching { text += " " }
            }
            switch token.kind {
            case .string:
                text += "\""
                for character in token.text {
                    if character == "\"" || character == "\\" { text += "\\" }
                    text.append(character)
                }
                text += "\""
            case .table: text += "<\(token.text)>"
            case .macro: text += "$\(token.text)"
            default: text += token.text
            }
            previous = token
        }
        return text
    }

    /// One line of rule text in the form `Rule.text` uses (tokens joined by single spaces,
    /// comments dropped), or nil when it does not lex cleanly or is empty.
    static func normalized(_ line: String) -> String? {
        var lexer = Lexer(file: SourceFile(path: "<text>", text: line))
        let tokens = lexer.tokenize().filter { $0.kind != .newline }
        guard lexer.diagnostics.isEmpty, !tokens.isEmpty else { return nil }
        return text(of: tokens)
    }

    // MARK: - Macros

    private func defineMacro(_ raw: [Token]) {
        let name = raw[0]
        let valid = name.text.unicodeScalars.enumerated().allSatisfy { offset, scalar in
            scalar == "_" || (scalar.isASCII && scalar.properties.isAlphabetic) || (offset > 0 && scalar.isASCII && scalar.properties.numericType != nil)
        }
        guard valid else {
            diagnostics.append(name.span.file.diagnostic(.error, "invalid macro name '\(name.text)'", at: name.span,
                                                         hint: "macro names use letters, digits and '_', and start with a letter or '_'"))
            return
        }
        let value = Array(raw.dropFirst(2))
        guard !value.isEmpty else {
            diagnostics.append(name.span.file.diagnostic(.error, "expected a value after '='", at: raw[1].span,
                                                         hint: "write \(name.text) = value, e.g. ssh_port = 22"))
            return
        }
        if value.count == 1, value[0].kind == .string {
            var lexer = Lexer(text: value[0].text, span: value[0].span)
            var tokens = lexer.tokenize()
            diagnostics += lexer.diagnostics
            tokens.removeAll { $0.kind == .newline }
            guard !lexer.diagnostics.isEmpty || !tokens.isEmpty else {
                diagnostics.append(name.span.file.diagnostic(.error, "the value of macro '\(name.text)' is empty", at: value[0].span,
                                                             hint: "write \(name.text) = value, e.g. ssh_port = 22"))
                return
            }
            guard lexer.diagnostics.isEmpty, let expanded = expandMacros(tokens) else { return }
            macros[name.text] = expanded
        } else if let expanded = expandMacros(value) {
            macros[name.text] = expanded
        }
    }

    /// Replaces each `$name` by the macro's tokens (pointing at the reference); nil after
    /// reporting an undefined macro.
    private func expandMacros(_ tokens: [Token]) -> [Token]? {
        guard tokens.contains(where: { $0.kind == .macro }) else { return tokens }
        // Size first: a macro of macros may double at each level, so nothing is built
        // before the result is known to fit.
        var size = 0
        for token in tokens {
            size += token.kind == .macro ? (macros[token.text]?.count ?? 1) : 1
            if size > limits.expandedTokens {
                diagnostics.append(token.span.file.diagnostic(
                    .error, "macro expansion too large: more than \(limits.expandedTokens) tokens in one statement",
                    at: token.span, hint: "does a macro use another one several times over? list the values once"))
                return nil
            }
        }
        expandedTokens += size
        if expandedTokens > limits.totalExpandedTokens, let first = tokens.first {
            diagnostics.append(first.span.file.diagnostic(
                .error, "macros expand to more than \(limits.totalExpandedTokens) tokens in all; stopping",
                at: first.span, hint: "does a macro use another one several times over? list the values once"))
            stopped = true
            return nil
        }
        var expanded: [Token] = []
        expanded.reserveCapacity(size)
        for token in tokens {
            guard token.kind == .macro else {
                expanded.append(token)
                continue
            }
            guard let value = macros[token.text] else {
                let hint = Suggestion.hint(for: token.text, among: macros.keys.sorted(), quote: { "'$\($0)'" })
                    ?? "define it before its first use: \(token.text) = value"
                diagnostics.append(token.span.file.diagnostic(.error, "undefined macro '$\(token.text)'", at: token.span, hint: hint))
                return nil
            }
            for var piece in value {
                piece.span = token.span
                expanded.append(piece)
            }
        }
        return expanded
    }

    // MARK: - Includes

    private func include(_ path: String, token: Token, from file: SourceFile) {
        guard !stopped else { return }
        let resolved = FileSystem.resolve(path, relativeTo: file.path)
        let canonical = FileSystem.canonicalPath(resolved) ?? resolved
        if let position = includeStack.firstIndex(where: { $0.canonical == canonical }) {
            let chain = includeStack[position...].map(\.display) + [resolved]
            diagnostics.append(file.diagnostic(.error, "include cycle: " + chain.joined(separator: " -> "), at: token.span,
                                               hint: "remove this include, or the one that leads back here"))
            return
        }
        guard includeStack.count < limits.includeDepth else {
            diagnostics.append(file.diagnostic(.error, "includes nested too deeply (more than \(limits.includeDepth) levels)",
                                               at: token.span))
            return
        }
        guard let included = load(resolved, display: resolved, text: nil, kind: .rules, from: token) else { return }
        process(included, canonical: canonical)
    }

    // MARK: - Tables

    private func declare(_ table: TableSyntax, in file: SourceFile) {
        if let earlier = tables.first(where: { $0.syntax.name == table.name }) {
            diagnostics.append(file.diagnostic(.error, "table <\(table.name)> is already declared at \(earlier.syntax.nameToken.span.location.fileAndLine)",
                                               at: table.nameToken.span, hint: "give each table one declaration"))
            return
        }
        var entries = table.entries
        for (path, token) in table.files where !stopped {
            let resolved = FileSystem.resolve(path, relativeTo: file.path)
            guard let source = load(resolved, display: resolved, text: nil, kind: .table, from: token) else { continue }
            files.append(resolved)
            entries += tableFileEntries(source)
        }
        tables.append(DeclaredTable(syntax: table, entries: entries))
    }

    /// The prefixes of a table file: whitespace- or comma-separated, `#` comments, `!` to exclude.
    func tableFileEntries(_ file: SourceFile) -> [(prefix: IPPrefix, included: Bool)] {
        var entries: [(prefix: IPPrefix, included: Bool)] = []
        entries.reserveCapacity(file.lineCount)
        var errors = 0
        // With the line that counts the rest, one table file reports at most the error limit.
        let shown = max(1, limits.errors - 1)
        let bytes = file.bytes
        for line in 1...max(1, file.lineCount) {
            let start = file.lineStarts[line - 1]
            var end = line < file.lineStarts.count ? file.lineStarts[line] - 1 : bytes.count
            if let hash = bytes[start..<end].firstIndex(of: UInt8(ascii: "#")) { end = hash }
            var index = start
            while index < end {
                while index < end, Compilation.isTableSeparator(bytes[index]) { index += 1 }
                guard index < end else { break }
                let wordStart = index
                while index < end, !Compilation.isTableSeparator(bytes[index]) { index += 1 }
                var word = String(decoding: bytes[wordStart..<index], as: UTF8.self)
                var included = true
                if word.hasPrefix("!") {
                    included = false
                    word.removeFirst()
                }
                let column = String(decoding: bytes[start..<wordStart], as: UTF8.self).unicodeScalars.count + 1
                let span = SourceSpan(file: file, line: line, column: column, length: word.unicodeScalars.count + (included ? 0 : 1))
                switch IPPrefix.parse(word) {
                case .success(let prefix):
                    entries.append((prefix, included))
                case .failure(.badLength(let length, let maximum)):
                    errors += 1
                    if errors <= shown {
                        diagnostics.append(file.diagnostic(.error, "invalid prefix length '/\(length)' for \(maximum == 32 ? "IPv4" : "IPv6") (0-\(maximum))", at: span))
                    }
                case .failure(.notAnAddress), nil:
                    errors += 1
                    if errors <= shown {
                        diagnostics.append(file.diagnostic(.error, "invalid address '\(word)'", at: span,
                                                           hint: "a table file holds addresses and prefixes, separated by spaces, commas or lines; # starts a comment"))
                    }
                }
            }
        }
        if errors > shown {
            diagnostics.append(Diagnostic(severity: .error,
                                          message: "\(errors - shown) more invalid entries not shown",
                                          location: SourceLocation(file: file.path, line: file.lineCount, column: 1)))
        }
        return entries
    }

    private static func isTableSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: ",")
    }

    // MARK: - Settings

    private func apply(_ setting: SettingSyntax, in file: SourceFile) {
        switch setting {
        case .limit(let name, let value):
            switch name {
            case .states: settings.stateLimit = value
            case .sourceNodes: settings.sourceNodeLimit = value
            case .tableEntries: settings.tableEntryLimit = value
            case .halfOpen: settings.halfOpenLimit = value
            case .halfOpenPerSource: settings.halfOpenPerSourceLimit = value
            }
        case .timeout(let name, let duration): settings.timeouts[name] = duration
        case .tcpPickup: settings.tcpPickup = true
        case .tcpRST(let check): settings.tcpRST = check
        case .tcpPAWS: settings.tcpPAWS = true
        case .tcpTimestampsStrict: settings.tcpTimestampsStrict = true
        case .synRate(let rate): settings.synRate = rate
        case .returnRate(let rate): settings.returnRate = rate
        case .log(let path): settings.logPath = FileSystem.resolve(path, relativeTo: file.path)
        case let .logRotate(bytes, keep):
            settings.logRotateBytes = bytes
            settings.logRotateKeep = keep
        case .logFlows(let on): settings.logFlows = on
        case .reload(let states): settings.reloadStates = states
        case .stateCheckpoint(let interval): settings.stateCheckpoint = interval
        case .stateMaxAge(let age): settings.stateMaxAge = age
        case .fileSize(let bytes): limits = limits.withFileSize(bytes)
        case .offloadAfter(let count): settings.offloadAfter = count
        case .offloadMark(let bit): settings.offloadMark = bit
        }
    }

    // MARK: - Finishing

    func finish(mainFile: String) -> Result<CompiledRuleset, Diagnostics> {
        var tableIndex: [String: Int] = [:]
        for (index, table) in tables.enumerated() { tableIndex[table.syntax.name] = index }
        var used = Set<String>()
        var overloadTargets = Set<String>()
        let names = tables.map(\.syntax.name)

        func lookup(_ name: String, _ span: SourceSpan) -> Int? {
            used.insert(name)
            if let index = tableIndex[name] { return index }
            let hint = Suggestion.hint(for: name, among: names, quote: { "<\($0)>" })
                ?? "declare it first: table <\(name)> { … }, or table <\(name)> persist for one filled by overload"
            diagnostics.append(span.file.diagnostic(.error, "table <\(name)> is not declared", at: span, hint: hint))
            return nil
        }

        for rule in rules {
            if let (name, span) = rule.syntax.overload {
                overloadTargets.insert(name)
                if let index = lookup(name, span), tables[index].syntax.isConst {
                    diagnostics.append(span.file.diagnostic(.error, "table <\(name)> is 'const'; 'overload' cannot add to it",
                                                            at: span, hint: "remove 'const' from its declaration"))
                }
            }
            for address in [rule.syntax.from, rule.syntax.to] {
                for (name, span) in address?.tables ?? [] { _ = lookup(name, span) }
            }
        }

        var tableInfos: [TableInfo] = []
        for table in tables {
            let syntax = table.syntax
            tableInfos.append(TableInfo(name: syntax.name, location: syntax.nameToken.span.location,
                                        staticEntries: PrefixSet(entries: table.entries),
                                        isDynamic: !syntax.isConst,
                                        isConst: syntax.isConst, expire: syntax.expire))
            if !used.contains(syntax.name), !stopped {
                diagnostics.append(syntax.nameToken.span.file.diagnostic(
                    .warning, "table <\(syntax.name)> is never used", at: syntax.nameToken.span,
                    hint: "use it in a rule (block in from <\(syntax.name)>) or remove it"))
            }
        }

        var compiledRules: [Rule] = []
        var matchers: [RuleMatch] = []
        compiledRules.reserveCapacity(rules.count)
        matchers.reserveCapacity(rules.count)
        for (index, parsed) in rules.enumerated() {
            let (rule, match) = Compilation.build(parsed, index: index, tables: tableInfos, tableIndex: tableIndex)
            compiledRules.append(rule)
            matchers.append(match)
        }

        var policyList: [Policy] = []
        for direction in Direction.allCases {
            if let syntax = policies[direction] {
                policyList.append(Policy(verdict: syntax.verdict, log: syntax.log, location: syntax.first.span.location,
                                         text: "policy \(direction.rawValue) \(syntax.verdict == .accept ? "pass" : "drop")"
                                             + (syntax.log ? " log" : "")))
            } else {
                let verdict = CompiledRuleset.defaultPolicy(direction)
                policyList.append(Policy(verdict: verdict, log: false, location: nil,
                                         text: "policy \(direction.rawValue) \(verdict == .accept ? "pass" : "drop") (default)"))
            }
        }

        var shadowSummary: ShadowAnalysisSummary?
        if !diagnostics.contains(where: { $0.severity == .error }) {
            let sources = sourceFiles
            let outcome = ShadowAnalysis.analyze(rules: compiledRules, matchers: matchers) { location in
                sources[location.file]?.quotedLine(location.line, around: 1).text ?? ""
            }
            diagnostics += outcome.warnings
            shadowSummary = outcome.summary
        }

        let fileOrder = Dictionary(files.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let sorted = diagnostics.enumerated().sorted { lhs, rhs in
            let (a, b) = (lhs.element.location, rhs.element.location)
            let (fileA, fileB) = (fileOrder[a.file] ?? Int.max, fileOrder[b.file] ?? Int.max)
            if fileA != fileB { return fileA < fileB }
            if a.line != b.line { return a.line < b.line }
            if a.column != b.column { return a.column < b.column }
            return lhs.offset < rhs.offset
        }.map(\.element)

        if sorted.contains(where: { $0.severity == .error }) {
            let (kept, stoppedAt) = Compilation.capped(sorted, errors: limits.errors, stopped: stopped)
            return .failure(Diagnostics(kept, stoppedAt: stoppedAt))
        }
        return .success(CompiledRuleset(mainFile: mainFile, files: files, rules: compiledRules, matchers: matchers,
                                        policies: policyList, tables: tableInfos, settings: settings, warnings: sorted,
                                        shadowAnalysis: shadowSummary))
    }

    /// The diagnostics up to the `limit`th error, and where the compile stopped (the first
    /// error left out, or the last one shown when reading stopped) when it did.
    static func capped(_ sorted: [Diagnostic], errors limit: Int, stopped: Bool) -> ([Diagnostic], SourceLocation?) {
        var kept: [Diagnostic] = []
        var errors = 0
        for diagnostic in sorted {
            if diagnostic.severity == .error {
                if errors == limit { return (kept, diagnostic.location) }
                errors += 1
            }
            kept.append(diagnostic)
        }
        if stopped, errors >= limit, let last = kept.last(where: { $0.severity == .error }) {
            return (kept, last.location)
        }
        return (kept, nil)
    }

    /// The files rules came from, by path.
    private var sourceFiles: [String: SourceFile] {
        var map: [String: SourceFile] = [:]
        for rule in rules { map[rule.syntax.first.span.file.path] = rule.syntax.first.span.file }
        return map
    }

    /// The public rule and its matcher.
    static func build(_ parsed: ParsedRule, index: Int, tables: [TableInfo], tableIndex: [String: Int]) -> (Rule, RuleMatch) {
        let syntax = parsed.syntax
        var limits: Rule.SourceLimits?
        if syntax.maxConnections != nil || syntax.rate != nil {
            var built = Rule.SourceLimits(maxConnections: syntax.maxConnections, maxConnectionRate: syntax.rate,
                                          overloadTable: syntax.overload?.name, flush: syntax.flush)
            built.overloadTableIndex = syntax.overload.flatMap { tableIndex[$0.name] }
            limits = built
        }
        var rule = Rule(index: index, action: syntax.action, direction: syntax.direction, quick: syntax.quick, log: syntax.log,
                        label: syntax.label, location: syntax.first.span.location, lastLine: parsed.lastLine,
                        text: parsed.text, limits: limits)
        rule.reply = syntax.reply?.kind

        var match = RuleMatch()
        if let direction = syntax.direction { match.directions = direction.bit }
        if let family = syntax.family { match.family = family == .inet ? 4 : 6 }
        if let protocols = syntax.protocols { match.protocols = ByteMask(protocols) }
        match.sourcePorts = syntax.fromPorts
        match.destinationPorts = syntax.toPorts
        match.icmpTypes = syntax.icmpTypes.map { ByteMask($0) }
        match.interface = syntax.interface
        match.inInterface = syntax.inInterface
        match.outInterface = syntax.outInterface
        match.source = addressMatcher(syntax.from, tables: tables, tableIndex: tableIndex)
        match.destination = addressMatcher(syntax.to, tables: tables, tableIndex: tableIndex)
        return (rule, match)
    }

    static func addressMatcher(_ syntax: AddressSyntax?, tables: [TableInfo], tableIndex: [String: Int]) -> AddressMatcher {
        guard let syntax else { return .any }
        var matcher = AddressMatcher()
        matcher.negated = syntax.negated
        if syntax.any {
            matcher.matchesAll = true
            return matcher
        }
        matcher.matchesAll = false
        var sets: [PrefixSet] = []
        if !syntax.entries.isEmpty {
            sets.append(PrefixSet(entries: syntax.entries.map { ($0.prefix, $0.included) }))
        }
        for (name, _) in syntax.tables {
            guard let index = tableIndex[name] else { continue }
            sets.append(tables[index].staticEntries)
            if tables[index].isDynamic, !matcher.dynamicTables.contains(index) { matcher.dynamicTables.append(index) }
        }
        // One table alone shares its storage; several sets are merged into one.
        matcher.set = sets.dropFirst().reduce(sets.first ?? PrefixSet()) { $0.union($1) }
        return matcher
    }
}
