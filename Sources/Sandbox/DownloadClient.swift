#if canImport(Glibc)
import Glibc
#endif

/// The client half of a `synwall peer` download: connects, asks for a number of bytes, reads
/// them while checking each against ``DownloadPattern``, and reports progress as it goes.
/// Plain POSIX sockets; connecting is bounded by `connectTimeout`, every later wait by
/// `idleTimeout` (the download may take as long as it needs while bytes keep coming).
public struct DownloadClient: Sendable {
    /// How a download ended.
    public struct Result: Sendable, Equatable {
        /// Bytes received.
        public var bytes: UInt64
        /// Received bytes that differ from the pattern.
        public var mismatches: Int
        /// FNV-1a 64 of the received bytes, 16 hex digits.
        public var checksum: String
        /// Seconds from connecting to the end.
        public var seconds: Double
    }

    /// Host name or numeric IPv4/IPv6 address.
    public let host: String
    /// TCP port.
    public let port: UInt16
    /// Bytes to ask for.
    public let bytes: UInt64
    /// Time limit for the connection to open.
    public let connectTimeout: Duration
    /// Longest wait for the next bytes once connected.
    public let idleTimeout: Duration
    /// Time between two progress reports.
    public let progressInterval: Duration

    /// A client; nothing happens until ``run(progress:)``.
    public init(host: String, port: UInt16, bytes: UInt64, connectTimeout: Duration = .seconds(3),
                idleTimeout: Duration = .seconds(10), progressInterval: Duration = .milliseconds(250)) {
        self.host = host
        self.port = port
        self.bytes = bytes
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.progressInterval = progressInterval
    }

    /// Downloads. `progress` gets the bytes received so far, every ``progressInterval`` and
    /// once connected.
    ///
    /// - Throws: ``PeerError``: `connect` (refused, reset: `ECONNRESET`), `timedOut`,
    ///   `closedEarly` when the server closes before sending everything.
    public func run(progress: (UInt64) -> Void) throws(PeerError) -> Result {
        let started = ContinuousClock.now
        let address = try SocketAddress.resolve(host: host, port: port, passive: false)
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
                        | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system(operation: "socket", errno: errno) }
        defer { close(fd) }

        if address.withSockaddr({ connect(fd, $0, $1) }) != 0 {
            guard errno == EINPROGRESS else { throw .connect(host: host, port: port, errno: errno) }
            guard try wait(fd, for: Int16(POLLOUT), milliseconds: Self.milliseconds(connectTimeout)) else {
                throw .timedOut(phase: "connecting", host: host, port: port, seconds: Self.seconds(connectTimeout))
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else {
                throw .system(operation: "getsockopt", errno: errno)
            }
            guard error == 0 else { throw .connect(host: host, port: port, errno: error) }
        }
        progress(0)

        let request = Array("\(bytes)\n".utf8)
        let written = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written == request.count else { throw .system(operation: "sending the request", errno: errno) }

        var pattern = DownloadPattern()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var nextReport = ContinuousClock.now + progressInterval
        var lastData = ContinuousClock.now
        while true {
            let now = ContinuousClock.now
            if now >= nextReport {
                progress(pattern.offset)
                nextReport = now + progressInterval
            }
            let idleLeft = lastData + idleTimeout - now
            guard idleLeft > .zero else {
                throw .timedOut(phase: "waiting for data after \(pattern.offset) bytes", host: host, port: port,
                                seconds: Self.seconds(idleTimeout))
            }
            let waitFor = min(idleLeft, max(nextReport - now, .milliseconds(1)))
            guard try wait(fd, for: Int16(POLLIN), milliseconds: Self.milliseconds(waitFor)) else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.withUnsafeBytes { pattern.consume(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                lastData = ContinuousClock.now
            } else if count == 0 {
                break
            } else if errno != EAGAIN && errno != EINTR {
                throw .connect(host: host, port: port, errno: errno)
            }
        }
        progress(pattern.offset)
        guard pattern.offset >= bytes else {
            throw .closedEarly(received: Int(clamping: pattern.offset), expected: Int(clamping: bytes))
        }
        let elapsed = ContinuousClock.now - started
        return Result(bytes: pattern.offset, mismatches: pattern.mismatches, checksum: pattern.checksumText,
                      seconds: Self.seconds(elapsed))
    }

    /// Polls; true when ready, false on timeout; an error or hang-up with nothing to read is
    /// thrown as the socket's error.
    private func wait(_ fd: Int32, for events: Int16, milliseconds: Int64) throws(PeerError) -> Bool {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        let ready = poll(&entry, 1, Int32(clamping: max(milliseconds, 1)))
        if ready < 0 {
            if errno == EINTR { return false }
            throw .system(operation: "poll", errno: errno)
        }
        guard ready > 0 else { return false }
        if entry.revents & Int16(POLLERR) != 0, entry.revents & events == 0 {
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            throw .connect(host: host, port: port, errno: error == 0 ? ECONNRESET : error)
        }
        return true
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
