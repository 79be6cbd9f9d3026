import Foundation

/// A process started inside a sandbox namespace (a daemon, an echo server), with its standard
/// output and error captured to files so they can be read while it runs.
///
/// All waits are bounded. The owning ``Sandbox`` stops every process it spawned at teardown.
public final class SandboxProcess: @unchecked Sendable {
    /// How a process ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        /// It exited with this status.
        case exited(Int32)
        /// A signal killed it.
        case signaled(Int32)

        public var description: String {
            switch self {
            case let .exited(status): return "exited with status \(status)"
            case let .signaled(signal): return "killed by signal \(signal)"
            }
        }

        /// The status as a shell reports it: the exit status, or 128 + the signal number.
        public var shellStatus: Int32 {
            switch self {
            case let .exited(status): return status
            case let .signaled(signal): return 128 + signal
            }
        }
    }

    /// Which captured stream to search.
    public enum Stream: Sendable {
        case standardOutput, standardError, either
    }

    /// The command as given (without the `ip netns exec` prefix).
    public let command: [String]
    /// The namespace the process runs in (nil: the caller's own namespace).
    public let namespace: String?

    private let process: Process
    private let stdoutPath: String
    private let stderrPath: String

    init(command: [String], namespace: String?, process: Process, stdoutPath: String, stderrPath: String) {
        self.command = command
        self.namespace = namespace
        self.process = process
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
    }

    /// Starts `arguments` in the caller's own network namespace, output captured to files in
    /// `outputDirectory` (which must exist). A bare command name is looked up in the system
    /// directories. The caller stops it (``stop(grace:)``); no sandbox tracks it.
    public static func start(_ arguments: [String], outputDirectory: URL) throws -> SandboxProcess {
        var command = arguments
        if let first = command.first, !first.contains("/"), let path = ExecutableLocator.locate(first) {
            command[0] = path
        }
        return try launch(command, displayCommand: arguments, namespace: nil, directory: outputDirectory)
    }

    /// Starts `arguments` (first element: an executable path) with output captured in `directory`.
    static func launch(
        _ arguments: [String], displayCommand: [String], namespace: String?, directory: URL
    ) throws -> SandboxProcess {
        guard let executable = arguments.first else {
            throw SandboxError.launchFailed(command: arguments, reason: "empty command")
        }
        let token = UUID().uuidString.prefix(8)
        let base = directory.appendingPathComponent(
            "\(URL(fileURLWithPath: displayCommand.first ?? "cmd").lastPathComponent)-\(token)")
        let stdoutPath = base.path + ".out"
        let stderrPath = base.path + ".err"
        let fileManager = FileManager.default
        guard fileManager.createFile(atPath: stdoutPath, contents: nil),
              fileManager.createFile(atPath: stderrPath, contents: nil),
              let stdoutHandle = FileHandle(forWritingAtPath: stdoutPath),
              let stderrHandle = FileHandle(forWritingAtPath: stderrPath)
        else {
            throw SandboxError.launchFailed(
                command: displayCommand, reason: "cannot create output files in \(directory.path)")
        }
        defer {
            try? stdoutHandle.close()
            try? stderrHandle.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        do {
            try process.run()
        } catch {
            throw SandboxError.launchFailed(command: displayCommand, reason: "\(error)")
        }
        return SandboxProcess(
            command: displayCommand, namespace: namespace, process: process,
            stdoutPath: stdoutPath, stderrPath: stderrPath)
    }

    /// The process id (with `ip netns exec` the command itself: `ip` execs it).
    public var pid: Int32 { process.processIdentifier }

    /// True while the process has not ended.
    public var isRunning: Bool { process.isRunning }

    /// How the process ended, or nil while it runs.
    public var termination: Termination? {
        guard !process.isRunning else { return nil }
        process.waitUntilExit()
        switch process.terminationReason {
        case .exit: return .exited(process.terminationStatus)
        case .uncaughtSignal: return .signaled(process.terminationStatus)
        @unknown default: return .exited(process.terminationStatus)
        }
    }

    /// What the process has written to standard output so far.
    public var standardOutput: String { Self.read(stdoutPath) }
    /// What the process has written to standard error so far.
    public var standardError: String { Self.read(stderrPath) }

    /// Output so far as a ``CommandResult`` (status -1 while still running).
    public var output: CommandResult {
        CommandResult(
            status: termination?.shellStatus ?? -1, stdout: standardOutput, stderr: standardError)
    }

    /// Sends `signal` to the process (no effect once it has ended).
    public func signal(_ signal: Int32) {
        guard process.isRunning else { return }
        _ = Foundation.kill(process.processIdentifier, signal)
    }

    /// Sends SIGTERM.
    public func terminate() { signal(SIGTERM) }

    /// Sends SIGKILL.
    public func kill() { signal(SIGKILL) }

    /// Waits at most `timeout` for the process to end; returns how it ended, or nil if it still runs.
    @discardableResult
    public func waitForExit(timeout: Duration) -> Termination? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return termination
    }

    /// Sends SIGTERM, waits up to `grace`, then SIGKILL and waits again; returns how it ended.
    @discardableResult
    public func stop(grace: Duration = .seconds(3)) -> Termination? {
        guard process.isRunning else { return termination }
        terminate()
        if let ended = waitForExit(timeout: grace) { return ended }
        kill()
        return waitForExit(timeout: .seconds(3))
    }

    /// Waits at most `timeout` for a line starting with `prefix`; returns the whole line, or nil
    /// when the time runs out or the process ends without printing it.
    public func waitForLine(
        prefix: String, in stream: Stream = .standardOutput, timeout: Duration
    ) -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let exited = !process.isRunning
            if let line = firstLine(prefix: prefix, in: stream) { return line }
            if exited || ContinuousClock.now >= deadline { return nil }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// The first line printed so far that starts with `prefix`.
    public func firstLine(prefix: String, in stream: Stream = .standardOutput) -> String? {
        let text: String
        switch stream {
        case .standardOutput: text = standardOutput
        case .standardError: text = standardError
        case .either: text = standardOutput + "\n" + standardError
        }
        return text.split(separator: "\n", omittingEmptySubsequences: true)
            .first { $0.hasPrefix(prefix) }.map(String.init)
    }

    private static func read(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
