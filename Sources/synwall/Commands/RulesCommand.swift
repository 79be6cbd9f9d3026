import ArgumentParser
import Control
import EventLog
import Firewall
import Rules
import Wire
#if canImport(Glibc)
import Glibc
#endif

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "List and edit the rules of a rule file.",
        discussion: """
        Rules are numbered from 1 in the order they are evaluated (first match wins), across \
        included files. Every edit changes only the lines of the rule concerned (comments, blank \
        lines and layout elsewhere stay as written), checks the whole resulting ruleset first \
        (an invalid edit changes nothing and says why), writes atomically keeping the file's \
        owner and mode, keeps the previous version as FILE.bak, and then asks a running daemon \
        to reload (over its control socket, else SIGHUP to the pid in --pid-file) unless --no-reload.
        """,
        subcommands: [List.self, Add.self, Insert.self, Delete.self, Move.self]
    )
}

/// The rule file to work on.
struct RuleFileOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The rule file (default: /etc/synwall/synwall.rules).", valueName: "file"))
    var file: String?

    /// The file named, else the default one, which must exist (else a clear error, exit 1).
    func path() throws -> String { try ruleFile(file, override: "--file FILE") }
}

/// Whether and how to tell the daemon.
struct ReloadOptions: ParsableArguments {
    @Flag(name: .long, help: "Do not ask a running daemon to reload.")
    var noReload = false

    @Option(name: .long, help: ArgumentHelp("The running daemon's pid file.", valueName: "file"))
    var pidFile = PidFile.defaultPath

    @Option(name: .long, help: ArgumentHelp("The running daemon's control socket.", valueName: "path"))
    var control: String = ControlSocketAddress.defaultPath

    @Flag(name: .long, help: "Print one JSON object: the change, the file, warnings and the reload (docs/json.md).")
    var json = false

    /// The reload's outcome as a JSON object (`--json`): `reloaded`…, `requested` and `pid`,
    /// `skipped`, or `running` false with `reason`; `failed` when the daemon refused the file.
    func reloadObject() throws -> (object: JSONObjectWriter, failed: Bool) {
        var object = JSONObjectWriter()
        if noReload {
            object.add("skipped", "--no-reload")
            return (object, false)
        }
        switch try requestDaemonReload(control: control, timeout: 10, pidFile: pidFile) {
        case .answered(let report):
            return (JSONOutput.reload(report), !report.reloaded)
        case .signalled(let pid):
            object.add("requested", true)
            object.add("pid", Int(pid))
        case .notRunning(let why):
            object.add("running", false)
            object.add("reason", why)
        }
        return (object, false)
    }

    /// Asks the daemon to reload over its control socket (or, without one, with SIGHUP to the
    /// pid in the pid file), and says what happened.
    func requestReload() throws {
        if noReload {
            writeText("not reloading (--no-reload): a running daemon keeps its current rules until it reloads")
            return
        }
        switch try requestDaemonReload(control: control, timeout: 10, pidFile: pidFile) {
        case .answered(let report):
            if report.reloaded {
                writeText("synwall reloaded \(report.file) (\(report.rules) rules)")
                return
            }
            if let diagnostics = report.diagnostics { writeText(diagnostics, to: 2) }
            throw CLIError("the daemon could not reload \(report.file); its running rules stay in force")
        case .signalled(let pid):
            writeText("asked synwall (pid \(pid)) to reload")
        case .notRunning(let why):
            writeText("no daemon is running (\(why)); the rules apply when synwall starts")
        }
    }
}

extension RulesCommand {
    /// Opens the editor, applies `edit`, saves, and asks for a reload.
    static func edit(_ options: RuleFileOptions, _ reload: ReloadOptions,
                     _ edit: (inout RuleFileEditor) throws(RuleEditError) -> RuleFileEditor.Change) throws {
        let path = try options.path()
        try reportingErrors {
            var editor: RuleFileEditor
            let change: RuleFileEditor.Change
            do throws(RuleEditError) {
                editor = try RuleFileEditor(path: path)
                change = try edit(&editor)
                try editor.save()
            } catch {
                if let diagnostics = error.diagnostics { writeText(diagnostics.description, to: 2) }
                throw CLIError(error.message)
            }
            if reload.json {
                var object = JSONObjectWriter()
                object.add("change", change.summary)
                object.add("file", change.file)
                object.add("backup", change.file + ".bak")
                object.add("rules", change.ruleset.rules.count)
                object.add("warnings", change.ruleset.warnings.map(JSONOutput.diagnostic))
                let outcome = try reload.reloadObject()
                object.add("reload", outcome.object)
                writeLine(object.text)
                if outcome.failed { throw ExitCode(1) }
                return
            }
            for warning in change.ruleset.warnings { writeText(warning.description, to: 2) }
            writeText("\(change.summary)  (\(change.file); previous version in \(change.file).bak)")
            try reload.requestReload()
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the rules, numbered, with where each is written, then the policies.")

        @OptionGroup var options: RuleFileOptions

        @Option(name: .long, help: ArgumentHelp("The running daemon's control socket (for hit counters).",
                                                valueName: "path"))
        var control: String = ControlSocketAddress.defaultPath

        @Flag(name: .long, help: "Print JSON Lines: one object per rule, then one per policy (docs/json.md).")
        var json = false

        func run() throws {
            let path = try options.path()
            try Self.reportingErrors {
                do throws(RuleEditError) {
                    let editor = try RuleFileEditor(path: path)
                    let hits = runningHits(for: editor, at: path)
                    if json {
                        for rule in editor.ruleset.rules {
                            writeLine(JSONOutput.rule(rule, hits: hits.flatMap { rule.index < $0.count ? $0[rule.index] : nil }).text)
                        }
                        for direction in Direction.allCases {
                            writeLine(JSONOutput.policy(editor.ruleset.policy(for: direction), direction: direction).text)
                        }
                        return
                    }
                    writeText(editor.listing(hits: hits))
                } catch {
                    if let diagnostics = error.diagnostics { writeText(diagnostics.description, to: 2) }
                    throw CLIError(error.message)
                }
            }
        }
    /// Hit counters from a running daemon, when it runs this very file with the same rules;
        /// nil otherwise (no daemon, another file, or the file changed since it was loaded).
        private func runningHits(for editor: RuleFileEditor, at path: String) -> [UInt64]? {
            guard let stats = try? ControlClient(path: control, timeoutSeconds: 3).send(ControlRequest(command: .stats)).stats,
                  let running = stats.rulesFile,
                  realPath(running) == realPath(path),
                  stats.rules.map(\.text) == editor.ruleset.rules.map(\.text)
            else { return nil }
            return stats.rules.map { UInt64(max(0, $0.hits)) }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append a rule after the last rule of the file.",
            discussion: "Example: synwall rules add 'pass in proto tcp to port 8080'")

        @Argument(help: ArgumentHelp("The rule (quote it, or give it as words).", valueName: "rule"))
        var rule: [String]
        @OptionGroup var options: RuleFileOptions
        @OptionGroup var reload: ReloadOptions

        func run() throws {
            let text = rule.joined(separator: " ")
            try RulesCommand.edit(options, reload) { (editor: inout RuleFileEditor) throws(RuleEditError) in try editor.add(text) }
        }
    }

    struct Insert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Insert a rule before rule N (it becomes rule N).",
            discussion: "Example: synwall rules insert 3 'block in from 203.0.113.0/24 log'")

        @Argument(help: ArgumentHelp("The position, from 1.", valueName: "n"))
        var number: Int
        @Argument(help: ArgumentHelp("The rule.", valueName: "rule"))
        var rule: [String]
        @OptionGroup var options: RuleFileOptions
        @OptionGroup var reload: ReloadOptions

        func run() throws {
            let text = rule.joined(separator: " ")
            let number = number
            try RulesCommand.edit(options, reload) { (editor: inout RuleFileEditor) throws(RuleEditError) in
                try editor.insert(text, at: number)
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete rule N, or the rule written exactly so.",
            discussion: "Examples: synwall rules delete 4; synwall rules delete 'pass in proto tcp to port 8080'")

        @Argument(help: ArgumentHelp("A rule number, or the rule's text.", valueName: "n|rule"))
        var rule: [String]
        @OptionGroup var options: RuleFileOptions
        @OptionGroup var reload: ReloadOptions

        func run() throws {
            let text = rule.joined(separator: " ")
            try RulesCommand.edit(options, reload) { (editor: inout RuleFileEditor) throws(RuleEditError) in
                if let number = Int(text) { return try editor.delete(number: number) }
                return try editor.delete(text: text)
            }
        }
    }

    struct Move: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move rule N so that it becomes rule M.",
            discussion: "Example: synwall rules move 7 2")

        @Argument(help: ArgumentHelp("The rule to move.", valueName: "n"))
        var from: Int
        @Argument(help: ArgumentHelp("Its new position.", valueName: "m"))
        var to: Int
        @OptionGroup var options: RuleFileOptions
        @OptionGroup var reload: ReloadOptions

        func run() throws {
            let (from, to) = (from, to)
            try RulesCommand.edit(options, reload) { (editor: inout RuleFileEditor) throws(RuleEditError) in
                try editor.move(from: from, to: to)
            }
        }
    }
}

/// The canonical path of `path` (symbolic links and `..` resolved), or `path` itself.
private func realPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}
