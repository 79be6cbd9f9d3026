import Foundation
import Synchronization

/// How the daemon's reloads went since start: counted by the reload itself (SIGHUP or the
/// control socket), read by `synwall stats`. Thread-safe.
final class ReloadHistory: Sendable {
    /// What `snapshot()` returns.
    struct Snapshot: Sendable {
        var successes = 0
        var failures = 0
        /// When the last successful reload finished (Unix seconds); nil before the first.
        var lastSuccess: Double?
    }

    private let current = Mutex(Snapshot())

    /// Counts one reload.
    func record(success: Bool) {
        let now = Date().timeIntervalSince1970
        current.withLock { current in
            if success {
                current.successes += 1
                current.lastSuccess = now
            } else {
                current.failures += 1
            }
        }
    }

    /// The counts so far.
    func snapshot() -> Snapshot {
        current.withLock { $0 }
    }
}
