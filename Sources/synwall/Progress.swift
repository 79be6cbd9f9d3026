import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress meter on stderr for long commands (`replay`, `check` of a huge file):
/// shown only when stderr is a terminal, redrawn in place at most five times a second, cleared
/// at the end, so a pipe or a log never sees it.
final class Progress {
    private let label: String
    private let total: UInt64?
    private var lastDraw: TimeInterval = 0
    private let started = Date().timeIntervalSince1970
    private var drawn = false

    /// A meter, or nil when stderr is not a terminal (nothing to show).
    init?(label: String, total: UInt64?) {
        guard isatty(2) == 1 else { return nil }
        self.label = label
        self.total = total
    }

    /// The size of the file at `path`, when it can be read.
    static func fileSize(_ path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_size > 0 else { return nil }
        return UInt64(info.st_size)
    }

    /// Redraws the line: bytes done (and the share of `total`), and `detail`.
    func show(bytes: UInt64, detail: String) {
        let now = Date().timeIntervalSince1970
        guard now - lastDraw >= 0.2, now - started >= 0.5 else { return }
        lastDraw = now
        var text = "synwall: \(label): \(bytes >> 20) MiB"
        if let total, total > 0 { text += " (\(min(99, bytes * 100 / total))%)" }
        text += ", \(detail)"
        writeAll("\r\u{1B}[K" + text, to: 2)
        drawn = true
    }

    /// Removes the line.
    func clear() {
        if drawn { writeAll("\r\u{1B}[K", to: 2) }
        drawn = false
    }
}

/// For a step that reports no progress of its own (compiling a huge rule file): after `after`
/// seconds, a line on stderr with the elapsed time, redrawn every half second until
/// ``stop()``. Only on a terminal.
final class BusyMeter: Sendable {
    private let running = Mutex(true)
    private let done = DispatchSemaphore(value: 0)

    /// Starts the meter, or nil when stderr is not a terminal.
    static func start(label: String, what: String, after delay: Double) -> BusyMeter? {
        guard isatty(2) == 1 else { return nil }
        let meter = BusyMeter()
        let size = Progress.fileSize(what).map { ", \($0 >> 20) MiB" } ?? ""
        let thread = Thread {
            let started = Date()
            var drawn = false
            while meter.isRunning {
                let elapsed = Date().timeIntervalSince(started)
                if elapsed >= delay {
                    writeAll("\r\u{1B}[K" + "synwall: \(label): reading \(what)\(size)… \(Int(elapsed)) s", to: 2)
                    drawn = true
                }
                usleep(500_000)
            }
            if drawn { writeAll("\r\u{1B}[K", to: 2) }
            meter.done.signal()
        }
        thread.start()
        return meter
    }

    private var isRunning: Bool { running.withLock { $0 } }

    /// Stops and clears the line (waits for the meter's thread, at most half a second).
    func stop() {
        running.withLock { $0 = false }
        done.wait()
    }
}
