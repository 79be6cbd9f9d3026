import CNetfilterQueue
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of one receive round.
public enum ReceiveRound: Sendable, Equatable {
    /// This many packets were received and verdicted.
    case packets(Int)
    /// Nothing arrived before the receive timeout.
    case idle
    /// The kernel reported ENOBUFS (counted); the loop simply goes on.
    case overrun
    /// The receive failed with this errno (counted).
    case failed(Int32)
}

/// One bound NFQUEUE queue: a netlink socket, its receive slots and its verdict batch.
///
/// Not thread-safe: after `init` it belongs to exactly one worker thread (hence the unchecked
/// `Sendable`, which only allows handing it over once). Nothing here allocates per packet.
public final class QueueSocket: @unchecked Sendable {
    public let configuration: QueueConfiguration
    /// Counters, updated by the owning thread.
    public var statistics: QueueStatistics {
        var total = counters
        total.sendErrors = sendErrors
        total.heldNow = heldPackets
        total.accepted += lateAccepted
        total.dropped += lateDropped
        return total
    }
    private var counters = QueueStatistics()
    private var sendErrors = 0
    /// The receive buffer size the kernel granted.
    public let receiveBufferBytes: Int
    /// Packets that arrived before the bind was acknowledged (dropped: the pipeline was not ready).
    public private(set) var droppedDuringStart = 0

    private let socket: NetlinkSocket
    private let slotSize: Int
    private let slotCount: Int
    private let slots: UnsafeMutableRawBufferPointer
    private let iovecs: UnsafeMutablePointer<iovec>
    private let headers: UnsafeMutablePointer<synwall_mmsghdr>
    private var verdicts: VerdictBatch
    private var closed = false
    /// Packets the handler held (`PacketVerdict.held`) that have no verdict yet.
    private var heldPackets = 0
    /// Verdicts given to held packets, counted into `counters` at the end of the round.
    private var lateAccepted = 0
    private var lateDropped = 0
    /// True while `receiveRound` runs (a release then joins the round's verdicts).
    private var inRound = false
    /// Slots the last receive filled (their headers need resetting before the next one).
    private var slotsToReset = 0

    /// Opens a netlink socket, binds `configuration.queue` and configures it in one
    /// acknowledged message.
    public convenience init(configuration: QueueConfiguration) throws(NetfilterQueueError) {
        let socket: NetlinkSocket
        switch Syscalls.openSocket() {
        case .success(let s): socket = s
        case .failure(let error): throw error
        }
        try self.init(socket: socket, configuration: configuration, adopted: false)
    }

    /// Takes over descriptor `fd`: an NFQUEUE socket an earlier synwall bound and left in
    /// systemd's file-descriptor store (handed back through `LISTEN_FDS`;
    /// docs/state-file.md, "No packet lost"). When it is still bound to `configuration.queue`
    /// its binding and settings are kept as they are, so every packet the kernel queued while
    /// no process read it is read here, not dropped; otherwise it is bound afresh. Packets the
    /// earlier process read but never gave a verdict get one (drop, or accept with fail-open)
    /// before the first packet read here. Throws when `fd` is not a netfilter netlink socket.
    public convenience init(adopting fd: Int32, configuration: QueueConfiguration) throws(NetfilterQueueError) {
        let socket: NetlinkSocket
        switch Syscalls.adoptSocket(fd: fd) {
        case .success(let s): socket = s
        case .failure(let error): throw error
        }
        let bound = KernelQueueStatus.read().contains { $0.queue == configuration.queue && $0.portID == socket.portID }
        try self.init(socket: socket, configuration: configuration, adopted: bound)
    }

    /// True when this socket was taken over still bound (see `init(adopting:configuration:)`).
    public let adopted: Bool
    /// Set until the first packet read on an adopted socket: the earlier process's unanswered
    /// packets, all with lower ids, still need a verdict.
    private var orphansPending: Bool

    private init(socket: NetlinkSocket, configuration: QueueConfiguration, adopted: Bool) throws(NetfilterQueueError) {
        self.configuration = configuration
        self.adopted = adopted
        orphansPending = adopted
        self.socket = socket
        receiveBufferBytes = Syscalls.setReceiveBuffer(fd: socket.fd, bytes: configuration.receiveBufferBytes)
        Syscalls.setReceiveTimeout(fd: socket.fd, milliseconds: configuration.receiveTimeoutMilliseconds)

        let size = configuration.slotSize
        let count = configuration.batchSize
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: size * count, alignment: 16)
        let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: count)
        let messages = UnsafeMutablePointer<synwall_mmsghdr>.allocate(capacity: count)
        for i in 0 ..< count {
            vectors[i] = iovec(iov_base: storage.baseAddress.map { $0 + i * size }, iov_len: size)
            messages[i] = synwall_mmsghdr()
            // No sender address: only the kernel, or a process with CAP_NET_ADMIN in this
            // network namespace, can send to a netfilter netlink socket (the family does not
            // set NL_CFG_F_NONROOT_SEND), and such a process can detach the firewall anyway.
            // Asking recvmmsg for each datagram's sender cost about 250 ns a packet.
            messages[i].msg_hdr.msg_name = nil
            messages[i].msg_hdr.msg_namelen = 0
            messages[i].msg_hdr.msg_iov = vectors + i
            messages[i].msg_hdr.msg_iovlen = 1
        }
        slotSize = size
        slotCount = count
        slots = storage
        iovecs = vectors
        headers = messages
        verdicts = VerdictBatch(capacity: slotCount * 2, queue: configuration.queue)
        guard !adopted else { return }
        do {
            try bindAndConfigure()
        } catch {
            release()
            throw error
        }
    }

    /// The socket's descriptor, for handing it to systemd's file-descriptor store (it stays
    /// owned by this object).
    public var descriptor: Int32 { socket.fd }

    deinit { release() }

    private func release() {
        guard !closed else { return }
        closed = true
        Syscalls.close(socket)
        slots.deallocate()
        iovecs.deallocate()
        headers.deallocate()
    }

    /// Closes the socket. Packets still queued in the kernel for this queue are dropped by it, so
    /// call `drain` first.
    public func close() { release() }

    // MARK: Configuration

    private func bindAndConfigure() throws(NetfilterQueueError) {
        let queue = configuration.queue
        var flags: UInt32 = 0
        if configuration.failOpen { flags |= Syscalls.flagFailOpen }
        if configuration.gso { flags |= Syscalls.flagGSO }
        let mask = Syscalls.flagFailOpen | Syscalls.flagGSO
        let sequence = UInt32(truncatingIfNeeded: time(nil))
        // The config message is built in the first receive slot (not in use yet).
        guard let buffer = slots.baseAddress else { throw .noAcknowledgement(queue: queue) }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: 256)
        let length = Syscalls.putConfig(into: buffer, queue: queue, copyRange: configuration.copyRange,
                                        maxLength: configuration.maxLength, flags: flags, mask: mask,
                                        sequence: sequence)
        let sendError = Syscalls.send(socket, buffer, count: length)
        if let sendError {
            throw .systemCall(operation: "sending the NFQUEUE configuration for queue \(queue)", errno: sendError)
        }
        // Wait (bounded) for the acknowledgement. Packets that slip in before it are dropped:
        // nothing may be left without a verdict.
        let one = UnsafeMutableRawBufferPointer(start: buffer, count: slotSize)
        for _ in 0 ..< max(1, 2000 / configuration.receiveTimeoutMilliseconds) {
            switch Syscalls.receiveOne(fd: socket.fd, into: one) {
            case .failure(let e) where e.rawValue == Syscalls.errnoAgain || e.rawValue == Syscalls.errnoWouldBlock:
                continue
            case .failure(let e) where e.rawValue == Syscalls.errnoNoBuffers:
                counters.enobufs += 1
                continue
            case .failure(let e):
                throw .systemCall(operation: "waiting for the NFQUEUE acknowledgement for queue \(queue)", errno: e.rawValue)
            case .success(let count):
                var answer: Int32?
                NetlinkDatagram.forEachMessage(in: UnsafeRawBufferPointer(rebasing: one[0 ..< count])) { message in
                    switch message {
                    case let .error(code, seq) where seq == sequence:
                        answer = code
                    case let .packet(packet):
                        verdicts.record(id: packet.id, verdict: .drop)
                        droppedDuringStart += 1
                    default:
                        break
                    }
                }
                flushVerdicts()
                if let answer {
                    if answer == 0 { return }
                    let code = -answer
                    if code == EPERM || code == EBUSY {
                        if let owner = KernelQueueStatus.read().first(where: { $0.queue == queue }) {
                            throw .queueBusy(queue: queue, ownerPortID: owner.portID)
                        }
                        throw code == EPERM ? .permissionDenied(queue: queue) : .queueBusy(queue: queue, ownerPortID: nil)
                    }
                    throw .configurationRejected(queue: queue, errno: code)
                }
            }
        }
        throw .noAcknowledgement(queue: queue)
    }

    // MARK: Receiving

    /// Waits up to the receive timeout, then handles every datagram already queued (up to the
    /// batch size): each packet goes to `handler`, which returns its verdict; all verdicts of
    /// the round leave in one `sendmsg` before this returns.
    public func receiveRound(_ handler: (QueuedPacket) -> PacketVerdict) -> ReceiveRound {
        // The kernel rewrote the flags and lengths of the slots it filled last round; the rest
        // of each header (buffer) was set once at init.
        for i in 0 ..< slotsToReset {
            headers[i].msg_hdr.msg_flags = 0
            headers[i].msg_len = 0
        }
        slotsToReset = 0
        let count: Int
        switch Syscalls.receiveMany(fd: socket.fd, headers, count: slotCount) {
        case .success(let n):
            count = n
        case .failure(let failure):
            let code = failure.rawValue
            if code == Syscalls.errnoAgain || code == Syscalls.errnoWouldBlock { return .idle }
            if code == Syscalls.errnoNoBuffers {
                counters.enobufs += 1
                return .overrun
            }
            counters.receiveErrors += 1
            return .failed(code)
        }
        slotsToReset = count
        guard count > 0, let base = slots.baseAddress else { return .idle }
        inRound = true
        defer { inRound = false }
        // Counters in a local for the round (one exclusive access instead of several per packet).
        var statistics = counters
        let before = statistics.received
        for i in 0 ..< count {
            if headers[i].msg_hdr.msg_flags & Syscalls.messageTruncated != 0 {
                statistics.truncatedDatagrams += 1
            }
            let length = min(Int(headers[i].msg_len), slotSize)
            let datagram = UnsafeRawBufferPointer(start: base + i * slotSize, count: length)
            NetlinkDatagram.forEachMessage(in: datagram) { message in
                switch message {
                case .packet(let packet):
                    if orphansPending { answerOrphans(below: packet.id) }
                    let verdict = handler(packet)
                    statistics.received += 1
                    switch verdict {
                    case .accept, .repeatWithMark: statistics.accepted += 1
                    case .drop: statistics.dropped += 1
                    case .held:
                        statistics.held += 1
                        heldPackets += 1
                    }
                    verdicts.record(id: packet.id, verdict: verdict, individually: heldPackets > 0)
                    if verdicts.needsFlush { flushDropsEarly() }
                case let .error(code, _):
                    if code != 0 {
                        statistics.verdictErrors += 1
                        statistics.lastVerdictErrno = -code
                    }
                case .unusable:
                    statistics.unusableMessages += 1
                case .other:
                    break
                }
            }
        }
        statistics.rounds += 1
        let handled = statistics.received - before
        counters = statistics
        flushVerdicts()
        return .packets(handled)
    }

    /// Gives a held packet (see `PacketVerdict.held`) its verdict. During a receive round it
    /// leaves with the round's verdicts; otherwise at once.
    public func release(id: UInt32, verdict: PacketVerdict) {
        guard verdict != .held else { return }
        if heldPackets > 0 { heldPackets -= 1 }
        if verdict == .accept { lateAccepted += 1 } else { lateDropped += 1 }
        verdicts.record(id: id, verdict: verdict, individually: true)
        if verdicts.needsFlush || !inRound { flushDropsEarly() }
    }

    /// Handles rounds until one comes back empty (or `maxRounds` pass): used at shutdown, after
    /// the queue rules are gone, so every packet still queued gets its verdict.
    public func drain(maxRounds: Int = 1000, _ handler: (QueuedPacket) -> PacketVerdict) -> Int {
        var total = 0
        for _ in 0 ..< maxRounds {
            guard case .packets(let n) = receiveRound(handler), n > 0 else { break }
            total += n
        }
        return total
    }

    /// One batch verdict for every packet of this queue with an id below `id`: on an adopted
    /// socket, those the earlier process read and never answered. Fail-closed drops them (TCP
    /// sends them again); fail-open lets them pass.
    private func answerOrphans(below id: UInt32) {
        orphansPending = false
        guard id > 1 else { return }
        var message = [UInt8](repeating: 0, count: 64)
        message.withUnsafeMutableBytes { raw in
            let length = Syscalls.putBatchVerdict(into: raw.baseAddress!, queue: configuration.queue, id: id &- 1,
                                                  verdict: configuration.failOpen ? Syscalls.verdictAccept
                                                      : Syscalls.verdictDrop)
            send(UnsafeRawBufferPointer(rebasing: raw[0 ..< length]))
        }
        counters.orphansAnswered += 1
    }

    private func flushDropsEarly() {
        let bytes = verdicts.pendingDrops()
        send(bytes)
        verdicts.clearDrops()
    }

    private func flushVerdicts() {
        let bytes = verdicts.finish()
        if bytes.count > 0 { send(bytes) }
        verdicts.reset()
    }

    private func send(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        // A verdict that does not reach the kernel leaves packets stuck: retry a few times.
        for _ in 0 ..< 3 {
            if Syscalls.send(socket, base, count: bytes.count) == nil { return }
        }
        sendErrors += 1
    }
}
