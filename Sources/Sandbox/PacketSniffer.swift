#if canImport(Glibc)
import Glibc
#endif

/// Captures every IP packet that crosses one interface of the namespace it is opened in, in
/// both directions, through an `AF_PACKET` socket (`SOCK_DGRAM`: the link header is already
/// stripped, each packet starts at its IP header). Open it before the traffic it must see:
/// the socket keeps what arrives in its buffer until ``next(timeout:)`` takes it.
///
/// A tap on a link, for tests and the demo (`synwall peer sniff`, `scan`): it sees frames as
/// the wire carries them, before the firewall judges incoming ones. Needs root (`CAP_NET_RAW`).
public final class PacketSniffer {
    /// The interface it listens on.
    public let interface: String
    private let descriptor: Int32
    private var buffer: [UInt8]

    /// `ETH_P_ALL` from `<linux/if_ether.h>`: every protocol.
    private static let everyProtocol: UInt16 = 0x0003

    /// Opens the capture on `interface`.
    ///
    /// - Parameter bufferSize: the largest packet kept whole (a segmentation-offload super
    ///   packet can be up to 64 KiB); longer ones are cut.
    /// - Throws: ``PeerError/unusable(_:)`` for an unknown interface,
    ///   ``PeerError/system(operation:errno:)`` when the socket cannot be opened (`EPERM`: not root).
    public init(interface: String, bufferSize: Int = 65_536 + 256) throws(PeerError) {
        let index = if_nametoindex(interface)
        guard index != 0 else {
            throw .unusable("there is no interface '\(interface)' here: name one that `ip link` lists")
        }
        let fd = socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                        Int32(Self.everyProtocol.bigEndian))
        guard fd >= 0 else { throw .system(operation: "opening a packet socket (needs root)", errno: errno) }
        // struct sockaddr_ll: family, protocol (network order), ifindex, then unused fields.
        var address = sockaddr_storage()
        let length = withUnsafeMutableBytes(of: &address) { bytes -> Int in
            bytes.storeBytes(of: UInt16(AF_PACKET), toByteOffset: 0, as: UInt16.self)
            bytes.storeBytes(of: Self.everyProtocol.bigEndian, toByteOffset: 2, as: UInt16.self)
            bytes.storeBytes(of: Int32(index), toByteOffset: 4, as: Int32.self)
            return 20
        }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw .system(operation: "binding a packet socket to \(interface)", errno: code)
        }
        self.interface = interface
        descriptor = fd
        buffer = [UInt8](repeating: 0, count: max(bufferSize, 128))
    }

    deinit { close(descriptor) }

    /// The next IPv4 or IPv6 packet captured, from its IP header on; nil when none comes
    /// within `timeout`. Frames of other protocols (ARP, …) are skipped.
    ///
    /// - Throws: ``PeerError/system(operation:errno:)`` when the socket fails.
    public func next(timeout: Duration) throws(PeerError) -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = deadline - ContinuousClock.now
            let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
            guard milliseconds > 0 else { return nil }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(clamping: milliseconds))
            if ready < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "waiting for packets on \(interface)", errno: errno)
            }
            guard ready > 0 else { return nil }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .system(operation: "reading packets on \(interface)", errno: errno)
            }
            guard count > 0, buffer[0] >> 4 == 4 || buffer[0] >> 4 == 6 else { continue }
            return Array(buffer[0..<count])
        }
    }
}
