import Atomics
import Rules
import SystemCall
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// Sends the answers of `block return…` rules (a TCP RST, an ICMP or ICMPv6 unreachable)
/// through two raw sockets (`IPPROTO_RAW`, the header written by synwall), shared by every
/// worker and limited by one token bucket over all of them (`set return rate`).
///
/// The sockets are opened at start, while the daemon still holds its start-up privileges: a
/// raw socket's capability is checked when it is made, not when it sends, so the daemon keeps
/// no CAP_NET_RAW for this (docs/block-return.md). Each answer carries the socket mark
/// ``mark`` (`SO_MARK`, set at the same time), which synwall's own output chain lets pass
/// unqueued, so an answer is never judged by the daemon that sent it.
final class ReplySender: @unchecked Sendable {
    /// The mark on every answer (`SO_MARK`): "SWRP".
    static let mark: UInt32 = 0x5357_5250
    /// The mark as nft and iptables write it.
    static let markText = "0x53575250"

    private let ipv4: Int32
    private let ipv6: Int32
    /// The bucket (GCRA): the time at which the next answer would conform, in ns.
    private let nextConforming = ManagedAtomic<UInt64>(0)
    /// ns between answers at the configured rate, and how far ahead of time a burst may go.
    private let interval = ManagedAtomic<UInt64>(10_000_000)
    private let tolerance = ManagedAtomic<UInt64>(1_000_000_000)
    /// Answers sent, refused by the bucket, and failed in `sendto` (all workers).
    let sent = ManagedAtomic<Int>(0)
    let rateLimited = ManagedAtomic<Int>(0)
    let failed = ManagedAtomic<Int>(0)

    private init(ipv4: Int32, ipv6: Int32) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }

    deinit {
        if ipv4 >= 0 { close(ipv4) }
        if ipv6 >= 0 { close(ipv6) }
    }

    /// Opens the raw sockets (needs CAP_NET_RAW now, and CAP_NET_ADMIN for the mark). Nil with
    /// the reason when neither family could be opened: `block return` rules then drop silently.
    static func open() -> (sender: ReplySender?, problem: String?) {
        func make(_ family: Int32) -> (Int32, String?) {
            let fd = socket(family, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                            Int32(IPPROTO_RAW))
            guard fd >= 0 else { return (-1, "socket(\(family == AF_INET ? "AF_INET" : "AF_INET6"), SOCK_RAW): \(SystemCall.lastError)") }
            var one: Int32 = 1
            if family == AF_INET6 {
                // Implied by IPPROTO_RAW since Linux 4.5; asked for explicitly all the same.
                _ = setsockopt(fd, Int32(IPPROTO_IPV6), 36 /* IPV6_HDRINCL */, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            var mark = Self.mark
            guard setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<UInt32>.size)) == 0 else {
                let message = SystemCall.lastError
                close(fd)
                return (-1, "setsockopt(SO_MARK): \(message)")
            }
            return (fd, nil)
        }
        let (v4, problem4) = make(AF_INET)
        let (v6, problem6) = make(AF_INET6)
        guard v4 >= 0 || v6 >= 0 else { return (nil, problem4 ?? problem6) }
        return (ReplySender(ipv4: v4, ipv6: v6), problem4 ?? problem6)
    }

    /// Sets the bucket: `rate.count` answers per `rate.seconds`, `rate.burst` at once.
    func configure(_ rate: RuleSettings.Rate) {
        let step = max(1, UInt64(rate.seconds) * 1_000_000_000 / UInt64(max(1, rate.count)))
        interval.store(step, ordering: .relaxed)
        tolerance.store(step &* UInt64(max(1, rate.burst)), ordering: .relaxed)
    }

    /// Takes one token at `now` (ns); false when the bucket is empty. Lock-free: one
    /// compare-and-exchange per answer, shared by every worker.
    func admit(now: UInt64) -> Bool {
        let step = interval.load(ordering: .relaxed)
        let limit = tolerance.load(ordering: .relaxed)
        var current = nextConforming.load(ordering: .relaxed)
        while true {
            let next = max(current, now) &+ step
            guard next &- now <= limit else { return false }
            let (exchanged, original) = nextConforming.compareExchange(expected: current, desired: next, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Answers the refused packet in `bytes` as its rule's `reply` says, if the bucket allows,
    /// building it in `buffer` (at least `ReplyBuilder.maximumLength` bytes). Called on a
    /// worker's thread, only for packets a `block return…` rule refused.
    func answer(_ reply: RuleReply, to bytes: UnsafeRawBufferPointer, now: UInt64, buffer: UnsafeMutableRawBufferPointer) {
        guard let packet = PacketDecoder.decode(bytes).packet, let kind = reply.kind(forProtocol: packet.protocolNumber) else { return }
        let fd = packet.version == .v6 ? ipv6 : ipv4
        guard fd >= 0 else {
            failed.wrappingIncrement(ordering: .relaxed)
            return
        }
        let length = ReplyBuilder.build(kind, to: packet, bytes: bytes, into: buffer)
        guard length > 0 else { return }
        guard admit(now: now) else {
            rateLimited.wrappingIncrement(ordering: .relaxed)
            return
        }
        let result: Int
        if packet.version == .v6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &address.sin6_addr) { raw in
                for i in 0..<16 { raw[i] = buffer[24 + i] }
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buffer.baseAddress, length, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            withUnsafeMutableBytes(of: &address.sin_addr) { raw in
                for i in 0..<4 { raw[i] = buffer[16 + i] }
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buffer.baseAddress, length, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if result == length {
            sent.wrappingIncrement(ordering: .relaxed)
        } else {
            failed.wrappingIncrement(ordering: .relaxed)
        }
    }
}
