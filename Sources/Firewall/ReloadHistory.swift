import Foundation

/// How the daemon's reloads went since start: counted by the reload itself (SIGHUP or the
/// control socket), read by `synwall stats`. Thread-safe.
final class ReloadHistory: @unchecked Sendable {
    /// What `snapshot()` returns.
    struct Snapshot {
        var successes = 0
        var failures = 0
        /// When the last successful reload finished (Unix seconds); nil before the first.
        var lastSuccess: Double?
    }

    private let lock = NSLock()
    private var current = Snapshot()

    /// Counts one reload.
    func record(success: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if success {
            current.successes += 1
            current.lastSuccess = Date().timeIntervalSince1970
        } else {
            current.failures += 1
        }
    }

    /// The counts so far.
    func snapshot() -> Snapshot {
        lock.lock()
        defer { lock.unlock() }
        return current
    }
}
