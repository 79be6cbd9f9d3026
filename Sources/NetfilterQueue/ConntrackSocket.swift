import CNetfilterQueue
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's connection tracking, through ctnetlink: removing the connections synwall handed
/// to the kernel (offload, docs/offload.md) when synwall itself cuts them, and all of them when
/// it detaches. Needs CAP_NET_ADMIN (the daemon keeps it). One message and its acknowledgement a
/// call: for rare operator actions and timers, never for the packet path.
public final class ConntrackSocket: @unchecked Sendable {
    private let socket: NetlinkSocket
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 8)
    private var sequence: UInt32 = 1

    /// Opens a netfilter netlink socket whose receive waits at most 250 ms.
    public init() throws(NetfilterQueueError) {
        switch Syscalls.openSocket() {
        case .success(let s): socket = s
        case .failure(let error):
            buffer.deallocate()
            throw error
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 250_000)
        _ = setsockopt(socket.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        Syscalls.disableExtendedAcks(fd: socket.fd)
    }

    deinit {
        Syscalls.close(socket)
        buffer.deallocate()
    }

    /// Deletes the kernel's connection between these endpoints: the one whose original
    /// direction is `source` → `destination`, else the one the kernel saw the other way round.
    /// Addresses are 4 or 16 bytes in network order. True when the kernel deleted one.
    @discardableResult
    public func deleteConnection(source: [UInt8], sourcePort: UInt16, destination: [UInt8], destinationPort: UInt16,
                                 proto: UInt8) -> Bool {
        guard source.count == destination.count, source.count == 4 || source.count == 16 else { return false }
        if request({ nlh in put(tuple: nlh, source, sourcePort, destination, destinationPort, proto) },
                   family: source.count == 4 ? AF_INET : AF_INET6) == 0 {
            return true
        }
        return request({ nlh in put(tuple: nlh, destination, destinationPort, source, sourcePort, proto) },
                       family: source.count == 4 ? AF_INET : AF_INET6) == 0
    }

    /// Deletes every connection (both families) whose mark has all the bits of `bits` set.
    /// True when the kernel accepted the request (whether or not any matched).
    @discardableResult
    public func deleteConnections(markedWith bits: UInt32) -> Bool {
        let result = request({ nlh in
            mnl_attr_put_u32(nlh, UInt16(CTA_MARK.rawValue), bits.bigEndian)
            mnl_attr_put_u32(nlh, UInt16(CTA_MARK_MASK.rawValue), bits.bigEndian)
        }, family: AF_UNSPEC)
        return result == 0 || result == ENOENT
    }

    /// The original tuple: addresses, protocol and ports.
    private func put(tuple nlh: UnsafeMutablePointer<nlmsghdr>, _ source: [UInt8], _ sourcePort: UInt16,
                     _ destination: [UInt8], _ destinationPort: UInt16, _ proto: UInt8) {
        let tuple = mnl_attr_nest_start(nlh, UInt16(CTA_TUPLE_ORIG.rawValue))
        let ip = mnl_attr_nest_start(nlh, UInt16(CTA_TUPLE_IP.rawValue))
        let v4 = source.count == 4
        source.withUnsafeBytes {
            mnl_attr_put(nlh, UInt16((v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC).rawValue), $0.count, $0.baseAddress)
        }
        destination.withUnsafeBytes {
            mnl_attr_put(nlh, UInt16((v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST).rawValue), $0.count, $0.baseAddress)
        }
        mnl_attr_nest_end(nlh, ip)
        let ports = mnl_attr_nest_start(nlh, UInt16(CTA_TUPLE_PROTO.rawValue))
        mnl_attr_put_u8(nlh, UInt16(CTA_PROTO_NUM.rawValue), proto)
        mnl_attr_put_u16(nlh, UInt16(CTA_PROTO_SRC_PORT.rawValue), sourcePort.bigEndian)
        mnl_attr_put_u16(nlh, UInt16(CTA_PROTO_DST_PORT.rawValue), destinationPort.bigEndian)
        mnl_attr_nest_end(nlh, ports)
        mnl_attr_nest_end(nlh, tuple)
    }

    /// Sends one IPCTNL_MSG_CT_DELETE with the attributes `attributes` adds and waits (bounded)
    /// for its acknowledgement: 0, the kernel's errno, or ETIMEDOUT.
    private func request(_ attributes: (UnsafeMutablePointer<nlmsghdr>) -> Void, family: Int32) -> Int32 {
        guard let base = buffer.baseAddress else { return EINVAL }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        guard let nlh = mnl_nlmsg_put_header(base) else { return EINVAL }
        sequence &+= 1
        let seq = sequence
        nlh.pointee.nlmsg_type = UInt16((Int32(NFNL_SUBSYS_CTNETLINK) << 8) | Int32(IPCTNL_MSG_CT_DELETE.rawValue))
        nlh.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
        nlh.pointee.nlmsg_seq = seq
        let header = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<nfgenmsg>.size)!.assumingMemoryBound(to: nfgenmsg.self)
        header.pointee.nfgen_family = UInt8(truncatingIfNeeded: family)
        header.pointee.version = UInt8(NFNETLINK_V0)
        header.pointee.res_id = 0
        attributes(nlh)
        if let error = Syscalls.send(socket, base, count: Int(nlh.pointee.nlmsg_len)) { return error }
        // The acknowledgement: an NLMSG_ERROR carrying our sequence number (0 is success).
        for _ in 0 ..< 8 {
            switch Syscalls.receiveOne(fd: socket.fd, into: buffer) {
            case .failure(let failure):
                return failure.rawValue == EAGAIN || failure.rawValue == EWOULDBLOCK ? ETIMEDOUT : failure.rawValue
            case .success(let count):
                var answer: Int32?
                NetlinkDatagram.forEachMessage(in: UnsafeRawBufferPointer(rebasing: buffer[0 ..< count])) { message in
                    if case let .error(code, messageSequence) = message, messageSequence == seq { answer = -code }
                }
                if let answer { return answer }
            }
        }
        return ETIMEDOUT
    }
}
