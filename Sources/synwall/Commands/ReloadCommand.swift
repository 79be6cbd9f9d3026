import ArgumentParser
import Control
import Firewall
import EventLog
import Rules

struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Ask the running daemon to re-read its rule file (checked here first).",
        discussion: """
        The daemon is asked over its control socket: it compiles its rule file again and swaps \
        it in only if it is valid, and its answer decides the exit status (0 when reloaded; 1 \
        with the daemon's diagnostics when the file is broken, the running rules staying in \
        force). This is the unit's ExecReload=, so `systemctl reload synwall` fails on a broken \
        file. With --rules, that file is compiled here first: if it has errors they are printed \
        as FILE:LINE:COLUMN and nothing is sent (exit 1). A daemon without a control socket \
        gets SIGHUP (pid from --pid-file), after the rule file (--rules, default \
        /etc/synwall/synwall.rules) is checked here, since the daemon then reports the outcome \
        only in its own output. Live connections keep their state, unless the file says `set \
        reload recheck`: then those the new rules block are cut.
        """
    )

    @Option(name: .long, help: ArgumentHelp("The rule file the daemon runs with, to check before reloading "
        + "(without it: the daemon checks its own; /etc/synwall/synwall.rules before a SIGHUP).", valueName: "file"))
    var rules: String?

    @Option(name: .long, help: ArgumentHelp("The daemon's pid file.", valueName: "file"))
    var pidFile: String = PidFile.defaultPath

    @Flag(name: .long, help: "Print one JSON object: reloaded, file, rules, diagnostics (docs/json.md).")
    var json = false

    @OptionGroup var controlOptions: ControlOptions

    func run() throws {
        try Self.reportingErrors {
            if let rules { try Self.check(rules) }
            // Only a signalled daemon cannot say whether its file is valid: check it here first.
            let checkBeforeSignal = { if rules == nil { try Self.check(ruleFile(nil, override: "--rules FILE")) } }
            switch try requestDaemonReload(control: controlOptions.control, timeout: controlOptions.timeout,
                                           pidFile: pidFile, beforeSignal: checkBeforeSignal) {
            case .answered(let report):
                if json {
                    writeLine(JSONOutput.reload(report).text)
                    if !report.reloaded { throw ExitCode(1) }
                    return
                }
                if report.reloaded {
                    writeText("synwall: reloaded \(report.file) (\(report.rules) rules)")
                    // Warnings of a reload that succeeded (a setting that waits for a restart).
                    if let diagnostics = report.diagnostics { writeText(diagnostics, to: 2) }
                    return
                }
                if let diagnostics = report.diagnostics { writeText(diagnostics, to: 2) }
                throw CLIError("reload failed; the running rules stay in force (\(report.rules) rules)")
            case .signalled(let pid):
                if json {
                    var object = JSONObjectWriter()
                    object.add("requested", true)
                    object.add("pid", Int(pid))
                    writeLine(object.text)
                    return
                }
                writeText("synwall: reload requested (pid \(pid)); the daemon reports the outcome in its output")
            case .notRunning(let why):
                throw CLIError("no running synwall: \(why)")
            }
        }
    }

    /// Compiles `rules`; errors are printed and end the command (exit 1), nothing sent.
    static func check(_ rules: String) throws {
        if case .failure(let diagnostics) = RuleCompiler.compile(file: rules) {
            writeText(diagnostics.description, to: 2)
            throw CLIError("\(rules) has errors; the running rules stay in force")
        }
    }
}
