#if canImport(Glibc)
import Glibc
#endif

/// Set by the SIGTERM/SIGINT handler of ``EchoServer``; read by its poll loop.
nonisolated(unsafe) private var echoServerStopRequested: sig_atomic_t = 0

/// The server half of `synwall peer`: a TCP echo server on one port, IPv4 and IPv6, that serves
/// many connections at once with `poll`, and stops after a number of connections or on
/// SIGTERM/SIGINT. Plain POSIX sockets.
public struct EchoServer: Sendable {
    /// TCP port to listen on.
    public let port: UInt16
    /// Address to bind; nil: `[::]`, which accepts IPv4 and IPv6.
    public let address: String?
    /// Stop after this many connections have been served and closed; nil: run until a signal.
    public let maxConnections: Int?
    /// Most connections served at once; more wait in the listen backlog.
    public let maxOpen = 256

    /// Creates a server; nothing happens until ``run(onListening:)``.
    public init(port: UInt16, address: String? = nil, maxConnections: Int? = nil) {
        self.port = port
        self.address = address
        self.maxConnections = maxConnections
    }

    /// Listens, then echoes every byte back until the limit is reached or SIGTERM/SIGINT arrives.
    ///
    /// - Parameter onListening: called once the socket listens, with a description of the address.
    /// - Returns: the number of connections served.
    public func run(onListening: (String) -> Void) throws(PeerError) -> Int {
        let bound = try address.map { host throws(PeerError) in
            try SocketAddress.resolve(host: host, port: port, passive: true)
        } ?? SocketAddress.ipv6Wildcard(port: port)
        let listener = socket(bound.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw .system(operation: "socket", errno: errno) }
        defer { close(listener) }
        var on: Int32 = 1
        var off: Int32 = 0
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        if bound.family == AF_INET6, address == nil {
            setsockopt(listener, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        }
        guard bound.withSockaddr({ bind(listener, $0, $1) }) == 0 else {
            throw .system(operation: "bind to port \(port)", errno: errno)
        }
        guard listen(listener, 128) == 0 else { throw .system(operation: "listen", errno: errno) }

        echoServerStopRequested = 0
        // A parent's blocked signals are inherited (a test runner may block these): unblock them.
        var answered = sigset_t()
        sigemptyset(&answered)
        for number in [SIGTERM, SIGINT] { sigaddset(&answered, number) }
        pthread_sigmask(SIG_UNBLOCK, &answered, nil)
        signal(SIGTERM) { _ in echoServerStopRequested = 1 }
        signal(SIGINT) { _ in echoServerStopRequested = 1 }
        signal(SIGPIPE, SIG_IGN)

        onListening("\(address ?? "[::]") port \(port)")

        var clients: [Int32] = []
        defer { clients.forEach { close($0) } }
        var served = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while echoServerStopRequested == 0 {
            if let maxConnections, served >= maxConnections, clients.isEmpty { break }
            let accepting = clients.count < maxOpen && (maxConnections.map { served + clients.count < $0 } ?? true)
            var entries = clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if accepting { entries.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&entries, nfds_t(entries.count), 100)
            if ready < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "poll", errno: errno)
            }
            guard ready > 0 else { continue }
            var closed: Set<Int32> = []
            for entry in entries where entry.revents != 0 {
                if entry.fd == listener {
                    let client = accept(listener, nil, nil)
                    if client >= 0 {
                        var limit = timeval(tv_sec: 2, tv_usec: 0)
                        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                        clients.append(client)
                    }
                    continue
                }
                if !echo(entry.fd, buffer: &buffer) { closed.insert(entry.fd) }
            }
            if !closed.isEmpty {
                for fd in closed { close(fd) }
                clients.removeAll { closed.contains($0) }
                served += closed.count
            }
        }
        return served
    }

    /// Echoes what is readable on `fd`; false when the connection is finished.
    private func echo(_ fd: Int32, buffer: inout [UInt8]) -> Bool {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if count < 0 { return errno == EAGAIN || errno == EINTR }
        if count == 0 { return false }
        var sent = 0
        while sent < count {
            let written = buffer.withUnsafeBytes { send(fd, $0.baseAddress.map { $0 + sent }, count - sent, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return false }
            sent += written
        }
        return true
    }
}
