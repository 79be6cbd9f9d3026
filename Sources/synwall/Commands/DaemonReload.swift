import Control
import Firewall
import SystemCall
#if canImport(Glibc)
import Glibc
#endif

/// How asking the running daemon to reload ended.
enum DaemonReloadOutcome {
    /// The daemon answered over its control socket (reloaded, or kept its rules and said why).
    case answered(ReloadReport)
    /// No control socket answered; the pid in the pid file was sent SIGHUP (the daemon
    /// reports the outcome in its own output).
    case signalled(pid: Int32)
    /// Neither a control socket nor a live pid: no daemon is running, and this says why we think so.
    case notRunning(String)
}

/// Asks the running daemon to reload: over its control socket at `control` first (its answer
/// says whether the new rules took), else with SIGHUP to the pid in `pidFile`. Throws a CLI
/// error when the daemon is there but cannot be asked (a broken answer, no permission to signal).
/// `beforeSignal` runs just before SIGHUP is sent (and may throw to send nothing).
func requestDaemonReload(control: String, timeout: Int, pidFile: String,
                         beforeSignal: () throws -> Void = {}) throws -> DaemonReloadOutcome {
    var answer: ControlResponse?
    do throws(ControlError) {
        answer = try ControlClient(path: control, timeoutSeconds: timeout).send(ControlRequest(command: .reload))
    } catch {
        guard case .notRunning = error else { throw CLIError(error.description) }
    }
    if let answer {
        guard let report = answer.reload else { throw CLIError("the daemon's answer held no reload report") }
        return .answered(report)
    }
    guard let pid = PidFile.read(pidFile), pid > 1 else {
        return .notRunning("no control socket at \(control) and no pid in \(pidFile)")
    }
    guard kill(pid, 0) == 0 || errno != ESRCH else { return .notRunning("pid \(pid) in \(pidFile) is gone") }
    try beforeSignal()
    guard kill(pid, SIGHUP) == 0 else {
        if errno == ESRCH { return .notRunning("pid \(pid) in \(pidFile) is gone") }
        throw CLIError("cannot signal synwall (pid \(pid) from \(pidFile)): \(SystemCall.lastError) "
            + "(run as root)")
    }
    return .signalled(pid: pid)
}
