import ArgumentParser
import EventLog
import Rules
import SystemCall
#if canImport(Glibc)
import Glibc
#endif

/// A failure the user can act on: printed as one line `synwall: error: …`, exit status 1
/// (or the status given).
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var status: Int32

    init(_ message: String, status: Int32 = 1) {
        self.message = message
        self.status = status
    }

    var description: String { message }
}

extension ParsableCommand {
    /// Runs `body`, turning a `CLIError` into one line on stderr and its exit status.
    static func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CLIError {
            writeText("synwall: error: \(error.message)", to: 2)
            throw ExitCode(error.status)
        }
    }
}

/// Writes `text` and a newline straight to a file descriptor (1 stdout, 2 stderr), unbuffered,
/// so that lines reach a pipe at once.
func writeLine(_ text: String, to fd: Int32 = 1) {
    writeAll(text + "\n", to: fd)
}

/// Writes `text` as it is (no newline added), retrying short writes and EINTR.
func writeAll(_ text: String, to fd: Int32) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { raw in SystemCall.retryingInterrupts { write(fd, raw.baseAddress, raw.count) } }
        guard n > 0 else { return }
        offset += n
    }
}

/// `writeLine` for text that carries what rule files, table files, labels or the user wrote:
/// control characters and escape sequences are shown escaped (`\x1b`), line breaks and tabs
/// kept (`TerminalText.sanitizeLines`), so a downloaded blocklist cannot drive the terminal.
func writeText(_ text: String, to fd: Int32 = 1, newline: Bool = true) {
    writeAll(TerminalText.sanitizeLines(text) + (newline ? "\n" : ""), to: fd)
}

/// The rule file a command works on: `given` when the user named one, else
/// /etc/synwall/synwall.rules, which must then exist (else a CLI error saying so, naming
/// `override`, the way to give another file). Exits 1 with that error.
func ruleFile(_ given: String?, override: String) throws -> String {
    if let given { return given }
    if let missing = DefaultRuleFile.missing(override: override) {
        writeText("synwall: error: " + missing, to: 2)
        throw ExitCode(1)
    }
    return DefaultRuleFile.path
}
