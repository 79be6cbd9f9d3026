import ArgumentParser
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
            let text = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
            writeLine("synwall: error: \(text) (see 'synwall help')", to: 2)
            Glibc.exit(code.rawValue)
        }
    }
}
