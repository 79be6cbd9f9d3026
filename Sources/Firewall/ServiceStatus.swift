import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Live counters for the service manager (`STATUS=`, shown by `systemctl status synwall`): a
/// thread that asks the workers as `synwall stats` does, 2 s after ready and then every 10 s.
/// Only under a service manager (`NOTIFY_SOCKET`); the workers answer between receive rounds,
/// so the packet path never waits for it.
final class ServiceStatus: @unchecked Sendable {
    /// Seconds between updates.
    static let interval: TimeInterval = 10
    /// Seconds from ready to the first update.
    static let firstUpdate: TimeInterval = 2

    private let stopping = NSCondition()
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    private init() {}

    /// Starts the updates; nil (nothing started) when no service manager listens.
    static func start(_ control: DaemonControl) -> ServiceStatus? {
        guard ServiceManager.isNotifying else { return nil }
        let status = ServiceStatus()
        let thread = Thread {
            var wait = firstUpdate
            while status.sleep(wait) {
                ServiceManager.notify("STATUS=" + control.statusLine())
                wait = interval
            }
            status.finished.signal()
        }
        thread.name = "synwall-status"
        thread.start()
        return status
    }

    /// Waits `seconds`; false when stopped meanwhile.
    private func sleep(_ seconds: TimeInterval) -> Bool {
        stopping.lock()
        defer { stopping.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while !stopped, stopping.wait(until: deadline) {}
        return !stopped
    }

    /// Stops the updates and waits for the thread (at most one answer timeout, 3 s, and a bit).
    func stop() {
        stopping.lock()
        stopped = true
        stopping.broadcast()
        stopping.unlock()
        _ = finished.wait(timeout: .now() + DaemonControl.answerTimeout + 2)
    }
}
