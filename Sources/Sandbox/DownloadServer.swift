import Foundation
import SystemCall
#if canImport(Glibc)
import Glibc
#endif

/// Set by the SIGTERM/SIGINT handler of ``DownloadServer``; read by its accept loop.
nonisolated(unsafe) private var downloadServerStopRequested: sig_atomic_t = 0
/// Set by the SIGUSR1 handler of ``DownloadServer``: send the rest without pacing.
nonisolated(unsafe) private var downloadServerHurryRequested: sig_atomic_t = 0

/// The server half of a `synwall peer` download: a TCP server on one port (IPv4 and IPv6)
/// that answers each connection's request line — a decimal byte count and a newline — with
/// that many bytes of ``DownloadPattern``, paced to a rate, then closes. Each connection has
/// its own thread. SIGUSR1 lifts the pace (the rest goes as fast as TCP allows); SIGTERM or
/// SIGINT stops accepting. Plain POSIX sockets.
public struct DownloadServer: Sendable {
    /// What one connection got.
    public struct Transfer: Sendable, CustomStringConvertible {
        /// The client's address and port, as text.
        public var peer: String
        /// Bytes asked for.
        public var requested: UInt64
        /// Bytes sent.
        public var sent: UInt64
        /// FNV-1a 64 of the bytes sent (see ``DownloadPattern/checksum``), 16 hex digits.
        public var checksum: String
        /// Why it ended early, if it did.
        public var failure: String?

        /// `sent N of M bytes to PEER fnv1a=HEX`, with the failure when there was one.
        public var description: String {
            "sent \(sent) of \(requested) bytes to \(peer) fnv1a=\(checksum)" + (failure.map { " (\($0))" } ?? "")
        }
    }

    /// TCP port to listen on.
    public let port: UInt16
    /// Pace of each transfer in bytes per second; 0: as fast as TCP allows.
    public let bytesPerSecond: Int
    /// Largest request honoured (bytes).
    public static let maximumRequest: UInt64 = 1 << 34

    /// A server; nothing happens until ``run(onListening:onTransfer:)``.
    public init(port: UInt16, bytesPerSecond: Int) {
        self.port = port
        self.bytesPerSecond = max(0, bytesPerSecond)
    }

    /// Listens on `[::]` (IPv4 too) and serves until SIGTERM or SIGINT.
    ///
    /// - Parameters:
    ///   - onListening: called once the socket listens.
    ///   - onTransfer: called from the connection's thread when a transfer ends.
    public func run(onListening: () -> Void, onTransfer: @escaping @Sendable (Transfer) -> Void) throws(PeerError) {
        let bound = SocketAddress.ipv6Wildcard(port: port)
        let listener = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw .system(operation: "socket", errno: errno) }
        defer { close(listener) }
        var on: Int32 = 1
        var off: Int32 = 0
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(listener, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        guard bound.withSockaddr({ bind(listener, $0, $1) }) == 0 else {
            throw .system(operation: "bind to port \(port)", errno: errno)
        }
        guard listen(listener, 128) == 0 else { throw .system(operation: "listen", errno: errno) }

        downloadServerStopRequested = 0
        downloadServerHurryRequested = 0
        // A parent's blocked signals are inherited (a test runner may block these): unblock the
        // ones this server answers, or SIGUSR1 would never lift the pace.
        var answered = sigset_t()
        sigemptyset(&answered)
        for number in [SIGTERM, SIGINT, SIGUSR1] { sigaddset(&answered, number) }
        pthread_sigmask(SIG_UNBLOCK, &answered, nil)
        signal(SIGTERM) { _ in downloadServerStopRequested = 1 }
        signal(SIGINT) { _ in downloadServerStopRequested = 1 }
        signal(SIGUSR1) { _ in downloadServerHurryRequested = 1 }
        signal(SIGPIPE, SIG_IGN)
        onListening()

        let rate = bytesPerSecond
        while downloadServerStopRequested == 0 {
            var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, 100)
            if ready < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "poll", errno: errno)
            }
            guard ready > 0 else { continue }
            var address = sockaddr_in6()
            var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            let client = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            guard client >= 0 else { continue }
            let peer = Self.describe(address)
            Thread.detachNewThread {
                onTransfer(Self.serve(client, peer: peer, bytesPerSecond: rate))
            }
        }
    }

    /// Reads the request, sends the bytes, closes.
    private static func serve(_ fd: Int32, peer: String, bytesPerSecond: Int) -> Transfer {
        defer { close(fd) }
        var limit = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var transfer = Transfer(peer: peer, requested: 0, sent: 0, checksum: DownloadPattern().checksumText)

        // The request: digits, then a newline, within 32 bytes.
        var request: [UInt8] = []
        var byte: UInt8 = 0
        while request.count < 32 {
            let count = SystemCall.retryingInterrupts { recv(fd, &byte, 1, 0) }
            guard count == 1 else { break }
            if byte == UInt8(ascii: "\n") { break }
            request.append(byte)
        }
        guard let size = UInt64(String(decoding: request, as: UTF8.self)), size <= maximumRequest else {
            transfer.failure = "bad request (expected a byte count and a newline)"
            return transfer
        }
        transfer.requested = size

        var pattern = DownloadPattern()
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let start = ContinuousClock.now
        while pattern.offset < size {
            let length = Int(min(UInt64(chunk.count), size - pattern.offset))
            chunk.withUnsafeMutableBytes { pattern.produce(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<length])) }
            var written = 0
            while written < length {
                let count = chunk.withUnsafeBytes { raw in
                    SystemCall.retryingInterrupts {
                        send(fd, raw.baseAddress.map { $0 + written }, length - written, Int32(MSG_NOSIGNAL))
                    }
                }
                guard count > 0 else {
                    transfer.sent += UInt64(written)
                    transfer.checksum = "-"
                    transfer.failure = "send failed: \(PeerError.text(errno))"
                    return transfer
                }
                written += count
            }
            transfer.sent += UInt64(length)
            // Pace: the bytes sent so far may not run ahead of the rate.
            if bytesPerSecond > 0 && downloadServerHurryRequested == 0 {
                let due = start + .nanoseconds(Int64(Double(transfer.sent) / Double(bytesPerSecond) * 1e9))
                let wait = due - ContinuousClock.now
                if wait > .zero {
                    let micros = wait.components.seconds * 1_000_000 + wait.components.attoseconds / 1_000_000_000_000
                    usleep(UInt32(clamping: micros))
                }
            }
        }
        transfer.checksum = pattern.checksumText
        // Let the client read everything and close first.
        shutdown(fd, Int32(SHUT_WR))
        while recv(fd, &byte, 1, 0) > 0 {}
        return transfer
    }

    private static func describe(_ address: sockaddr_in6) -> String {
        var copy = address
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = inet_ntop(AF_INET6, &copy.sin6_addr, &text, socklen_t(text.count))
        var host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if host.hasPrefix("::ffff:") { host.removeFirst(7) }
        return "\(host) port \(UInt16(bigEndian: address.sin6_port))"
    }
}
