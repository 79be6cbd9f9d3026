#if canImport(Glibc)
import Glibc
#endif

/// Sends whole IPv4 packets exactly as built, IP header included, through a raw socket
/// (`AF_INET`, `SOCK_RAW`, `IPPROTO_RAW`, which implies `IP_HDRINCL`): the source address and
/// every header field are the caller's, so packets may claim any source. The kernel still
/// routes them by destination in the namespace it runs in, and fills the IP checksum.
///
/// For attack traffic in a sandbox (`synwall peer syn-flood`, `scan`, `inject`); needs root
/// (`CAP_NET_RAW`). Build the packets with Wire's `PacketBuilder`.
///
/// ```swift
/// let sender = try RawPacketSender()
/// try sender.send(PacketBuilder(from: "198.18.0.7", to: "10.91.2.2")!.tcp(sourcePort: 4000, destinationPort: 22, flags: .syn))
/// ```
public final class RawPacketSender {
    private let descriptor: Int32

    /// Packets sent so far.
    public private(set) var sent = 0

    /// Opens the raw socket.
    ///
    /// - Throws: ``PeerError/system(operation:errno:)`` (`EPERM` when not root).
    public init() throws(PeerError) {
        let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_RAW))
        guard fd >= 0 else { throw .system(operation: "opening a raw IPv4 socket (needs root)", errno: errno) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Sends one IPv4 packet to the destination written in its header. A full transmit queue
    /// (`ENOBUFS`) is waited out, a few milliseconds at a time, for at most about a second.
    ///
    /// - Throws: ``PeerError/unusable(_:)`` when the bytes are not an IPv4 packet;
    ///   ``PeerError/system(operation:errno:)`` when the kernel refuses it.
    public func send(_ packet: [UInt8]) throws(PeerError) {
        guard packet.count >= 20, packet[0] >> 4 == 4 else {
            throw .unusable("the raw sender sends IPv4 packets only (at least 20 bytes, version 4)")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        // The destination, already in network byte order in the header.
        withUnsafeMutableBytes(of: &address.sin_addr) { target in
            for index in 0..<4 { target[index] = packet[16 + index] }
        }
        var attempts = 0
        while true {
            let result = packet.withUnsafeBytes { bytes in
                withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0,
                               socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            if result >= 0 {
                sent += 1
                return
            }
            let code = errno
            attempts += 1
            if code == EINTR { continue }
            guard code == ENOBUFS || code == EAGAIN, attempts < 500 else {
                throw .system(operation: "sending a raw packet", errno: code)
            }
            usleep(2_000)
        }
    }
}
