#if canImport(Glibc)
import Glibc
#endif

/// A resolved socket address (IPv4 or IPv6), stored by value.
struct SocketAddress: Sendable {
    let family: Int32
    private let storage: sockaddr_storage
    private let length: socklen_t

    /// Resolves `host` (name or numeric address; nil with `passive`: the wildcard) and `port`.
    static func resolve(host: String?, port: UInt16, passive: Bool) throws(PeerError) -> SocketAddress {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw .resolve(host: host ?? "*", reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        guard let address = first.pointee.ai_addr else {
            throw .resolve(host: host ?? "*", reason: "no address")
        }
        var storage = sockaddr_storage()
        let length = min(Int(first.pointee.ai_addrlen), MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: length))
        }
        return SocketAddress(family: first.pointee.ai_family, storage: storage, length: socklen_t(length))
    }

    /// The IPv6 wildcard address `[::]:port`, which also accepts IPv4 when `IPV6_V6ONLY` is off.
    static func ipv6Wildcard(port: UInt16) -> SocketAddress {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        address.sin6_addr = in6addr_any
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { target in
            withUnsafeBytes(of: &address) { target.copyMemory(from: $0) }
        }
        return SocketAddress(family: AF_INET6, storage: storage,
                             length: socklen_t(MemoryLayout<sockaddr_in6>.size))
    }

    /// Calls `body` with a `sockaddr` pointer and its length.
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafePointer(to: storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
