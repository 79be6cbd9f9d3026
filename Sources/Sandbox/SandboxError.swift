/// Why a sandbox operation failed. Each description says what to do about it.
public enum SandboxError: Error, Sendable, CustomStringConvertible {
    /// The process is not root; namespaces and firewall rules need it.
    case notRoot
    /// A required tool is not installed.
    case toolMissing(name: String, package: String)
    /// A setup command failed.
    case commandFailed(command: [String], result: CommandResult)
    /// A command did not finish in time and was killed.
    case timedOut(command: [String], seconds: Double, partial: CommandResult)
    /// A process could not be started.
    case launchFailed(command: [String], reason: String)
    /// The sandbox was already torn down.
    case tornDown
    /// The operation runs a peer helper, but the sandbox was created without the test bed.
    case noTestbedBinary
    /// A file the sandbox needs (a script) does not exist.
    case fileMissing(path: String)
    /// A spawned helper exited or stayed silent instead of printing the expected line.
    case notReady(command: [String], expected: String, output: CommandResult)

    public var description: String {
        switch self {
        case .notRoot:
            return "network namespaces need root: run this as root (for example with sudo)"
        case let .toolMissing(name, package):
            return "'\(name)' was not found: install the Debian package \(package)"
        case let .commandFailed(command, result):
            return "command failed: \(command.joined(separator: " ")): \(result)"
        case let .timedOut(command, seconds, partial):
            return "command did not finish within \(seconds) s and was killed: "
                + "\(command.joined(separator: " ")): \(partial)"
        case let .launchFailed(command, reason):
            return "could not start \(command.joined(separator: " ")): \(reason)"
        case .tornDown:
            return "the sandbox was already torn down; create a new one"
        case .noTestbedBinary:
            return "this helper runs `synwall-testbed peer`: pass the synwall-testbed binary to Sandbox.create(testbed:)"
        case let .fileMissing(path):
            return "file not found: \(path)"
        case let .notReady(command, expected, output):
            return "\(command.joined(separator: " ")) did not print a line starting "
                + "'\(expected)' in time: \(output)"
        }
    }
}
