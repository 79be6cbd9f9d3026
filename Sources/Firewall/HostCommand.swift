import Foundation

/// Runs a host tool (iptables-restore, nft…) and collects its output. Never on the packet path.
struct HostCommand {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The first line of stderr (or stdout), for one-line error messages; at most 500
        /// characters (the rest cut with `…`), as it goes into the daemon's log.
        var firstErrorLine: String {
            let text = stderr.isEmpty ? stdout : stderr
            guard let line = text.split(separator: "\n").first else { return "exit status \(status)" }
            return line.count > 500 ? line.prefix(499) + "…" : String(line)
        }
    }

    /// Runs `arguments[0]` found on PATH with the rest as arguments, feeding `input` to stdin.
    ///
    /// Stdin, stdout and stderr are served together (one `poll` loop), so a command that
    /// fills one pipe while we wait on another cannot deadlock us. A command still running
    /// after `timeout` is killed (status 124, like timeout(1)).
    static func run(_ arguments: [String], input: String? = nil, timeout: Duration = .seconds(120)) -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        let path = environment["PATH"] ?? ""
        environment["PATH"] = path + ":/usr/local/sbin:/usr/sbin:/sbin"
        process.environment = environment
        let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        do {
            try process.run()
        } catch {
            return Output(status: 127, stdout: "", stderr: "cannot run \(arguments.first ?? ""): \(error)")
        }
        let collected = exchange(input: Array((input ?? "").utf8), stdin: stdin.fileHandleForWriting,
                                 stdout: stdout.fileHandleForReading.fileDescriptor,
                                 stderr: stderr.fileHandleForReading.fileDescriptor, timeout: timeout)
        if collected.timedOut {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        var errorText = String(decoding: collected.stderr, as: UTF8.self)
        if collected.timedOut { errorText += "\(arguments.first ?? "command") did not finish within \(timeout); killed" }
        return Output(status: collected.timedOut ? 124 : process.terminationStatus,
                      stdout: String(decoding: collected.stdout, as: UTF8.self), stderr: errorText)
    }

    /// Writes `input` to the child's stdin (then closes it) while reading its stdout and
    /// stderr to their ends, whichever is ready first; gives up at `timeout`.
    static func exchange(input: [UInt8], stdin: FileHandle, stdout: Int32, stderr: Int32, timeout: Duration)
        -> (stdout: [UInt8], stderr: [UInt8], timedOut: Bool)
    {
        let inFD = stdin.fileDescriptor
        _ = fcntl(inFD, F_SETFL, fcntl(inFD, F_GETFL) | O_NONBLOCK)
        // A command may exit without reading its stdin: our write then fails with EPIPE, and
        // the SIGPIPE it raises is held on this thread and taken here, not delivered.
        var pipeSignal = sigset_t(), previous = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer {
            var pending = sigset_t()
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1, sigismember(&previous, SIGPIPE) == 0 {
                var zero = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipeSignal, nil, &zero)
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        var written = 0
        var stdinOpen = true
        if input.isEmpty {
            try? stdin.close()
            stdinOpen = false
        }
        var out: [UInt8] = [], err: [UInt8] = []
        var outOpen = true, errOpen = true
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while outOpen || errOpen || stdinOpen {
            let left = deadline - clock.now
            guard left > .zero else { return (out, err, true) }
            var fds: [pollfd] = []
            if outOpen { fds.append(pollfd(fd: stdout, events: Int16(POLLIN), revents: 0)) }
            if errOpen { fds.append(pollfd(fd: stderr, events: Int16(POLLIN), revents: 0)) }
            if stdinOpen { fds.append(pollfd(fd: inFD, events: Int16(POLLOUT), revents: 0)) }
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&fds, nfds_t(fds.count), min(milliseconds, 1000))
            if ready < 0, errno != EINTR { break }
            guard ready > 0 else { continue }
            for entry in fds where entry.revents != 0 {
                if entry.fd == inFD {
                    // The command closed its stdin: writing would raise SIGPIPE.
                    if entry.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
                        try? stdin.close()
                        stdinOpen = false
                        continue
                    }
                    let count = input.withUnsafeBytes { raw in
                        write(inFD, raw.baseAddress! + written, min(raw.count - written, 1 << 16))
                    }
                    if count > 0 { written += count }
                    if written == input.count || (count < 0 && errno != EAGAIN && errno != EINTR) {
                        try? stdin.close()
                        stdinOpen = false
                    }
                    continue
                }
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if entry.fd == stdout { out.append(contentsOf: buffer[0..<count]) } else { err.append(contentsOf: buffer[0..<count]) }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    if entry.fd == stdout { outOpen = false } else { errOpen = false }
                }
            }
        }
        return (out, err, false)
    }
}

/// Whether a process that left an ownership mark is still a running synwall.
enum InstanceOwner {
    /// The comment every synwall-installed rule or table carries.
    static func mark(pid: Int32) -> String { "synwall pid=\(pid)" }

    /// Extracts the pid from a text containing `synwall pid=N`.
    static func pid(in text: Substring) -> Int32? {
        guard let range = text.range(of: "synwall pid=") else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        return Int32(digits)
    }

    /// True when `pid` is alive, is not us, and runs a program named synwall.
    static func isLiveOtherInstance(_ pid: Int32) -> Bool {
        guard pid != getpid(), kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return false }
        return comm.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("synwall")
    }
}
