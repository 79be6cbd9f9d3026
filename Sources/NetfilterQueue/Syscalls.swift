import CNetfilterQueue
import SystemCall
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

// The only file of synwall that calls libnetfilter_queue, libmnl or socket system calls.
// Each wrapper retries EINTR where retrying is right (SystemCall.retryingInterrupts) and hands
// errno back as a value (swift-system's Errno).

/// Netlink message type numbers for nfqueue (`NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_*`).
enum NetlinkType {
    static var packet: UInt16 { UInt16(NFNL_SUBSYS_QUEUE << 8) | UInt16(NFQNL_MSG_PACKET.rawValue) }
    static var error: UInt16 { UInt16(NLMSG_ERROR) }
    static var done: UInt16 { UInt16(NLMSG_DONE) }
}

/// Attribute numbers of a received packet message.
enum PacketAttribute {
    static var packetHeader: UInt16 { UInt16(NFQA_PACKET_HDR.rawValue) }
    static var mark: UInt16 { UInt16(NFQA_MARK.rawValue) }
    static var inInterface: UInt16 { UInt16(NFQA_IFINDEX_INDEV.rawValue) }
    static var outInterface: UInt16 { UInt16(NFQA_IFINDEX_OUTDEV.rawValue) }
    static var payload: UInt16 { UInt16(NFQA_PAYLOAD.rawValue) }
    static var capturedLength: UInt16 { UInt16(NFQA_CAP_LEN.rawValue) }
    static var skbInfo: UInt16 { UInt16(NFQA_SKB_INFO.rawValue) }
}

enum NetlinkSize {
    /// nlmsghdr (16) + nfgenmsg (4), both aligned.
    static var messageHeader: Int { Int(synwall_nfq_header_len()) }
    static let nlmsghdr = 16
    static let attributeHeader = 4
}

/// An open NETLINK_NETFILTER socket owned through libmnl.
struct NetlinkSocket {
    let handle: OpaquePointer
    let fd: Int32
    let portID: UInt32
}

enum Syscalls {
    static func openSocket() -> Result<NetlinkSocket, NetfilterQueueError> {
        guard let handle = mnl_socket_open(NETLINK_NETFILTER) else {
            return .failure(.systemCall(operation: "opening a netlink socket", errno: errno))
        }
        if mnl_socket_bind(handle, 0, pid_t(MNL_SOCKET_AUTOPID)) < 0 {
            let code = errno
            mnl_socket_close(handle)
            return .failure(.systemCall(operation: "binding the netlink socket", errno: code))
        }
        let fd = mnl_socket_get_fd(handle)
        return .success(NetlinkSocket(handle: handle, fd: fd, portID: mnl_socket_get_portid(handle)))
    }

    /// Wraps descriptor `fd` (inherited) as a netlink socket, after checking that it is one of
    /// the netfilter family.
    static func adoptSocket(fd: Int32) -> Result<NetlinkSocket, NetfilterQueueError> {
        var domain: Int32 = 0, proto: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 else {
            return .failure(.systemCall(operation: "examining inherited descriptor \(fd)", errno: errno))
        }
        length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &length) == 0,
              domain == AF_NETLINK, proto == NETLINK_NETFILTER else {
            return .failure(.notANetfilterSocket(fd: fd))
        }
        guard let handle = mnl_socket_fdopen(fd) else {
            return .failure(.systemCall(operation: "taking over inherited descriptor \(fd)", errno: errno))
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return .success(NetlinkSocket(handle: handle, fd: fd, portID: mnl_socket_get_portid(handle)))
    }

    static func close(_ socket: NetlinkSocket) {
        // mnl_socket_close closes the descriptor; EINTR on close is not retried (the fd is gone).
        mnl_socket_close(socket.handle)
    }

    /// Sets SO_RCVBUFFORCE (ignores net.core.rmem_max; needs CAP_NET_ADMIN), falling back to
    /// SO_RCVBUF. Returns the size the kernel reports afterwards.
    static func setReceiveBuffer(fd: Int32, bytes: Int) -> Int {
        var value = Int32(clamping: bytes)
        let size = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &value, size) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, size)
        }
        var actual: Int32 = 0
        var length = size
        _ = getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &actual, &length)
        return Int(actual)
    }

    /// Makes a blocking receive return EAGAIN after `milliseconds`, so a worker can notice a stop.
    static func setReceiveTimeout(fd: Int32, milliseconds: Int) {
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Asks the kernel to report ENOBUFS (the default) but not to send extended ACKs we don't read.
    static func disableExtendedAcks(fd: Int32) {
        var off: Int32 = 0
        _ = setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &off, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Sends one datagram of one or more netlink messages to the kernel. Returns errno on failure.
    static func send(_ socket: NetlinkSocket, _ bytes: UnsafeRawPointer, count: Int) -> Int32? {
        SystemCall.retryingInterrupts { mnl_socket_sendto(socket.handle, bytes, count) } >= 0 ? nil : errno
    }

    /// Receives up to `count` datagrams. Returns the number received, or errno (EAGAIN on timeout).
    static func receiveMany(fd: Int32, _ vector: UnsafeMutablePointer<synwall_mmsghdr>, count: Int)
        -> Result<Int, Errno>
    {
        let n = SystemCall.retryingInterrupts {
            synwall_recvmmsg(fd, vector, UInt32(count), synwall_msg_waitforone(), nil)
        }
        return n >= 0 ? .success(Int(n)) : .failure(Errno(rawValue: errno))
    }

    /// Receives one datagram without waiting longer than the socket's timeout.
    static func receiveOne(fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        let n = SystemCall.retryingInterrupts { recv(fd, buffer.baseAddress, buffer.count, 0) }
        return n >= 0 ? .success(n) : .failure(Errno(rawValue: errno))
    }

    // MARK: Message construction (libnetfilter_queue's libmnl helpers)

    /// Writes a config message that binds `queue` and sets copy mode/range, maximum length and
    /// flags in one go, with NLM_F_ACK (no `nfq_nlmsg_put2` in libnetfilter_queue 1.0.5).
    static func putConfig(into buffer: UnsafeMutableRawPointer, queue: UInt16, copyRange: Int,
                          maxLength: UInt32, flags: UInt32, mask: UInt32, sequence: UInt32) -> Int
    {
        guard let nlh = nfq_nlmsg_put(buffer.assumingMemoryBound(to: CChar.self), Int32(NFQNL_MSG_CONFIG.rawValue),
                                UInt32(queue)) else { return 0 }
        nlh.pointee.nlmsg_flags |= UInt16(NLM_F_ACK)
        nlh.pointee.nlmsg_seq = sequence
        nfq_nlmsg_cfg_put_cmd(nlh, UInt16(AF_UNSPEC), UInt8(NFQNL_CFG_CMD_BIND.rawValue))
        nfq_nlmsg_cfg_put_params(nlh, UInt8(NFQNL_COPY_PACKET.rawValue), Int32(copyRange))
        nfq_nlmsg_cfg_put_qmaxlen(nlh, maxLength)
        mnl_attr_put_u32(nlh, UInt16(NFQA_CFG_FLAGS.rawValue), flags.bigEndian)
        mnl_attr_put_u32(nlh, UInt16(NFQA_CFG_MASK.rawValue), mask.bigEndian)
        return Int(nlh.pointee.nlmsg_len)
    }

    /// Writes one verdict message for packet `id`; returns its aligned length.
    static func putVerdict(into buffer: UnsafeMutableRawPointer, queue: UInt16, id: UInt32, verdict: Int32) -> Int {
        guard let nlh = nfq_nlmsg_put(buffer.assumingMemoryBound(to: CChar.self), Int32(NFQNL_MSG_VERDICT.rawValue),
                                UInt32(queue)) else { return 0 }
        nfq_nlmsg_verdict_put(nlh, Int32(bitPattern: id), verdict)
        return Int(synwall_nlmsg_align(nlh.pointee.nlmsg_len))
    }

    /// Writes one verdict message that also sets the packet's mark (`NFQA_MARK`): with
    /// `NF_REPEAT`, the packet runs through the same hook again carrying the new mark.
    static func putMarkedVerdict(into buffer: UnsafeMutableRawPointer, queue: UInt16, id: UInt32, verdict: Int32,
                                 mark: UInt32) -> Int {
        guard let nlh = nfq_nlmsg_put(buffer.assumingMemoryBound(to: CChar.self), Int32(NFQNL_MSG_VERDICT.rawValue),
                                UInt32(queue)) else { return 0 }
        nfq_nlmsg_verdict_put(nlh, Int32(bitPattern: id), verdict)
        nfq_nlmsg_verdict_put_mark(nlh, mark)
        return Int(synwall_nlmsg_align(nlh.pointee.nlmsg_len))
    }

    /// Writes one batch verdict that applies to every queued packet with an id up to `id`.
    static func putBatchVerdict(into buffer: UnsafeMutableRawPointer, queue: UInt16, id: UInt32, verdict: Int32) -> Int {
        guard let nlh = nfq_nlmsg_put(buffer.assumingMemoryBound(to: CChar.self), Int32(NFQNL_MSG_VERDICT_BATCH.rawValue),
                                UInt32(queue)) else { return 0 }
        nfq_nlmsg_verdict_put(nlh, Int32(bitPattern: id), verdict)
        return Int(synwall_nlmsg_align(nlh.pointee.nlmsg_len))
    }

    static var verdictAccept: Int32 { Int32(NF_ACCEPT) }
    static var verdictDrop: Int32 { Int32(NF_DROP) }
    static var verdictRepeat: Int32 { Int32(NF_REPEAT) }
    static let flagFailOpen = UInt32(NFQA_CFG_F_FAIL_OPEN)
    static let flagGSO = UInt32(NFQA_CFG_F_GSO)
    static let skbChecksumNotReady = UInt32(NFQA_SKB_CSUMNOTREADY)
    static let skbGSO = UInt32(NFQA_SKB_GSO)
    static let skbChecksumNotVerified = UInt32(NFQA_SKB_CSUM_NOTVERIFIED)
    static var errnoNoBuffers: Int32 { ENOBUFS }
    static var errnoAgain: Int32 { EAGAIN }
    static var errnoWouldBlock: Int32 { EWOULDBLOCK }
    static var messageTruncated: Int32 { Int32(MSG_TRUNC) }
}
