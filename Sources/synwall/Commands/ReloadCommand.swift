import ArgumentParser
import Firewall
import Rules
#if canImport(Glibc)
import Glibc
#endif

struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Ask the running daemon to re-read its rule file (checked here first).",
        discussion: """
        With --rules, the file is compiled here first: if it has errors they are printed as \
        FILE:LINE:COLUMN and nothing is sent (exit 1). Otherwise the daemon whose pid is in the \
        pid file gets SIGHUP; it compiles the file again and swaps it in only if it is valid. \
        Live connections keep their state, unless the file says `set reload recheck`: then \
        those the new rules block are cut.
        """
    )

    @Option(name: .long, help: ArgumentHelp("The rule file the daemon runs with, to check before reloading.",
                                            valueName: "file"))
    var rules: String?

    @Option(name: .long, help: ArgumentHelp("The daemon's pid file.", valueName: "file"))
    var pidFile: String = PidFile.defaultPath

    func run() throws {
        try Self.reportingErrors {
            if let rules {
                if case .failure(let diagnostics) = RuleCompiler.compile(file: rules) {
                    writeLine(diagnostics.description, to: 2)
                    throw CLIError("\(rules) has errors; the running rules stay in force")
                }
            }
            guard let pid = PidFile.read(pidFile) else {
                throw CLIError("no running synwall: \(pidFile) holds no pid (is the daemon running with --pid-file?)")
            }
            guard kill(pid, SIGHUP) == 0 else {
                throw CLIError("cannot signal synwall (pid \(pid) from \(pidFile)): \(String(cString: strerror(errno)))")
            }
            writeLine("synwall: reload requested (pid \(pid)); the daemon reports the outcome in its output")
        }
    }
}
