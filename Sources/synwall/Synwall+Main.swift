import ArgumentParser
import Rules
#if canImport(Glibc)
import Glibc
#endif

extension Synwall {
    /// Parses and runs the command. A usage mistake prints one line on stderr,
    /// `synwall: error: …`, and exits non-zero; `--help` and `--version` print as usual.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            let text = unknownCommandMessage(Array(CommandLine.arguments.dropFirst()))
                ?? message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
            writeLine("synwall: error: \(text) (see 'synwall help')", to: 2)
            Glibc.exit(code.rawValue)
        }
    }
}

extension Synwall {
    /// For a command line whose command (or subcommand) is not one: `unknown command 'rulez';
    /// did you mean 'rules'?`, naming the commands there are when none is near. Nil when the
    /// words name commands (the mistake is elsewhere). Hidden commands are neither suggested
    /// nor listed.
    static func unknownCommandMessage(_ arguments: [String]) -> String? {
        var subcommands: [ParsableCommand.Type] = Synwall.configuration.subcommands
        var path = "synwall"
        for word in arguments {
            guard !subcommands.isEmpty, !word.hasPrefix("-") else { return nil }
            var found: ParsableCommand.Type?
            var names: [String] = []
            for subcommand in subcommands {
                let configuration = subcommand.configuration
                let name = subcommand._commandName
                if name == word || configuration.aliases.contains(word) { found = subcommand }
                if configuration.shouldDisplay { names.append(name) }
            }
            if let found {
                subcommands = found.configuration.subcommands
                path += " " + word
                continue
            }
            let atRoot = path == "synwall"
            if atRoot, word == "help" { return nil }
            if atRoot { names.append("help") }
            let hint = Suggestion.hint(for: word, among: names) ?? "'\(path)' takes one of: " + names.joined(separator: ", ")
            return "unknown command '\(word)'" + (atRoot ? "" : " for '\(path)'") + "; " + hint
        }
        return nil
    }
}
