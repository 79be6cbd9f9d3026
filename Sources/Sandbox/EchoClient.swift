#if canImport(Glibc)
import Glibc
#endif

/// The client half of `synwall peer`: connect over TCP, send a message, read the echo back.
/// Plain POSIX sockets; every step is bounded by one overall deadline.
public struct EchoClient: Sendable {
    /// Host name or numeric IPv4/IPv6 address.
    public let host: String
    /// TCP port.
    public let port: UInt16
    /// Overall time limit for connect, send and echo.
    public let timeout: Duration

    /// Creates a client for `host`:`port` with an overall `timeout`.
    public init(host: String, port: UInt16, timeout: Duration) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    /// Connects, sends `message` and waits until the same bytes come back.
    public func exchange(_ message: [UInt8]) throws(PeerError) {
        let deadline = ContinuousClock.now + timeout
        let address = try SocketAddress.resolve(host: host, port: port, passive: false)
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
                        | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system(operation: "socket", errno: errno) }
        defer { close(fd) }

        let connected = address.withSockaddr { connect(fd, $0, $1) }
        if connected != 0 {
            guard errno == EINPROGRESS else { throw .connect(host: host, port: port, errno: errno) }
            try wait(fd, for: Int16(POLLOUT), until: deadline, phase: "connecting")
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else {
                throw .system(operation: "getsockopt", errno: errno)
            }
            guard error == 0 else { throw .connect(host: host, port: port, errno: error) }
        }

        var sent = 0
        while sent < message.count {
            let count = message.withUnsafeBytes { bytes in
                send(fd, bytes.baseAddress.map { $0 + sent }, message.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                sent += count
            } else if count < 0, errno == EAGAIN || errno == EINTR {
                try wait(fd, for: Int16(POLLOUT), until: deadline, phase: "sending")
            } else {
                throw .system(operation: "send", errno: errno)
            }
        }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < message.count {
            try wait(fd, for: Int16(POLLIN), until: deadline, phase: "waiting for the echo")
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[0..<count]
            } else if count == 0 {
                throw .closedEarly(received: received.count, expected: message.count)
            } else if errno != EAGAIN && errno != EINTR {
                throw .system(operation: "recv", errno: errno)
            }
        }
        guard received == message else { throw .mismatch(received: received.count) }
    }

    private func wait(
        _ fd: Int32, for events: Int16, until deadline: ContinuousClock.Instant, phase: String
    ) throws(PeerError) {
        while true {
            let left = deadline - ContinuousClock.now
            let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
            guard milliseconds > 0 else {
                let seconds = Double(timeout.components.seconds)
                    + Double(timeout.components.attoseconds) / 1e18
                throw .timedOut(phase: phase, host: host, port: port, seconds: seconds)
            }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(clamping: milliseconds))
            if ready > 0 {
                if entry.revents & Int16(POLLERR | POLLHUP) != 0, entry.revents & events == 0 {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    throw .connect(host: host, port: port, errno: error == 0 ? ECONNRESET : error)
                }
                return
            }
            if ready < 0, errno != EINTR { throw .system(operation: "poll", errno: errno) }
        }
    }
}
