/// What a command run inside a sandbox namespace returned.
public struct CommandResult: Sendable, Equatable, CustomStringConvertible {
    /// Exit status; for a command killed by a signal, 128 + the signal number (as a shell reports it).
    public let status: Int32
    /// Everything the command wrote to standard output.
    public let stdout: String
    /// Everything the command wrote to standard error.
    public let stderr: String

    /// Creates a result from its parts.
    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// True when the command exited with status 0.
    public var succeeded: Bool { status == 0 }

    public var description: String {
        var text = "exit status \(status)"
        let out = stdout.trimmingTrailingNewlines()
        let err = stderr.trimmingTrailingNewlines()
        if !out.isEmpty { text += "\n--- stdout ---\n" + out }
        if !err.isEmpty { text += "\n--- stderr ---\n" + err }
        return text
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = Substring(self)
        while let last = text.last, last == "\n" || last == "\r" { text = text.dropLast() }
        return String(text)
    }
}
